"""The one error type for bad input: it names the input and the reason, and nothing else.

The command line prints `str(error)` as one line and exits 2; the app shows it as a message.
No model runs once one of these is raised. Whatever a decoder said goes through `_clean`: one
line, and no path of the server's (an upload's temporary folder, a library's source file)
beyond its last part.
"""

from __future__ import annotations

import re

# Two or more separators: `/tmp/gradio/…/clip.mp4`, `src/video/reader.cc` (not `1/2`).
_PATH = re.compile(r"(?:[A-Za-z]:)?[^\s/\\'\"()\[\]<>,;]*(?:[/\\][^\s/\\'\"()\[\]<>,;]+){2,}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# A Python string holds a surrogate only when it is lone: pairs are one code point.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(text: str) -> str:
    text = _PATH.sub(lambda m: re.split(r"[/\\]", m.group(0))[-1], str(text))
    return _CONTROL.sub(" ", text).strip()


def clean_text(text: str) -> str:
    """`text` with lone surrogates (which no UTF-8 file, page or terminal can take) as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def clean_value(value):
    """A parsed JSON value of any depth with every string cleaned as `clean_text` (JSON escapes
    can hold lone surrogates)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    if isinstance(value, dict):
        return {clean_value(k): clean_value(v) for k, v in value.items()}
    return value


class InputError(ValueError):
    """A user input that cannot be used, e.g. `video 'clip.mp4': no video stream`."""

    def __init__(self, input_name: str, reason: str):
        super().__init__(f"{_clean(input_name)}: {_clean(reason)}")

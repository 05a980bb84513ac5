"""Text in a Markdown report: every value goes through `esc`, so none can add a row, a heading,
a link, an image or an HTML element, whatever it holds."""

from __future__ import annotations

import html
import re

# Values never start a line (each follows a label or a cell border), so only what acts inside
# a line needs escaping: emphasis, code, links and images, table cells, strikethrough.
_PUNCTUATION = re.compile(r"([\\`*_\[\]|~])")


def esc(value, limit: int | None = None) -> str:
    """`value` as literal Markdown text on one line (HTML-escaped, punctuation backslashed)."""
    text = " ".join(str(value).split())  # newlines would start a new block: one line, always
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return _PUNCTUATION.sub(r"\\\1", html.escape(text, quote=False))

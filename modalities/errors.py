"""The one error type for bad input: it names the input and the reason, and nothing else.

The command line prints `str(error)` as one line and exits 2; the app shows it as a message.
No model runs once one of these is raised.
"""

from __future__ import annotations


class InputError(ValueError):
    """A user input that cannot be used, e.g. `video 'clip.mp4': no video stream`."""

    def __init__(self, input_name: str, reason: str):
        super().__init__(f"{input_name}: {reason}")

"""A stop signal that crosses processes: Stop is pressed in the server's process, while on a
ZeroGPU Space the generation runs in a forked GPU worker (engine.gpu).

It behaves as a `threading.Event` to the engine and the backends (`is_set`, `set`), and it
pickles: set in one process, a file in a private folder says so to the other. A generation asks
`is_set` once per token, which costs one `stat`.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
from pathlib import Path

_folder: Path | None = None
_folder_lock = threading.Lock()


def _private_folder() -> Path:
    """One folder for this server's flags, readable by its own user only."""
    global _folder
    with _folder_lock:
        if _folder is None:
            _folder = Path(tempfile.mkdtemp(prefix="compare-stops-"))  # mode 0700
        return _folder


class StopFlag:
    def __init__(self):
        self.path = _private_folder() / secrets.token_hex(16)
        self._here = threading.Event()  # this process's own copy: no file read once it is set here

    def set(self) -> None:
        self._here.set()
        try:
            self.path.touch()
        except OSError:  # the folder is gone (the server is ending): this process still sees it
            pass

    def is_set(self) -> bool:
        return self._here.is_set() or self.path.exists()

    def clear_file(self) -> None:
        """Remove the flag's file once nothing will ask it again."""
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def __getstate__(self) -> dict:
        return {"path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.path, self._here = state["path"], threading.Event()

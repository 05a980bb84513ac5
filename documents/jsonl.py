"""JSON lines that survive a killed process: one whole line per record, read back tolerantly.

`append` writes a record as one line with a single `write`, flushed and fsynced before it
returns, so a process killed at any moment leaves every earlier line whole and at most one
partial last line. `read` skips (and reports) lines that are not whole JSON objects, so the
rest of the file stays usable. Recordings (recording.session) and evaluation results
(evaluation.runner) both use it.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

_lock = threading.Lock()  # one writer at a time per process, whatever the file


def append(path: Path, record: dict) -> int:
    """Append `record` as one whole line; return the bytes of a torn last line cut first (0: none).

    A line torn by a killed writer or a full disk is cut before writing, so the new line never
    joins it; a write that fails (a full disk) is rolled back to the old end, so it tears nothing.
    Lone surrogates (which no UTF-8 file can hold) become U+FFFD. A new file is made readable by
    this user only (0600): it holds what visitors sent.
    """
    data = re.sub("[\ud800-\udfff]", "\ufffd", json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    with _lock:
        dropped = drop_partial_line(path)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab") as f:
            end = f.tell()
            try:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            except OSError:
                f.truncate(end)
                raise
    return dropped


def drop_partial_line(path: Path) -> int:
    """Cut a last line left without its newline by a killed writer; return how many bytes were cut."""
    if not path.exists():
        return 0
    with open(path, "rb+") as f:
        size = f.seek(0, os.SEEK_END)
        end = size
        while end > 0:  # back to the last newline, a block at a time: the file may be large
            start = max(0, end - 65536)
            f.seek(start)
            block = f.read(end - start)
            if end == size and block.endswith(b"\n"):
                return 0
            newline = block.rfind(b"\n")
            if newline >= 0:
                end = start + newline + 1
                break
            end = start
        f.truncate(end)
        return size - end


@dataclass
class Line:
    number: int  # 1-based, as an editor shows it
    record: dict


def read(path: Path) -> tuple[list[Line], list[str]]:
    """The whole JSON objects in `path` and a problem line for each line that is not one."""
    lines, problems = [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
            except (ValueError, RecursionError) as e:  # RecursionError: nested deeper than the parser goes
                problems.append(f"line {number} skipped: corrupt ({str(e)[:80] or 'nested too deep'})")
                continue
            lines.append(Line(number, record))
    return lines, problems

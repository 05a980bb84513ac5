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
import threading
from dataclasses import dataclass
from pathlib import Path

_lock = threading.Lock()  # one writer at a time per process, whatever the file


def append(path: Path, record: dict) -> None:
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _lock, open(path, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def drop_partial_line(path: Path) -> None:
    """Cut a last line left without its newline by a killed writer, before appending after it."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])


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
            except ValueError as e:
                problems.append(f"line {number} skipped: corrupt ({str(e)[:80]})")
                continue
            lines.append(Line(number, record))
    return lines, problems

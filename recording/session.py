"""Recorded sessions: one JSON line per comparison in PATH/session.jsonl, media copied into PATH/media/.

Durability: each comparison is one line, written with a single `write`, flushed and fsynced
before `record` returns, so a process killed at any moment leaves every earlier line whole and
at most one partial last line, which loading skips and reports. Media files are copied under
their SHA-256 (written to a temporary name, then renamed), so a half-copied file never takes
a real name.

Loading is forgiving: a corrupt line is skipped and reported, a missing media file is reported,
and the rest of the session stays usable.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from modalities.files import sha256_of

FORMAT_VERSION = 1
SESSION_FILE = "session.jsonl"
MEDIA_DIR = "media"


class SessionError(ValueError):
    """A session folder that cannot be used at all; the message names it and says why."""


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in ("torch", "transformers", "gradio", "decord", "librosa", "pillow", "accelerate"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            pass
    return versions


class Recorder:
    """Appends comparisons to a session folder. Safe to share between threads."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        (self.folder / MEDIA_DIR).mkdir(parents=True, exist_ok=True)
        self.path = self.folder / SESSION_FILE
        self._lock = threading.Lock()

    def _copy_media(self, kind: str, source: str) -> dict:
        src = Path(source)
        digest = sha256_of(src)
        name = f"{digest[:32]}{src.suffix.lower()}"
        target = self.folder / MEDIA_DIR / name
        if not target.exists():
            partial = target.with_name(f".{name}.partial")
            shutil.copyfile(src, partial)
            os.replace(partial, target)
        return {"kind": kind, "name": src.name, "sha256": digest, "file": f"{MEDIA_DIR}/{name}"}

    def record(self, result) -> dict:
        """Write one finished ComparisonResult as one durable line; returns the line's object."""
        request = result.request
        media = [self._copy_media("image", p) for p in request.get("images", ())]
        media += [self._copy_media(k, request[k]) for k in ("video", "audio") if request.get(k)]
        entry = {
            "version": FORMAT_VERSION,
            "recorded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            **result.to_dict(with_token_times=True),
            "media": media,
        }
        entry["environment"] = {**entry["environment"], "libraries": library_versions()}
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        return entry

    def archive(self) -> Path:
        """A zip of the whole session folder, beside it (for downloading)."""
        with self._lock:
            return Path(shutil.make_archive(str(self.folder), "zip", root_dir=self.folder))


@dataclass
class Session:
    folder: Path
    entries: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def media_path(self, item: dict) -> Path:
        return self.folder / item["file"]


def load_session(folder: str | Path) -> Session:
    """Read a session folder; raise SessionError if it is none, report bad lines and missing media."""
    folder = Path(folder)
    if not folder.exists():
        raise SessionError(f"session folder '{folder}': not found")
    if not folder.is_dir():
        raise SessionError(f"session folder '{folder}': not a folder")
    path = folder / SESSION_FILE
    if not path.exists():
        raise SessionError(f"session folder '{folder}': not a recorded session (no {SESSION_FILE})")
    session = Session(folder)
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                if not isinstance(entry, dict) or not {"request", "results"} <= entry.keys():
                    raise ValueError("not a recorded comparison")
            except ValueError as e:
                session.problems.append(f"line {number} skipped: corrupt ({str(e)[:80]})")
                continue
            entry["line"] = number
            for item in entry.get("media", []):
                if not session.media_path(item).exists():
                    session.problems.append(f"line {number}: media file {item['file']} ({item['name']}) is missing")
            session.entries.append(entry)
    return session

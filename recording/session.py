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
import os
import shutil
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from documents import jsonl
from engine.results import ComparisonResult
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


@dataclass(frozen=True)
class MediaCopy:
    """An input file of a recorded comparison, copied into the session under its SHA-256."""

    kind: str  # "image", "video" or "audio"
    name: str  # the file name as uploaded
    sha256: str
    file: str  # relative to the session folder


@dataclass
class Recorded:
    """One recorded comparison: the result as the engine returned it, when, and its media."""

    line: int
    recorded_at: str
    result: ComparisonResult
    media: list[MediaCopy] = field(default_factory=list)


class Recorder:
    """Appends comparisons to a session folder. Safe to share between threads."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        (self.folder / MEDIA_DIR).mkdir(parents=True, exist_ok=True)
        self.path = self.folder / SESSION_FILE
        self._lock = threading.Lock()

    def _copy_media(self, kind: str, source: str) -> MediaCopy:
        src = Path(source)
        digest = sha256_of(src)
        name = f"{digest[:32]}{src.suffix.lower()}"
        target = self.folder / MEDIA_DIR / name
        if not target.exists():
            partial = target.with_name(f".{name}.partial")
            shutil.copyfile(src, partial)
            os.replace(partial, target)
        return MediaCopy(kind, src.name, digest, f"{MEDIA_DIR}/{name}")

    def record(self, result: ComparisonResult) -> dict:
        """Write one finished ComparisonResult as one durable line; returns the line's object."""
        request = result.request
        media = [self._copy_media("image", p) for p in request.images]
        media += [self._copy_media(k, path) for k, path in (("video", request.video), ("audio", request.audio)) if path]
        entry = {
            "version": FORMAT_VERSION,
            "recorded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            **result.to_dict(with_token_times=True),
            "media": [asdict(m) for m in media],
        }
        entry["environment"] = {**entry["environment"], "libraries": library_versions()}
        with self._lock:
            jsonl.append(self.path, entry)
        return entry

    def archive(self) -> Path:
        """A zip of the whole session folder, beside it (for downloading)."""
        with self._lock:
            return Path(shutil.make_archive(str(self.folder), "zip", root_dir=self.folder))


@dataclass
class Session:
    folder: Path
    entries: list[Recorded] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def media_path(self, item: MediaCopy) -> Path:
        return self.folder / item.file


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
    lines, session.problems = jsonl.read(path)
    for line in lines:
        try:
            entry = Recorded(
                line.number, str(line.record.get("recorded_at", "")), ComparisonResult.from_dict(line.record),
                [MediaCopy(**m) for m in line.record.get("media", [])],
            )
        except (KeyError, TypeError, ValueError) as e:
            session.problems.append(f"line {line.number} skipped: not a recorded comparison ({str(e)[:80]})")
            continue
        for item in entry.media:
            if not session.media_path(item).exists():
                session.problems.append(f"line {line.number}: media file {item.file} ({item.name}) is missing")
        session.entries.append(entry)
    return session

"""Recorded sessions: one JSON line per comparison in PATH/session.jsonl, media copied into PATH/media/.

Durability: each comparison is one line, written with a single `write`, flushed and fsynced
before `record` returns, so a process killed at any moment leaves every earlier line whole and
at most one partial last line, which loading skips and reports. Media files are copied under
their SHA-256 by documents.media, as the arena's votes are.

Loading is forgiving: a corrupt line is skipped and reported, a missing media file is reported,
and the rest of the session stays usable.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from documents import jsonl
from documents.media import MEDIA_DIR, MediaCopy, copy_request_media, media_file, private_folder
from engine.results import ComparisonResult
from modalities.fields import typed_fields

FORMAT_VERSION = 1
SESSION_FILE = "session.jsonl"
ARCHIVES_DIR = ".archives"  # each visitor's zip of their own comparisons


log = logging.getLogger(__name__)


class SessionError(ValueError):
    """A session folder that cannot be used at all; the message names it and says why."""


class RecordingFailed(OSError):
    """A comparison that could not be recorded; the message says why in one line, without a path."""


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in ("torch", "transformers", "gradio", "decord", "av", "librosa", "pillow", "accelerate"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            pass
    return versions


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
        self.folder = private_folder(Path(folder))
        private_folder(self.folder / MEDIA_DIR)
        self.path = self.folder / SESSION_FILE
        self._lock = threading.Lock()  # held only to write a line: never while a zip is built
        self.problems: list[str] = []  # what recording had to repair, for the operator
        self._recorded: dict[str, int] = {}  # visitor -> comparisons recorded (counted from the file at first)
        self._archived: dict[str, int] = {}  # visitor -> how many of them their current zip holds
        self._counts = threading.Lock()  # for the two counts above

    def record(self, result: ComparisonResult, visitor: str | None = None) -> dict:
        """Write one finished ComparisonResult as one durable line; returns the line's object.

        `visitor` is an opaque id of the app session it came from: its zip holds only its own lines.
        """
        try:
            media = copy_request_media(self.folder, result.request)
        except OSError as e:
            raise RecordingFailed(_why(e)) from e
        entry = {
            "version": FORMAT_VERSION,
            "recorded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            **result.to_dict(with_token_times=True),
            "media": [asdict(m) for m in media],
            **({"visitor": visitor} if visitor else {}),
        }
        entry["environment"] = {**entry["environment"], "libraries": library_versions()}
        with self._lock:
            try:
                dropped = jsonl.append(self.path, entry)  # a failed write is rolled back: nothing torn
            except OSError as e:
                raise RecordingFailed(_why(e)) from e
        if visitor:
            with self._counts:
                self._recorded[visitor] = self._recorded.get(visitor, 0) + 1
        if dropped:
            problem = f"{SESSION_FILE}: a torn last line ({dropped} bytes of an interrupted write) was cut before this one"
            self.problems.append(problem)
            log.warning("recording %s: %s", self.folder, problem)
        return entry

    def archive(self, visitor: str) -> Path | None:
        """A zip of `visitor`'s own comparisons and their media (None when there are none).

        One file per visitor, kept until their next comparison (asked again, the same file is given),
        so downloads never pile up copies. It is built without holding the recording lock, so other
        visitors' comparisons are recorded meanwhile; media are stored as they are (already
        compressed), only the JSON lines are deflated.
        """
        import tempfile
        import zipfile

        target = self.folder / ARCHIVES_DIR / f"session-{visitor}.zip"
        with self._counts:
            recorded = self._recorded.get(visitor)
            if target.exists() and recorded is not None and self._archived.get(visitor) == recorded:
                return target
        # Lines are whole or skipped (jsonl.read), so reading while another is written is safe.
        lines = [line for line in jsonl.read(self.path)[0] if line.record.get("visitor") == visitor] if self.path.exists() else []
        if not lines:
            return None
        private_folder(target.parent)
        top = target.stem  # one top-level folder: the zip never spills into where it is opened
        handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{top}-", suffix=".partial")
        os.close(handle)
        try:
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as z:
                z.writestr(f"{top}/{SESSION_FILE}", "".join(json.dumps(line.record, ensure_ascii=False) + "\n" for line in lines),
                           compress_type=zipfile.ZIP_DEFLATED)
                files = {m.get("file") for line in lines for m in line.record.get("media", []) if isinstance(m, dict)}
                for file in sorted(f for f in files if isinstance(f, str)):
                    path = media_file(self.folder, file)
                    if path is not None and path.is_file():
                        z.write(path, f"{top}/{file}")
            os.replace(partial, target)
        finally:
            Path(partial).unlink(missing_ok=True)
        with self._counts:  # the count before any line recorded meanwhile: that one makes the next call rebuild
            self._recorded.setdefault(visitor, len(lines))
            self._archived[visitor] = len(lines)
        return target


def _why(e: OSError) -> str:
    import errno

    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return "recording failed: the disk is full"
    return "recording failed: the recording folder could not be written"


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
                [MediaCopy(**typed_fields(MediaCopy, m)) for m in line.record.get("media", [])],
            )
        except (KeyError, TypeError, ValueError) as e:
            session.problems.append(f"line {line.number} skipped: not a recorded comparison ({str(e)[:80]})")
            continue
        kept = []
        for item in entry.media:
            path = media_file(folder, item.file)
            if path is None:
                session.problems.append(f"line {line.number}: a media entry points outside the session's media folder: refused")
            else:
                if not path.exists():
                    session.problems.append(f"line {line.number}: media file {item.file} ({item.name}) is missing")
                kept.append(item)
        entry.media = kept
        session.entries.append(entry)
    return session

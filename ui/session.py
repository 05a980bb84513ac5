"""Per-browser-session state, and the objects the app's sessions share safely.

`Conversation` lives in each session's `gr.State`. `StopSwitches` gives each session its own
stop signal, so Stop ends only that session's comparison. `RecorderHolder` makes the app's
recorder at the first recorded comparison when no folder was given.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from models.families import SIDES
from recording.session import Recorder


@dataclass
class Conversation:
    """One browser session's two conversations: engine turns and what each chat shows."""

    turns: dict[str, list] = field(default_factory=lambda: {k: [] for k in SIDES})
    shown: dict[str, list[dict]] = field(default_factory=lambda: {k: [] for k in SIDES})


class StopSwitches:
    """Each session's current stop signal, so Stop ends only that session's comparison."""

    def __init__(self):
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def arm(self, session: str) -> threading.Event:
        with self._lock:
            self._events[session] = event = threading.Event()
            return event

    def stop(self, session: str) -> None:
        with self._lock:
            if session in self._events:
                self._events[session].set()

    def disarm(self, session: str) -> None:
        with self._lock:
            self._events.pop(session, None)


class RecorderHolder:
    """The app's recorder, made at the first recorded comparison when no folder was given."""

    def __init__(self, folder: str | Path | None):
        self.current = Recorder(folder) if folder else None
        self._lock = threading.Lock()

    def get(self) -> Recorder:
        with self._lock:
            if self.current is None:
                stamp = time.strftime("%Y%m%d-%H%M%S")
                self.current = Recorder(Path("recordings") / f"session-{stamp}")
            return self.current

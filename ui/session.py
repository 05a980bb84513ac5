"""Per-browser-session state, and the objects the app's sessions share safely.

`Conversation` lives in each session's `gr.State`; `CheckedInputs` holds each session's checked inputs. `StopSwitches` gives each session its own
stop signal, so Stop ends only that session's comparison. `visitor_id` is the opaque name a
session's comparisons are recorded under, so its zip holds only its own.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from engine.stop import StopFlag
from modalities.request import CompareRequest, Inputs
from models.families import SIDES


@dataclass
class Conversation:
    """One browser session's two conversations: engine turns and what each chat shows."""

    turns: dict[str, list] = field(default_factory=lambda: {k: [] for k in SIDES})
    shown: dict[str, list[dict]] = field(default_factory=lambda: {k: [] for k in SIDES})

    def earlier(self) -> int:
        """How many earlier exchanges the next comparison continues (a model that was not run has fewer)."""
        return max(len(t) for t in self.turns.values())

    def histories(self, max_images: int) -> tuple[dict[str, list], int]:
        """Each model's earlier turns, with at most `max_images` images in all: the newest kept, older
        turns' images left out (each follow-up decodes every image it sends again). Also how many
        were left out for the model that lost the most."""
        kept, dropped = {}, 0
        for key, turns in self.turns.items():
            room, trimmed, lost = max_images, [], 0
            for turn in reversed(turns):
                images = turn.inputs.images[:room] if room > 0 else []
                lost += len(turn.inputs.images) - len(images)
                room -= len(images)
                trimmed.append(turn if len(images) == len(turn.inputs.images) else
                               replace(turn, inputs=replace(turn.inputs, images=images)))
            kept[key], dropped = list(reversed(trimmed)), max(dropped, lost)
        return kept, dropped


@dataclass
class Checked:
    """One click's inputs as its check event validated and decoded them, kept (`CheckedInputs`)
    for the comparison that follows: it runs these (nothing is decoded twice) and times each
    model's wait from `clicked_at`, the check's arrival, so the queue is in it."""

    values: dict  # the page's values the request was built from
    request: CompareRequest
    inputs: Inputs
    clicked_at: float = field(default_factory=time.perf_counter)

    def of(self, values: dict) -> Checked | None:
        """Itself, if it was checked from these very values (an API caller runs no check event)."""
        return self if values == self.values else None


class CheckedInputs:
    """Each session's last checked inputs until its comparison takes them. Decoded media are large
    and a check's comparison may never run (the page closed while it waited), so at most `keep`
    are held for everyone: past that the oldest is dropped, and its comparison validates again."""

    def __init__(self, keep: int):
        self.keep = max(1, keep)
        self._held: OrderedDict[str, Checked] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, session: str, checked: Checked) -> None:
        with self._lock:
            self._held.pop(session, None)
            self._held[session] = checked
            while len(self._held) > self.keep:
                self._held.popitem(last=False)

    def take(self, session: str) -> Checked | None:
        with self._lock:
            return self._held.pop(session, None)


class StopSwitches:
    """Each session's current stop signal, so Stop ends only that session's comparison. A signal
    crosses into a ZeroGPU worker (engine.stop)."""

    def __init__(self):
        self._flags: dict[str, StopFlag] = {}
        self._lock = threading.Lock()

    def arm(self, session: str) -> StopFlag:
        with self._lock:
            self._flags[session] = flag = StopFlag()
            return flag

    def stop(self, session: str) -> None:
        with self._lock:
            if session in self._flags:
                self._flags[session].set()

    def disarm(self, session: str) -> None:
        with self._lock:
            flag = self._flags.pop(session, None)
        if flag is not None:
            flag.clear_file()


# Compare and the Arena wait in this one queue, whose size is the launch's default concurrency:
# 1, so no two comparisons share the machine, or --concurrency N with both models on servers
# (their timings then marked contended). Evaluate waits in its own and takes the comparator's
# turns (engine.turns) one task at a time, so it never holds this queue for a whole suite.
MODELS_QUEUE = "models"
# Input checks (which decode every upload: up to 8 images of 64 MP) wait in their own small queue,
# VisitorBudget.concurrent_checks at once for everyone, so a burst of them cannot exhaust memory.
CHECKS_QUEUE = "checks"


def models_ahead(req) -> int | None:
    """How many comparisons must start or end before one queued now can start: those waiting in
    the models' queue, and those running beyond its free places (with --concurrency N, N - 1 may
    run beside it). Read from Gradio's queue (what its own "queue: N/M" overlay shows, which the
    comparison hides); None where it cannot be read."""
    try:
        queue = req.request.app.get_blocks()._queue.event_queue_per_concurrency_id[MODELS_QUEUE]
    except (AttributeError, KeyError):  # no queue yet, or a Gradio that keeps it elsewhere
        return None
    if queue.concurrency_limit is None:  # no limit: it starts at once
        return 0
    return len(queue.queue) + max(0, queue.current_concurrency - queue.concurrency_limit + 1)


def visitor_id(session_hash: str) -> str:
    """An opaque, stable name for one browser session (never the session hash itself)."""
    return hashlib.sha256(f"visitor:{session_hash}".encode()).hexdigest()[:20]


def client_address(req, behind_proxy: bool = False) -> str | None:
    """The visitor's network address, for per-client limits. Behind a proxy (a Space) every request
    comes from the proxy, which appends the address it saw last to X-Forwarded-For; anything before
    that entry is the client's own say, so it is never read."""
    if behind_proxy:
        forwarded = (req.headers.get("x-forwarded-for") or "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    client = getattr(req, "client", None)
    return getattr(client, "host", None)

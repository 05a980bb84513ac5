"""Replaying a recorded comparison at its recorded pace, with no model loaded.

Both answers start together, each at its own recorded times from its model call, so a replay
shows how the two raced (a sequential recording ran them one after the other; this overlays
them). The text shown at each moment is what had been decoded by then, from each result's
`progress` marks; `speed` > 1 plays faster. A pause longer than MAX_GAP_S plays as MAX_GAP_S,
so no recording (a crafted one claims a billion seconds) holds a viewer, or a server thread, for
longer than its text takes to appear.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator

from engine.results import ComparisonResult
from models.families import SIDES

from .session import Recorded

MAX_GAP_S = 2.0  # the longest pause a replay shows between two recorded updates, at speed 1


def timeline(result: ComparisonResult) -> list[tuple[float, str, int, int]]:
    """(seconds, side, answer chars, thinking chars) for both sides, in time order."""
    marks = []
    for side, r in result.results.items():
        own = [(_seconds(t), side, int(answer), int(thinking)) for t, answer, thinking in r.progress]
        if r.text or r.thinking:
            end = max([m[0] for m in own] + [_seconds(r.metrics.total_s) if r.metrics else 0.0])
            own.append((end, side, len(r.text), len(r.thinking)))
        marks += own
    return sorted(marks)


def _seconds(t: float) -> float:
    return float(t) if math.isfinite(t) and t > 0 else 0.0


def schedule(marks: list[tuple[float, str, int, int]]) -> list[float]:
    """When each mark is shown, at speed 1: its recorded time, with every pause cut to MAX_GAP_S."""
    at, previous, shown = 0.0, 0.0, []
    for t, *_ in marks:
        at += min(t - previous, MAX_GAP_S)
        previous = t
        shown.append(at)
    return shown


FRAME_S = 0.1  # at most about ten frames a second, whatever the speed: the page keeps up


def frames(
    result: ComparisonResult,
    speed: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator[dict[str, tuple[str, str, bool]]]:
    """Yield {side: (answer so far, thinking so far, finished)} at the recorded pace.

    Marks due within one frame of each other are shown together, so a fast replay (or a model
    that streamed hundreds of tokens a second) plays at its speed, not at the page's frame rate.
    """
    speed = max(speed, 0.01)
    results = result.results
    shown = {s: (0, 0) for s in results}
    marks = timeline(result)
    due = [t / speed for t in schedule(marks)]
    last_mark = {s: max((i for i, m in enumerate(marks) if m[1] == s), default=-1) for s in results}

    start, shown_at = clock(), -FRAME_S
    for i, (_, side, answer, thinking) in enumerate(marks):
        shown[side] = (answer, thinking)
        # Coalesce: the next mark is due before this frame could be followed by another.
        if i + 1 < len(marks) and due[i + 1] <= max(clock() - start, shown_at + FRAME_S):
            continue
        delay = max(due[i], shown_at + FRAME_S) - (clock() - start)  # never early, never two frames at once
        if delay > 0:
            sleep(delay)
        shown_at = clock() - start
        yield {s: (r.text[: shown[s][0]], r.thinking[: shown[s][1]], i >= last_mark[s]) for s, r in results.items()}
    yield {s: (r.text, r.thinking, True) for s, r in results.items()}


def label(entry: Recorded, name: Callable[[str], str] = str) -> str:
    """What every replayed comparison is marked with: it is a recording, from when and where, and
    of which models (each source as `name` puts it)."""
    env = entry.result.environment
    models = env.get("models", {})
    ids = " vs ".join(name(str(models.get(s, {}).get("source"))) for s in SIDES)
    gpu = env.get("gpu") or "no GPU (CPU)"
    return f"Recording from {entry.recorded_at or 'an unknown date'} on {gpu}: {ids}"

"""Replaying a recorded comparison at its recorded pace, with no model loaded.

Both answers start together, each at its own recorded times from its model call, so a replay
shows how the two raced (a sequential recording ran them one after the other; this overlays
them). The text shown at each moment is what had been decoded by then, from each result's
`progress` marks; `speed` > 1 plays faster.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from engine.results import ComparisonResult
from models.families import SIDES

from .session import Recorded


def timeline(result: ComparisonResult) -> list[tuple[float, str, int, int]]:
    """(seconds, side, answer chars, thinking chars) for both sides, in time order."""
    marks = []
    for side, r in result.results.items():
        own = [(float(t), side, int(answer), int(thinking)) for t, answer, thinking in r.progress]
        if r.text or r.thinking:
            end = max([m[0] for m in own] + [r.metrics.total_s if r.metrics else 0.0])
            own.append((end, side, len(r.text), len(r.thinking)))
        marks += own
    return sorted(marks)


def frames(
    result: ComparisonResult,
    speed: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator[dict[str, tuple[str, str, bool]]]:
    """Yield {side: (answer so far, thinking so far, finished)} at the recorded pace."""
    speed = max(speed, 0.01)
    results = result.results
    shown = {s: (0, 0) for s in results}
    marks = timeline(result)
    last_mark = {s: max((i for i, m in enumerate(marks) if m[1] == s), default=-1) for s in results}

    start = clock()
    for i, (t, side, answer, thinking) in enumerate(marks):
        delay = t / speed - (clock() - start)
        if delay > 0:
            sleep(delay)
        shown[side] = (answer, thinking)
        yield {s: (r.text[: shown[s][0]], r.thinking[: shown[s][1]], i >= last_mark[s]) for s, r in results.items()}
    yield {s: (r.text, r.thinking, True) for s, r in results.items()}


def label(entry: Recorded) -> str:
    """What every replayed comparison is marked with: it is a recording, from when and where."""
    env = entry.result.environment
    models = env.get("models", {})
    ids = " vs ".join(str(models.get(s, {}).get("source")) for s in SIDES)
    gpu = env.get("gpu") or "no GPU (CPU)"
    return f"Recording from {entry.recorded_at or 'an unknown date'} on {gpu}: {ids}"

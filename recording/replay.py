"""Replaying a recorded comparison at its recorded pace, with no model loaded.

Both answers start together, each at its own recorded times from its model call, so a replay
shows how the two raced (a sequential recording ran them one after the other; this overlays
them). The text shown at each moment is what had been decoded by then, from the recording's
`progress` marks; `speed` > 1 plays faster.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from models.families import SIDES


def timeline(entry: dict) -> list[tuple[float, str, int, int]]:
    """(seconds, side, answer chars, thinking chars) for both sides, in time order."""
    marks = []
    for side in SIDES:
        result = entry["results"].get(side, {})
        for t, answer, thinking in result.get("progress") or []:
            marks.append((float(t), side, int(answer), int(thinking)))
        metrics = result.get("metrics") or {}
        if result.get("text") or result.get("thinking"):
            end = max([m[0] for m in marks if m[1] == side] + [float(metrics.get("total_s") or 0)])
            marks.append((end, side, len(result.get("text", "")), len(result.get("thinking", ""))))
    return sorted(marks)


def frames(entry: dict, speed: float = 1.0, sleep=time.sleep) -> Iterator[dict[str, tuple[str, str, bool]]]:
    """Yield {side: (answer so far, thinking so far, finished)} at the recorded pace."""
    speed = max(speed, 0.01)
    shown = {s: (0, 0) for s in SIDES}
    texts = {s: (entry["results"].get(s, {}).get("text", ""), entry["results"].get(s, {}).get("thinking", "")) for s in SIDES}
    marks = timeline(entry)
    last_mark = {s: max((i for i, m in enumerate(marks) if m[1] == s), default=-1) for s in SIDES}

    def state(i: int) -> dict:
        return {
            s: (texts[s][0][: shown[s][0]], texts[s][1][: shown[s][1]], i >= last_mark[s])
            for s in SIDES
        }

    start = time.perf_counter()
    for i, (t, side, answer, thinking) in enumerate(marks):
        delay = t / speed - (time.perf_counter() - start)
        if delay > 0:
            sleep(delay)
        shown[side] = (answer, thinking)
        yield state(i)
    yield {s: (texts[s][0], texts[s][1], True) for s in SIDES}


def label(entry: dict) -> str:
    """What every replayed comparison is marked with: it is a recording, from when and where."""
    env = entry.get("environment", {})
    models = env.get("models", {})
    ids = " vs ".join(str(models.get(s, {}).get("id")) for s in SIDES)
    gpu = env.get("gpu") or "no GPU (CPU)"
    return f"Recording from {entry.get('recorded_at', 'an unknown date')} on {gpu}: {ids}"

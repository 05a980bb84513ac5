"""A recorded race at any moment: what each model's column shows, computed without drawing.

The race starts both answers together, each at its own recorded times from its model call (as
Replay does): what a column shows at race time t is exactly what its model had produced by
recorded time t × speed — the answer and thinking characters of its `progress` marks, and the
tokens of its `token_times` — with its elapsed time, tokens per second and first-token mark.
A clip is a title card (TITLE_S), the race (its recorded length ÷ speed), and an end card (END_S).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from engine.results import ComparisonResult
from models.families import SIDES

TITLE_S, END_S = 2.5, 4.0
MAX_RACE_S = 600.0  # a clip whose race would last longer is refused (a higher speed shortens it)


class ClipError(ValueError):
    """A clip that cannot be made from this recording; the message says why."""


@dataclass(frozen=True)
class Column:
    """What one model's column shows at one moment of the race."""

    side: str
    answer: str
    thinking: str
    tokens: int
    elapsed_s: float  # recorded seconds since its model call, stopped at its end
    first_token_s: float | None  # once reached
    tokens_per_s: float | None  # after the first token, over the time since
    done: bool


class ClipTimeline:
    """Each side's recorded marks, asked for their state at any moment of the race."""

    def __init__(self, result: ComparisonResult, speed: float = 1.0):
        if not speed > 0 or not math.isfinite(speed):
            raise ClipError(f"speed {speed}: must be a positive number")
        self.result, self.speed = result, speed
        self._marks, self._tokens, self.ends = {}, {}, {}
        for side in SIDES:
            r = result.results.get(side)
            if r is None:
                continue
            marks = sorted((float(t), int(a), int(th)) for t, a, th in r.progress if math.isfinite(t))
            tokens = sorted(float(t) for t in r.token_times if math.isfinite(t))
            end = max([m[0] for m in marks] + tokens[-1:] + [0.0])
            if r.metrics and math.isfinite(r.metrics.total_s):
                end = max(end, r.metrics.total_s - r.metrics.preprocess_s)
            self._marks[side], self._tokens[side], self.ends[side] = marks, tokens, end
        self.race_s = max(self.ends.values(), default=0.0) / speed
        if self.race_s > MAX_RACE_S:
            raise ClipError(f"the race is {self.race_s:.0f} s long at this speed, over {MAX_RACE_S:.0f} s: "
                            "make it shorter with a higher speed")

    @property
    def sides(self) -> list[str]:
        return list(self._marks)

    def at(self, race_t: float) -> dict[str, Column]:
        """Each column at `race_t` seconds into the race (clip time, so recorded time × speed)."""
        recorded = race_t * self.speed
        out = {}
        for side in self._marks:
            r, marks, tokens = self.result.results[side], self._marks[side], self._tokens[side]
            done = recorded >= self.ends[side]
            i = bisect.bisect_right(marks, (recorded, math.inf, math.inf))
            answer, thinking = (len(r.text), len(r.thinking)) if done else (marks[i - 1][1:] if i else (0, 0))
            count = bisect.bisect_right(tokens, recorded)
            elapsed = min(recorded, self.ends[side])
            first = tokens[0] if count else None
            speed = (count - 1) / (elapsed - first) if count > 1 and elapsed > first else None
            out[side] = Column(side, r.text[:answer], r.thinking[:thinking], count, elapsed, first, speed, done)
        return out


def clip_duration(timeline: ClipTimeline) -> float:
    return TITLE_S + timeline.race_s + END_S

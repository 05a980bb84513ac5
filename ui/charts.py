"""The rows of the two charts under the comparison table: time to first token per model, and
tokens over time. Pure: engine results in, chart rows out (ui.views draws them)."""

from __future__ import annotations

import math

from engine.results import ComparisonResult
from models.families import LABELS, SIDES

def first_token_rows(result: ComparisonResult) -> list[dict]:
    """Bars for the first-token chart (seconds from each model's call), in a fixed order."""
    rows = []
    for key in SIDES:
        m = result.results[key].metrics
        if not m:
            continue
        for label, value in (("first token", m.ttft_s), ("first answer token", m.ttft_answer_s)):
            if value is not None:
                rows.append({"bar": f"{label} · {LABELS[key]}", "seconds": round(value, 4), "model": LABELS[key]})
    return rows


FIRST_TOKEN_BARS = [f"{label} · {LABELS[k]}" for label in ("first token", "first answer token") for k in SIDES]

MAX_CURVE_POINTS = 200  # per model: enough for the shape, light enough for the page


def token_curve_rows(result: ComparisonResult) -> list[dict]:
    """Tokens over time for each model (seconds from its model call, tokens so far): the slope
    is the decode speed, where it starts the time to first token, where it ends the answer's length."""
    rows = []
    for key in SIDES:
        times = result.results[key].token_times
        step = max(1, math.ceil(len(times) / MAX_CURVE_POINTS))
        picked = list(range(0, len(times), step))
        if times and picked[-1] != len(times) - 1:
            picked.append(len(times) - 1)
        rows += [{"seconds": round(times[i], 4), "tokens": i + 1, "model": LABELS[key]} for i in picked]
    return rows

"""The rows of the two charts under the comparison table: time to first token per model, and
tokens over time. Pure: engine results in, chart rows out (ui.views draws them)."""

from __future__ import annotations

import math

from engine.results import ComparisonResult
from models.families import LABELS, SIDES

# Each model's colour: its column's header and its marks in both charts (ui.views, ui.accessibility).
COLOURS = {"gemma": "#1a5fb4", "qwen": "#813d9c"}
COLOUR_MAP = {LABELS[k]: c for k, c in COLOURS.items()}
WAIT_BARS = ("first token", "after your click", "first answer token")


def first_token_rows(result: ComparisonResult) -> list[dict]:
    """Bars for the first-token chart, one per model for each: its first token (seconds from its
    own call), the visitor's wait for it (from the click, queue included) and, only where a model
    thought first, its first answer token."""
    metrics = {k: result.results[k].metrics for k in SIDES}
    thought = any(m and m.thinking_tokens for m in metrics.values())
    rows = []
    for label in WAIT_BARS:
        for key in SIDES:
            m = metrics[key]
            if not m or (label == "first answer token" and not thought):
                continue
            value = {"first token": m.ttft_s, "after your click": m.waited_s, "first answer token": m.ttft_answer_s}[label]
            if value is not None:
                rows.append({"bar": f"{LABELS[key]}: {label}", "seconds": round(value, 4), "model": LABELS[key]})
    return rows


FIRST_TOKEN_BARS = [f"{LABELS[k]}: {label}" for label in WAIT_BARS for k in SIDES]

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

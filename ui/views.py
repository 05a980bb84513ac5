"""The views the live app and replay share: the two answer columns, and under them the
comparison table with its two charts. Layout only; what they show comes from ui.format, ui.table and ui.charts.
"""

from __future__ import annotations

import gradio as gr

from engine.results import ComparisonResult
from models.families import LABELS, SIDES

from .charts import COLOUR_MAP, FIRST_TOKEN_BARS, first_token_rows, token_curve_rows

BAR_COLUMNS, CURVE_COLUMNS = ["bar", "seconds", "model"], ["seconds", "tokens", "model"]
LEGEND = ", ".join(f"{LABELS[k]} {name}" for k, name in zip(SIDES, ("blue", "purple")))  # ui.charts.COLOURS


def answer_columns(height: int = 420) -> tuple[dict, dict, dict]:
    """Gemma 4 left, Qwen 3.5 right: each a status line, a chat and, under it, its notes and sampling."""
    chats, details, statuses = {}, {}, {}
    with gr.Row(elem_id="answers"):
        for key in SIDES:
            with gr.Column():
                statuses[key] = gr.Markdown(" ", elem_id=f"{key}-status")
                # The label names the model: screen readers announce each answer log by it.
                # No share button: it has no accessible name, and answers are shared by the recording.
                chats[key] = gr.Chatbot(
                    label=f"{LABELS[key]} answer", height=height, elem_id=f"{key}-chat", buttons=["copy", "copy_all"],
                    # Messages arrive as HTML from ui.markup, which no one parses again.
                    render_markdown=False,
                )
                details[key] = gr.Markdown(" ", elem_id=f"{key}-details")
    return chats, details, statuses


def _frame(rows: list[dict], columns: list[str]):
    """Chart rows as a frame; an empty frame, not None, so resetting a chart leaves it drawable.

    Every frame names both models, a model without figures in a row with no values (drawn as
    nothing): the chart fixes its colours from the models in the first frame it draws, so a
    chart first drawn empty (a reset, a replay) would otherwise draw every later mark colourless."""
    import pandas as pd

    missing = [LABELS[k] for k in SIDES if LABELS[k] not in {r["model"] for r in rows}]
    rows = rows + [{c: (name if c == "model" else f"{name}: first token" if c == "bar" else None) for c in columns}
                   for name in missing]
    # Typed even when empty: the chart takes each axis's kind (number or category) from the dtypes.
    numeric = {c: float for c in columns if c in ("seconds", "tokens")}
    return pd.DataFrame(rows, columns=columns).astype(numeric)


def comparison_views(height: int = 360) -> tuple:
    """Under both answers: one aligned table of both models' figures, and two charts that each
    read on their own axis (first tokens in seconds; tokens over time, whose slope is the speed)."""
    table = gr.Markdown(" ", elem_id="comparison-table")
    with gr.Row():
        first = gr.BarPlot(
            # No legend: Gradio draws it under the plot, where the card cuts it off; each bar's label
            # names its model, and each model has its column's colour.
            value=None, x="bar", y="seconds", color="model", sort=FIRST_TOKEN_BARS, color_map=COLOUR_MAP,
            colors_in_legend=[],
            label="First token, from each model's call and from your click (s, lower is better)", x_title=" ",
            x_label_angle=-30, height=height, elem_id="first-token-chart",
        )
        curve = gr.LinePlot(
            value=None, x="seconds", y="tokens", color="model", color_map=COLOUR_MAP, colors_in_legend=[],
            label=f"Tokens over time ({LEGEND}): steeper is faster",
            x_title="seconds from the model's call", x_label_angle=-30, height=height, elem_id="tokens-chart",
        )
    return table, first, curve


def empty_charts() -> tuple:
    return _frame([], BAR_COLUMNS), _frame([], CURVE_COLUMNS)


def chart_values(state: ComparisonResult) -> tuple:
    return _frame(first_token_rows(state), BAR_COLUMNS), _frame(token_curve_rows(state), CURVE_COLUMNS)

"""The Leaderboard tab: what the Arena's votes say, counted when the tab opens and whenever its
option changes; the same figures as `python app.py leaderboard DIR --format json`."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr

from preference.leaderboard import leaderboard, to_json, to_markdown
from preference.votes import read_votes

REPLICA_BANNER = (
    "⚠ **These votes are on the offline replicas** — random-weight models that answer noise. They are counted "
    "here so the board can be tried out; they say nothing about the real models."
)


def leaderboard_tab(arena_dir: str | Path, tab: gr.Tab, replicas: bool = False) -> None:
    """The votes counted when the tab opens and whenever its option changes: the same figures as
    `python app.py leaderboard DIR --format json`. On a server of replicas (`replicas`) their votes
    are counted by default, under a banner that says they are noise."""
    gr.Markdown(
        "What the Arena's votes say: ratings with 95% intervals (plain, and controlled for answer length and "
        "Markdown), each pair's win rate, breakdowns, and whether the left column is favoured. The same numbers "
        "as `python app.py leaderboard`.",
        elem_id="leaderboard-intro",
    )
    with gr.Row():
        include = gr.Checkbox(label="Count votes cast on the offline replicas", value=replicas, elem_id="include-replicas")
        count = gr.Button("Count again", elem_id="count-votes")
    shown = gr.Markdown(" ", elem_id="leaderboard")
    with gr.Accordion("Leaderboard (JSON)", open=False):
        raw = gr.JSON(label="Same object as `python app.py leaderboard --format json`", elem_id="leaderboard-json")

    def counted(include_replicas: bool):
        try:
            votes, dropped = read_votes(arena_dir)
        except FileNotFoundError:
            return "No votes yet: run blind comparisons in the Arena tab and vote.", None
        board = leaderboard(votes, dropped, include_replicas=bool(include_replicas))
        banner = REPLICA_BANNER + "\n\n" if board["replicas_included"] and any(v.replica for v in votes) else ""
        # Through JSON, so the page gets exactly what the command line prints.
        return banner + to_markdown(board), json.loads(to_json(board))

    # Counting takes a moment: the board stays as it is (not greyed out) until the new one replaces it.
    count.click(counted, include, [shown, raw], api_name="leaderboard", show_progress="hidden")
    tab.select(counted, include, [shown, raw], api_name=False, show_progress="hidden")
    include.change(counted, include, [shown, raw], api_name=False, show_progress="hidden")

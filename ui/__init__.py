"""The Gradio app: one input, two live answers, timing side by side.

    build_demo(slots)          the app (Compare, Arena, Leaderboard and Evaluate tabs)
    ui.replay.build_replay_demo(session)   a recorded session, played back, no models

Modules: compare (the Compare tab), arena (the Arena tab), leaderboard (the Leaderboard tab),
evaluate (the Evaluate tab), replay (replay mode), streaming (what the tabs that run models share),
markup (model and file text made safe), public (model names for visitors), pickers, views, guard,
format (pure functions from engine results to what components show), session (per-session
state). Building a demo loads nothing and has no side effects; `app.py` launches it.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from engine.slots import ModelSlots
from engine.allowance import VisitorBudget
from models.tiny import TINY_NOTICE
from preference.policy import VotePolicy

from .arena import ArenaTab
from .compare import CompareTab
from .evaluate import evaluate_tab
from .leaderboard import leaderboard_tab


# Gradio keeps every upload and every file it serves (zips, videos) in its cache folder: files an
# hour old are removed every half hour, so visitors' files do not pile up on the server's disk.
DELETE_CACHE = (1800, 3600)


def build_demo(
    slots: ModelSlots, tiny: bool = False, record_dir: str | Path | None = None, lock_models: bool | str = False,
    arena_dir: str | Path | None = None, draft: bool = False, vote_policy: VotePolicy = VotePolicy(),
    behind_proxy: bool = False, budget: VisitorBudget = VisitorBudget(),
) -> gr.Blocks:
    """The app's Blocks. Loads nothing: the caller fills `slots` before or after.

    With `record_dir` (the operator's --record) every comparison is recorded there, and each
    visitor can download their own; without it nothing is recorded. `lock_models` (True, or the reason the page gives) shows the models but
    lets no visitor switch them (the slots are shared by every session). With `arena_dir` (the
    operator's --arena) the Arena tab keeps its votes there, under `vote_policy`, and the Leaderboard
    tab counts them (the replicas' votes too, by default, when the models are replicas). `budget` is
    what each visitor may take of the shared server; `behind_proxy` says where their address is.
    """
    with gr.Blocks(title="Gemma 4 vs Qwen 3.5", analytics_enabled=False, delete_cache=DELETE_CACHE) as demo:
        gr.Markdown("# Gemma 4 vs Qwen 3.5\nOne input, two models, honest timing side by side.")
        if tiny:
            gr.Markdown(f"**{TINY_NOTICE}** Started with `--tiny`: timings are real, answers are not.", elem_id="tiny-banner")
        with gr.Tab("Compare"):
            CompareTab(slots, record_dir, lock_models, draft, budget, behind_proxy).build()
        if arena_dir is not None:
            with gr.Tab("Arena (blind)"):
                ArenaTab(slots, arena_dir, vote_policy, behind_proxy, budget).build()
            with gr.Tab("Leaderboard") as board:
                leaderboard_tab(arena_dir, board, replicas=tiny)
        with gr.Tab("Evaluate"):
            evaluate_tab(slots, budget, behind_proxy)
    return demo

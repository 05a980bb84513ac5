"""The Evaluate tab: run a shipped suite through the loaded models and show results as they come."""

from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr

from engine.slots import ModelSlots
from modalities.errors import InputError
from models.families import LABELS, SIDES

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def shipped_suites() -> list[str]:
    return sorted(str(p.relative_to(SAMPLES.parent)) for p in (SAMPLES / "suites").glob("*.jsonl"))


def evaluate_tab(slots: ModelSlots) -> None:
    """Lay out the tab and wire its one handler."""
    suites = shipped_suites()
    gr.Markdown(
        "Run a suite of tasks with known answers through both models (greedy decoding). Code tasks are not "
        "executed here; use `python app.py eval --allow-code-execution` for those."
    )
    with gr.Row():
        # Only the shipped suites: a path typed by a visitor could make the server read any file.
        default = next((x for x in suites if "routing" in x), suites[0] if suites else None)
        suite = gr.Dropdown(suites, value=default, label="Suite", scale=3)
        limit = gr.Slider(1, 50, value=5, step=1, label="Tasks (at most)", scale=2)
        think = gr.Checkbox(label="Thinking", value=False, scale=1)
        run = gr.Button("Evaluate", variant="primary", elem_id="evaluate", scale=1)
    summary = gr.Markdown(elem_id="eval-summary")
    headers = ["task", "category", *(LABELS[s] for s in SIDES), *(f"{LABELS[s]} s" for s in SIDES)]
    rows_view = gr.Dataframe(headers=headers, interactive=False, elem_id="eval-rows")

    def evaluate(path, n, thinking):
        from evaluation.report import aggregate, mark
        from evaluation.runner import run_eval
        from evaluation.suites import load_suite

        if path not in suites:
            raise gr.Error(f"suite '{path}': not one of the shipped suites", print_exception=False)
        try:
            tasks = load_suite(SAMPLES.parent / path)[: int(n)]
        except InputError as e:
            raise gr.Error(str(e), print_exception=False) from None
        out = Path(tempfile.mkdtemp(prefix="eval-"))
        runs, shown = [], []
        for run in run_eval(tasks, slots.comparator, out, [bool(thinking)], allow_code=False, max_new_tokens=512):
            runs.append(run)
            seconds = [
                round(m.total_s, 2) if (m := run.results[s].metrics) else None for s in SIDES
            ]
            shown.append([run.task, run.category, *(mark(run.verdicts[s]) for s in SIDES), *seconds])
            overall = [r for r in aggregate(runs) if r["category"] == "all"]
            text = " · ".join(
                f"**{LABELS[r['side']]}** {r['correct']}/{r['n']}" + (f" ({r['accuracy'] * 100:.0f}%)" if r["n"] else "")
                for r in overall
            )
            yield {summary: f"{len(runs)}/{len(tasks)} tasks — {text}", rows_view: shown}

    run.click(evaluate, [suite, limit, think], [summary, rows_view], api_name="evaluate")

"""The app's Evaluate tab: run a shipped suite through the loaded models and show results as they come."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from modalities.errors import InputError
from models.families import LABELS as TITLES
from models.slots import ModelSlots

SAMPLES = Path(__file__).resolve().parent / "samples"


def evaluate_tab(slots: ModelSlots) -> None:
    """Run a shipped suite through the loaded models and show results as they come."""
    from evaluation.report import aggregate, mark
    from evaluation.runner import run_eval
    from evaluation.suites import load_suite

    suites = sorted(str(p.relative_to(SAMPLES.parent)) for p in (SAMPLES / "suites").glob("*.jsonl"))
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
    rows_view = gr.Dataframe(
        headers=["task", "category", "Gemma 4", "Qwen 3.5", "Gemma 4 s", "Qwen 3.5 s"], interactive=False, elem_id="eval-rows"
    )

    def evaluate(path, n, thinking):
        import tempfile

        if path not in suites:
            raise gr.Error(f"suite '{path}': not one of the shipped suites", print_exception=False)
        try:
            tasks = load_suite(SAMPLES.parent / path)[: int(n)]
        except InputError as e:
            raise gr.Error(str(e), print_exception=False) from None
        out = Path(tempfile.mkdtemp(prefix="eval-"))
        rows, shown = [], []
        for row in run_eval(tasks, slots.comparator, out, [bool(thinking)], allow_code=False, max_new_tokens=512):
            rows.append(row)
            g, q = row.get("gemma", {}), row.get("qwen", {})
            seconds = [round(c["total_s"], 2) if c.get("total_s") is not None else None for c in (g, q)]
            shown.append([row["task"], row["category"], mark(g), mark(q), *seconds])
            overall = [r for r in aggregate(rows) if r["category"] == "all"]
            text = " · ".join(
                f"**{TITLES[r['model']]}** {r['correct']}/{r['n']}" + (f" ({r['accuracy'] * 100:.0f}%)" if r["n"] else "")
                for r in overall
            )
            yield {summary: f"{len(rows)}/{len(tasks)} tasks — {text}", rows_view: shown}

    run.click(evaluate, [suite, limit, think], [summary, rows_view], api_name="evaluate")

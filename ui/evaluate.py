"""The Evaluate tab: run a shipped suite through the loaded models and show results as they come."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import gradio as gr

from engine.allowance import Allowance, VisitorBudget, clients
from engine.gpu import GpuBudget, GpuComparator
from engine.slots import ModelSlots
from modalities.errors import InputError
from models.families import LABELS, SIDES

from .examples import SAMPLES
from .markup import plain, to_html
from .public import scrubber
from .session import StopSwitches, client_address, visitor_id


# What each shipped suite asks, for its name in the picker.
SUITE_NOTES = {
    "code": "write short Python functions (their tests are not run here)",
    "math": "word problems with one number to find",
    "multilingual": "the same short questions in several languages",
    "multimodal": "questions about a chart, a video and a recording",
    "routing": "send a customer's request to the right team",
}


def shipped_suites() -> list[str]:
    return sorted(str(p.relative_to(SAMPLES.parent)) for p in (SAMPLES / "suites").glob("*.jsonl"))


def suite_choices(suites: list[str]) -> list[tuple[str, str]]:
    """Each suite as the picker shows it (its name, what it asks, how many tasks) and the path it sends."""
    choices = []
    for path in suites:
        stem = Path(path).stem
        count = sum(1 for line in (SAMPLES.parent / path).read_text().splitlines() if line.strip())
        note = f" — {SUITE_NOTES[stem]}" if stem in SUITE_NOTES else ""
        choices.append((f"{stem.capitalize()}{note} ({count} tasks)", path))
    return choices


def task_markdown(prompt: str, run) -> str:
    """One evaluated task in full, as HTML (ui.markup): its prompt, the expected answer, and each model's
    answer (rendered as the Markdown it is) and verdict."""
    from evaluation.report import mark

    lines = [f"**{plain(run.task)}** ({plain(run.category)})", "", "**Prompt:**", "", prompt,
             "", f"**Expected:** {plain(str(run.expected))}"]
    for key in SIDES:
        r, verdict = run.results.get(key), run.verdicts.get(key)
        answer = plain(f"Error: {r.error}") if r is not None and r.error else (r.text if r is not None else "")
        why = f" — {plain(verdict.detail)}" if verdict and verdict.detail else ""
        lines += ["", f"**{LABELS[key]}: {mark(verdict) if verdict else '—'}**{why}", "", answer or "(no answer)"]
    return to_html("\n".join(lines))


def scratch_root() -> Path:
    """Where evaluations from the page write (one folder each, removed when it ends); folders an
    ended server left behind (killed mid-run) are removed at the next start of one."""
    root = Path(tempfile.gettempdir()) / "gemma-qwen-evaluate"
    root.mkdir(mode=0o700, exist_ok=True)
    for left in root.iterdir():
        if time.time() - left.stat().st_mtime > 24 * 3600:
            shutil.rmtree(left, ignore_errors=True)
    return root


def evaluate_tab(slots: ModelSlots, budget: VisitorBudget = VisitorBudget(), behind_proxy: bool = False) -> None:
    """Lay out the tab and wire its handlers: evaluate, cancel, and a row's details.

    An evaluation is many comparisons: it waits in a queue of its own (one at a time) and takes one
    of the comparator's turns per task (engine.turns), so a visitor who clicks Compare meanwhile
    waits for one task, not the whole evaluation; each visitor evaluates at most
    `budget.eval_tasks_per_hour` tasks an hour."""
    suites = shipped_suites()
    switches = StopSwitches()
    allowance = Allowance(budget.eval_tasks_per_hour)
    gr.Markdown(
        "Run a suite of tasks with known answers through both models (greedy decoding). Code tasks are not "
        "executed here; use `python app.py eval --allow-code-execution` for those."
    )
    with gr.Row():
        # Only the shipped suites: a path typed by a visitor could make the server read any file.
        default = next((x for x in suites if "routing" in x), suites[0] if suites else None)
        suite = gr.Dropdown(suite_choices(suites), value=default, label="Suite", scale=3, elem_id="eval-suite")
        limit = gr.Slider(1, 50, value=5, step=1, label="Tasks (at most)", scale=2)
        think = gr.Checkbox(label="Thinking", value=False, scale=1)
        run = gr.Button("Evaluate", variant="primary", elem_id="evaluate", scale=1)
        # Enabled only while this page's evaluation runs.
        cancel = gr.Button("Cancel", variant="stop", elem_id="eval-cancel", scale=1, interactive=False)
    summary = gr.Markdown(elem_id="eval-summary")
    headers = ["task", "category", *(f"{LABELS[s]} answer" for s in SIDES), *(f"{LABELS[s]} time (seconds)" for s in SIDES)]
    rows_view = gr.Dataframe(headers=headers, interactive=False, elem_id="eval-rows")
    detail = gr.HTML("<p><em>Select a row to see its prompt, the expected answer and both answers.</em></p>",
                     elem_id="eval-detail")
    shown_runs = gr.State([])  # this page's (prompt, TaskRun) per row

    def evaluate(path, n, thinking, req: gr.Request):
        from evaluation.report import aggregate, mark
        from evaluation.runner import run_eval
        from evaluation.suites import load_suite

        if path not in suites:
            raise gr.Error(f"suite '{path}': not one of the shipped suites", print_exception=False)
        try:
            tasks = load_suite(SAMPLES.parent / path)[: int(n)]
        except InputError as e:
            raise gr.Error(str(e), print_exception=False) from None
        prompts = {t.id: t.prompt for t in tasks}
        if not allowance.take(clients(visitor_id(req.session_hash), client_address(req, behind_proxy)), len(tasks)):
            raise gr.Error(f"Not started: each visitor may evaluate up to {budget.eval_tasks_per_hour} tasks an hour, "
                           "and this would go over. Try fewer tasks, or later.", print_exception=False)
        out = Path(tempfile.mkdtemp(prefix="eval-", dir=scratch_root()))
        runs, shown, text = [], [], ""
        stop = switches.arm(req.session_hash)
        try:
            yield {summary: f"0/{len(tasks)} tasks — running…", rows_view: [], shown_runs: []}
            # One GPU call per task (on ZeroGPU each asks only for its own time).
            comparator = GpuComparator(slots.comparator, GpuBudget(cap_s=budget.gpu_seconds))
            evaluation = run_eval(tasks, comparator, out, [bool(thinking)], allow_code=False, max_new_tokens=512,
                                  stop_event=stop)
            for run in evaluation:
                runs.append(run)
                seconds = [round(m.total_s, 2) if (m := run.results[s].metrics) else None for s in SIDES]
                shown.append([run.task, run.category, *(mark(run.verdicts[s]) for s in SIDES), *seconds])
                overall = [r for r in aggregate(runs) if r["category"] == "all"]
                text = " · ".join(
                    f"**{LABELS[r['side']]}** {r['correct']}/{r['n']}" + (f" ({r['accuracy'] * 100:.0f}%)" if r["n"] else "")
                    for r in overall
                )
                yield {summary: f"{len(runs)}/{len(tasks)} tasks — {text}", rows_view: shown,
                       shown_runs: [(prompts.get(r.task, ""), r) for r in runs]}
        finally:
            switches.disarm(req.session_hash)
            shutil.rmtree(out, ignore_errors=True)  # its results are on the page; nothing else reads them
        if stop.is_set():
            yield {summary: f"**Cancelled** after {len(runs)} of {len(tasks)} tasks" + (f" — {text}" if text else "")}

    def show_task(runs, evt: gr.SelectData):
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if not runs or row is None or not 0 <= row < len(runs):
            return gr.update()
        return scrubber(slots).text(task_markdown(*runs[row]))  # an error there may name a server folder

    def cancel_run(req: gr.Request) -> None:
        switches.stop(req.session_hash)

    run.click(lambda: gr.update(interactive=True), None, cancel, api_name=False, queue=False)
    run.click(evaluate, [suite, limit, think], [summary, rows_view, shown_runs], api_name="evaluate",
              concurrency_id="evaluations", concurrency_limit=1).then(
        lambda: gr.update(interactive=False), None, cancel, api_name=False, queue=False)
    # Queued (so it knows its session) but never waiting behind the evaluation it cancels.
    cancel.click(cancel_run, None, None, api_name=False, concurrency_limit=None)
    rows_view.select(show_task, shown_runs, detail, api_name=False, concurrency_limit=None)

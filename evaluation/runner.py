"""Running suites through both models: one comparison per task and thinking mode, scored, appended to results.jsonl.

Resumable: every finished task is one durable line (written whole, flushed, fsynced), and a
new run skips the (task, thinking) pairs already there, so a stopped run continues from the
last finished task and ends with the same totals as an uninterrupted one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from modalities.errors import InputError
from modalities.request import CompareRequest, GenerationSettings
from models.comparison import SIDES

from .scoring import score
from .suites import Task

RESULTS_FILE = "results.jsonl"


def finished(out: Path) -> dict[tuple[str, str, bool], dict]:
    rows = {}
    path = out / RESULTS_FILE
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                rows[(row["suite"], row["task"], row["thinking"])] = row
            except (ValueError, KeyError):
                continue  # a line cut off by a killed run: that task runs again
    return rows


def _drop_partial_line(path: Path) -> None:
    """A run killed mid-write leaves a last line without its newline: cut it, that task reruns."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])


def _side_row(task: Task, result, allow_code: bool) -> dict:
    applicable = not (task.audio and any(s.modality == "audio" for s in result.skipped_inputs))
    m = result.metrics
    row = {
        "model": result.model,
        "status": result.status,
        "answer": result.text,
        "thinking": result.thinking,
        "error": result.error,
        "applicable": applicable,
        "correct": None,
        "detail": "not applicable: the model takes no audio" if not applicable else "",
        "total_s": m.total_s if m else None,
        "ttft_s": m.ttft_s if m else None,
        "output_tokens": m.output_tokens if m else None,
        "thinking_tokens": m.thinking_tokens if m else None,
    }
    if applicable and result.error is None and result.status == "done":
        verdict = score(task, result.text, allow_code)
        row["correct"], row["detail"] = verdict.correct, verdict.detail
    elif applicable:
        row["correct"], row["detail"] = False, f"no answer ({result.error or result.status})"
    return row


def run_eval(
    tasks: list[Task],
    comparator,
    out: Path,
    thinking_modes: list[bool],
    allow_code: bool = False,
    max_new_tokens: int = 1024,
) -> Iterator[dict]:
    """Yield one row per (task, thinking mode) not yet in `out`, after writing it there."""
    out.mkdir(parents=True, exist_ok=True)
    _drop_partial_line(out / RESULTS_FILE)
    done = finished(out)
    with open(out / RESULTS_FILE, "a", encoding="utf-8") as f:
        for task in tasks:
            for thinking in thinking_modes:
                if (task.suite, task.id, thinking) in done:
                    continue
                request = CompareRequest(
                    prompt=task.prompt,
                    images=task.images,
                    video=task.video,
                    audio=task.audio,
                    settings=GenerationSettings(max_new_tokens=max_new_tokens, temperature=0.0, thinking=thinking),
                )
                row = {"suite": task.suite, "task": task.id, "category": task.category, "thinking": thinking,
                       "expected": task.expected if task.score != "code" else "(unit tests)"}
                try:
                    result = comparator.run(request)
                    row.update({key: _side_row(task, result.results[key], allow_code) for key in SIDES})
                except InputError as e:  # a suite pointing at a bad file: reported on the task, the run goes on
                    row.update({key: {"applicable": False, "correct": None, "detail": str(e), "error": str(e)} for key in SIDES})
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
                yield row

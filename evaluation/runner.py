"""Running suites through both models: one comparison per task and thinking mode, scored, appended to results.jsonl.

Each line is a `TaskRun`: the task, each side's `ModelResult` exactly as the engine returned it
(the same vocabulary as recordings and `compare --json`), and each side's `Verdict`.
Resumable: every finished task is one durable line (documents.jsonl), and a new run skips the
(suite, task, thinking) runs already there, so a stopped run continues from the last finished
task and ends with the same totals as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from documents import jsonl
from engine.results import ModelResult, Status
from modalities.errors import InputError
from modalities.fields import typed_fields
from modalities.request import IDENTICAL, CompareRequest, GenerationSettings
from models.families import SIDES

from .scoring import score
from .suites import Task

RESULTS_FILE = "results.jsonl"


@dataclass
class Verdict:
    applicable: bool  # False: the task's input is one this model does not take (audio for Qwen 3.5)
    correct: bool | None  # None: not scored
    detail: str = ""


@dataclass
class TaskRun:
    suite: str
    task: str
    category: str
    thinking: bool
    expected: object
    results: dict[str, ModelResult] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    sampling: str = IDENTICAL  # the mode both models sampled in (each result's `generation` has the values)

    @property
    def key(self) -> tuple[str, str, bool]:
        return self.suite, self.task, self.thinking

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k not in ("results", "verdicts")}
        d["results"] = {k: r.to_dict() for k, r in self.results.items()}
        d["verdicts"] = {k: asdict(v) for k, v in self.verdicts.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TaskRun:
        f = typed_fields(cls, d)
        return cls(
            f["suite"], f["task"], f["category"], f["thinking"], d.get("expected"),
            {k: ModelResult.from_dict(r) for k, r in d["results"].items()},
            {k: Verdict(**typed_fields(Verdict, v)) for k, v in d["verdicts"].items()},
            f.get("sampling", IDENTICAL),
        )


def read_runs(out: Path) -> list[TaskRun]:
    """The finished runs in `out`; a line cut off by a killed run, or of an older format, is left out."""
    path = out / RESULTS_FILE
    if not path.exists():
        return []
    runs = []
    for line in jsonl.read(path)[0]:
        try:
            runs.append(TaskRun.from_dict(line.record))
        except (KeyError, TypeError, ValueError):
            continue  # that task runs again
    return runs


def finished(out: Path) -> dict[tuple[str, str, bool], TaskRun]:
    return {run.key: run for run in read_runs(out)}


def judge(task: Task, result: ModelResult, allow_code: bool) -> Verdict:
    if task.audio and any(s.modality == "audio" for s in result.skipped_inputs):
        return Verdict(False, None, "not applicable: the model takes no audio")
    if result.error is None and result.status == Status.DONE:
        verdict = score(task, result.text, allow_code)
        return Verdict(True, verdict.correct, verdict.detail)
    return Verdict(True, False, f"no answer ({result.error or result.status})")


def check_sampling(done: dict[tuple, TaskRun], sampling: str) -> None:
    """One folder holds one sampling mode, so a report never mixes two."""
    other = {run.sampling for run in done.values()} - {sampling}
    if other:
        raise InputError("output folder", f"holds runs sampled in '{other.pop()}' mode; use another folder for '{sampling}'")


def run_eval(
    tasks: list[Task],
    comparator,
    out: Path,
    thinking_modes: list[bool],
    allow_code: bool = False,
    max_new_tokens: int = 1024,
    sampling: str = IDENTICAL,
    stop_event=None,
    draft: bool = False,
) -> Iterator[TaskRun]:
    """Yield one TaskRun per (task, thinking mode) not yet in `out`, after writing it there.

    Setting `stop_event` ends the run in progress and the evaluation: the task it interrupted is
    not written (a partial answer would be scored as wrong), so rerunning into `out` redoes it.

    Greedy in identical mode (the default), so a task's answer depends on the model alone; in
    recommended mode each family samples with its published settings. One folder holds one mode.
    """
    out.mkdir(parents=True, exist_ok=True)
    jsonl.drop_partial_line(out / RESULTS_FILE)
    done = finished(out)
    check_sampling(done, sampling)
    for task in tasks:
        for thinking in thinking_modes:
            if (task.suite, task.id, thinking) in done:
                continue
            request = CompareRequest(
                prompt=task.prompt,
                images=task.images,
                video=task.video,
                audio=task.audio,
                settings=GenerationSettings(
                    max_new_tokens=max_new_tokens, temperature=0.0, thinking=thinking, sampling=sampling, draft=draft,
                ),
            )
            expected = task.expected if task.score != "code" else "(unit tests)"
            run = TaskRun(task.suite, task.id, task.category, thinking, expected, sampling=sampling)
            if stop_event is not None and stop_event.is_set():
                return
            try:
                result = comparator.run(request, stop_event=stop_event)
                if stop_event is not None and stop_event.is_set():
                    return
                run.results = result.results
                run.verdicts = {key: judge(task, r, allow_code) for key, r in result.results.items()}
            except InputError as e:  # a suite pointing at a bad file: reported on the task, the run goes on
                for key in SIDES:
                    run.results[key] = ModelResult(key, comparator.sides[key].source, Status.ERROR, error=str(e))
                    run.verdicts[key] = Verdict(False, None, str(e))
            jsonl.append(out / RESULTS_FILE, run.to_dict())
            yield run

"""Batch evaluation: scorers on hand-written answers, a whole suite on the replicas, resuming."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from documents.intervals import wilson
from evaluation.report import aggregate
from evaluation.runner import RESULTS_FILE, TaskRun, Verdict, read_runs, run_eval
from evaluation.scoring import parse_number, score_accepted, score_code, score_label, score_number
from evaluation.suites import load_suite
from modalities.errors import InputError
from engine.comparator import Comparator

SUITES = sorted((ROOT / "samples" / "suites").glob("*.jsonl"))
LABELS = ["billing", "technical_support", "sales", "account", "shipping"]


def test_shipped_suites_hold_at_least_80_tasks_of_every_kind():
    tasks = [t for s in SUITES for t in load_suite(s)]
    assert len(tasks) >= 80
    assert {t.category for t in tasks} == {"routing", "math", "code", "multilingual", "multimodal"}
    assert any(t.extra.get("language") == "zh" for t in tasks), "Chinese is among the languages"
    assert any(t.audio for t in tasks) and any(t.video for t in tasks) and any(t.images for t in tasks)


@pytest.mark.parametrize(
    "answer, expected, correct",
    [
        ("billing", "billing", True),
        ("**Billing**.", "billing", True),
        ("This should go to technical support.", "technical_support", True),
        ("The team is: sales", "sales", True),
        ("billing or account", "billing", False),  # two labels: not one answer
        ("I am not sure.", "billing", False),
        ("shipping", "account", False),
    ],
)
def test_label_scorer(answer, expected, correct):
    assert score_label(answer, expected, LABELS).correct is correct


@pytest.mark.parametrize(
    "answer, expected, correct",
    [
        ("The answer is 1,200 litres.", 1200, True),
        ("$38.00", 38, True),
        ("It takes 21 L.\nFinal answer: 21", 21, True),
        ("Step 1: 3 x 6 = 18\nSo the total is **18** dollars", 18, True),
        ("about 0.5", 0.5, True),
        ("-4 degrees", -4, True),
        ("twelve", 12, False),
        ("First 12, then 15, so 16", 15, False),  # the last number counts
    ],
)
def test_number_scorer(answer, expected, correct):
    assert score_number(answer, expected).correct is correct


def test_parse_number_edge_cases():
    assert parse_number("2,400.5 units") == 2400.5
    assert parse_number("no digits here") is None


@pytest.mark.parametrize(
    "answer, accepted, correct",
    [
        ("Paris.", ["paris", "巴黎"], True),
        ("法国的首都是巴黎。", ["paris", "巴黎"], True),
        ("La capitale est Paris", ["paris"], True),
        ("Comparison", ["paris"], False),
        ("Sept jours.", ["7", "sept"], True),
        ("september", ["sept"], False),  # whole words only for Latin scripts
    ],
)
def test_accepted_scorer(answer, accepted, correct):
    assert score_accepted(answer, accepted).correct is correct


TESTS = "assert add(2, 3) == 5\n"


@pytest.mark.parametrize(
    "answer, correct, detail",
    [
        ("```python\ndef add(a, b):\n    return a + b\n```", True, "passed"),
        ("```python\ndef add(a, b):\n    return a - b\n```", False, "AssertionError"),
        ("```python\ndef add(a, b):\n    raise SystemExit(3)\n```", False, "exit status 3"),
        ("```python\nimport os\ndef add(a, b):\n    os.abort()\n```", False, "exit status"),
        ("```python\ndef add(a, b):\n    while True: pass\n```", False, "timed out|exit status"),
        ("```python\ndef add(a, b):\n    x = bytearray(2 * 1024**3)\n    return a + b\n```", False, "MemoryError"),
        ("just prose, no code", False, "SyntaxError"),
    ],
)
def test_code_scorer(answer, correct, detail, capfd):
    import re

    verdict = score_code(answer, TESTS, allow_execution=True)
    assert verdict.correct is correct, verdict.detail
    assert re.search(detail, verdict.detail), verdict.detail
    out, _ = capfd.readouterr()
    assert out == "", "a solution's output never reaches the parent's stdout"


def test_code_is_not_run_without_permission():
    verdict = score_code("```python\ndef add(a, b): return a + b\n```", TESTS, allow_execution=False)
    assert verdict.correct is None and "not allowed" in verdict.detail


def test_wilson_interval():
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-3) and high == pytest.approx(0.9433, abs=1e-3)
    assert wilson(0, 0) == (0.0, 0.0)


def test_bad_suite_line_is_named(tmp_path):
    suite = tmp_path / "mine.jsonl"
    suite.write_text('{"id": "a", "category": "math", "prompt": "1+1?", "expected": 2, "score": "number"}\n{"id": "b"}\n')
    with pytest.raises(InputError, match="suite 'mine.jsonl': line 2: missing"):
        load_suite(suite)


def _totals(out):
    return sorted(
        (r.task, r.thinking, r.verdicts["gemma"].correct, r.verdicts["qwen"].correct, r.verdicts["qwen"].applicable)
        for r in read_runs(out)
    )


def test_resume_gives_the_same_totals(sides, tmp_path):
    tasks = [t for s in SUITES for t in load_suite(s)[:3]]
    comparator = Comparator(sides)
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    list(run_eval(tasks, comparator, whole, [False], max_new_tokens=8))
    run = run_eval(tasks, comparator, parts, [False], max_new_tokens=8)
    for _ in range(4):  # stopped after four tasks...
        next(run)
    run.close()
    with open(parts / RESULTS_FILE, "a") as f:
        f.write('{"suite": "math", "task": "cut-off li')  # ...in the middle of writing a line
    resumed = list(run_eval(tasks, comparator, parts, [False], max_new_tokens=8))
    assert len(resumed) == len(tasks) - 4, "the resumed run does only what was left"
    assert _totals(parts) == _totals(whole)


def test_rows_say_how_each_model_sampled_and_one_folder_holds_one_mode(sides, tmp_path):
    tasks = load_suite(SUITES[0])[:1]
    comparator = Comparator(sides)
    [run] = run_eval(tasks, comparator, tmp_path, [False], max_new_tokens=4, sampling="recommended")
    [row] = read_runs(tmp_path)
    assert row.sampling == run.sampling == "recommended"
    assert (row.results["gemma"].generation.top_k, row.results["qwen"].generation.top_k) == (64, 20)
    with pytest.raises(InputError, match="holds runs sampled in 'recommended' mode"):
        list(run_eval(tasks, comparator, tmp_path, [False], max_new_tokens=4))


def test_whole_suite_end_to_end_report_in_chromium(tmp_path, replica_dirs):
    import shutil

    out = tmp_path / "eval"
    proc = subprocess.run(
        [sys.executable, "app.py", "eval", *map(str, SUITES), "--tiny", "--limit", "3", "--thinking", "both",
         "--max-new-tokens", "8", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in ("report.html", "report.md", "accuracy.png", "tokens.png", "results.jsonl", "summary.json"):
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text())
    assert any("not scored" in n for n in summary["notes"]), "the report says code tasks were skipped"
    audio_rows = [r for r in summary["table"] if r["side"] == "qwen" and r["category"] == "multimodal"]
    assert all(r["not_applicable"] >= 1 for r in audio_rows), "audio tasks are n/a for Qwen"
    assert summary["thinking_effect"], "with --thinking both the report shows what thinking changes"
    chromium = shutil.which("chromium")
    if not chromium:
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.route("**/*", lambda route: route.abort() if route.request.url.startswith("http") else route.continue_())
        page.goto((out / "report.html").as_uri())
        assert page.locator("details").count() == 15 * 2
        widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
        assert len(widths) == 2 and all(w > 0 for w in widths)
        page.locator("details").first.click()
        assert page.locator("details[open] pre").count() == 2, "both answers side by side"
        browser.close()


def _run(verdicts: dict, seconds: dict) -> TaskRun:
    from engine.results import Metrics, ModelResult
    from models.backend import InputTokens

    def result(side):
        s = seconds.get(side)
        metrics = Metrics(0.0, 0.1, 0.1, None, s, 5, 0, 5, InputTokens(total=3), "cpu", "float32", None, "process_rss") if s else None
        return ModelResult(side, side, metrics=metrics)

    return TaskRun("mm", "t", "multimodal", False, "x", {k: result(k) for k in verdicts}, verdicts)


def test_aggregate_counts_not_applicable_apart():
    runs = [
        _run({"gemma": Verdict(True, True), "qwen": Verdict(False, None)}, {"gemma": 1.0}),
        _run({"gemma": Verdict(True, False), "qwen": Verdict(True, True)}, {"gemma": 3.0, "qwen": 2.0}),
    ]
    table = {(r["side"], r["category"]): r for r in aggregate(runs)}
    assert table[("gemma", "multimodal")]["accuracy"] == 0.5 and table[("gemma", "multimodal")]["median_s"] == 2.0
    assert table[("qwen", "multimodal")]["n"] == 1 and table[("qwen", "multimodal")]["not_applicable"] == 1


def test_code_under_evaluation_is_walled_off(tmp_path):
    """The model's code tries what an attacker's would: the evaluating process's secrets (in its
    environment from its start, as an API key is), the network, files outside its folder, many
    processes, and a detached process that outlives the run."""
    import socket
    import time

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    outside, late = tmp_path / "outside.txt", tmp_path / "late.txt"
    attempts = {
        "environ": "import os\nfound = ''\nfor pid in [os.getppid()] + [p for p in os.listdir('/proc') if p.isdigit()]:\n"
                   "    try: found += open(f'/proc/{pid}/environ', errors='replace').read()\n    except OSError: pass\n"
                   "assert 'sk-must-not-leak' not in found, 'LEAKED'",
        "network": f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n    raise SystemExit('CONNECTED')\n"
                   "except OSError: pass",
        "write": f"try:\n    open({str(outside)!r}, 'w').write('x')\n    raise SystemExit('WROTE')\nexcept OSError: pass",
        "processes": "import subprocess, sys\nprocs = []\ntry:\n    for _ in range(40): procs.append(subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(5)']))\n"
                     "    raise SystemExit('SPAWNED 40')\nexcept OSError: pass",
        "detached": f"import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(3)\n    open({str(late)!r}, 'w').write('x')\n    os._exit(0)",
    }
    runner = (
        "import json, sys\nfrom evaluation.scoring import score_code\n"
        "attempts = json.loads(sys.argv[1])\n"
        "print(json.dumps({k: score_code(f'```python\\n{c}\\n```', '', True).detail for k, c in attempts.items()}))"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", runner, json.dumps(attempts)], cwd=ROOT, capture_output=True, text=True, timeout=120,
            env={**os.environ, "EVAL_SECRET_KEY": "sk-must-not-leak", "PYTHONPATH": str(ROOT)},
        )
    finally:
        listener.close()
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout) == {name: "tests passed" for name in attempts}
    time.sleep(4)
    assert not outside.exists() and not late.exists(), "nothing was written outside, not even later"


class _RefusingLibc:
    """libc as a container that refuses namespaces shows it (unshare fails with EPERM); the rest real.
    Injected: a refusal cannot be made for real without changing the machine's own settings."""

    def __init__(self, real):
        self._real = real

    def unshare(self, flags):
        return -1

    def __getattr__(self, name):
        return getattr(self._real, name)


def test_code_is_not_run_where_the_network_cannot_be_cut_off(tmp_path, monkeypatch):
    """Fails closed: no network namespace, no run, and the verdict says why; the operator may opt out."""
    from evaluation import sandbox
    from evaluation.scoring import score_code

    real = sandbox._libc()
    monkeypatch.setattr(sandbox, "_libc", lambda: _RefusingLibc(real))
    marker = tmp_path / "ran.txt"
    code = f"```python\nopen({str(marker)!r}, 'w').write('x')\n```"
    refused = score_code(code, "", True)
    assert refused.correct is None and refused.detail.startswith("not run: this machine refused"), refused
    assert not marker.exists(), "the code ran without its network cut off"
    monkeypatch.setenv(sandbox.ALLOW_NETWORK_ENV, "1")
    assert score_code("```python\nx = 1\n```", "assert x == 1", True).detail == "tests passed", "opted out: it runs"

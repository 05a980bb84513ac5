"""Each family's own drafter: greedy output unchanged, what it drafted and kept reported, and why not where none ran."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, SAMPLES, request
from engine.comparator import Comparator
from engine.sides import load_side
from modalities.request import GenerationSettings
from models.tiny import DRAFTER_SUFFIX
from ui.table import comparison_table

PLAIN = GenerationSettings(max_new_tokens=16, temperature=0.0)
DRAFTED = GenerationSettings(max_new_tokens=16, temperature=0.0, draft=True)
MEDIA = {"text": {}, "image": {"images": (str(SAMPLES / "chart.png"),)}, "audio": {"audio": str(SAMPLES / "question.wav")}}


@pytest.fixture(scope="module", params=["gemma4-edge-tiny", "gemma4-12b-tiny"])
def drafting(request, all_replicas):  # pytest's own `request` here, not conftest's helper
    sides = {"gemma": load_side("gemma", str(all_replicas[request.param]), draft=True),
             "qwen": load_side("qwen", str(all_replicas["qwen3_5-tiny"]), draft=True)}
    assert sides["gemma"].loaded.drafter is not None, sides["gemma"].loaded.drafter_error
    return Comparator(sides)


@pytest.mark.parametrize("kind", MEDIA)
def test_greedy_with_the_drafter_is_the_models_own_answer(drafting, kind):
    plain = drafting.run(request("What is shown, and what is asked?", PLAIN, **MEDIA[kind]))
    loaded = drafting.sides["gemma"].loaded
    counted = {"target": 0, "drafter": 0}  # the test's own count of what ran, beside the engine's
    hooks = [module.register_forward_hook(lambda *_, k=k: counted.__setitem__(k, counted[k] + 1))
             for k, module in (("target", loaded.model), ("drafter", loaded.drafter))]
    try:
        drafted = drafting.run(request("What is shown, and what is asked?", DRAFTED, **MEDIA[kind]))
    finally:
        for hook in hooks:
            hook.remove()
    g_plain, g_drafted = plain.results["gemma"], drafted.results["gemma"]
    assert g_plain.error is None and g_drafted.error is None, (g_plain.error, g_drafted.error)
    assert (g_drafted.text, g_drafted.metrics.output_tokens) == (g_plain.text, g_plain.metrics.output_tokens), (
        f"{kind}: the drafter changed the greedy answer"
    )
    assert g_plain.metrics.drafting is None, "a plain run reports no drafting"
    d = g_drafted.metrics.drafting
    assert d.drafter.endswith(DRAFTER_SUFFIX) and d.drafted_tokens > 0, d
    output = g_drafted.metrics.output_tokens
    assert d.drafted_tokens == counted["drafter"], (d, counted)
    assert d.accepted_tokens == output - counted["target"], "each pass of the model keeps one token of its own"
    assert d.tokens_per_target_pass == pytest.approx(output / counted["target"]), (d, counted)
    assert d.acceptance_rate == pytest.approx(d.accepted_tokens / d.drafted_tokens)
    q = drafted.results["qwen"].metrics.drafting
    assert q.drafter is None and "transformers does not load" in q.reason, q
    table = comparison_table(drafted)
    assert "| drafter |" in table and "Only one model drafted" in table, table


def test_a_model_without_a_drafter_beside_it_runs_plain_and_says_why(tmp_path, all_replicas):
    copy = shutil.copytree(all_replicas["gemma4-edge-tiny"], tmp_path / "gemma-copy")
    side = load_side("gemma", str(copy), draft=True)
    result = Comparator({"gemma": side, "qwen": load_side("qwen", None)}).run(request("Hi", DRAFTED))
    gemma = result.results["gemma"]
    assert gemma.error is None and gemma.metrics.output_tokens > 0
    assert gemma.metrics.drafting.drafter is None
    assert gemma.metrics.drafting.reason.startswith(f"no drafter loaded from '{copy}{DRAFTER_SUFFIX}'"), gemma.metrics.drafting


def _compare_json(*args) -> dict:
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "compare", "--tiny", "--temperature", "0", "--max-new-tokens", "12",
         "--prompt", "Name three colours.", "--json", *args],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_compare_with_draft_gives_gemma_the_same_text_and_reports_acceptance(sides):
    drafted = _compare_json("--draft")
    # The same replicas, prompt and greedy settings, plain, in this process.
    plain = Comparator(sides).run(request("Name three colours.", GenerationSettings(max_new_tokens=12, temperature=0.0)))
    assert drafted["request"]["settings"]["draft"] is True
    assert drafted["results"]["gemma"]["text"] == plain.results["gemma"].text
    figures = drafted["results"]["gemma"]["metrics"]["drafting"]
    assert set(figures) >= {"drafter", "drafted_tokens", "accepted_tokens", "acceptance_rate", "tokens_per_target_pass"}
    assert figures["drafted_tokens"] > 0 and figures["acceptance_rate"] is not None, figures
    assert "vLLM and SGLang" in drafted["results"]["qwen"]["metrics"]["drafting"]["reason"]
    assert plain.results["gemma"].metrics.drafting is None

"""One click on Compare or "Compare blind": its inputs are validated and decoded once (by the
page's check event), and each model's wait is timed from that check's arrival."""

from __future__ import annotations

import gradio as gr
import pytest

import engine.comparator
from conftest import SAMPLES
from engine.sides import ModelOptions
from engine.slots import ModelSlots
from modalities.request import IDENTICAL
from ui.arena import ArenaTab
from ui.compare import CompareTab
from ui.session import Checked, Conversation


@pytest.fixture
def validations(monkeypatch) -> list:
    """Every validation the engine runs (each decodes every upload)."""
    calls, real = [], engine.comparator.validate_request
    monkeypatch.setattr(engine.comparator, "validate_request", lambda *a: calls.append(a) or real(*a))
    return calls


def _last(events):
    out = None
    for out in events:
        pass
    return out


def test_compare_runs_what_its_check_validated(sides, validations):
    tab = CompareTab(ModelSlots(ModelOptions(), dict(sides)))
    with gr.Blocks():
        tab.build()
    values = dict(prompt="Describe it.", image_files=[str(SAMPLES / "chart.png")], video_file=None, audio_file=None,
                  system="", max_new_tokens=4, temperature=0.0, top_p=1.0, seed=0, thinking=False, sampling=IDENTICAL,
                  draft=False)
    one = gr.Request(session_hash="one")
    tab.check(one, *values.values())
    checked = tab.checked._held["one"]
    assert len(validations) == 1 and isinstance(checked, Checked)
    final = _last(tab.compare(*values.values(), Conversation(), one))
    assert len(validations) == 1, "the comparison validated (and decoded) its inputs again"
    raw = final[tab.raw]
    assert raw["validation_s"] == checked.inputs.validation_s, "not the check's own validation"
    assert tab.checked.take("one") is None, "the decoded inputs outlived their comparison"
    for key in ("gemma", "qwen"):
        metrics = raw["results"][key]["metrics"]
        assert metrics["waited_s"] >= metrics["preprocess_s"] + metrics["ttft_s"]
    # Values other than the checked ones (an API caller runs no check event): validated here.
    tab.check(one, *values.values())
    _last(tab.compare(*{**values, "prompt": "Other"}.values(), Conversation(), one))
    assert len(validations) == 3 and validations[-1][0].prompt == "Other"


def test_checked_inputs_held_for_everyone_are_bounded():
    """A check whose comparison never runs (the page closed while it waited) holds decoded media:
    at most `keep` are held, the oldest dropped (its comparison then validates again)."""
    from ui.session import CheckedInputs

    held = CheckedInputs(keep=2)
    for session in ("a", "b", "c"):
        held.put(session, session)
    assert (held.take("a"), held.take("b"), held.take("c"), held.take("c")) == (None, "b", "c", None)


def test_a_blind_round_runs_what_its_check_validated(sides, validations, tmp_path):
    tab = ArenaTab(ModelSlots(ModelOptions(), dict(sides)), tmp_path / "arena")
    with gr.Blocks():
        tab.build()
    values = dict(prompt="Which is it?", image_files=[str(SAMPLES / "chart.png")], video_file=None, audio_file=None,
                  thinking=False, max_new_tokens=4)
    one = gr.Request(session_hash="one")
    tab.check(one, *values.values())
    checked = tab.checked._held["one"]
    final = _last(tab.blind_compare(*values.values(), one))
    assert len(validations) == 1, "the round validated (and decoded) its inputs again"
    blind = final[tab.pending]
    assert blind.result.request == checked.request, "the round's seed is the one checked"
    assert blind.result.validation_s == checked.inputs.validation_s

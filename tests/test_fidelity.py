"""Faithful to the real checkpoints: their chat templates, their sampling defaults, Gemma 4 12B.

`data/chat-prompts.json` holds prompts rendered by the real templates of both families (four
shapes); every replica must render each case of its shape to the same string, character for
character. The replicas carry the real checkpoints' `generation_config.json` sampling fields,
so whatever a comparison inherits from a checkpoint shows here as it would with the real one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import GREEDY, ROOT, SAMPLES, request
from engine.comparator import Comparator
from engine.sides import load_side
from modalities.audio import AudioInput
from modalities.image import ImageInput
from modalities.request import RECOMMENDED, GenerationSettings
from modalities.routing import RoutedInputs
from modalities.video import VideoInput
from models.backend import Turn
from models.prompting import build_messages
from models.remote import default_capabilities
from models.families import GEMMA
from models.registry import PRESETS
from models.tiny import REPLICAS, gemma, qwen

CASES = json.loads((ROOT / "tests" / "data" / "chat-prompts.json").read_text())["cases"]
# Each case with every replica of its template shape (the large Gemma template serves 12B too).
RENDERINGS = [
    pytest.param(case, name, id=f"{name}-{case['case']}-thinking={case['enable_thinking']}")
    for case in CASES
    for name, replica in REPLICAS.items()
    if case["template"].split(" (")[0] == replica.template
]


@pytest.fixture(scope="module")
def processors(all_replicas):
    from transformers import AutoProcessor

    return {name: AutoProcessor.from_pretrained(folder) for name, folder in all_replicas.items()}


def render(processor, messages, thinking):
    return processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, enable_thinking=thinking)


def test_every_template_shape_has_a_replica_and_reference_cases():
    shapes = {case["template"].split(" (")[0] for case in CASES}
    assert shapes == {r.template for r in REPLICAS.values()} == {"gemma4-edge", "gemma4-large", "qwen3.5-small", "qwen3.5"}
    assert len(RENDERINGS) == 56  # 44 cases; the 12 large-Gemma ones render on two replicas


@pytest.mark.parametrize("case,name", RENDERINGS)
def test_reference_prompt_renders_exactly(processors, case, name):
    assert render(processors[name], case["messages"], case["enable_thinking"]) == case["prompt"]


def _routed(content: list[dict], system: str = "") -> RoutedInputs:
    """The inputs a user message of the reference stands for."""
    kinds = [part["type"] for part in content]
    text = next((part["text"] for part in content if part["type"] == "text"), "")
    return RoutedInputs(
        prompt=text,
        system=system,
        images=[ImageInput(Path("a.png"), Image.new("RGB", (8, 8)))] * kinds.count("image"),
        video=VideoInput(Path("a.mp4"), 10, 10.0, 8, 8, 8, 8) if "video" in kinds else None,
        audio=AudioInput(Path("a.wav"), np.zeros(1600, np.float32)) if "audio" in kinds else None,
    )


@pytest.mark.parametrize("case,name", RENDERINGS)
def test_own_message_building_gives_the_reference_prompt(processors, case, name):
    """This project's messages for the same inputs are the reference's, and render to its string."""
    messages = case["messages"]
    system = messages[0]["content"] if messages[0]["role"] == "system" else ""
    turns = [m for m in messages if m["role"] != "system"]
    history = [Turn(_routed(u["content"]), a["content"][0]["text"]) for u, a in zip(turns[:-1:2], turns[1::2])]
    built = build_messages(_routed(turns[-1]["content"], system), history)
    assert built == messages
    assert render(processors[name], built, case["enable_thinking"]) == case["prompt"]


def test_qwen_templates_differ_only_when_thinking_is_not_said(processors):
    messages = [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    small = processors["qwen3_5-small-tiny"].apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    large = processors["qwen3_5-tiny"].apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert small.endswith("<think>\n\n</think>\n\n") and large.endswith("<think>\n") and not large.endswith("</think>\n\n")


def test_replicas_carry_the_real_sampling_defaults(all_replicas):
    from transformers import GenerationConfig

    for name, folder in all_replicas.items():
        own = GenerationConfig.from_pretrained(folder)
        expected = gemma.SAMPLING_DEFAULTS if REPLICAS[name].family == "gemma" else qwen.SAMPLING_DEFAULTS
        assert {k: getattr(own, k) for k in expected} == expected, name


def test_identical_sampling_is_the_same_for_both_and_inherits_nothing(replica_dirs):
    """The default mode at the app's default temperature, on replicas that ship top-k 64 and 20."""
    proc = subprocess.run(
        [sys.executable, "app.py", "compare", "--tiny", "--prompt", "Hi", "--temperature", "0.7", "--top-p", "0.9",
         "--max-new-tokens", "3", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    used = {k: r["generation"] for k, r in json.loads(proc.stdout)["results"].items()}
    assert used["gemma"] == used["qwen"], used
    assert used["gemma"] | {"not_applied": None} == {
        "mode": "identical", "do_sample": True, "temperature": 0.7, "top_p": 0.9, "top_k": 0, "min_p": 0.0,
        "repetition_penalty": 1.0, "presence_penalty": None, "max_new_tokens": 3, "seed": 0, "not_applied": None,
    }


def test_recommended_sampling_gives_each_family_its_own_and_says_what_it_cannot(comparator):
    for thinking, qwen_temperature in ((False, 0.7), (True, 1.0)):
        settings = GenerationSettings(max_new_tokens=3, sampling=RECOMMENDED, thinking=thinking, temperature=0.0)
        result = comparator.run(request("Hi", settings))
        g, q = result.results["gemma"].generation, result.results["qwen"].generation
        assert (g.do_sample, g.temperature, g.top_p, g.top_k) == (True, 1.0, 0.95, 64)
        assert (q.do_sample, q.temperature, q.top_k) == (True, qwen_temperature, 20)
        assert g.not_applied == () and "presence penalty 1.5" in q.not_applied[0]


def test_greedy_records_no_sampling_values(comparator):
    g = comparator.run(request("Hi", GREEDY)).results["gemma"].generation
    assert (g.do_sample, g.temperature, g.top_k, g.min_p) == (False, None, None, None)


def test_gemma_12b_takes_every_modality_through_compare(all_replicas, replica_dirs):
    proc = subprocess.run(
        [sys.executable, "app.py", "compare", "--tiny", "--gemma", str(all_replicas["gemma4-12b-tiny"]),
         "--prompt", "What is here?", "--image", str(SAMPLES / "chart.png"), "--video", str(SAMPLES / "crossing.mp4"),
         "--audio", str(SAMPLES / "question.wav"), "--max-new-tokens", "4", "--temperature", "0", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    g = json.loads(proc.stdout)["results"]["gemma"]
    assert g["status"] == "done" and g["skipped_inputs"] == [], g
    tokens = g["metrics"]["input_tokens"]
    assert tokens["image"] > 0 and tokens["video"] > 0 and tokens["audio"] > 0, tokens
    assert json.loads(proc.stdout)["environment"]["models"]["gemma"]["source"].endswith("gemma4-12b-tiny")


def test_gemma_12b_capabilities_come_from_its_config(all_replicas):
    side = load_side("gemma", str(all_replicas["gemma4-12b-tiny"]))
    caps = side.loaded.capabilities
    assert (caps.image, caps.video, caps.audio, caps.max_audio_s) == (True, True, True, 30.0)
    large = load_side("gemma", str(all_replicas["gemma4-large-tiny"])).loaded.capabilities
    assert (large.image, large.audio) == (True, False), "26B-A4B and 31B do not hear"


def test_large_template_without_thinking_starts_after_an_empty_thought(all_replicas, sides):
    large = load_side("gemma", str(all_replicas["gemma4-large-tiny"]))
    comparator = Comparator({"gemma": large, "qwen": sides["qwen"]})
    for seed in range(3):
        settings = GenerationSettings(max_new_tokens=12, temperature=1.0, seed=seed)
        r = comparator.run(request("Say something.", settings)).results["gemma"]
        assert r.error is None and r.metrics.output_tokens > 0
        assert r.metrics.thinking_tokens == 0 and r.thinking == "", (seed, r.thinking)


def test_served_12b_is_assumed_to_hear_and_the_mid_pair_is_12b_against_9b():
    assert default_capabilities(GEMMA, "google/gemma-4-12B-it", None).audio
    assert not default_capabilities(GEMMA, "google/gemma-4-31B-it", None).audio
    assert (PRESETS["mid"].gemma, PRESETS["mid"].qwen) == ("google/gemma-4-12B-it", "Qwen/Qwen3.5-9B")


def test_what_ran_survives_a_recording_round_trip(comparator):
    from engine.results import ComparisonResult

    result = comparator.run(request("Hi", GenerationSettings(max_new_tokens=2, sampling=RECOMMENDED)))
    back = ComparisonResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert back.request.settings.sampling == RECOMMENDED
    assert back.results["qwen"].generation == result.results["qwen"].generation is not None


@pytest.mark.parametrize("name", list(REPLICAS))
def test_every_replica_answers_in_words(all_replicas, sides, name):
    """Random weights, readable noise: at the app's default settings and at the checkpoints' own
    (recommended) sampling, thinking off and on, nearly every piece a replica writes is one of
    its words or their punctuation."""
    from models.tiny.tokenizer import words

    vocabulary = set(words())
    family = REPLICAS[name].family
    other = "qwen" if family == "gemma" else "gemma"
    comparator = Comparator({family: load_side(family, str(all_replicas[name])), other: sides[other]})
    pieces = []
    for thinking in (False, True):
        for sampling, prompt in (("identical", "Describe a cat in two sentences."), (RECOMMENDED, "What is 2 + 2?")):
            settings = GenerationSettings(max_new_tokens=40, sampling=sampling, thinking=thinking)
            r = comparator.run(request(prompt, settings)).results[family]
            assert r.error is None, r.error
            pieces += (r.thinking + " " + r.text).replace(".", " ").replace(",", " ").split()
    readable = [p for p in pieces if p in vocabulary]
    assert len(pieces) >= 40, f"{name} wrote too little to judge: {pieces}"
    assert len(readable) >= 0.9 * len(pieces), f"{name}: {len(readable)} of {len(pieces)} pieces are words: {pieces}"

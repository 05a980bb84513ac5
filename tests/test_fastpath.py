"""The fast path (static cache + compiled decoding) gives the same greedy tokens as the eager path."""

from __future__ import annotations

import pytest

from conftest import SAMPLES, request
from modalities.request import GenerationSettings
from engine.comparator import Comparator
from engine.sides import ModelOptions, load_side, make_sides


@pytest.fixture(scope="module")
def fast_sides(replica_dirs):
    """Both replicas on the fast path, loaded as the app and the commands load them."""
    options = ModelOptions(sources={k: str(d) for k, d in zip(("gemma", "qwen"), replica_dirs)}, fast=True)
    sides = make_sides(options)
    for key, side in sides.items():
        assert side.loaded is not None, side.load_error
    return sides


def test_fast_and_eager_paths_agree(sides, fast_sides):
    settings = GenerationSettings(max_new_tokens=24, temperature=0.0)
    for media in ({}, {"images": (str(SAMPLES / "chart.png"),)}):
        eager = Comparator(sides).run(request("Describe it.", settings, **media))
        fast = Comparator(fast_sides).run(request("Describe it.", settings, **media))
        for key in ("gemma", "qwen"):
            e, f = eager.results[key], fast.results[key]
            assert f.error is None, f.error
            assert f.text == e.text, f"{key}: the fast path changed the greedy answer"
            assert f.metrics.output_tokens == e.metrics.output_tokens


def _compiled_frames() -> int:
    from torch._dynamo.utils import counters

    return sum(counters["frames"].values()) + sum(counters["stats"].values())


def test_compilation_happens_at_load_not_in_a_request(fast_sides):
    """Each model's warm-up compiled (compile_s is set only when torch compiled a graph in it);
    after it, requests of lengths it did not use (with and without an image) compile nothing."""
    for side in fast_sides.values():
        assert side.loaded.compile_s and side.loaded.compile_s > 0, side.loaded.fast_error
        assert side.loaded.fast_error is None
        described = side.backend.describe()
        assert described["fast_path"] is True and described["compile_s"] == side.loaded.compile_s
    assert "linear_attention_kernels" in fast_sides["qwen"].backend.describe()
    before = _compiled_frames()
    comparator = Comparator(fast_sides)
    for prompt, tokens, media in (("A question of a length the warm-up never saw, " * 5, 17, {}),
                                  ("Short", 9, {"images": (str(SAMPLES / "chart.png"),)})):
        result = comparator.run(request(prompt, GenerationSettings(max_new_tokens=tokens, temperature=0.0), **media))
        assert result.ok, [r.error for r in result.results.values()]
    assert _compiled_frames() == before, "a request compiled: the warm-up did not cover its shapes"


def test_gpu_script_smoke(tmp_path, replica_dirs):
    """The GPU machine's prepared script, in its CPU form: the decode benchmark through the app's
    backend on the replicas, eager, fast and fast with Gemma's drafter, writing its tables."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from conftest import ROOT

    env = {**os.environ, "OUT": str(tmp_path), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "benchmarks/gpu.sh", "--smoke"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (result,) = [json.loads(p.read_text()) for p in tmp_path.glob("decode-*.json")]
    paths = {(r["family"], r["path"]) for r in result["rows"]}
    assert paths == {(f, p) for f in ("gemma", "qwen") for p in ("eager", "fast")} | {("gemma", "fast+draft")}, paths
    for row in result["rows"]:
        assert row["decode_tok_s"] > 0 and 0 < row["roofline_fraction"] and row["new_tokens"] == 8
        assert (row["compile_s"] is not None) == row["path"].startswith("fast") and not row["fast_error"], row
        assert ("drafted tokens accepted" in (row["drafting"] or "")) == (row["path"] == "fast+draft"), row
    assert list(tmp_path.glob("decode-*.md"))


def test_real_size_models_have_the_checked_sizes(replica_dirs):
    """Every registry architecture, built as the GPU benchmark builds it (on the meta device: no memory),
    has its checkpoint's checked size: the text decoder and its head are the checkpoint less its vision
    and audio towers (at most 0.6B). Caught the 27B built with the replica's two linear-attention heads."""
    import sys

    import torch
    from transformers import AutoModelForImageTextToText

    from conftest import ROOT
    from models.registry import CHECKPOINTS

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from realsize import real_size_config

    sizes = {}
    for known in (c for c in CHECKPOINTS if c.architecture):
        _, config = real_size_config(known.source)
        with torch.device("meta"):
            model = AutoModelForImageTextToText.from_config(config)
        text = sum(p.numel() for p in model.model.language_model.parameters())
        head = 0 if config.text_config.tie_word_embeddings else model.lm_head.weight.numel()
        sizes[known.source] = round((text + head) / 1e9, 2), known.params_b
    assert len(sizes) >= 6, sizes
    assert all(checked - 0.6 <= built <= checked + 0.1 for built, checked in sizes.values()), sizes


def test_a_failing_compile_falls_back_to_eager(replica_dirs, monkeypatch):
    """Fault injection: compilation raises during the warm-up; the model still loads, on the eager path."""
    import models.generation as generation

    original = generation.fast_overrides

    def broken(device):
        overrides = original(device)
        overrides["compile_config"].backend = "no-such-backend"
        return overrides

    monkeypatch.setattr(generation, "fast_overrides", broken)
    side = load_side("gemma", str(replica_dirs[0]), fast=True)
    assert side.loaded is not None and side.loaded.fast is False
    assert side.backend.describe()["fast_path_error"]
    result = Comparator({"gemma": side, "qwen": type(side)("qwen", load_error="off")}).run(
        request("hi", GenerationSettings(max_new_tokens=4, temperature=0.0))
    )
    assert result.results["gemma"].error is None

"""Faults in one side, memory over many runs, models that cannot fit, logins and secrets."""

from __future__ import annotations

import gc
import os
import re
import time

import psutil
import pytest
import torch

from conftest import request
from modalities.request import GenerationSettings
from engine.comparator import Comparator
from models.families import GEMMA
from models.loading import ModelLoadError, check_memory


def _fail_on_call(monkeypatch, module, n: int, error: BaseException):
    calls = {"n": 0}
    original = module.forward

    def forward(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise error
        return original(*args, **kwargs)

    monkeypatch.setattr(module, "forward", forward)


def test_cuda_out_of_memory_on_one_side(sides, monkeypatch):
    """Fault injection: an OOM mid-generation (it cannot happen for real on a CPU)."""
    _fail_on_call(monkeypatch, sides["gemma"].loaded.model.lm_head, 3, torch.OutOfMemoryError("CUDA out of memory"))
    result = Comparator(sides).run(request())
    gemma, qwen = result.results["gemma"], result.results["qwen"]
    assert gemma.status == "error" and "out of GPU memory" in gemma.error
    assert qwen.error is None and qwen.metrics.output_tokens > 0
    monkeypatch.undo()
    again = Comparator(sides).run(request())
    assert again.results["gemma"].error is None, "the side works again after the fault"


def test_slow_side_hits_its_timeout_and_keeps_partial_text(sides, monkeypatch):
    """Qwen made slow (half a second a token: 20 tokens would take 10 s) hits a 3 s limit with the
    tokens it had; Gemma, whose 20 tokens take a fraction of that even on a busy machine, is untouched."""
    head = sides["qwen"].loaded.model.lm_head
    original = head.forward

    def slow(*args, **kwargs):
        time.sleep(0.5)
        return original(*args, **kwargs)

    monkeypatch.setattr(head, "forward", slow)
    settings = GenerationSettings(max_new_tokens=20, temperature=0.0)
    result = Comparator(sides, timeout_s=3.0).run(request(settings=settings))
    qwen, gemma = result.results["qwen"], result.results["gemma"]
    assert qwen.status == "error" and "timed out" in qwen.error
    assert qwen.metrics.timed_out and 0 < qwen.metrics.output_tokens < 20
    assert qwen.metrics.total_s < 9, "the timeout ended it"
    assert gemma.error is None


def test_memory_does_not_grow_over_many_comparisons(comparator):
    process = psutil.Process()
    settings = GenerationSettings(max_new_tokens=8, temperature=0.0)
    for i in range(10):  # warm-up: allocator pools and caches settle
        comparator.run(request(f"warm {i}", settings))
    gc.collect()
    before = process.memory_info().rss
    for i in range(50):
        result = comparator.run(request(f"question {i}", settings))
        assert result.ok
    gc.collect()
    growth_mb = (process.memory_info().rss - before) / 2**20
    print(f"RSS growth over 50 comparisons: {growth_mb:.1f} MiB")
    assert growth_mb < 80, f"resident memory grew {growth_mb:.0f} MiB over 50 comparisons"


def test_checkpoint_that_cannot_fit_is_refused_up_front(replica_dirs):
    with pytest.raises(ModelLoadError, match=r"needs about .* GiB .* only .* free on cuda; would fit: google/gemma-4-E2B-it"):
        check_memory("google/gemma-4-31B-it", GEMMA, "cuda", bytes_per_param=2, free=int(20 * 2**30))
    with pytest.raises(ModelLoadError, match="no Gemma 4 checkpoint would fit"):
        check_memory(str(replica_dirs[0]), GEMMA, "cpu", bytes_per_param=4, free=1000)
    check_memory(str(replica_dirs[0]), GEMMA, "cpu", bytes_per_param=4)  # the replica fits here


def test_switching_models_releases_the_previous_one(replica_dirs):
    import weakref

    from engine.sides import ModelOptions
    from engine.slots import ModelSlots

    copy = replica_dirs[0].parent / "gemma4-edge-tiny-copy"
    if not copy.exists():
        import shutil

        shutil.copytree(replica_dirs[0], copy)
    slots = ModelSlots(ModelOptions(offered={"gemma": (str(replica_dirs[0]), str(copy))}))
    slots.load("gemma", str(replica_dirs[0]))
    first = weakref.ref(slots.side("gemma").loaded.model)
    slots.load("gemma", str(copy))
    gc.collect()
    assert first() is None, "the previous model is still referenced after the switch"
    assert slots.side("gemma").loaded.source == str(copy)


def test_secrets_never_reach_results(tmp_path, replica_dirs):
    import json
    import subprocess
    import sys

    from conftest import ROOT

    env = {**os.environ, "HF_TOKEN": "hf_secret_token_value", "OPENAI_API_KEY": "sk-secret-value"}
    proc = subprocess.run(
        [sys.executable, "app.py", "compare", "--tiny", "--prompt", "hi", "--max-new-tokens", "2", "--json",
         "--record", str(tmp_path / "rec")],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    everything = proc.stdout + proc.stderr + (tmp_path / "rec" / "session.jsonl").read_text()
    assert "hf_secret_token_value" not in everything and "sk-secret-value" not in everything
    json.loads(proc.stdout)


def test_login_in_front_of_the_app(tmp_path, replica_dirs):
    from gradio_client import Client

    from app_server import AppServer, call_compare

    srv = AppServer("--auth", "demo:s3cret-pass", log=tmp_path / "app.log").wait_ready()
    try:
        from gradio_client.exceptions import AuthenticationError

        with pytest.raises(AuthenticationError, match="credentials were not provided"):
            call_compare(Client(srv.url, verbose=False), "hi", max_new_tokens=2)
        with pytest.raises(ValueError, match="Could not login"):  # a refused connection raises httpx's ConnectError
            Client(srv.url, auth=("demo", "wrong-pass"), verbose=False)
        client = Client(srv.url, auth=("demo", "s3cret-pass"), verbose=False)
        raw = call_compare(client, "hi", max_new_tokens=2)[-1]
        assert raw["results"]["gemma"]["error"] is None
        assert "s3cret-pass" not in (tmp_path / "app.log").read_text()
    finally:
        srv.stop()


@pytest.mark.parametrize("how", [("--lock-models",), ()], ids=["flag", "on-a-space"])
def test_locked_models_cannot_be_switched_by_visitors(tmp_path, replica_dirs, how):
    """Locked by the flag, and by default on a Hugging Face Space (which sets SPACE_ID)."""
    from gradio_client import Client

    from app_server import AppServer

    env = {} if how else {"SPACE_ID": "someone/some-space"}
    srv = AppServer(*how, log=tmp_path / "app.log", env=env).wait_ready()
    try:
        endpoints = Client(srv.url, verbose=False).view_api(return_format="dict", print_info=False)["named_endpoints"]
        assert "/compare" in endpoints and not any(name.startswith("/load_") for name in endpoints)
    finally:
        srv.stop()


def test_a_pick_that_cannot_load_never_empties_the_slot(replica_dirs):
    """A preset checkpoint that is not here (offline) is refused before the loaded model is touched,
    whether or not the two would fit side by side."""
    from engine.sides import ModelOptions, load_side
    from engine.slots import LoadFailed, ModelSlots

    slots = ModelSlots(ModelOptions(offer_presets=True), {"gemma": load_side("gemma", str(replica_dirs[0]))})
    assert "google/gemma-4-E4B-it" in slots.offered("gemma")
    before = slots.side("gemma")
    with pytest.raises(LoadFailed, match=f"{re.escape(str(replica_dirs[0]))} stays loaded"):
        slots.load("gemma", "google/gemma-4-E4B-it")
    assert slots.side("gemma") is before and before.backend is not None, "the slot was emptied"
    assert "google/gemma-4-E4B-it" not in ModelSlots(ModelOptions()).offered("gemma"), "presets offered unasked"


def test_a_load_that_fails_after_the_unload_brings_the_previous_model_back(replica_dirs, tmp_path, monkeypatch):
    """Where both cannot fit, the current model goes first; when the new one then fails (its config
    opens, its weights are cut short), the previous one is loaded back and the slot answers."""
    import shutil

    from engine.sides import ModelOptions, load_side
    from engine.slots import LoadFailed, ModelSlots

    broken = shutil.copytree(replica_dirs[0], tmp_path / "gemma-broken")
    (broken / "model.safetensors").write_bytes((broken / "model.safetensors").read_bytes()[:100])
    slots = ModelSlots(ModelOptions(offered={"gemma": (str(broken),)}), {"gemma": load_side("gemma", str(replica_dirs[0])),
                                                                          "qwen": load_side("qwen", str(replica_dirs[1]))})
    # Injected: "both cannot fit" cannot be made for real with models this small.
    monkeypatch.setattr(ModelSlots, "_fits_beside", lambda self, source: False)
    with pytest.raises(LoadFailed, match=f"{re.escape(str(replica_dirs[0]))} stays loaded"):
        slots.load("gemma", str(broken))
    side = slots.side("gemma")
    assert side.backend is not None and side.backend.source == str(replica_dirs[0]), side.load_error
    result = slots.comparator.run(request("Still there?"))
    assert result.results["gemma"].error is None, result.results["gemma"].error

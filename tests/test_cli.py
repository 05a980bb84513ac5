"""The command line as users run it: a real process, its JSON and its exit status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, SAMPLES

METRICS = {
    "preprocess_s", "ttft_s", "ttft_answer_s", "decode_tok_s", "total_s",
    "output_tokens", "thinking_tokens", "input_tokens", "device", "dtype", "peak_memory_mb",
}


def run_app(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "app.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_compare_json_with_every_modality(replica_dirs):
    proc = run_app(
        "compare", "--tiny", "--prompt", "What is shown?",
        "--image", str(SAMPLES / "chart.png"), "--video", str(SAMPLES / "crossing.mp4"),
        "--audio", str(SAMPLES / "question.wav"), "--max-new-tokens", "8", "--json",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert set(out) >= {"request", "results", "environment"}
    for key in ("gemma", "qwen"):
        r = out["results"][key]
        assert set(r) >= {"side", "source", "status", "text", "thinking", "skipped_inputs", "metrics", "error"}
        assert r["error"] is None
        assert METRICS <= set(r["metrics"]), f"{key} metrics lack {METRICS - set(r['metrics'])}"
        tokens = r["metrics"]["input_tokens"]
        assert set(tokens) == {"total", "text", "image", "video", "audio"}
        assert tokens["total"] == sum(tokens[m] for m in ("text", "image", "video", "audio"))
    assert [s["modality"] for s in out["results"]["qwen"]["skipped_inputs"]] == ["audio"]
    assert "no audio input" in out["results"]["qwen"]["skipped_inputs"][0]["message"]
    assert out["results"]["gemma"]["metrics"]["input_tokens"]["audio"] > 0


def test_bad_file_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "fake.mp4"
    bad.write_text("not a video\n" * 50)
    proc = run_app("compare", "--tiny", "--prompt", "hi", "--video", str(bad), "--json", timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "video 'fake.mp4'" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_tiny_command_prints_a_loadable_folder_per_template_shape(tmp_path):
    from engine.sides import load_side
    from models.tiny import REPLICAS

    proc = run_app("tiny", str(tmp_path / "replicas"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    folders = proc.stdout.split()
    assert [f.rsplit("/", 1)[-1] for f in folders] == list(REPLICAS)
    types = set()
    for folder in folders:
        assert (tmp_path / "replicas").as_posix() in folder
        side = load_side(REPLICAS[folder.rsplit("/", 1)[-1]].family, folder)  # through from_pretrained, as a hub checkpoint
        assert side.load_error is None and side.loaded.is_replica, side.load_error
        types.add(side.loaded.model.config.model_type)
    assert types == {"gemma4", "gemma4_unified", "qwen3_5"}


def test_model_options_before_the_command_are_kept(replica_dirs):
    """`app.py --tiny compare` uses the replicas, as `app.py compare --tiny` does."""
    proc = run_app("--tiny", "compare", "--prompt", "Hi", "--max-new-tokens", "2", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    for key, folder in zip(("gemma", "qwen"), replica_dirs):
        assert out["results"][key]["source"] == str(folder), out["results"][key]["source"]
        assert out["results"][key]["error"] is None


def test_offline_without_replicas_says_why_and_how(tmp_path):
    """The default checkpoints cannot be downloaded here: both sides say why, and the app still starts."""
    import os
    import urllib.request

    from app_server import AppServer

    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}  # never download, empty cache
    proc = subprocess.run(
        [sys.executable, "app.py", "compare", "--prompt", "hi", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, **env},
    )
    assert proc.returncode == 1, "neither model could run"
    out = json.loads(proc.stdout)
    for key, hub_id in (("gemma", "google/gemma-4-E4B-it"), ("qwen", "Qwen/Qwen3.5-4B")):
        error = out["results"][key]["error"]
        assert hub_id in error and "--tiny" in error, error
    srv = AppServer(log=tmp_path / "app.log", tiny=False, env=env).wait_ready()
    try:
        assert urllib.request.urlopen(srv.url, timeout=10).status == 200
        assert "--tiny" in srv.log_path.read_text(), "the console says how to run offline"
    finally:
        srv.stop()

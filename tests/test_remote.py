"""The remote backend against a real OpenAI-compatible server: `transformers serve` on 127.0.0.1.

The server is a real process serving the replica folders offline; nothing here is mocked.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from app_server import free_port
from conftest import ROOT, SAMPLES, request
from engine.comparator import Comparator
from engine.sides import Side, remote_side
from modalities.request import GenerationSettings, validate_request
from modalities.routing import route
from models.backend import BackendError, Job, Tokens
from models.families import GEMMA, QWEN
from models.thinking import MarkerSplitter

# The `transformers` command installed beside this Python (transformers[serving]).
SERVE = [str(Path(sys.executable).parent / "transformers"), "serve"]


def start_server(folder, tmp_path, name: str):
    port = free_port()
    log = open(tmp_path / f"{name}.log", "w")
    proc = subprocess.Popen(
        [*SERVE, "--host", "127.0.0.1", "--port", str(port), str(folder)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"}, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((tmp_path / f"{name}.log").read_text()[-3000:])
        try:
            urllib.request.urlopen(f"{url}/models", timeout=2)
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise TimeoutError("transformers serve did not come up")


def stop_server(proc) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def gemma_server(replica_dirs, tmp_path_factory):
    proc, url = start_server(replica_dirs[0], tmp_path_factory.mktemp("serve"), "gemma")
    yield url
    stop_server(proc)


def run_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "app.py", "compare", "--tiny", *args, "--max-new-tokens", "8", "--temperature", "0", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})},
    )


def test_cli_remote_gemma_local_qwen_same_json_shape(gemma_server, replica_dirs):
    media = ["--prompt", "What is shown?", "--image", str(SAMPLES / "chart.png"), "--audio", str(SAMPLES / "question.wav")]
    secret = "sk-test-never-print-me"
    remote = run_cli("--gemma-endpoint", gemma_server, "--gemma", str(replica_dirs[0]), *media, env={"OPENAI_API_KEY": secret})
    local = run_cli(*media)
    assert remote.returncode == 0 and local.returncode == 0, remote.stderr[-2000:]
    assert secret not in remote.stdout + remote.stderr, "the API key must never be printed"
    r, l = json.loads(remote.stdout), json.loads(local.stdout)
    assert r.keys() == l.keys() and r["results"].keys() == l["results"].keys()
    g = r["results"]["gemma"]
    assert g["error"] is None, g["error"]
    assert set(l["results"]["gemma"]["metrics"]) <= set(g["metrics"]), "remote metrics cover the local ones"
    assert g["metrics"]["includes_network"] is True and g["metrics"]["output_tokens"] == 8, "usage from the server"
    assert g["metrics"]["input_tokens"]["total"] > 100, "image and audio reached the server"
    assert g["metrics"]["input_tokens"]["image"] is None, "a server says only the total"
    assert set(g["metrics"]["input_tokens"]) == set(l["results"]["gemma"]["metrics"]["input_tokens"]), "one shape"
    assert g["skipped_inputs"] == [], "the served Gemma replica takes audio, read from its folder"
    assert r["results"]["qwen"]["metrics"]["device"] == "cpu", "Qwen ran locally"
    assert [s["modality"] for s in r["results"]["qwen"]["skipped_inputs"]] == ["audio"]
    assert r["environment"]["models"]["gemma"]["backend"] == "remote"


def test_served_gemma_12b_hears_and_records_what_it_was_sent(all_replicas, tmp_path):
    folder = all_replicas["gemma4-12b-tiny"]
    proc, url = start_server(folder, tmp_path, "gemma-12b")
    try:
        media = ["--prompt", "What is here?", "--image", str(SAMPLES / "chart.png"), "--audio", str(SAMPLES / "question.wav")]
        out = run_cli("--gemma-endpoint", url, "--gemma", str(folder), *media, "--sampling", "recommended")
    finally:
        stop_server(proc)
    assert out.returncode == 0, out.stderr[-2000:]
    g = json.loads(out.stdout)["results"]["gemma"]
    assert g["error"] is None and g["skipped_inputs"] == [], g
    assert g["metrics"]["input_tokens"]["total"] > 100, "image and audio reached the server"
    sent = g["generation"]
    assert (sent["temperature"], sent["top_p"], sent["top_k"]) == (1.0, 0.95, None), sent
    assert "top-k 64" in sent["not_applied"][0], "what the OpenAI API cannot carry is said"


def _remote_comparator(url, model, accepts=None):
    return Comparator({"gemma": remote_side("gemma", url, str(model), accepts), "qwen": Side("qwen", load_error="off")})


def test_streaming_usage_and_image_part(gemma_server, replica_dirs):
    comparator = _remote_comparator(gemma_server, replica_dirs[0])
    settings = GenerationSettings(max_new_tokens=30, temperature=0)
    text_only = comparator.run(request("Describe.", settings)).results["gemma"]
    # Streamed in pieces: several chunks, each stamped as it arrived (how the page batches them
    # into updates depends on the machine's load, so it is not what this checks).
    arrivals = text_only.token_times
    assert text_only.error is None and len(arrivals) > 2 and len(set(arrivals)) > 2, f"the answer streams in pieces: {arrivals}"
    with_image = comparator.run(request("Describe.", settings, images=(str(SAMPLES / "chart.png"),))).results["gemma"]
    assert with_image.metrics.input_tokens.total > text_only.metrics.input_tokens.total + 50, "the image part was sent"


def test_audio_routing_follows_declared_capabilities(gemma_server, replica_dirs):
    comparator = _remote_comparator(gemma_server, replica_dirs[0], accepts=["image"])
    gemma = comparator.run(request("Hear this?", audio=str(SAMPLES / "question.wav"))).results["gemma"]
    assert [s.modality for s in gemma.skipped_inputs] == ["audio"]
    assert "Gemma 4 has no audio input" in str(gemma.skipped_inputs[0])


def test_unknown_model_and_refused_connection_are_errors(gemma_server, sides):

    for side, expected in (
        (remote_side("gemma", gemma_server, "nobody/no-such-model", ["image"]), "HTTP 400 for model 'nobody/no-such-model'"),
        (remote_side("gemma", f"http://127.0.0.1:{free_port()}/v1", "x", ["image"]), "could not connect"),
    ):
        result = Comparator({"gemma": side, "qwen": sides["qwen"]}).run(request())
        assert expected in (result.results["gemma"].error or ""), result.results["gemma"].error
        assert result.results["qwen"].error is None and result.results["qwen"].metrics, "the other side carries on"


def test_server_stopped_midway(replica_dirs, tmp_path):
    """The Qwen replica answers this prompt at length; the server is killed after its first chunk."""
    proc, url = start_server(replica_dirs[1], tmp_path, "qwen")
    try:
        backend = remote_side("qwen", url, str(replica_dirs[1]), ["image"]).backend
        routed = route(validate_request(request("What is shown?")), backend.capabilities)
        stream = backend.run(Job(routed, GenerationSettings(max_new_tokens=3000, temperature=0)))
        while not isinstance(next(stream), Tokens):  # the first chunk has arrived
            pass
        os.killpg(proc.pid, signal.SIGKILL)
        with pytest.raises(BackendError, match="the stream was cut off"):
            for _ in stream:
                pass
    finally:
        stop_server(proc)


class SilentServer:
    """Accepts connections on 127.0.0.1 and never answers: a server hung after accepting."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)  # kept open, never read or written

    def close(self) -> None:
        for conn in self.held:
            conn.close()
        self.sock.close()


def test_server_that_never_answers_ends_at_the_timeout_while_the_other_side_answers(replica_dirs):
    silent = SilentServer()
    try:
        start = time.perf_counter()
        proc = run_cli("--gemma-endpoint", silent.url, "--gemma", "some-model", "--timeout", "4", "--prompt", "Hi")
        elapsed = time.perf_counter() - start
    finally:
        silent.close()
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    gemma, qwen = out["results"]["gemma"], out["results"]["qwen"]
    assert gemma["status"] == "error" and "timed out after 4 s" in gemma["error"], gemma["error"]
    assert qwen["error"] is None and qwen["metrics"]["output_tokens"] == 8, "the other side answers"
    assert elapsed < 60, f"the hung server held the comparison for {elapsed:.0f} s"


@pytest.mark.parametrize(
    "family, chunks, answer, thinking",
    [
        (QWEN, ["Just ", "the answer."], "Just the answer.", ""),
        # Qwen's template opens the think block in the prompt: only the end marker streams.
        (QWEN, ["weigh", "ing it</th", "ink>\n\nYes."], "Yes.", "weighing it"),
        (QWEN, ["<think>\nhmm</think>", "No."], "No.", "hmm"),
        # Gemma's channel label "thought" is a label, not part of the thought.
        (GEMMA, ["<|channel>thought\n", "check 2+2", "<channel|>4"], "4", "check 2+2"),
        (GEMMA, ["<|channel>thought\nstill thinking"], "", "still thinking"),
    ],
)
def test_marker_splitter(family, chunks, answer, thinking):
    splitter = MarkerSplitter(family)
    for chunk in chunks:
        splitter.add(chunk)
    assert splitter.split() == (answer, thinking)


def test_stop_ends_a_remote_stream_and_keeps_its_text(replica_dirs, tmp_path):
    """The Qwen replica answers this prompt at length; Stop ends the stream after a few chunks."""
    proc, url = start_server(replica_dirs[1], tmp_path, "qwen")
    try:
        comparator = Comparator({"gemma": Side("gemma", load_error="off"), "qwen": remote_side("qwen", url, str(replica_dirs[1]))})
        stop = threading.Event()
        for state in comparator.stream(request("What is shown?", GenerationSettings(max_new_tokens=3000, temperature=0)), stop_event=stop):
            if len(state.results["qwen"].token_times) >= 3:
                stop.set()
        qwen = state.results["qwen"]
        assert qwen.status == "stopped" and qwen.metrics.stopped, (qwen.status, qwen.error)
        assert 3 <= qwen.metrics.output_tokens < 3000 and qwen.text + qwen.thinking, "the partial answer is kept"
    finally:
        stop_server(proc)


def test_a_slow_reader_does_not_delay_remote_arrivals(gemma_server, replica_dirs):
    """Chunks are stamped as they arrive, not when the page gets round to reading them."""
    comparator = _remote_comparator(gemma_server, replica_dirs[0])
    settings = GenerationSettings(max_new_tokens=12, temperature=0)
    quick = comparator.run(request("Describe.", settings)).results["gemma"].metrics
    for state in comparator.stream(request("Describe.", settings)):
        time.sleep(0.4)
    slow = state.results["gemma"].metrics
    assert slow.ttft_s < quick.ttft_s + 0.25, f"the reader's pause landed in time to first token ({slow.ttft_s:.2f} s)"
    assert slow.total_s < quick.total_s + 0.35, f"the reader's pauses landed in the total ({slow.total_s:.2f} s)"

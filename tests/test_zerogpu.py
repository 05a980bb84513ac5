"""The app as a ZeroGPU Space runs it: the real `spaces` package in ZeroGPU mode, its device API and
the worker's GPU emulated (tests/zerogpu_emulation.py), on the replicas.

Each test names the ZeroGPU failure it guards against: (1) the models fail to load, (2) a warm-up
in the main process ends the app, (3) the GPU call's arguments do not pickle, (4) Stop never
reaches the worker, (5) Evaluate generates outside a GPU call, (6) a queue of one refuses every
other event, (7) a duration longer than a visitor's quota, (8) the side order forgotten by each
fresh worker, (9) a Python the pinned transformers cannot run on.
"""

from __future__ import annotations

import pickle
import re
import shutil
import urllib.request

import pytest

from app_server import ROOT, AppServer, call_compare
from conftest import SAMPLES, request

pytest.importorskip("spaces")
EMULATION = ROOT / "tests" / "zerogpu_emulation.py"


def _zerogpu_env(api, tmp_path) -> dict:
    return {"SPACES_ZERO_GPU": "true", "SPACES_ZERO_DEVICE_API_URL": api.url,
            "ZEROGPU_OFFLOAD_DIR": str(tmp_path / "tensors")}


@pytest.fixture(scope="module")
def space(tmp_path_factory, replica_dirs):
    from zerogpu_emulation import DeviceApi

    folder = tmp_path_factory.mktemp("zerogpu")
    api = DeviceApi()
    srv = AppServer(log=folder / "app.log", program=EMULATION, env=_zerogpu_env(api, folder)).wait_ready()
    srv.api = api
    srv.calls_at_start = list(api.calls)  # GPU calls asked for while the app started: none may be
    yield srv
    srv.stop()
    api.close()


def _client(space):
    from gradio_client import Client

    return Client(space.url, verbose=False)


def test_start_up_places_both_models_and_runs_nothing_on_the_gpu(space):
    """(1), (2): both models load on the main thread under `spaces`' torch patching, no warm-up runs
    there, the app is up; the page says why the models cannot be switched."""
    config = urllib.request.urlopen(f"{space.url}config").read().decode()
    assert "The models are fixed on this Space" in config
    assert config.count("offline replica (random weights)") >= 2, "a model is not loaded"
    assert space.calls_at_start == [], "a GPU call was asked for at start-up"
    assert "Low-level CUDA init" not in space.log_path.read_text()


def test_a_comparison_streams_from_the_gpu_worker_and_its_first_call_says_cold_start(space):
    """(3), (7): the call's arguments and every state cross the process boundary; the call asks for
    a duration sized from the request, within the anonymous quota."""
    from engine.gpu import COLD_START, GpuBudget

    job = _client(space).submit(prompt="Hello there", image_files=None, video_file=None, audio_file=None, system="",
                                max_new_tokens=12, temperature=0.0, top_p=0.95, seed=0, thinking=False,
                                sampling="identical", draft=False, api_name="/compare")
    raw = job.result()[-1]
    assert len(job.outputs()) >= 2, "not streamed"
    for key, result in raw["results"].items():
        assert result["status"] == "done", (key, result.get("error"))
        assert result["metrics"]["device"] == "cuda"
    assert raw["environment"]["gpu"] == "ZeroGPU emulation (CPU)", "it did not run in the GPU worker"
    first = space.api.calls[0]
    assert int(first["durationSeconds"]) == GpuBudget().seconds(12, 2) <= 120
    notes = [n for r in raw["results"].values() for n in r["notes"]]
    assert len(space.api.calls) == 1 and notes.count(COLD_START) == 2, "a fresh worker's first call did not say so"
    again = call_compare(_client(space), "Hello again", max_new_tokens=4)[-1]  # the same worker, reused
    assert not [n for r in again["results"].values() for n in r["notes"] if n == COLD_START], "a reused worker"


def test_turn_two_carries_each_models_own_history(space):
    client = _client(space)
    first = call_compare(client, "Name a colour.", max_new_tokens=6)
    second = call_compare(client, "And another?", max_new_tokens=6)
    assert any(isinstance(v, str) and "Turn 2" in v for v in second), "the page's conversation did not continue"
    for key in ("gemma", "qwen"):
        before = first[-1]["results"][key]["metrics"]["input_tokens"]["total"]
        after = second[-1]["results"][key]["metrics"]["input_tokens"]["total"]
        assert after > before, f"{key}: turn 2 was sent without turn 1"


def test_image_and_audio_reach_the_worker(space):
    raw = call_compare(_client(space), "What is shown and asked?", images=[SAMPLES / "chart.png"],
                       audio=SAMPLES / "question.wav", max_new_tokens=6)[-1]
    gemma, qwen = raw["results"]["gemma"], raw["results"]["qwen"]
    assert gemma["status"] == qwen["status"] == "done", (gemma.get("error"), qwen.get("error"))
    assert gemma["metrics"]["input_tokens"]["image"] > 0 and gemma["metrics"]["input_tokens"]["audio"] > 0
    assert [s["modality"] for s in qwen["skipped_inputs"]] == ["audio"]


def test_the_side_order_alternates_across_fresh_workers(space):
    """(8): each call gets a new worker here; which model goes first still alternates."""
    space.api.fresh_workers = True
    try:
        client = _client(space)
        orders = [call_compare(client, f"Order {n}", max_new_tokens=3)[-1]["order"] for n in range(2)]
    finally:
        space.api.fresh_workers = False
    assert orders[0] != orders[1], orders


def test_an_arena_round(space):
    client = _client(space)
    shown = client.predict(prompt="Which is better?", image_files=None, video_file=None, audio_file=None,
                           thinking=False, max_new_tokens=6, api_name="/blind_compare")[-1]
    assert all(a["status"] == "done" for a in shown["answers"].values()), shown["answers"]
    *_, revealed = client.predict("tie", api_name="/vote")
    assert revealed["vote"] == "tie"


def test_each_evaluation_task_is_one_gpu_call(space):
    """(5)"""
    before = len(space.api.calls)
    summary, table = _client(space).predict("samples/suites/math.jsonl", 2, False, api_name="/evaluate")
    assert summary.startswith("2/2 tasks"), summary
    assert len(space.api.calls) - before == 2


def test_the_queue_takes_more_than_one_waiting_event(space):
    """(6): while one comparison waits for a GPU, a second waits in the queue and a third is
    still taken (a queue of one, Gradio's default on ZeroGPU, refuses it: "Queue is full")."""
    import time

    from gradio_client.utils import Status

    space.api.open.clear()  # no GPU free: the first call waits in the scheduler
    try:
        client = _client(space)
        jobs = [client.submit(prompt="At once 0", image_files=None, video_file=None, audio_file=None, system="",
                              max_new_tokens=3, temperature=0.0, top_p=0.95, seed=0, thinking=False,
                              sampling="identical", draft=False, api_name="/compare")]
        assert space.api.asked.acquire(timeout=120), "the first comparison never asked for a GPU"
        for n in (1, 2):
            jobs.append(_client(space).submit(prompt=f"At once {n}", image_files=None, video_file=None,
                                              audio_file=None, system="", max_new_tokens=3, temperature=0.0,
                                              top_p=0.95, seed=0, thinking=False, sampling="identical", draft=False,
                                              api_name="/compare"))
            while jobs[-1].status().code in (Status.STARTING, Status.JOINING_QUEUE):
                time.sleep(0.02)  # until the queue has answered this one: taken, or refused
    finally:
        space.api.open.set()
    results = [job.result()[-1] for job in jobs]
    assert all(r["results"][k]["status"] == "done" for r in results for k in ("gemma", "qwen"))


def test_a_visitor_out_of_quota_gets_one_clear_message(space):
    """(7): the call asks for more than the visitor has left: refused before it runs, said in both columns."""
    space.api.quota_s = 5
    try:
        raw = call_compare(_client(space), "Too much", max_new_tokens=400)[-1]
    finally:
        space.api.quota_s = 10_000
    for key in ("gemma", "qwen"):
        error = raw["results"][key]["error"]
        assert error.startswith("the GPU call ended:") and "GPU limit" in error, error
    # The slider ends where one call's time does (the engine refuses the rest too: test below).
    with pytest.raises(Exception, match="greater than maximum value 1187"):
        call_compare(_client(space), "Longer than a call may ask for", max_new_tokens=4000)


def test_a_call_asks_for_its_time_and_no_more_than_the_cap(sides, monkeypatch):
    import engine.gpu
    from engine.comparator import Comparator
    from engine.gpu import GpuBudget
    from engine.stop import StopFlag
    from modalities.errors import InputError
    from modalities.request import GenerationSettings

    budget, comparator = GpuBudget(cap_s=110, fixed_s=15, tokens_per_s=25), Comparator(sides)
    assert [budget.seconds(n, 2) for n in (1, 100, 1000, 4096)] == [16, 23, 95, 110]
    assert budget.max_new_tokens(2) is None, "off ZeroGPU nothing is capped"
    monkeypatch.setattr(engine.gpu, "ON_ZEROGPU", True)
    assert budget.max_new_tokens(2) == 1187 and budget.max_new_tokens(1) == 2375
    long = request("Hi", GenerationSettings(max_new_tokens=1188))
    with pytest.raises(InputError, match="max new tokens: at most 1187 here"):
        budget.call(comparator, long, comparator.check(long), StopFlag())


def test_stop_reaches_the_worker(tmp_path, replica_dirs):
    """(4): Stop is pressed in the server's process; the comparison runs in the GPU worker."""
    import time

    from playwright.sync_api import expect, sync_playwright

    from fake_openai import FakeOpenAI
    from zerogpu_emulation import DeviceApi

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("needs Debian's chromium (installed by .ci/run)")
    fake, api = FakeOpenAI("word " * 400, seconds_per_chunk=0.1), DeviceApi()  # about 40 s of streaming
    srv = AppServer("--gemma-endpoint", f"{fake.url}/v1", "--gemma", fake.model, log=tmp_path / "app.log",
                    program=EMULATION, env=_zerogpu_env(api, tmp_path)).wait_ready()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 1500})
            page.goto(srv.url)
            page.locator("#prompt textarea").fill("Write at length.")
            page.locator("#compare").click()
            expect(page.locator("#gemma-chat")).to_contain_text("word", timeout=120_000)
            clicked = time.monotonic()
            page.locator("#stop").click()
            expect(page.locator("#gemma-status")).to_contain_text("Stopped by you", timeout=30_000)
            stopped_after = time.monotonic() - clicked
            browser.close()
        assert stopped_after < 10, f"Stop took {stopped_after:.1f} s to show"
    finally:
        srv.stop()
        fake.close()
        api.close()


def test_a_gpu_calls_arguments_and_results_pickle(sides):
    """(3): what crosses into the worker and back, with decoded media and each side's history."""
    from engine.comparator import Comparator
    from engine.gpu import GpuCall
    from engine.stop import StopFlag
    from modalities.request import GenerationSettings

    comparator = Comparator(sides)
    req = request("What is shown and asked?", GenerationSettings(max_new_tokens=4, temperature=0),
                  images=(str(SAMPLES / "chart.png"),), audio=str(SAMPLES / "question.wav"))
    result = comparator.run(req)
    call = GpuCall(req, comparator.check(req), StopFlag(), histories={k: [t] for k, t in result.turns.items()},
                   order=comparator.next_order(), clicked_at=1.0, seconds=30)
    back = pickle.loads(pickle.dumps(call))
    assert back.request == req and back.histories["gemma"][0].answer == result.turns["gemma"].answer
    assert back.inputs.images[0].image.size == call.inputs.images[0].image.size
    assert pickle.loads(pickle.dumps(result)).results == result.results
    call.stop.set()
    assert back.stop.is_set(), "a stop set on one side of the boundary is not seen on the other"
    call.stop.clear_file()


def test_the_space_names_a_python_the_pinned_transformers_runs_on():
    """(9): transformers 5.24 requires Python 3.11 or newer; the Space's front matter says which to use."""
    front = re.match(r"---\n(.*?)\n---", (ROOT / "README.md").read_text(), re.S).group(1)
    version = re.search(r'^python_version:\s*"?([\d.]+)"?', front, re.M)
    assert version, "no python_version in the README's front matter"
    assert tuple(int(p) for p in version.group(1).split(".")[:2]) >= (3, 11)


def test_a_pair_asks_for_the_device_it_fits():
    """Half an H200 for the edge, small and mid pairs; a whole one (xlarge) for moe and large;
    nothing bigger exists, so a pair over it is refused with the reason."""
    from types import SimpleNamespace as NS

    from engine.gpu import size_for

    def pair(gib_a: float, gib_b: float):
        return {k: NS(loaded=NS(footprint_mb=gib * 1024)) for k, gib in (("gemma", gib_a), ("qwen", gib_b))}

    assert size_for(pair(22.2, 17.5)) is None  # mid: Gemma 4 12B + Qwen 3.5 9B in bf16
    assert size_for(pair(48.0, 65.2)) == "xlarge"  # moe
    assert size_for({"gemma": NS(loaded=None), "qwen": NS(loaded=NS(footprint_mb=50 * 1024))}) is None, "a served side"
    with pytest.raises(ValueError, match="more than a whole ZeroGPU device"):
        size_for(pair(100, 60))


def test_fast_is_refused_on_zerogpu_with_the_reason():
    """torch.compile does not run on ZeroGPU: --fast there is refused before anything loads."""
    from types import SimpleNamespace as NS

    from engine.sides import ModelOptions
    from serve import on_zerogpu

    said = []
    assert on_zerogpu(NS(model_options=ModelOptions(fast=True), lock_models=False), said.append) is False
    assert said and "--fast cannot run on ZeroGPU" in said[0] and "torch.compile" in said[0]

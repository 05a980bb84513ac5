"""Recorded sessions: durable recording (a SIGKILL test), forgiving loading, reports, replay."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, SAMPLES, request
from modalities.request import GenerationSettings
from recording.export import export, summary
from recording.replay import frames, label
from engine.results import ComparisonResult, Metrics, ModelResult
from models.backend import InputTokens
from recording.session import SESSION_FILE, Recorded, Recorder, Session, SessionError, load_session

SETTINGS = GenerationSettings(max_new_tokens=12, temperature=0.0)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, sides):
    """Two comparisons recorded into one session, and the results as the engine returned them."""
    from engine.comparator import Comparator

    folder = tmp_path_factory.mktemp("rec") / "session"
    recorder, results, comparator = Recorder(folder), [], Comparator(sides)
    for prompt in ("first", "second"):  # one comparator: the second goes Qwen first
        result = comparator.run(
            request(prompt, SETTINGS, images=(str(SAMPLES / "chart.png"),), audio=str(SAMPLES / "question.wav"))
        )
        recorder.record(result)
        results.append(result)
    return folder, results


@pytest.fixture
def session_dir(recorded, tmp_path):
    import shutil

    return shutil.copytree(recorded[0], tmp_path / "session")


def test_recording_round_trip(recorded):
    """What is read back is the ComparisonResult that was recorded, field for field."""
    folder, results = recorded
    session = load_session(folder)
    assert session.problems == []
    assert [r.order for r in results] == [["gemma", "qwen"], ["qwen", "gemma"]], "both orders recorded"
    for entry, original in zip(session.entries, results, strict=True):
        back = entry.result
        assert isinstance(back, ComparisonResult) and back.request == original.request
        assert back.order == original.order and back.mode == original.mode
        for key, r in original.results.items():
            assert back.results[key] == r, f"{key}: the result read back differs from the one recorded"
        assert {m.kind for m in entry.media} == {"image", "audio"}
        assert all(session.media_path(m).exists() for m in entry.media)
    gemma = session.entries[0].result.results["gemma"]
    assert len(gemma.token_times) == gemma.metrics.output_tokens > 0, "every token's arrival is kept"
    assert gemma.progress and isinstance(gemma.metrics.input_tokens, InputTokens)
    env = session.entries[0].result.environment
    assert env["libraries"]["transformers"] and env["models"]["gemma"]["source"]


def test_sigkill_mid_session_leaves_a_loadable_session(tmp_path, replica_dirs):
    """A process recording in a loop is killed with SIGKILL; every whole line still loads."""
    folder = tmp_path / "killed"
    driver = f"""
import sys; sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests')!r}]
from conftest import request
from modalities.request import GenerationSettings
from engine.comparator import Comparator
from engine.sides import load_side
from recording.session import Recorder
sides = {{k: load_side(k, p) for k, p in zip(("gemma", "qwen"), {[str(d) for d in replica_dirs]!r})}}
comparator, recorder = Comparator(sides), Recorder({str(folder)!r})
for i in range(10_000):
    recorder.record(comparator.run(request(f"run {{i}}", GenerationSettings(max_new_tokens=4, temperature=0))))
"""
    proc = subprocess.Popen([sys.executable, "-c", driver], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path = folder / SESSION_FILE
    deadline = time.time() + 180
    while time.time() < deadline and not (path.exists() and path.read_bytes().count(b"\n") >= 4):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    whole_lines = path.read_bytes().count(b"\n")
    assert whole_lines >= 4, "the recorder never got going"
    session = load_session(folder)
    assert len(session.entries) >= whole_lines - 1, "at most the comparison being written is lost"
    assert len(session.problems) <= 1
    prompts = [e.result.request.prompt for e in session.entries]
    assert prompts == [f"run {i}" for i in range(len(prompts))], "no line lost or reordered"


def test_corrupt_line_and_missing_media_are_reported(session_dir):
    path = session_dir / SESSION_FILE
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], '{"request": {"prompt": "cut', lines[1]]) + "\n")
    first_image = json.loads(lines[0])["media"][0]["file"]
    (session_dir / first_image).unlink()
    session = load_session(session_dir)
    assert len(session.entries) == 2, "the corrupt line is skipped, the rest kept"
    assert any("line 2 skipped: corrupt" in p for p in session.problems)
    assert any("is missing" in p for p in session.problems)
    report = export(session, "html")  # still exports
    assert "line 2 skipped" in report.read_text()


@pytest.mark.parametrize("make, reason", [(lambda p: None, "not found"), (lambda p: p.mkdir(), "not a recorded session")])
def test_unusable_session_folders(tmp_path, make, reason):
    folder = tmp_path / "nothing"
    make(folder)
    with pytest.raises(SessionError, match=reason):
        load_session(folder)


def test_export_command_formats_and_bad_folder(session_dir, tmp_path):
    for fmt in ("html", "md", "json"):
        out = tmp_path / f"report.{fmt}"
        proc = subprocess.run(
            [sys.executable, "app.py", "export", str(session_dir), "--format", fmt, "--out", str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert out.stat().st_size > 500
    data = json.loads((tmp_path / "report.json").read_text())
    assert len(data["comparisons"]) == 2 and data["summary"]["gemma"]["ttft_s"]["n"] == 2
    assert "| time to first token (s) |" in (tmp_path / "report.md").read_text()
    proc = subprocess.run([sys.executable, "app.py", "export", str(tmp_path / "nope")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and "not found" in proc.stderr and "Traceback" not in proc.stderr


def _recorded(ttft: float | None, total: float) -> Recorded:
    """A recorded comparison with the given Qwen timings (Gemma has no metrics)."""
    metrics = Metrics(0.0, ttft, ttft, None, total, 1, 0, 1, InputTokens(total=3), "cpu", "float32", None, "process_rss")
    results = {"gemma": ModelResult("gemma", "g"), "qwen": ModelResult("qwen", "q", metrics=metrics)}
    return Recorded(0, "", ComparisonResult(request("x"), results, {}, ["gemma", "qwen"], "sequential"))


def test_summary_medians(tmp_path):
    session = Session(tmp_path, [_recorded(t, 10 * t) for t in (1.0, 2.0, 9.0)] + [_recorded(None, 5.0)])
    table = summary(session)
    assert table["qwen"]["ttft_s"] == {"median": 2.0, "n": 3}, "the median of the values there are, not the mean"
    assert table["qwen"]["total_s"] == {"median": 15.0, "n": 4}
    assert table["gemma"]["ttft_s"] == {"median": None, "n": 0}


def test_html_report_is_self_contained_in_chromium(session_dir):
    import shutil

    chromium = shutil.which("chromium")
    if not chromium:
        pytest.skip("needs Debian's chromium")
    from playwright.sync_api import sync_playwright

    report = export(load_session(session_dir), "html")
    requests = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.route("**/*", lambda route: route.abort() if route.request.url.startswith("http") else route.continue_())
        page.goto(report.as_uri())
        assert page.locator("h2", has_text="Comparison 2").count() == 1
        assert page.locator("svg").count() >= 2, "both timing charts render"
        widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
        assert widths and all(w > 0 for w in widths), "thumbnails are embedded and decode"
        browser.close()
    assert not [u for u in requests if u.startswith("http")], f"the report fetched {requests}"


def test_replay_frames_follow_recorded_times(session_dir):
    """On a fake clock that only sleeping advances, each frame is shown at its recorded time / speed.

    The recorded answers keep their text, with progress marks at known times (every 0.25 s, the
    two sides 0.1 s apart): how many marks the replicas left depends on how fast they ran."""
    import copy

    from recording.replay import FRAME_S, timeline

    entry = load_session(session_dir).entries[0]
    result = copy.deepcopy(entry.result)
    for n, r in enumerate(result.results.values()):
        step = max(1, len(r.text) // 12)
        r.progress = [(0.25 * (i + 1) + 0.1 * n, min(len(r.text), (i + 1) * step), 0) for i in range(12)]
    now = [0.0]
    shown_at = []

    def sleep(seconds):
        assert seconds > 0
        now[0] += seconds

    for frame in frames(result, speed=2.0, sleep=sleep, clock=lambda: now[0]):
        shown_at.append(now[0])
    marks = [t / 2.0 for t, *_ in timeline(result)]
    assert len(marks) > 4, "the recording has progress marks to pace"
    for t in shown_at[:-1]:  # each frame shows the marks due by then, at most one frame late
        assert any(0 <= t - m <= FRAME_S + 1e-9 for m in marks), f"a frame at {t:.3f} s matches no mark at 2x"
    assert marks[-1] <= shown_at[-2] <= marks[-1] + FRAME_S, "the last mark is shown by one frame after its time"
    final = frame
    for side in ("gemma", "qwen"):
        r = result.results[side]
        assert final[side] == (r.text, r.thinking, True)
    assert "Recording from" in label(entry) and "gemma4-edge-tiny" in label(entry)


def _streamed(tokens: int, seconds: float) -> ComparisonResult:
    """Two answers of `tokens` marks each, evenly over `seconds` (a fast model's recording)."""
    from engine.results import ModelResult, Status
    from modalities.request import CompareRequest

    def side(key):
        marks = [((i + 1) * seconds / tokens, i + 1, 0) for i in range(tokens)]
        return ModelResult(key, key, Status.DONE, text="x" * tokens, progress=marks)

    return ComparisonResult(CompareRequest("x"), {"gemma": side("gemma"), "qwen": side("qwen")}, {}, ["gemma", "qwen"], "sequential")


@pytest.mark.parametrize("speed", [1.0, 10.0])
def test_replay_plays_at_its_speed_however_many_tokens(speed):
    """A 6 s recording of 1,000 tokens a side plays in 6 s / speed, even when the page takes
    30 ms to draw each frame (one frame per token would take 60 s)."""
    from recording.replay import FRAME_S

    now, count = [0.0], 0
    for _ in frames(_streamed(1000, 6.0), speed=speed, sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0]):
        now[0] += 0.03  # the page drawing this frame
        count += 1
    assert now[0] <= 6.0 / speed + 2 * FRAME_S, f"played in {now[0]:.1f} s at {speed}x"
    assert count <= round(6.0 / speed / FRAME_S) + 2, f"{count} frames: more than the page can draw"


def test_replay_text_grows_to_the_recorded_answer(session_dir):
    entry = load_session(session_dir).entries[0]
    shown = list(frames(entry.result, speed=1000.0))
    for side in ("gemma", "qwen"):
        lengths = [len(f[side][0]) for f in shown]
        assert lengths == sorted(lengths), "text only grows during a replay"
        assert shown[-1][side][0] == entry.result.results[side].text


def test_replay_app_plays_a_recording_without_loading_models(session_dir, tmp_path):
    from gradio_client import Client

    from app_server import AppServer

    srv = AppServer("--replay", str(session_dir), log=tmp_path / "replay.log", tiny=False).wait_ready()
    try:
        (about, gemma_chat, qwen_chat, gemma_details, qwen_details, _gs, _qs, table, _first, curve, images, _video,
         audio) = Client(srv.url, verbose=False).predict(0, 8.0, api_name="/replay")
        entry = load_session(session_dir).entries[0]
        assert "Recording from" in about
        assert "| time to first token (s) |" in table, "the replay ends with the comparison table"
        assert {r[2] for r in curve["data"]} == {"Gemma 4", "Qwen 3.5"}, "and the tokens-over-time chart of both"
        assert [i["caption"] for i in images] == ["chart.png"] and audio.endswith(".wav"), (
            "the recorded inputs are shown"
        )
        from ui.markup import to_html

        assert gemma_chat[-1]["content"][0]["text"].strip() == to_html(entry.result.results["gemma"].text).strip()
        assert "audio 'question.wav' not sent" in qwen_details
        # The same comparison as a video, rendered on the server (a progress bar in the page).
        import av

        video = Client(srv.url, verbose=False).predict(0, "1280x720", api_name="/clip")
        with av.open(video) as clip:
            stream = clip.streams.video[0]
            assert stream.codec_context.name == "h264" and (stream.width, stream.height) == (1280, 720)
            assert sum(1 for _ in clip.decode(stream)) >= 30 * 6, "the title and end cards at least"
        assert "Loading weights" not in (tmp_path / "replay.log").read_text(), "replay must not load a model"
    finally:
        srv.stop()


def test_a_replay_link_opens_its_comparison(session_dir, tmp_path):
    """'Link to this comparison' gives the page's own address with ?entry=N (made in the browser:
    nothing is sent anywhere); opened elsewhere, it shows that comparison, finished."""
    import shutil

    chromium = shutil.which("chromium")
    if not chromium:
        pytest.skip("needs Debian's chromium")
    from playwright.sync_api import expect, sync_playwright

    from app_server import AppServer

    srv = AppServer("--replay", str(session_dir), log=tmp_path / "replay.log", tiny=False).wait_ready()
    second = load_session(session_dir).entries[1].result
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.goto(srv.url)
            page.get_by_label("Recorded comparisons (2)").click()
            page.get_by_role("option", name=re.compile(r"^2\. ")).click()
            page.locator("#share").click()
            expect(page.locator("#share-link textarea")).to_have_value(re.compile(r"\?entry=2$"))
            link = page.locator("#share-link textarea").input_value()
            other = browser.new_page()
            other.goto(link)
            expect(other.locator("#replay-label")).to_contain_text("Recording from", timeout=30_000)
            expect(other.locator("#gemma-status")).to_contain_text("Done", timeout=30_000)
            assert second.request.prompt[:20] in other.locator("#gemma-chat").inner_text()
            browser.close()
    finally:
        srv.stop()


def test_a_visitors_zip_is_built_outside_the_lock_stored_and_kept_until_their_next_comparison(tmp_path, sides):
    """Building one visitor's zip never holds up another's recording; media are stored as they are;
    asked again with nothing new, the same file is given, and a new comparison makes a new one."""
    import threading
    import zipfile

    from engine.comparator import Comparator
    from recording.session import Recorder

    recorder = Recorder(tmp_path / "session")
    comparator = Comparator(sides)
    first = comparator.run(request("Zip me", GenerationSettings(max_new_tokens=2, temperature=0.0),
                                   images=(str(SAMPLES / "chart.png"),)))
    recorder.record(first, visitor="v")
    built = []
    worker = threading.Thread(target=lambda: built.append(recorder.archive("v")))
    with recorder._lock:  # as while another visitor's comparison is being written
        worker.start()
        worker.join(60)
        assert not worker.is_alive(), "the zip waited for the recording lock"
    path = built[0]
    with zipfile.ZipFile(path) as z:
        kinds = {info.filename.rsplit("/", 1)[-1]: info.compress_type for info in z.infolist()}
    assert kinds.pop("session.jsonl") == zipfile.ZIP_DEFLATED and set(kinds.values()) == {zipfile.ZIP_STORED}, kinds
    stamp = path.stat().st_mtime_ns
    assert recorder.archive("v") == path and path.stat().st_mtime_ns == stamp, "rebuilt with nothing new"
    recorder.record(first, visitor="v")
    with zipfile.ZipFile(recorder.archive("v")) as z:
        lines = z.read(f"{path.stem}/session.jsonl").decode().splitlines()
    assert len(lines) == 2, "the new comparison is in the new zip"
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no partial file left behind"

"""Crafted recordings and a full disk: what a hostile session file or a failing write can do.

Each test writes a session line that the app never writes itself (a wrong type, a path outside
the session, a torn line) and checks that reports, replay and recording stay safe and whole.
"""

from __future__ import annotations

import errno
import json
import shutil

import pytest

from conftest import SAMPLES, request
from documents import jsonl
from modalities.request import GenerationSettings
from recording.export import export
from recording.replay import frames
from recording.session import SESSION_FILE, Recorder, load_session


@pytest.fixture(scope="module")
def one_line(tmp_path_factory, sides):
    """A session of one real comparison with an image, and its line as a dict."""
    from engine.comparator import Comparator

    folder = tmp_path_factory.mktemp("hostile") / "session"
    result = Comparator(sides).run(
        request("hello", GenerationSettings(max_new_tokens=4, temperature=0.0), images=(str(SAMPLES / "chart.png"),))
    )
    Recorder(folder).record(result)
    return folder, json.loads((folder / SESSION_FILE).read_text())


def _session_with(folder, tmp_path, *lines):
    target = shutil.copytree(folder, tmp_path / "session")
    (target / SESSION_FILE).write_text("".join(json.dumps(line) + "\n" for line in lines))
    return target


def test_a_script_in_a_metric_cell_never_reaches_a_report(one_line, tmp_path):
    folder, line = one_line
    crafted = json.loads(json.dumps(line))
    crafted["results"]["gemma"]["metrics"]["ttft_s"] = "<script>document.title='pwned'</script>"
    session = load_session(_session_with(folder, tmp_path, line, crafted))
    assert len(session.entries) == 1 and "line 2 skipped" in session.problems[0] and "ttft_s" in session.problems[0]
    for fmt in ("html", "md"):
        assert "<script>document" not in export(session, fmt).read_text()
    assert list(frames(session.entries[0].result, speed=1e6))  # replay reads only checked lines


@pytest.mark.parametrize("kind", ["str-prompt-list", "progress-strings", "status-number"])
def test_wrong_field_types_are_refused_with_the_field_named(one_line, tmp_path, kind):
    folder, line = one_line
    crafted = json.loads(json.dumps(line))
    field = {"str-prompt-list": "prompt", "progress-strings": "progress", "status-number": "status"}[kind]
    if kind == "str-prompt-list":
        crafted["request"]["prompt"] = ["a", "b"]
    elif kind == "progress-strings":
        crafted["results"]["qwen"]["progress"] = [["x", 1, 2]]
    else:
        crafted["results"]["qwen"]["status"] = 7
    session = load_session(_session_with(folder, tmp_path, crafted))
    assert session.entries == [] and "line 1 skipped" in session.problems[0], session.problems
    assert field in session.problems[0] or "status" in session.problems[0]


@pytest.mark.parametrize("path", ["/etc/hostname", "../outside.png", "media/../../outside.png"])
def test_media_outside_the_session_is_refused_and_never_embedded(one_line, tmp_path, path):
    folder, line = one_line
    (tmp_path / "outside.png").write_bytes((SAMPLES / "chart.png").read_bytes())
    crafted = json.loads(json.dumps(line))
    crafted["media"][0]["file"] = path
    session = load_session(_session_with(folder, tmp_path, crafted))
    assert session.entries[0].media == []
    assert session.problems == ["line 1: a media entry points outside the session's media folder: refused"]
    assert "data:image/jpeg" not in export(session, "html").read_text(), "nothing outside is read"


def test_markdown_report_prompt_cannot_forge_rows_or_html(one_line, tmp_path):
    folder, line = one_line
    crafted = json.loads(json.dumps(line))
    crafted["request"]["prompt"] = "hi\n\n| forged | row |\n<img src=x onerror=alert(1)>"
    text = export(load_session(_session_with(folder, tmp_path, crafted)), "md").read_text()
    assert "| forged | row |" not in text and "<img" not in text


def test_a_torn_last_line_is_cut_before_the_next_recording(one_line, tmp_path, sides):
    """A line torn by a full disk or a kill: the next comparison is recorded whole after it."""
    from engine.comparator import Comparator

    target = _session_with(one_line[0], tmp_path, one_line[1])
    with open(target / SESSION_FILE, "a") as f:
        f.write('{"version": 1, "recorded_at": "torn')
    recorder = Recorder(target)
    recorder.record(Comparator(sides).run(request("after", GenerationSettings(max_new_tokens=2, temperature=0.0))))
    session = load_session(target)
    assert session.problems == [] and [e.result.request.prompt for e in session.entries] == ["hello", "after"]
    assert "torn last line" in recorder.problems[0], "what was cut is reported"


def test_a_write_that_fails_on_a_full_disk_tears_nothing(tmp_path, monkeypatch):
    """Fault injection (a full disk cannot be produced here): the data is written, then the
    flush to disk fails with ENOSPC. The file must end where it did, and the next line is whole."""
    path = tmp_path / "lines.jsonl"
    jsonl.append(path, {"n": 1})

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(jsonl.os, "fsync", full)
        with pytest.raises(OSError):
            jsonl.append(path, {"n": 2, "pad": "x" * 10_000})
    assert path.read_text() == '{"n": 1}\n'
    jsonl.append(path, {"n": 3})
    assert [line.record["n"] for line in jsonl.read(path)[0]] == [1, 3]


def test_lone_surrogates_are_written_as_replacement_characters(tmp_path):
    path = tmp_path / "lines.jsonl"
    jsonl.append(path, {"text": "bad \ud800 end"})
    assert jsonl.read(path)[0][0].record["text"] == "bad \ufffd end"


def _long_recording(one_line, tmp_path, times):
    folder, line = one_line
    crafted = json.loads(json.dumps(line))
    for side in ("gemma", "qwen"):
        crafted["results"][side]["progress"] = [[t, 1, 0] for t in times]
    return _session_with(folder, tmp_path, crafted)


def test_a_recorded_pause_of_a_billion_seconds_plays_as_a_short_one(one_line, tmp_path):
    from recording.replay import MAX_GAP_S

    entry = load_session(_long_recording(one_line, tmp_path, [0.5, 1e9, 1e9 + 1])).entries[0]
    now = [0.0]
    for _ in frames(entry.result, speed=1.0, sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0]):
        pass
    assert now[0] <= 0.5 + 3 * MAX_GAP_S, f"the replay slept {now[0]:.0f} s"


def test_one_viewer_replaying_a_long_recording_does_not_hold_up_another(one_line, tmp_path):
    import time

    from gradio_client import Client

    from app_server import AppServer

    folder = _long_recording(one_line, tmp_path, [1.9 * i for i in range(1, 40)])  # 74 s, played as recorded
    srv = AppServer("--replay", str(folder), tiny=False, log=tmp_path / "app.log").wait_ready()
    try:
        first = Client(srv.url, verbose=False).submit(0, 1, api_name="/replay")
        time.sleep(3)
        start = time.monotonic()
        second = Client(srv.url, verbose=False).submit(0, 10, api_name="/replay")
        while not second.outputs() and time.monotonic() - start < 20:
            time.sleep(0.2)
        waited = time.monotonic() - start
        assert second.outputs() and not first.done(), "the second viewer's replay started while the first played"
        assert waited < 15, f"the second viewer waited {waited:.0f} s"
        first.cancel()
        second.cancel()
    finally:
        srv.stop()


def test_a_server_answer_with_a_lone_surrogate_is_printed_and_recorded(tmp_path, replica_dirs):
    import subprocess
    import sys

    from conftest import ROOT
    from fake_openai import FakeOpenAI

    fake = FakeOpenAI("bad \ud800 end")
    try:
        proc = subprocess.run(
            [sys.executable, "app.py", "compare", "--tiny", "--gemma-endpoint", f"{fake.url}/v1", "--gemma", fake.model,
             "--prompt", "hi", "--max-new-tokens", "2", "--json", "--record", str(tmp_path / "session")],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )
    finally:
        fake.close()
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["results"]["gemma"]["text"] == "bad \ufffd end"
    assert load_session(tmp_path / "session").entries[0].result.results["gemma"].text == "bad \ufffd end"


def test_a_conversation_keeps_no_decoded_image_and_follow_ups_still_see_it(comparator):
    from engine.comparator import Comparator  # noqa: F401  (the fixture's class)

    first = comparator.run(request("What is it?", GenerationSettings(max_new_tokens=2, temperature=0.0),
                                   images=(str(SAMPLES / "chart.png"),)))
    kept = first.turns["gemma"].inputs.images
    assert len(kept) == 1 and kept[0].image is None, "the session state holds a path, not pixels"
    histories = {k: [t] for k, t in first.turns.items()}
    follow = list(comparator.stream(request("And then?", GenerationSettings(max_new_tokens=2, temperature=0.0)),
                                    histories=histories))[-1]
    tokens = follow.results["gemma"].metrics.input_tokens
    assert follow.results["gemma"].error is None and tokens.image > 0, "the earlier image was sent again"


def test_a_long_silent_audio_file_leaves_no_samples_in_the_conversation(comparator, tmp_path):
    """20 minutes of silence compress to almost nothing and decode to 77 MB: a turn keeps the path
    and length only (the model heard its first 30 s, cut as a copy), and the follow-up hears it again."""
    import numpy as np
    import soundfile

    silence = tmp_path / "silence.flac"
    soundfile.write(silence, np.zeros(20 * 60 * 16_000, dtype=np.float32), 16_000)
    assert silence.stat().st_size < 2 * 2**20
    first = comparator.run(request("Listen", GenerationSettings(max_new_tokens=2, temperature=0.0), audio=str(silence)))
    kept = first.turns["gemma"].inputs.audio
    assert kept.waveform is None and kept.duration_s == 30.0, "the session state holds samples"
    follow = list(comparator.stream(request("And then?", GenerationSettings(max_new_tokens=2, temperature=0.0)),
                                    histories={k: [t] for k, t in first.turns.items()}))[-1]
    assert follow.results["gemma"].error is None and follow.results["gemma"].metrics.input_tokens.audio > 0


def test_routing_cuts_audio_as_a_copy_not_a_view(tmp_path):
    import numpy as np

    from modalities.audio import AudioInput

    whole = AudioInput(tmp_path / "a.wav", np.zeros(20 * 60 * 16_000, dtype=np.float32))
    cut = whole.first(30 * 16_000)
    assert cut.waveform.base is None and cut.length == 30 * 16_000, "a view keeps the whole file's samples alive"


def test_an_image_file_padded_with_megabytes_is_refused(tmp_path):
    from modalities.errors import InputError
    from modalities.image import load_image

    padded = tmp_path / "padded.png"
    padded.write_bytes((SAMPLES / "chart.png").read_bytes() + b"\0" * (30 * 2**20))
    with pytest.raises(InputError, match=r"^image 'padded.png': 30 MiB for a \d+x\d+ image: it holds more than an image$"):
        load_image(padded)


def test_an_upload_over_the_file_size_limit_is_refused_while_it_arrives(tmp_path, replica_dirs):
    from gradio_client import Client

    from app_server import AppServer, call_compare

    big = tmp_path / "big.wav"
    big.write_bytes(b"RIFF" + b"\0" * (3 * 2**20))
    srv = AppServer(log=tmp_path / "app.log", env={"COMPARE_MAX_FILE_BYTES": str(2**20)}).wait_ready()
    try:
        with pytest.raises(Exception, match="(?i)too large|exceeds|maximum"):
            call_compare(Client(srv.url, verbose=False), "hi", audio=big)
    finally:
        srv.stop()


@pytest.mark.parametrize("fails", ["media", "line"])
def test_a_full_disk_is_one_line_without_paths_and_leaves_nothing_partial(tmp_path, monkeypatch, sides, fails):
    """Fault injection (a full disk cannot be produced here): the copy of an input, or the line,
    fails with ENOSPC. One line says so, naming no path; no partial file and no torn line remain."""
    from engine.comparator import Comparator
    from recording.session import RecordingFailed, Recorder

    result = Comparator(sides).run(request("Record me", GenerationSettings(max_new_tokens=2, temperature=0.0),
                                           images=(str(SAMPLES / "chart.png"),)))
    recorder = Recorder(tmp_path / "session")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "session"))

    with monkeypatch.context() as m:
        if fails == "media":
            import shutil

            real = shutil.copyfile

            def half_then_full(src, dst):  # half the bytes reach the disk, then it is full
                real(src, dst)
                with open(dst, "r+b") as f:
                    f.truncate(100)
                full()

            m.setattr(shutil, "copyfile", half_then_full)
        else:
            m.setattr(jsonl.os, "fsync", full)
        with pytest.raises(RecordingFailed) as failed:
            recorder.record(result, visitor="v")
    assert str(failed.value) == "recording failed: the disk is full"
    left = [p.name for p in (tmp_path / "session").rglob("*") if p.is_file()]
    assert not [n for n in left if n.endswith(".partial")], left
    assert not (tmp_path / "session" / "session.jsonl").exists() or (tmp_path / "session" / "session.jsonl").read_text() == ""


def test_recordings_and_votes_are_readable_by_their_owner_only(tmp_path, sides):
    """What visitors sent, kept: files 0600 in 0700 folders (code run as `nobody` by the sandbox,
    or any other user of the machine, cannot read them)."""
    from engine.comparator import Comparator
    from preference.blind import BlindRound
    from preference.policy import VotePolicy
    from preference.votes import VoteBook
    from recording.session import Recorder

    result = Comparator(sides).run(request("Keep me", GenerationSettings(max_new_tokens=4, temperature=0.0),
                                           images=(str(SAMPLES / "chart.png"),)))
    recorder = Recorder(tmp_path / "session")
    recorder.record(result, visitor="v")
    recorder.archive("v")
    VoteBook(tmp_path / "arena", VotePolicy(min_read_s=0, min_tokens=0)).cast(BlindRound(result, "gemma", finished_at=0), "A")
    for folder in (tmp_path / "session", tmp_path / "arena"):
        for path in [folder, *folder.rglob("*")]:
            mode = path.stat().st_mode & 0o777
            assert mode == (0o700 if path.is_dir() else 0o600), f"{path.relative_to(tmp_path)}: {oct(mode)}"


def test_a_line_nested_past_the_parser_is_a_corrupt_line_for_replay_and_export(one_line, tmp_path):
    """One line of 100,000 opening brackets: skipped and reported, the rest of the session usable."""
    source, line = one_line
    folder = _session_with(source, tmp_path, line)
    with open(folder / "session.jsonl", "a") as f:
        f.write("[" * 100_000 + "\n")
    session = load_session(folder)
    assert len(session.entries) == 1 and any("corrupt" in p for p in session.problems), session.problems
    assert export(session, "md").exists()

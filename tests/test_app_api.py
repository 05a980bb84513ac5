"""The app's `compare` endpoint through gradio_client, against the real app process."""

from __future__ import annotations

import time

import pytest
from gradio_client import Client

from app_server import AppServer, call_compare
from conftest import SAMPLES


@pytest.fixture(scope="module")
def server(tmp_path_factory, replica_dirs, all_replicas):
    import shutil

    folder = tmp_path_factory.mktemp("app")
    copy = shutil.copytree(replica_dirs[0], folder / "gemma-copy")
    broken = shutil.copytree(replica_dirs[0], folder / "gemma-broken")  # offered, but its weights are cut short
    (broken / "model.safetensors").write_bytes((broken / "model.safetensors").read_bytes()[:100])
    offer = f"{copy},{all_replicas['gemma4-12b-tiny']},{broken}"
    srv = AppServer("--record", str(folder / "session"), "--gemma-offer", offer, log=folder / "app.log",
                    env={"TMPDIR": str(folder), "COMPARE_EVAL_TASKS_PER_HOUR": "12",
                         "COMPARE_MODEL_PICKS_PER_HOUR": "4"}).wait_ready()
    srv.tmp = folder  # the server's temporary folder
    srv.session, srv.copy, srv.broken = folder / "session", copy, broken
    yield srv
    srv.stop()


def test_compare_endpoint_returns_the_cli_json(server):
    client = Client(server.url, verbose=False)
    *_, raw = call_compare(client, "What is shown?", images=[SAMPLES / "chart.png"], audio=SAMPLES / "question.wav")
    assert set(raw) >= {"request", "results", "environment"}
    gemma, qwen = raw["results"]["gemma"], raw["results"]["qwen"]
    assert gemma["error"] is None and qwen["error"] is None
    assert gemma["metrics"]["input_tokens"]["audio"] > 0 and gemma["metrics"]["input_tokens"]["image"] > 0
    assert qwen["metrics"]["input_tokens"]["audio"] == 0
    assert [s["modality"] for s in qwen["skipped_inputs"]] == ["audio"]
    assert 0 < gemma["metrics"]["ttft_s"] <= gemma["metrics"]["total_s"]


def test_follow_up_continues_each_conversation(server):
    client = Client(server.url, verbose=False)
    *_, first = call_compare(client, "First question")
    gemma_chat, qwen_chat, *_, second = call_compare(client, "First question")
    for key, chat in (("gemma", gemma_chat), ("qwen", qwen_chat)):
        assert [m["role"] for m in chat if m["role"] == "user"] == ["user", "user"], f"{key} shows both turns"
        # Same prompt twice: the second carries the first exchange, so it has more input tokens.
        before = first["results"][key]["metrics"]["input_tokens"]["text"]
        after = second["results"][key]["metrics"]["input_tokens"]["text"]
        assert after > before + len(first["results"][key]["text"].encode()) // 2, (key, before, after)

    fresh = Client(server.url, verbose=False)
    *_, other = call_compare(fresh, "First question")
    assert other["results"]["gemma"]["metrics"]["input_tokens"] == first["results"]["gemma"]["metrics"]["input_tokens"], (
        "a new session starts its own conversation"
    )


def test_bad_upload_is_an_error_message(server, tmp_path):
    bad = tmp_path / "fake.wav"
    bad.write_text("not audio at all\n" * 20)
    client = Client(server.url, verbose=False)
    with pytest.raises(Exception, match="audio 'fake.wav'"):
        call_compare(client, "hi", audio=bad)
    # The app keeps working after it.
    *_, raw = call_compare(client, "still there?")
    assert raw["results"]["gemma"]["error"] is None


def test_each_visitor_downloads_only_their_own_comparisons(server):
    import json
    import zipfile

    from gradio_client.exceptions import AppError

    from recording.session import load_session

    first, second = Client(server.url, verbose=False), Client(server.url, verbose=False)
    with pytest.raises(AppError, match="Nothing recorded from this page yet"):
        second.predict(api_name="/session_zip")
    before = len(load_session(server.session).entries) if (server.session / "session.jsonl").exists() else 0
    call_compare(first, "Record me", images=[SAMPLES / "chart.png"])
    call_compare(second, "Mine only", audio=SAMPLES / "question.wav")
    session = load_session(server.session)
    assert len(session.entries) == before + 2 and session.problems == [], "the operator's folder has every comparison"
    archive = zipfile.ZipFile(second.predict(api_name="/session_zip"))
    top = {n.split("/")[0] for n in archive.namelist()}
    assert len(top) == 1, "one top-level folder"
    top = top.pop()
    lines = [json.loads(line) for line in archive.read(f"{top}/session.jsonl").decode().splitlines()]
    assert [line["request"]["prompt"] for line in lines] == ["Mine only"], "another visitor's prompt never leaks"
    media = [n.removeprefix(f"{top}/") for n in archive.namelist() if "/media/" in n]
    assert media == [lines[0]["media"][0]["file"]], "nor their image"
    mine = zipfile.ZipFile(first.predict(api_name="/session_zip"))
    mine_top = mine.namelist()[0].split("/")[0]
    assert any(n.endswith(".png") for n in mine.namelist()) and b"Mine only" not in mine.read(f"{mine_top}/session.jsonl")


def test_without_record_nothing_is_recorded_whatever_a_request_says(tmp_path):
    """Recording is the operator's switch: no request can turn it on, and there is nothing to download."""
    srv = AppServer(log=tmp_path / "app.log", cwd=tmp_path).wait_ready()
    try:
        client = Client(srv.url, verbose=False)
        with pytest.raises(Exception):
            client.predict(api_name="/session_zip")
        with pytest.raises(TypeError):  # the endpoint takes no recording switch
            client.predict(prompt="Hi", recording=True, max_new_tokens=2, api_name="/compare")
        call_compare(client, "Hi")
    finally:
        srv.stop()
    assert not (tmp_path / "recordings").exists() and not list(tmp_path.glob("**/session.jsonl"))


def test_evaluate_tab_runs_a_suite(server):
    client = Client(server.url, verbose=False)
    summary, table = client.predict("samples/suites/multimodal.jsonl", 3, False, api_name="/evaluate")
    assert summary.startswith("3/3 tasks")
    rows = table["data"]
    assert [r[0] for r in rows] == ["mm-chart-1", "mm-video-1", "mm-audio-1"]
    assert rows[2][3] == "n/a", "the audio task does not count for Qwen 3.5"
    with pytest.raises(Exception, match="not in the list of choices|not one of the shipped suites"):
        client.predict("/etc/passwd", 3, False, api_name="/evaluate")


def test_an_evaluation_from_the_page_lets_comparisons_through_and_is_bounded(server):
    """An evaluation takes one turn on the models per task: a comparison asked for meanwhile is
    answered before the evaluation ends. Each visitor evaluates a bounded number of tasks an hour
    (12 on this server, 3 of them taken by test_evaluate_tab_runs_a_suite), and an evaluation's
    folder is removed when it ends."""
    evaluating = Client(server.url, verbose=False).submit("samples/suites/math.jsonl", 6, False, api_name="/evaluate")
    while not any(o[0].startswith(("1/", "2/")) for o in evaluating.outputs()):
        assert not evaluating.done(), "the evaluation ended before its first task"
        time.sleep(0.05)  # polling the job's own outputs, not waiting on the machine's speed
    *_, raw = call_compare(Client(server.url, verbose=False), "Meanwhile")
    assert raw["results"]["gemma"]["status"] == "done"
    tasks_done = int(evaluating.outputs()[-1][0].split("/")[0])
    assert tasks_done < 6, f"the comparison waited for the whole evaluation ({tasks_done} of 6 tasks done)"
    summary, _ = evaluating.result()
    assert summary.startswith("6/6 tasks"), summary
    assert list((server.tmp / "gemma-qwen-evaluate").iterdir()) == [], "an evaluation's folder was left behind"
    with pytest.raises(Exception, match="up to 12 tasks an hour"):
        Client(server.url, verbose=False).predict("samples/suites/math.jsonl", 5, False, api_name="/evaluate")


def test_a_visitor_loads_only_what_the_operator_offers(server, tmp_path):
    """Any other path, existing or not, is refused in the same words, and the loaded model stays."""
    from gradio_client.exceptions import AppError

    client = Client(server.url, verbose=False)
    (tmp_path / "config.json").write_text("{}")
    for path in ("/etc", str(tmp_path), "/no/such/folder", "google/gemma-4-E2B-it-not-offered"):
        with pytest.raises(AppError) as refused:
            client.predict(path, api_name="/load_gemma")
        # Gradio's own check of the picker's choices answers first; the engine's refusal is behind it.
        assert str(refused.value).startswith(f"Value: {path} is not in the list of choices"), str(refused.value)
    from engine.slots import ModelSlots, SourceRefused
    from engine.sides import ModelOptions

    with pytest.raises(SourceRefused, match="^not one of the models this server offers for gemma$"):
        ModelSlots(ModelOptions()).load("gemma", "/etc")
    *_, raw = call_compare(client, "Still there?")
    assert raw["results"]["gemma"]["error"] is None, "the shared model was not unloaded"


def test_switching_a_model_is_seen_by_the_next_comparison(server, replica_dirs):
    """The picker's load endpoint puts the new model in its slot; the next comparison runs it."""
    copy = server.copy
    client = Client(server.url, verbose=False)
    info = client.predict(copy.name, api_name="/load_gemma")  # a visitor picks by name: no server folder
    assert copy.name in info and "offline replica" in info, info
    *_, raw = call_compare(client, "Which model?")
    assert raw["results"]["gemma"]["source"] == copy.name and raw["results"]["gemma"]["error"] is None
    assert raw["environment"]["models"]["gemma"]["source"] == copy.name
    assert raw["results"]["qwen"]["source"] == replica_dirs[1].name, "the other slot is untouched"
    import json

    shown = json.dumps([info, raw])
    for folder in (copy.parent, replica_dirs[0].parent):
        assert str(folder) not in shown, f"a server folder reached the visitor: {folder}"


def test_a_model_that_fails_to_load_leaves_the_current_one_answering(server):
    """The new model loads beside the current one; when it fails, the current one stays and says so."""
    from gradio_client.exceptions import AppError

    client = Client(server.url, verbose=False)
    *_, before = call_compare(client, "Who answers?")
    current = before["results"]["gemma"]["source"]
    with pytest.raises(AppError) as failed:
        client.predict(server.broken.name, api_name="/load_gemma")
    assert f"{current} stays loaded" in str(failed.value), str(failed.value)
    assert str(server.broken.parent) not in str(failed.value), "the error names a server folder"
    *_, after = call_compare(client, "Still you?")
    assert after["results"]["gemma"]["source"] == current and after["results"]["gemma"]["error"] is None


def test_a_visitor_is_not_told_what_the_operator_should_run(monkeypatch):
    from huggingface_hub import constants

    from engine.sides import load_side

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # no test reaches past loopback

    assert "--tiny" in load_side("gemma", "nobody/no-such-model").load_error, "the operator's command line says what to try"
    visitor = load_side("gemma", "nobody/no-such-model", for_visitor=True).load_error
    assert visitor.startswith("could not load 'nobody/no-such-model'") and "--tiny" not in visitor, visitor


def test_gemma_12b_in_the_app_hears_and_the_details_say_the_sampling(server, all_replicas):
    """Picked in the app, the encoder-free 12B takes image, video and audio; each column says how it sampled."""
    folder = all_replicas["gemma4-12b-tiny"].name
    client = Client(server.url, verbose=False)
    client.predict(folder, api_name="/load_gemma")
    gemma_chat, qwen_chat, gemma_details, qwen_details, *_, raw = call_compare(
        client, "What is here?", images=[SAMPLES / "chart.png"], video=SAMPLES / "crossing.mp4",
        audio=SAMPLES / "question.wav", temperature=0.7, sampling="recommended",
    )
    g = raw["results"]["gemma"]
    assert g["source"] == folder and g["error"] is None and g["skipped_inputs"] == []
    assert all(g["metrics"]["input_tokens"][m] > 0 for m in ("image", "video", "audio")), g["metrics"]["input_tokens"]
    assert "Sampling: recommended · temperature 1.0 · top-p 0.95 · top-k 64" in gemma_details
    assert "top-k 20" in qwen_details and "presence penalty 1.5" in qwen_details


def _blind(client, prompt: str, images=(), audio=None):
    from gradio_client import handle_file

    return client.predict(
        prompt=prompt, image_files=[handle_file(str(p)) for p in images] or None, video_file=None,
        audio_file=handle_file(str(audio)) if audio else None, thinking=False, max_new_tokens=8,
        api_name="/blind_compare",
    )


def test_a_blind_comparison_names_no_model_until_the_vote(server):
    import json

    client = Client(server.url, verbose=False)
    shown = _blind(client, "What is shown?", images=[SAMPLES / "chart.png"])
    text = json.dumps(shown).lower()
    # The replicas' checkpoint ids are folders named after their family, so this covers both.
    leaked = [name for name in ("gemma", "qwen", "tiny-v") if name in text]
    assert not leaked, f"the blind result names {leaked}: {text[:400]}"
    assert set(shown[-1]["answers"]) == {"A", "B"} and all(a["status"] == "done" for a in shown[-1]["answers"].values())

    *_, revealed = client.predict("A", api_name="/vote")
    assert revealed["comparison"] == shown[-1]["comparison"] and revealed["vote"] == "A"
    assert {revealed["A"]["model"], revealed["B"]["model"]} == {"Gemma 4", "Qwen 3.5"}
    assert revealed["A"]["source"] == revealed["result"]["results"][revealed["A"]["side"]]["source"]
    with pytest.raises(Exception, match="has its vote already"):
        client.predict("B", api_name="/vote")
    with pytest.raises(Exception, match="run a blind comparison first"):
        Client(server.url, verbose=False).predict("A", api_name="/vote")  # another session ran nothing
    with pytest.raises(Exception, match="audio 'question.wav': not taken in blind mode"):
        _blind(client, "Listen", audio=SAMPLES / "question.wav")


def test_nothing_before_the_vote_tells_the_models_apart(server):
    """Over 20 blind rounds, every update before the last shows both columns alike, and a guess of
    which model is A from the shape of what is shown (which column changed first, thinking blocks,
    the round's parity, which column's answer is longer) is right no more often than chance allows."""
    from gradio_client import handle_file  # noqa: F401  (the same client as the page's API)

    client = Client(server.url, verbose=False)
    guesses = {"changed first": 0, "thinking block": 0, "parity": 0, "longer answer": 0}
    for n in range(20):
        job = client.submit(prompt=f"Round {n}: which is better?", image_files=None, video_file=None, audio_file=None,
                            thinking=False, max_new_tokens=8, api_name="/blind_compare")
        job.result()
        updates = job.outputs()
        *before, final = updates
        for out in before:
            _, chat_a, chat_b, status_a, status_b, *_ = out
            assert chat_a == chat_b and status_a.replace("Model A", "Model B") == status_b, out[:5]
        _, chat_a, chat_b, *_, shown = final
        *_, revealed = client.predict("tie", api_name="/vote")
        a_is_gemma = revealed["A"]["side"] == "gemma"
        first_changed = next((("A" if o[1] != o[2] else "B") for o in before if o[1] != o[2]), "A")
        guesses["changed first"] += (first_changed == "A") == a_is_gemma
        guesses["thinking block"] += any(m.get("metadata") for m in chat_a) == a_is_gemma
        guesses["parity"] += (n % 2 == 0) == a_is_gemma
        texts = {p: shown["answers"][p]["text"] for p in "AB"}
        guesses["longer answer"] += (len(texts["A"]) >= len(texts["B"])) == a_is_gemma
    # Right 17 or more times of 20 has a chance of 0.13% for a guess that knows nothing.
    assert all(right <= 16 for right in guesses.values()), guesses


def test_the_leaderboard_tab_and_the_command_agree(server):
    import json
    import subprocess
    import sys

    from conftest import ROOT

    client = Client(server.url, verbose=False)
    for vote in ("B", "tie"):
        _blind(client, f"Which is better, {vote}?")
        client.predict(vote, api_name="/vote")
    _, tab = client.predict(True, api_name="/leaderboard")
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "leaderboard", str(server.arena), "--format", "json", "--include-replicas"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert tab == json.loads(done.stdout)
    assert tab["votes"] >= 2 and tab["ratings"], tab
    _, without = client.predict(False, api_name="/leaderboard")
    assert without["votes"] == 0, "votes on the replicas are left out by default"


def test_model_switches_per_visitor_are_bounded(server, replica_dirs):
    """Each switch loads a model for everyone: a visitor gets a few an hour (4 on this server), then a
    clear refusal, and the loaded model stays."""
    from gradio_client.exceptions import AppError

    client = Client(server.url, verbose=False)
    for attempt, source in enumerate([server.copy, replica_dirs[0]] * 3):
        try:
            client.predict(source.name, api_name="/load_gemma")
        except AppError as e:
            assert "each visitor may switch models 4 times an hour" in str(e), str(e)
            break
    else:
        pytest.fail("six switches in a row were all taken")
    *_, raw = call_compare(client, "Still answering?")
    assert raw["results"]["gemma"]["error"] is None and raw["results"]["gemma"]["source"] in (server.copy.name, replica_dirs[0].name)


def test_drafting_is_the_operators_to_allow(server):
    """A drafter is one more model in memory: a visitor's request for one is ignored without --draft."""
    *_, raw = call_compare(Client(server.url, verbose=False), "Draft please", draft=True)
    assert raw["request"]["settings"]["draft"] is False
    assert all(r["metrics"]["drafting"] is None for r in raw["results"].values()), "a drafter ran"

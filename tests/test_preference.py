"""Arena mode without a browser: blind views, lasting votes, ratings and the leaderboard command."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, SAMPLES, request
from engine.results import Status
from documents.intervals import wilson
from modalities.errors import InputError
from modalities.request import GenerationSettings
from preference.blind import BlindRound, check_blind, neutral
from preference.ratings import Outcome, bradley_terry
from preference.votes import VOTES_FILE, VoteBook, VoteRefused, read_votes

SHORT = GenerationSettings(max_new_tokens=4, temperature=0.0)


def _names(result) -> list[str]:
    return ["gemma", "qwen", *(r.source.lower() for r in result.results.values())]


def test_blind_view_names_no_model_even_when_one_fails(comparator):
    result = comparator.run(request("Say hi", SHORT))
    failed = result.results["qwen"]
    failed.status, failed.error = Status.ERROR, f"Qwen 3.5 ({failed.source}) ran out of memory"
    for a_side in ("gemma", "qwen"):
        shown = neutral(result, a_side, "c1")
        text = json.dumps(shown).lower()
        leaked = [n for n in _names(result) if n in text]
        assert not leaked, f"the blind view names {leaked}: {text[:300]}"
        assert shown["answers"]["B" if a_side == "gemma" else "A"]["status"] == "error"


def test_blind_mode_refuses_an_input_only_one_model_takes(comparator):
    inputs = comparator.check(request("Listen", SHORT, audio=str(SAMPLES / "question.wav")))
    with pytest.raises(InputError) as refused:
        check_blind(inputs, comparator.sides)
    message = str(refused.value)
    assert message.startswith("audio 'question.wav': not taken in blind mode"), message
    assert "gemma" not in message.lower() and "qwen" not in message.lower(), message
    check_blind(comparator.check(request("Describe", SHORT, images=(str(SAMPLES / "chart.png"),))), comparator.sides)


# (A side, vote, with an image): Gemma wins once, Qwen twice, one tie, one "both bad";
# the left column wins two of the three votes that chose a side.
VOTES = [("gemma", "A", False), ("qwen", "A", False), ("gemma", "B", False), ("qwen", "tie", False), ("gemma", "both_bad", True)]


@pytest.fixture(scope="module")
def arena(tmp_path_factory, sides):
    from engine.comparator import Comparator

    folder = tmp_path_factory.mktemp("arena")
    comparator, book = Comparator(sides), VoteBook(folder)
    for n, (a_side, vote, image) in enumerate(VOTES):
        media = {"images": (str(SAMPLES / "chart.png"),)} if image else {}
        blind = BlindRound(comparator.run(request(f"question {n}", SHORT, **media)), a_side)
        if n == len(VOTES) - 1:
            with open(folder / VOTES_FILE, "a") as f:  # a line that is not JSON, then one torn by a killed writer
                f.write("not json\n" + '{"version": 1, "comparison": "torn')
        book.cast(blind, vote, visitor="v1")
        if n == 0:
            first = blind
    with pytest.raises(VoteRefused, match="has its vote already"):
        book.cast(first, "B")
    line = (folder / VOTES_FILE).read_text().splitlines()[0]
    with open(folder / VOTES_FILE, "a") as f:  # the same comparison again, as a tampered file might hold it
        f.write(line + "\n")
    return folder


def _leaderboard(folder, *args) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "leaderboard", str(folder), *args],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_votes_last_whole_and_the_leaderboard_counts_them(arena):
    lines = (arena / VOTES_FILE).read_text().splitlines()
    assert "torn" not in "".join(lines), "the torn line was not cut before the next vote"
    image_vote = json.loads(lines[-2])
    assert image_vote["media"][0]["file"].startswith("media/") and (arena / image_vote["media"][0]["file"]).is_file()
    assert image_vote["replica"] is True and image_vote["a_side"] == "gemma" and image_vote["vote"] == "both_bad"
    assert set(image_vote["environment"]["models"]["gemma"]) >= {"source", "revision"}

    board = json.loads(_leaderboard(arena, "--format", "json", "--include-replicas"))
    assert board["votes"] == 5
    assert board["dropped"] == {"corrupt line": 1, "second vote on a comparison": 1}, board["dropped"]
    (pair,) = board["pairs"]
    assert (pair["gemma_wins"], pair["ties"], pair["both_bad"], pair["qwen_wins"]) == (1, 1, 1, 2), pair
    assert pair["gemma_win_rate"] == pytest.approx(2 / 5), "ties and both bad count half"
    assert board["position"]["decisive"] == 3 and board["position"]["left_wins"] == 2
    assert {b["value"]: b["votes"] for b in board["breakdown"]["modality"]} == {"image": 1, "text": 4}
    assert [r["votes"] for r in board["ratings"]] == [5, 5]
    assert board["ratings"][0]["checkpoint"] == pair["qwen"], "Qwen won more: rated first"

    without = json.loads(_leaderboard(arena, "--format", "json"))
    assert without["votes"] == 0 and without["dropped"]["offline replica (counted with --include-replicas)"] == 5

    md = _leaderboard(arena, "--format", "md", "--include-replicas")
    assert "5 votes used, 2 dropped" in md and "## Position bias" in md
    html = _leaderboard(arena, "--format", "html", "--include-replicas")
    assert html.count("<svg") == 2 and "<script" not in html and " src=" not in html


def test_leaderboard_of_a_folder_without_votes(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "app.py"), "leaderboard", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.strip().endswith("no votes.jsonl (no vote has been cast there)"), done.stderr


def test_a_vote_needs_both_answers_complete(comparator, tmp_path):
    result = comparator.run(request("Say hi", SHORT))
    result.results["gemma"].status = Status.STOPPED
    with pytest.raises(VoteRefused, match="both answers complete"):
        VoteBook(tmp_path).cast(BlindRound(result, "gemma"), "A")
    with pytest.raises(VoteRefused, match="not one of"):
        VoteBook(tmp_path).cast(BlindRound(comparator.run(request("Say hi", SHORT)), "gemma"), "C")
    assert not (tmp_path / VOTES_FILE).exists()


# --- ratings --------------------------------------------------------------------------------

TRUE = {"w": 1200.0, "x": 1050.0, "y": 950.0, "z": 800.0}  # centred on 1000, Elo scale


def _synthetic(n: int, seed: int) -> list[Outcome]:
    rng = np.random.default_rng(seed)
    names = list(TRUE)
    out = []
    for _ in range(n):
        a, b = rng.choice(len(names), 2, replace=False)
        first, second = names[a], names[b]
        p = 1 / (1 + 10 ** ((TRUE[second] - TRUE[first]) / 400))
        out.append(Outcome(first, second, 1.0 if rng.random() < p else 0.0))
    return out


def test_ratings_recover_known_strengths_within_their_intervals():
    ratings = bradley_terry(_synthetic(3000, seed=1))
    assert [r.player for r in ratings] == ["w", "x", "y", "z"]
    for r in ratings:
        assert r.low <= TRUE[r.player] <= r.high, f"{r.player}: true {TRUE[r.player]} outside {r.low}–{r.high}"
        assert abs(r.rating - TRUE[r.player]) < 30, r


def test_intervals_shrink_as_votes_grow():
    few = {r.player: r.high - r.low for r in bradley_terry(_synthetic(200, seed=2))}
    many = {r.player: r.high - r.low for r in bradley_terry(_synthetic(2000, seed=2))}
    for player in TRUE:
        assert many[player] < few[player] / 2, (player, few[player], many[player])
    assert np.diff(wilson(400, 1000)) < np.diff(wilson(40, 100)) < np.diff(wilson(4, 10))


def test_a_tie_counts_half_a_win():
    def estimate(scores):
        return {r.player: r.rating for r in bradley_terry([Outcome("a", "b", s) for s in scores], resamples=10)}

    assert estimate([1, 0, 0.5, 0.5]) == estimate([0.5] * 4) == {"a": 1000.0, "b": 1000.0}
    assert estimate([1, 1, 0.5, 0.5]) == estimate([1, 1, 1, 0])
    assert estimate([1, 1, 1, 0])["a"] > 1000

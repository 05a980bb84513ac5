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
from preference.blind import BlindRound, blind_settings, check_blind, draw_order, neutral
from preference.policy import VotePolicy
from preference.ratings import Outcome, bradley_terry, style_controlled
from preference.votes import RATE_LIMITED, TOO_SHORT, VOTES_FILE, VoteBook, VoteRefused, read_votes

SHORT = GenerationSettings(max_new_tokens=4, temperature=0.0)
NO_WAIT = VotePolicy(min_read_s=0, min_tokens=0)  # the replicas answer at random; the rules have their own tests


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
    comparator, book = Comparator(sides), VoteBook(folder, NO_WAIT)
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
        VoteBook(tmp_path, NO_WAIT).cast(BlindRound(result, "gemma"), "A")
    with pytest.raises(VoteRefused, match="not one of"):
        VoteBook(tmp_path, NO_WAIT).cast(BlindRound(comparator.run(request("Say hi", SHORT)), "gemma"), "C")
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


# --- blind draws and the shape of what is shown ----------------------------------------------


def test_the_same_prompt_twice_gets_fresh_seeds_and_different_answers(comparator):
    """A blind comparison samples with a seed drawn for it: the same prompt does not give the same pair twice."""
    runs = [comparator.run(request("Tell me a story", blind_settings(12, False)), order=draw_order()) for _ in range(2)]
    seeds = [r.request.settings.seed for r in runs]
    assert seeds[0] != seeds[1], seeds
    for key in ("gemma", "qwen"):
        assert runs[0].results[key].text != runs[1].results[key].text, f"{key} gave the same answer with two seeds"


def test_a_blind_order_leaves_the_compare_tabs_turns_alone(comparator):
    """Compare's run order alternates; a blind comparison's own draw neither reads nor moves it."""
    first = comparator.run(request("one", SHORT)).order
    for order in (["qwen", "gemma"], ["gemma", "qwen"], ["qwen", "gemma"]):
        assert comparator.run(request("blind", SHORT), order=order).order == order
    assert comparator.run(request("two", SHORT)).order == list(reversed(first)), "the blind runs moved Compare's turns"
    assert {tuple(draw_order()) for _ in range(64)} == {("gemma", "qwen"), ("qwen", "gemma")}


def test_both_blind_columns_have_the_same_shape(comparator):
    """Thinking off: no thinking block in either column, stray thinking included; on: one in both.
    Nothing but 'running' is shown until both answers are complete."""
    result = comparator.run(request("Say hi", SHORT))
    result.results["gemma"].thinking = "a stray thought"  # as a real checkpoint can emit
    for a_side in ("gemma", "qwen"):
        answers = neutral(result, a_side)["answers"]
        assert answers["A"]["thinking"] == answers["B"]["thinking"] == "", answers
    thinking = comparator.run(request("Say hi", GenerationSettings(max_new_tokens=4, temperature=0.0, thinking=True)))
    thinking.results["qwen"].thinking = ""
    answers = neutral(thinking, "gemma")["answers"]
    assert answers["A"]["thinking"] and answers["B"]["thinking"] == "(none)", answers
    thinking.done = False
    running = neutral(thinking, "gemma")
    assert running["answers"]["A"] == running["answers"]["B"] == {"status": "running", "text": "", "thinking": ""}


def test_the_reveals_table_puts_model_a_first(comparator):
    from ui.arena import reveal_columns
    from ui.table import comparison_table

    result = comparator.run(request("Say hi", SHORT))
    for a_side, first in (("qwen", "Model A: Qwen 3.5"), ("gemma", "Model A: Gemma 4")):
        head = next(line for line in comparison_table(result, reveal_columns(BlindRound(result, a_side))).splitlines()
                    if line.startswith("| metric"))
        assert head.split(" | ")[1].startswith(first), head


# --- vote integrity ----------------------------------------------------------------------------


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def finished(sides):
    """One real finished comparison (8 tokens each); rounds are copies of it with their own ids."""
    from engine.comparator import Comparator

    return Comparator(sides).run(request("Which is better?", GenerationSettings(max_new_tokens=8, temperature=0.0)))


def _round(result, finished_at: float, a_side: str = "gemma") -> BlindRound:
    import copy

    return BlindRound(copy.deepcopy(result), a_side, finished_at=finished_at)


def test_a_vote_waits_for_the_reading_time(finished, tmp_path):
    clock = Clock()
    book = VoteBook(tmp_path, VotePolicy(min_read_s=3, min_tokens=0), clock=clock)
    blind = _round(finished, finished_at=clock.now)
    clock.now += 1
    with pytest.raises(VoteRefused, match="too soon: read both answers first .* 2 s to go"):
        book.cast(blind, "A", visitor="v")
    clock.now += 2
    assert book.cast(blind, "A", visitor="v")["vote"] == "A", "the same vote is taken once the time has passed"


def test_ten_one_token_votes_in_a_row_count_none(finished, tmp_path):
    """One-token answers cannot be judged: every such vote is refused, once, and counted as dropped."""
    short = copy_result(finished)
    for r in short.results.values():
        r.metrics.output_tokens, r.metrics.thinking_tokens = 1, 0
    clock = Clock()
    book = VoteBook(tmp_path, VotePolicy(min_read_s=0, min_tokens=3), clock=clock)
    for n in range(10):
        blind = _round(short, finished_at=clock.now)
        with pytest.raises(VoteRefused, match="at least 3 tokens"):
            book.cast(blind, "A", visitor="v", address="10.0.0.1")
        with pytest.raises(VoteRefused, match="refused once"):
            book.cast(blind, "B", visitor="v", address="10.0.0.1")  # the same round again: not a second line
    votes, dropped = read_votes(tmp_path)
    assert votes == [] and dropped == {f"refused: {TOO_SHORT}": 10}, dropped


def copy_result(result):
    import copy

    return copy.deepcopy(result)


@pytest.mark.parametrize("same", ["session", "address"])
def test_votes_per_client_are_limited_and_the_rest_counted_as_dropped(finished, tmp_path, same):
    """Ten votes in a row from one client (one session, or fresh sessions from one address): the limit
    counts, the rest are refused, written once each and counted as dropped; quick ones are flagged."""
    clock = Clock()
    book = VoteBook(tmp_path, VotePolicy(min_read_s=0, min_tokens=0, max_votes=3, window_s=3600, burst_s=10), clock=clock)
    counted = 0
    for n in range(10):
        blind = _round(finished, finished_at=clock.now)
        client = {"visitor": "v" if same == "session" else f"v{n}", "address": f"10.0.0.{n}" if same == "session" else "10.0.0.1"}
        try:
            book.cast(blind, "A", **client)
            counted += 1
        except VoteRefused as e:
            assert "at most 3 votes per visitor" in str(e), e
        clock.now += 2
    assert counted == 3
    votes, dropped = read_votes(tmp_path)
    assert len(votes) == 3 and dropped == {f"refused: {RATE_LIMITED}": 7}, dropped
    assert [v.burst for v in votes] == [False, True, True], "votes 2 s apart from one client are flagged"
    from preference.leaderboard import leaderboard, summary_line

    board = leaderboard(votes, dropped, include_replicas=True)
    assert board["flagged"] == {"burst": 2} and "7 refused: over the votes-per-client limit" in summary_line(board)
    clock.now += 3600  # the window has passed: this client counts again
    assert book.cast(_round(finished, finished_at=clock.now), "B", visitor="v", address="10.0.0.1")["vote"] == "B"


# --- what a hand-edited file cannot do --------------------------------------------------------


def _line(record: dict, **changes) -> dict:
    return {**json.loads(json.dumps(record)), **changes}


def test_hand_edited_votes_give_valid_json_and_strict_counts(finished, tmp_path):
    book = VoteBook(tmp_path, NO_WAIT)
    entry = book.cast(_round(finished, 0.0), "A", visitor="v")
    nan = _line(entry, comparison="nan")
    nan["results"]["gemma"]["metrics"]["ttft_answer_s"] = float("nan")
    nan["results"]["gemma"]["metrics"]["ttft_s"] = float("inf")
    same = _line(entry, comparison="same")
    same["results"]["qwen"]["source"] = same["results"]["gemma"]["source"]
    string_replica = _line(entry, comparison="string", replica="false")
    with open(tmp_path / VOTES_FILE, "a") as f:
        for record in (nan, same, string_replica):
            f.write(json.dumps(record) + "\n")
        f.write("[" * 100_000 + "\n")  # nested past the parser's recursion limit
    votes, dropped = read_votes(tmp_path)
    assert [v.comparison for v in votes] == [entry["comparison"], "nan"]
    assert dropped == {"the same checkpoint on both sides": 1, "not a vote": 1, "corrupt line": 1}, dropped
    out = _leaderboard(tmp_path, "--format", "json", "--include-replicas")
    assert "NaN" not in out and "Infinity" not in out, out[:400]
    board = json.loads(out)
    assert board["ratings"][0]["votes"] == 2, "each checkpoint counted once per vote"


# --- ratings at small n, and controlled for style ------------------------------------------------


@pytest.mark.parametrize("scores", [[1.0], [1.0] * 3, [1.0] * 10, [0.5] * 3, [0.0] * 10])
def test_no_interval_has_zero_width(scores):
    for r in bradley_terry([Outcome("a", "b", s) for s in scores]):
        assert r.high - r.low > 50, f"{len(scores)} votes {scores[0]}: {r}"
        assert r.low < r.rating < r.high, r


def _declares(ratings) -> bool:
    best, worst = ratings
    return best.low > worst.high


def test_three_votes_with_no_true_difference_rarely_declare_a_winner():
    """By the README's rule (ratings whose intervals do not overlap): at most 5% of 3-vote data sets."""
    rng = np.random.default_rng(7)
    sets = [rng.choice([1.0, 0.0, 0.5], size=3, p=[0.4, 0.4, 0.2]) for _ in range(400)]
    declared = sum(_declares(bradley_terry([Outcome("a", "b", s) for s in scores], resamples=200)) for scores in sets)
    assert declared <= 0.05 * len(sets), f"{declared} of {len(sets)} declared"
    assert _declares(bradley_terry([Outcome("a", "b", 1.0)] * 20)), "20–0 is a clear winner"


def _length_votes(n: int, seed: int) -> list[Outcome]:
    """Votes that favour the longer answer whatever the model; X writes longer than Y."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x, y = rng.lognormal(6.3, 0.6), rng.lognormal(5.8, 0.6)
        difference = (x - y) / (x + y)
        x_wins = rng.random() < 1 / (1 + np.exp(-4 * difference))
        out.append(Outcome("X", "Y", 1.0 if x_wins else 0.0, (difference, 0.0)))
    return out


def test_length_controlled_ratings_remove_a_length_preference():
    votes = _length_votes(400, seed=3)
    plain = {r.player: r for r in bradley_terry(votes, resamples=200)}
    assert plain["X"].low > plain["Y"].high, "plain ratings credit X's length to X"
    controlled, weights = style_controlled(votes, ("length", "headers"), resamples=200)
    controlled = {r.player: r for r in controlled}
    assert not _declares(sorted(controlled.values(), key=lambda r: -r.rating)), controlled
    assert abs(controlled["X"].rating - controlled["Y"].rating) < 30, controlled
    (length,) = weights  # headers never differed: left out
    assert length.feature == "length" and length.low > 0, length

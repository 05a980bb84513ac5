"""Votes that last: one durable JSON line per vote in ARENA_DIR/votes.jsonl, inputs in ARENA_DIR/media/.

A line holds everything needed to recount it later: the request (its sampling mode and
thinking), both results as the engine returned them, the environment (each checkpoint's id and
revision), which side was Model A, the vote, when, and an opaque id of the visitor's session.
It is written by documents.jsonl (whole, flushed, fsynced; a torn last line cut first) and its
media by documents.media, as recordings are. Votes on the offline replicas are stored like any
other, flagged `replica`, and the leaderboard leaves them out unless asked.

A vote is only ever for a comparison the server ran in the voter's own session (the round lives
in that session's state, never in the request), and each comparison takes one vote: a session
cannot vote faster than it can run comparisons.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from documents import jsonl
from documents.media import copy_request_media
from engine.results import ComparisonResult
from models.families import SIDES

from .blind import BlindRound

FORMAT_VERSION = 1
VOTES_FILE = "votes.jsonl"
# What a vote says, and how the page words it.
CHOICES = {"A": "A is better", "B": "B is better", "tie": "Tie", "both_bad": "Both are bad"}


class VoteRefused(ValueError):
    """A vote that is not taken; the message says why, in words for the voter."""


def parse_choice(value: str) -> str:
    """A choice as the API or a button gives it ("A" or "A is better"), or VoteRefused."""
    for choice, label in CHOICES.items():
        if value in (choice, label):
            return choice
    raise VoteRefused(f"vote {str(value)[:40]!r}: not one of {', '.join(CHOICES)}")


class VoteBook:
    """Appends votes to ARENA_DIR/votes.jsonl. Safe to share between sessions."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / VOTES_FILE
        self._lock = threading.Lock()
        self._voted: set[str] = set()

    def cast(self, round: BlindRound, choice: str, visitor: str | None = None) -> dict:
        """Record `choice` on `round` as one durable line; VoteRefused if it cannot be taken."""
        choice = parse_choice(choice)
        if not round.votable:
            raise VoteRefused("no vote on this comparison: a vote needs both answers complete (one was stopped or failed)")
        with self._lock:
            if round.vote is not None or round.id in self._voted:
                raise VoteRefused("this comparison has its vote already: run a new blind comparison to vote again")
            self.folder.mkdir(parents=True, exist_ok=True)
            entry = {
                "version": FORMAT_VERSION,
                "comparison": round.id,
                "voted_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "vote": choice,
                "a_side": round.a_side,
                "replica": any((m or {}).get("replica") for m in round.result.environment.get("models", {}).values()),
                **round.result.to_dict(),
                "media": [asdict(m) for m in copy_request_media(self.folder, round.result.request)],
                **({"visitor": visitor} if visitor else {}),
            }
            jsonl.append(self.path, entry)
            self._voted.add(round.id)
            round.vote = choice
        return entry


@dataclass(frozen=True)
class Vote:
    """One vote as the leaderboard reads it."""

    comparison: str
    vote: str  # one of CHOICES
    a_side: str
    sources: dict[str, str]  # side -> checkpoint
    replica: bool
    modality: str  # "text", "image", "video", "audio" or a combination such as "image+video"
    thinking: bool
    sampling: str
    ttft_answer_s: dict[str, float | None]  # side -> time to its first answer token
    output_tokens: dict[str, int | None]

    def score(self, side: str) -> float:
        """What `side` earned: 1 preferred, 0 not, a half on a tie or both bad."""
        if self.vote in ("tie", "both_bad"):
            return 0.5
        preferred = self.a_side if self.vote == "A" else next(k for k in SIDES if k != self.a_side)
        return 1.0 if side == preferred else 0.0


def modality_of(request) -> str:
    kinds = [kind for kind, present in (("image", request.images), ("video", request.video), ("audio", request.audio)) if present]
    return "+".join(kinds) or "text"


def _vote(record: dict) -> Vote:
    result = ComparisonResult.from_dict(record)
    if not isinstance(record.get("comparison"), str) or not record["comparison"]:
        raise ValueError("no comparison id")
    if record.get("vote") not in CHOICES or record.get("a_side") not in SIDES or set(result.results) != set(SIDES):
        raise ValueError("vote, a_side or results missing")

    def answer_ttft(r):
        m = r.metrics
        return None if m is None else (m.ttft_answer_s if m.ttft_answer_s is not None else m.ttft_s)

    settings = result.request.settings
    return Vote(
        comparison=record["comparison"],
        vote=record["vote"],
        a_side=record["a_side"],
        sources={k: r.source for k, r in result.results.items()},
        replica=bool(record.get("replica")),
        modality=modality_of(result.request),
        thinking=bool(settings.thinking),
        sampling=settings.sampling,
        ttft_answer_s={k: answer_ttft(r) for k, r in result.results.items()},
        output_tokens={k: r.metrics.output_tokens if r.metrics else None for k, r in result.results.items()},
    )


def read_votes(folder: str | Path) -> tuple[list[Vote], dict[str, int]]:
    """Every readable vote in a folder's votes.jsonl, and what was dropped, by reason.

    Raises FileNotFoundError when the folder holds no votes file.
    """
    path = Path(folder) / VOTES_FILE
    if not path.is_file():
        raise FileNotFoundError(f"arena folder '{folder}': no {VOTES_FILE} (no vote has been cast there)")
    lines, problems = jsonl.read(path)
    dropped = {"corrupt line": len(problems)} if problems else {}
    votes, seen = [], set()
    for line in lines:
        try:
            vote = _vote(line.record)
        except (KeyError, TypeError, ValueError):
            dropped["not a vote"] = dropped.get("not a vote", 0) + 1
            continue
        if vote.comparison in seen:  # one vote per comparison, whatever the file says
            dropped["second vote on a comparison"] = dropped.get("second vote on a comparison", 0) + 1
            continue
        seen.add(vote.comparison)
        votes.append(vote)
    return votes, dropped

"""Votes that last: one durable JSON line per vote in ARENA_DIR/votes.jsonl, inputs in ARENA_DIR/media/.

A line holds everything needed to recount it later: the request (its sampling mode and
thinking), both results as the engine returned them, the environment (each checkpoint's id and
revision), which side was Model A, the vote, when, and an opaque id of the visitor's session.
It is written by documents.jsonl (whole, flushed, fsynced; a torn last line cut first) and its
media by documents.media, as recordings are. Votes on the offline replicas are stored like any
other, flagged `replica`, and the leaderboard leaves them out unless asked.

A vote is only ever for a comparison the server ran in the voter's own session (the round lives
in that session's state, never in the request), and each comparison takes one vote: a session
cannot vote faster than it can run comparisons. `VotePolicy` (the operator's, with defaults) asks
more of a vote: both answers at least `min_tokens` long, cast at least `min_read_s` after both
finished, and at most `max_votes` per client (its address and its session, each counted) in any
`window_s`. A vote refused for its answers or the rate is written as a short `refused` line (once
per comparison), so the leaderboard counts it among the dropped, with the reason; a vote cast within
`burst_s` of the same client's last one is kept, flagged `burst`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from documents import jsonl
from documents.media import copy_request_media, private_folder
from engine.allowance import Allowance, clients
from engine.results import ComparisonResult
from models.families import SIDES

from .blind import BlindRound
from .policy import VotePolicy

FORMAT_VERSION = 1
VOTES_FILE = "votes.jsonl"
# What a vote says, and how the page words it.
CHOICES = {"A": "A is better", "B": "B is better", "tie": "Tie", "both_bad": "Both are bad"}


class VoteRefused(ValueError):
    """A vote that is not taken; the message says why, in words for the voter."""


# Why a vote was refused, as its `refused` line and the leaderboard's dropped count say it.
TOO_SHORT, RATE_LIMITED = "an answer too short to judge", "over the votes-per-client limit"


def answer_tokens(result) -> int:
    m = result.metrics
    return 0 if m is None else (m.output_tokens or 0) - (m.thinking_tokens or 0)


def parse_choice(value: str) -> str:
    """A choice as the API or a button gives it ("A" or "A is better"), or VoteRefused."""
    for choice, label in CHOICES.items():
        if value in (choice, label):
            return choice
    raise VoteRefused(f"vote {str(value)[:40]!r}: not one of {', '.join(CHOICES)}")


class VoteBook:
    """Appends votes to ARENA_DIR/votes.jsonl. Safe to share between sessions."""

    def __init__(self, folder: str | Path, policy: VotePolicy = VotePolicy(), clock=time.monotonic):
        self.folder = Path(folder)
        self.path = self.folder / VOTES_FILE
        self.policy = policy
        self._clock = clock  # the one BlindRound.finished_at is read on
        self._lock = threading.Lock()
        self._voted: set[str] = set()
        self._counted = Allowance(policy.max_votes, policy.window_s, clock)  # per client key

    def _refuse(self, round: BlindRound, reason: str, visitor: str | None, message: str):
        """Write the refusal once per comparison (so the leaderboard counts it), then say why."""
        if round.refused is None:
            round.refused = reason
            private_folder(self.folder)
            jsonl.append(self.path, {"version": FORMAT_VERSION, "comparison": round.id, "refused": reason, "voted_at": _now(),
                                     **({"visitor": visitor} if visitor else {})})
        raise VoteRefused(message)

    def cast(self, round: BlindRound, choice: str, visitor: str | None = None, address: str | None = None) -> dict:
        """Record `choice` on `round` as one durable line; VoteRefused if it cannot be taken.

        `visitor` (the session's opaque id) and `address` (the client's) are each rate-limited.
        """
        choice = parse_choice(choice)
        if not round.votable:
            raise VoteRefused("no vote on this comparison: a vote needs both answers complete (one was stopped or failed)")
        policy = self.policy
        keys = clients(visitor, address)
        with self._lock:
            if round.vote is not None or round.id in self._voted:
                raise VoteRefused("this comparison has its vote already: run a new blind comparison to vote again")
            if round.refused is not None:
                raise VoteRefused(f"no vote on this comparison: it was refused once ({round.refused})")
            if min(answer_tokens(r) for r in round.result.results.values()) < policy.min_tokens:
                self._refuse(round, TOO_SHORT, visitor, f"no vote on this comparison: a vote needs both answers at "
                             f"least {policy.min_tokens} tokens long, and one is shorter")
            now = self._clock()
            wait = round.finished_at + policy.min_read_s - now
            if wait > 0:  # not final: the same vote is taken once the answers have had their time
                raise VoteRefused(f"too soon: read both answers first (votes open {policy.min_read_s:g} s after both "
                                  f"finish; {math.ceil(wait)} s to go)")
            since_last = self._counted.since_last(keys)
            if not self._counted.take(keys):
                self._refuse(round, RATE_LIMITED, visitor, f"vote not counted: at most {policy.max_votes} votes per "
                             f"visitor in {policy.window_s / 60:g} minutes. Thank you — try again later")
            burst = since_last is not None and since_last < policy.burst_s
            private_folder(self.folder)
            entry = {
                "version": FORMAT_VERSION,
                "comparison": round.id,
                "voted_at": _now(),
                "vote": choice,
                "a_side": round.a_side,
                "replica": any((m or {}).get("replica") is True for m in round.result.environment.get("models", {}).values()),
                **({"burst": True} if burst else {}),
                **round.result.to_dict(),
                "media": [asdict(m) for m in copy_request_media(self.folder, round.result.request)],
                **({"visitor": visitor} if visitor else {}),
            }
            jsonl.append(self.path, entry)
            self._voted.add(round.id)
            round.vote = choice
        return entry


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


# Markdown structure as LMArena's style control counts it, line by line.
_HEADER = re.compile(r"^#{1,6}\s", re.M)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s", re.M)
_BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")
STYLE_FEATURES = ("length", "headers", "lists", "bold")


def style_of(text: str) -> dict[str, int]:
    """An answer's style: its length in characters and its Markdown headers, list items and bold spans."""
    return {"length": len(text), "headers": len(_HEADER.findall(text)), "lists": len(_LIST_ITEM.findall(text)),
            "bold": len(_BOLD.findall(text))}


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
    style: dict[str, dict[str, int]]  # side -> style_of(its answer)
    burst: bool = False

    def score(self, side: str) -> float:
        """What `side` earned: 1 preferred, 0 not, a half on a tie or both bad."""
        if self.vote in ("tie", "both_bad"):
            return 0.5
        preferred = self.a_side if self.vote == "A" else next(k for k in SIDES if k != self.a_side)
        return 1.0 if side == preferred else 0.0


def modality_of(request) -> str:
    kinds = [kind for kind, present in (("image", request.images), ("video", request.video), ("audio", request.audio)) if present]
    return "+".join(kinds) or "text"


class SameCheckpoint(ValueError):
    """A vote between a checkpoint and itself: it says nothing of either."""


def _finite(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _vote(record: dict) -> Vote:
    result = ComparisonResult.from_dict(record)
    if not isinstance(record.get("comparison"), str) or not record["comparison"]:
        raise ValueError("no comparison id")
    if record.get("vote") not in CHOICES or record.get("a_side") not in SIDES or set(result.results) != set(SIDES):
        raise ValueError("vote, a_side or results missing")
    if not isinstance(record.get("replica", False), bool):
        raise ValueError("replica is not true or false")
    if len({r.source for r in result.results.values()}) < len(SIDES):
        raise SameCheckpoint(result.results[SIDES[0]].source)

    def answer_ttft(r):
        m = r.metrics
        return None if m is None else _finite(m.ttft_answer_s if m.ttft_answer_s is not None else m.ttft_s)

    settings = result.request.settings
    return Vote(
        comparison=record["comparison"],
        vote=record["vote"],
        a_side=record["a_side"],
        sources={k: r.source for k, r in result.results.items()},
        replica=record.get("replica") is True,
        modality=modality_of(result.request),
        thinking=bool(settings.thinking),
        sampling=settings.sampling,
        ttft_answer_s={k: answer_ttft(r) for k, r in result.results.items()},
        output_tokens={k: r.metrics.output_tokens if r.metrics else None for k, r in result.results.items()},
        style={k: style_of(r.text or "") for k, r in result.results.items()},
        burst=record.get("burst") is True,
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
    def drop(reason: str) -> None:
        dropped[reason] = dropped.get(reason, 0) + 1

    for line in lines:
        if isinstance(line.record.get("refused"), str):  # a refusal, counted and never a vote
            drop(f"refused: {line.record['refused'][:80]}")
            continue
        try:
            vote = _vote(line.record)
        except SameCheckpoint:
            drop("the same checkpoint on both sides")
            continue
        except (KeyError, TypeError, ValueError, RecursionError):  # RecursionError: a line nested too deep
            drop("not a vote")
            continue
        if vote.comparison in seen:  # one vote per comparison, whatever the file says
            drop("second vote on a comparison")
            continue
        seen.add(vote.comparison)
        votes.append(vote)
    return votes, dropped

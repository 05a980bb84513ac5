"""Blind comparisons: the two answers as "Model A" and "Model B" until the visitor has voted.

Three things are drawn for each comparison from a secure source and kept on the server: which
side is A, which side runs first (`draw_order`; never the Compare tab's alternation, so nothing
carries from one comparison to the next), and the sampling seed (`blind_settings`; kept in the
vote line, so the same prompt twice gives two different pairs of answers). Until the vote,
`neutral` is all anyone is shown, and only once both answers are complete: status, answer and
thinking text under the neutral label, never a family, checkpoint, metric, note or error message
(each can name its model), nor which answer came first. Both columns have the same shape: with
thinking off neither shows a thinking block (stray thinking is kept in the result, shown with the
reveal); with thinking on both do, "(none)" where a model gave none. Inputs that only one model
takes would give it away, so `check_blind` refuses them.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.results import ComparisonResult, Status
from modalities.errors import InputError
from modalities.request import MAX_SEED, GenerationSettings, Inputs
from modalities.routing import route
from models.families import LABELS, SIDES

POSITIONS = ("A", "B")  # A is the left column


def check_blind(inputs: Inputs, sides: Mapping) -> None:
    """Raise InputError for an input that not both models take: only one answering to it would say which is which."""
    refused: dict[str, str] = {}
    for side in sides.values():
        if side.backend is None:
            continue
        for skipped in route(inputs, side.backend.capabilities).skipped:
            refused.setdefault(skipped.input, skipped.modality)
    if refused:
        item, modality = next(iter(refused.items()))
        raise InputError(
            item, f"not taken in blind mode: only one of the two models takes {modality}, so which model "
            "answered to it would be plain. Leave it out, or use the Compare tab."
        )


def draw_a_side() -> str:
    """The side shown as Model A, drawn fresh for each comparison."""
    return secrets.choice(SIDES)


def draw_order() -> list[str]:
    """Which side runs first in this blind comparison, drawn apart from which side is A."""
    first = secrets.choice(SIDES)
    return [first, *(k for k in SIDES if k != first)]


def blind_settings(max_new_tokens: int, thinking: bool) -> GenerationSettings:
    """The default identical sampling for both models, with a fresh seed for every blind comparison."""
    return GenerationSettings(max_new_tokens=max_new_tokens, thinking=thinking, seed=secrets.randbelow(MAX_SEED + 1))


@dataclass
class BlindRound:
    """One blind comparison of a session, waiting for its vote (kept in that session's state only)."""

    result: ComparisonResult
    a_side: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    finished_at: float = field(default_factory=time.monotonic)  # when both answers were complete
    vote: str | None = None
    refused: str | None = None  # why a vote on it was refused for good (preference.votes)

    def side(self, position: str) -> str:
        return self.a_side if position == "A" else next(k for k in SIDES if k != self.a_side)

    @property
    def votable(self) -> bool:
        """Only two complete answers are voted on: a stopped or failed one is no fair match."""
        return all(r.status == Status.DONE for r in self.result.results.values())


NO_THINKING = "(none)"


def neutral_answer(result, thinking: bool) -> dict:
    failed = result.status == Status.ERROR
    return {
        "status": result.status.value,
        "text": result.text,
        # One shape for both columns: a thinking block in both or in neither.
        "thinking": (result.thinking or NO_THINKING) if thinking else "",
        # An error message can name its model or checkpoint: the reason is shown after the vote.
        **({"error": "this answer failed; the reason is shown once the models are revealed"} if failed else {}),
    }


def neutral(result: ComparisonResult, a_side: str, comparison: str | None = None) -> dict:
    """What a blind comparison shows before the vote: answers under A and B, nothing else.

    Only of a finished comparison: while it runs, which answer is growing would say which model
    runs first, and how fast (the page shows `answering` for both until both are done).
    """
    if not result.done:
        return {"done": False, "answers": {p: {"status": Status.RUNNING.value, "text": "", "thinking": ""}
                                           for p in POSITIONS}}
    b_side = next(k for k in SIDES if k != a_side)
    thinking = result.request.settings.thinking
    return {
        **({"comparison": comparison} if comparison else {}),
        "done": result.done,
        "answers": {"A": neutral_answer(result.results[a_side], thinking),
                    "B": neutral_answer(result.results[b_side], thinking)},
    }


def reveal(round: BlindRound) -> dict:
    """After the vote: which model each letter was, and the whole result with its metrics."""
    models = round.result.environment.get("models", {})
    return {
        "comparison": round.id,
        "vote": round.vote,
        **{
            position: {
                "side": (side := round.side(position)),
                "model": LABELS[side],
                "source": round.result.results[side].source,
                "revision": (models.get(side) or {}).get("revision"),
            }
            for position in POSITIONS
        },
        "result": round.result.to_dict(),
    }

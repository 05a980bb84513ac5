"""Blind comparisons: the two answers as "Model A" and "Model B" until the visitor has voted.

Which side is A is drawn at random for each comparison, apart from the order the engine runs
the two in, so neither the column nor the order says which model answered. Until the vote,
`neutral` is all anyone is shown: status, answer and thinking text under the neutral label,
and never a family, checkpoint, metric, note or error message (each can name its model).
Inputs that only one model takes would give it away, so `check_blind` refuses them.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.results import ComparisonResult, Status
from modalities.errors import InputError
from modalities.request import Inputs
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


@dataclass
class BlindRound:
    """One blind comparison of a session, waiting for its vote (kept in that session's state only)."""

    result: ComparisonResult
    a_side: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    finished_at: float = field(default_factory=time.time)
    vote: str | None = None

    def side(self, position: str) -> str:
        return self.a_side if position == "A" else next(k for k in SIDES if k != self.a_side)

    @property
    def votable(self) -> bool:
        """Only two complete answers are voted on: a stopped or failed one is no fair match."""
        return all(r.status == Status.DONE for r in self.result.results.values())


def neutral_answer(result) -> dict:
    failed = result.status == Status.ERROR
    return {
        "status": result.status.value,
        "text": result.text,
        "thinking": result.thinking,
        # An error message can name its model or checkpoint: the reason is shown after the vote.
        **({"error": "this answer failed; the reason is shown once the models are revealed"} if failed else {}),
    }


def neutral(result: ComparisonResult, a_side: str, comparison: str | None = None) -> dict:
    """What a blind comparison shows before the vote: answers under A and B, nothing else."""
    b_side = next(k for k in SIDES if k != a_side)
    return {
        **({"comparison": comparison} if comparison else {}),
        "done": result.done,
        "answers": {"A": neutral_answer(result.results[a_side]), "B": neutral_answer(result.results[b_side])},
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

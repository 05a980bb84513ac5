"""The two model families: how to recognise a checkpoint of each and how each marks its thinking.

A loaded model's family comes from its config's `model_type`, never from its name or path.
The only family-specific behaviour left after that is the thinking markers, kept here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    key: str  # "gemma" or "qwen": the side of the comparison
    label: str  # shown to users
    model_types: tuple[str, ...]
    think_start: str  # token that opens a thinking block
    think_end: str  # token that closes it
    # Gemma 4 opens thoughts with "<|channel>thought\n": the word is a label, not a thought.
    thinking_label: str = ""


GEMMA = Family("gemma", "Gemma 4", ("gemma4",), "<|channel>", "<channel|>", thinking_label="thought")
QWEN = Family("qwen", "Qwen 3.5", ("qwen3_5", "qwen3_5_moe"), "<think>", "</think>")
FAMILIES = {f.key: f for f in (GEMMA, QWEN)}
SIDES = tuple(FAMILIES)  # the two columns, Gemma 4 left
LABELS = {key: f.label for key, f in FAMILIES.items()}


def family_of_model_type(model_type: str) -> Family | None:
    return next((f for f in FAMILIES.values() if model_type in f.model_types), None)

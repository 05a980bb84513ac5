"""The real checkpoints this demo knows, and the matched pairs offered as presets.

Any other hub id or local folder of either family loads too (see models.loading); this list
only names what the presets and pickers offer. `params_b` is the checked size of each full
checkpoint (MODEL-FACTS), used to say up front what fits where.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Checkpoint:
    source: str  # the hub id
    family: str  # the side: "gemma" or "qwen"
    params_b: float


CHECKPOINTS: tuple[Checkpoint, ...] = (
    Checkpoint("google/gemma-4-E2B-it", "gemma", 5.1),
    Checkpoint("google/gemma-4-E4B-it", "gemma", 7.9),
    Checkpoint("google/gemma-4-12B-it", "gemma", 11.9),
    Checkpoint("google/gemma-4-26B-A4B-it", "gemma", 25.8),
    Checkpoint("google/gemma-4-31B-it", "gemma", 31.0),
    Checkpoint("Qwen/Qwen3.5-0.8B", "qwen", 0.8),
    Checkpoint("Qwen/Qwen3.5-2B", "qwen", 2.0),
    Checkpoint("Qwen/Qwen3.5-4B", "qwen", 4.0),
    Checkpoint("Qwen/Qwen3.5-9B", "qwen", 9.4),
    Checkpoint("Qwen/Qwen3.5-27B", "qwen", 27.0),
    Checkpoint("Qwen/Qwen3.5-35B-A3B", "qwen", 35.0),
)


@dataclass(frozen=True)
class Preset:
    name: str
    gemma: str
    qwen: str
    note: str


# There is no Qwen 3.5 32B: the closest dense peer of Gemma 4 31B is Qwen 3.5 27B.
PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("edge", "google/gemma-4-E2B-it", "Qwen/Qwen3.5-2B", "on-device sizes"),
        Preset("small", "google/gemma-4-E4B-it", "Qwen/Qwen3.5-4B", "fits one consumer GPU"),
        Preset("mid", "google/gemma-4-12B-it", "Qwen/Qwen3.5-9B", "mid-size; Gemma 12B hears"),
        Preset("moe", "google/gemma-4-26B-A4B-it", "Qwen/Qwen3.5-35B-A3B", "mixture of experts, ~3-4B active"),
        Preset("large", "google/gemma-4-31B-it", "Qwen/Qwen3.5-27B", "largest dense models"),
    )
}
DEFAULT_PRESET = "small"


def checkpoint(source: str) -> Checkpoint | None:
    return next((c for c in CHECKPOINTS if c.source.lower() == source.lower()), None)

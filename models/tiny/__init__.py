"""Offline replicas: tiny random-weight models of the real Gemma 4 and Qwen 3.5 architectures.

Nothing in this project's tests may download weights, so these replicas stand in for real
checkpoints. They use the real config, model and processor classes with small sizes, a
byte-level tokenizer (one token per byte, plus a few hundred whole words for them to say)
carrying each family's special tokens, a chat
template of this project's own that renders exactly as the real template of the checkpoints
they stand for (models.tiny.templates), and those checkpoints' sampling defaults. They are
saved with `save_pretrained` and loaded through exactly the same `from_pretrained` path as a
hub checkpoint (models.loading), so every code path under test is the real one.

One replica per real template shape (`REPLICAS`); the default pair (`build_replicas`) is the
edge Gemma, which hears, and the 4B-and-larger Qwen, which does not, so routing by capability
is exercised for real. Their outputs are noise (random words: tokenizer.readable_output).
Whatever shows them must say so (`TINY_NOTICE`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import gemma, qwen

TINY_NOTICE = "Offline replica with random weights: its output is noise, not a real model's answer."

# Bump when the replicas change shape, so old caches are rebuilt rather than reused.
TINY_VERSION = "5"
# A file in each replica folder that marks it as one (models.loading reads it).
MARKER = ".tiny-replica"


@dataclass(frozen=True)
class Replica:
    folder: str
    family: str  # the side it stands on
    template: str  # the real template it renders as (the labels of tests/data/chat-prompts.json)
    stands_for: str
    build: Callable[[Path], None]
    # Its family's drafter, built beside it as FOLDER-assistant (models.drafting finds it there).
    drafter: Callable[[Path], None] | None = None


REPLICAS: dict[str, Replica] = {
    r.folder: r
    for r in (
        Replica("gemma4-edge-tiny", "gemma", "gemma4-edge", "E2B, E4B: audio tower", gemma.build_edge,
                gemma.build_drafter),
        Replica("gemma4-large-tiny", "gemma", "gemma4-large", "26B-A4B, 31B: no audio", gemma.build_large,
                gemma.build_drafter),
        Replica("gemma4-12b-tiny", "gemma", "gemma4-large", "12B: encoder-free, hears", gemma.build_unified,
                lambda out: gemma.build_drafter(out, unified=True)),
        Replica("qwen3_5-small-tiny", "qwen", "qwen3.5-small", "0.8B, 2B", qwen.build_small),
        Replica("qwen3_5-tiny", "qwen", "qwen3.5", "4B and larger", qwen.build),
    )
}
GEMMA_DIR, QWEN_DIR = "gemma4-edge-tiny", "qwen3_5-tiny"  # the default pair
DRAFTER_SUFFIX = "-assistant"  # as Family.drafter_suffix: the drafter of FOLDER is FOLDER-assistant


def default_cache_dir() -> Path:
    """Where replicas are built once and reused (override with GEMMA_QWEN_TINY_DIR)."""
    env = os.environ.get("GEMMA_QWEN_TINY_DIR")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "gemma-qwen-compare" / f"tiny-v{TINY_VERSION}"


def build(names=tuple(REPLICAS), directory: Path | None = None, force: bool = False) -> dict[str, Path]:
    """Build the named replicas into `directory` (each once) and return their folders by name."""
    import torch

    root = Path(directory) if directory else default_cache_dir()
    folders = {}
    for name in names:
        folder = folders[name] = root / name
        done = folder / MARKER
        if done.exists() and not force:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        # A fixed seed makes the replicas the same on every machine that builds them.
        with torch.random.fork_rng():
            torch.manual_seed(0)
            REPLICAS[name].build(folder)
            if REPLICAS[name].drafter:
                REPLICAS[name].drafter(folder.with_name(name + DRAFTER_SUFFIX))
        done.write_text(TINY_VERSION)
    return folders


def build_replicas(directory: Path | None = None, force: bool = False) -> tuple[Path, Path]:
    """The default pair's two folders: (Gemma, Qwen)."""
    folders = build((GEMMA_DIR, QWEN_DIR), directory, force)
    return folders[GEMMA_DIR], folders[QWEN_DIR]

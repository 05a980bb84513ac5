"""Each family's own drafter for speculative decoding, loaded beside its model the first time a job asks.

Gemma 4 ships a small multi-token-prediction drafter for every size, named after the checkpoint
plus "-assistant" (google/gemma-4-E2B-it -> google/gemma-4-E2B-it-assistant; a folder -> the
folder beside it with that suffix, as the offline replicas are built). transformers runs it
through `generate(assistant_model=...)` with its single-position multi-token candidate
generator, which shares the target's KV cache; the target checks every drafted token, so greedy
output is the target's own, token for token. A drafted generation keeps the dynamic KV cache
on the fast path too (assisted decoding crops the cache, which a static one cannot do), and
says so. Qwen 3.5's drafter is the MTP head inside its own
checkpoint, which transformers does not load: its results say so (`Family.no_drafter`).

What ran is counted, not computed, here: forward hooks count the target's passes and the
drafter's (one drafted token each) during one generation; the engine turns the counts into
accepted tokens and rates (engine.timing).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .backend import Drafting, one_line
from .loading import LoadedModel

# The classes transformers' single-position candidate generator accepts.
DRAFTER_CLASSES = ("Gemma4AssistantForCausalLM", "Gemma4UnifiedAssistantForCausalLM")
_lock = threading.Lock()  # one load per model, however many jobs ask at once


def drafter_source(loaded: LoadedModel) -> str | None:
    suffix = loaded.family.drafter_suffix
    return None if suffix is None else str(loaded.source).rstrip("/\\") + suffix


def drafter_for(loaded: LoadedModel) -> tuple[object | None, Drafting]:
    """The loaded drafter (None if there is none) and the Drafting that names it or says why not."""
    with _lock:
        if loaded.drafter is None and loaded.drafter_error is None:
            _load(loaded)
    if loaded.drafter is None:
        return None, Drafting(drafter=None, reason=loaded.drafter_error)
    reason = "with the dynamic cache: the fast path's static cache cannot be cropped" if loaded.fast else None
    return loaded.drafter, Drafting(drafter=loaded.drafter_source, reason=reason)


def _load(loaded: LoadedModel) -> None:
    source = drafter_source(loaded)
    if source is None:
        loaded.drafter_error = loaded.family.no_drafter
        return
    import torch
    from transformers import AutoModelForCausalLM

    from .loading import hub_reachable

    local = {"local_files_only": True} if not Path(source).exists() and not hub_reachable() else {}
    try:
        drafter = AutoModelForCausalLM.from_pretrained(
            source, dtype=getattr(torch, loaded.dtype), device_map=loaded.device, **local
        )
    except Exception as e:
        loaded.drafter_error = f"no drafter loaded from '{source}' ({one_line(e)[:160]})"
        return
    if type(drafter).__name__ not in DRAFTER_CLASSES:
        loaded.drafter_error = f"'{source}' is a {type(drafter).__name__}, not a Gemma 4 drafter"
        return
    loaded.drafter, loaded.drafter_source = drafter.eval(), source


@contextmanager
def counting(loaded: LoadedModel, drafter) -> Iterator[dict]:
    """Count the target's forward passes and the drafter's (drafted tokens) while the block runs."""
    counts = {"target_passes": 0, "drafted_tokens": 0}

    def counter(key):
        def hook(*_):
            counts[key] += 1
        return hook

    handles = [loaded.model.register_forward_hook(counter("target_passes")),
               drafter.register_forward_hook(counter("drafted_tokens"))]
    try:
        yield counts
    finally:
        for handle in handles:
            handle.remove()

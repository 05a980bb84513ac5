"""The two model slots of a running app: which model each side holds, swapped on request.

The slots own their Comparator and put each new side into it, so the next comparison sees a
swap and one in progress keeps the model it started with. Switching a side's model releases
the previous one before the next loads, so two large checkpoints never sit in memory at once.
"""

from __future__ import annotations

import gc
import threading

from models.families import SIDES
from models.registry import PRESETS

from .comparator import Comparator
from .sides import ModelOptions, Side, load_side, settle


class SourceRefused(ValueError):
    """A model a visitor asked for that is not on the operator's list."""


class LoadFailed(RuntimeError):
    """A model that could not be loaded; the one that was there still is."""


class ModelSlots:
    def __init__(self, options: ModelOptions, sides: dict[str, Side] | None = None, **comparator_options):
        self.options = options
        initial = sides or {k: Side(k, load_error="no model loaded yet") for k in SIDES}
        self.comparator = Comparator(initial, **comparator_options)
        self._load_lock = threading.Lock()
        # The operator's list, fixed at start: what was loaded, named (--gemma/--qwen, --offer),
        # and the presets' checkpoints. A browser can pick from it, never name a path of its own.
        self._offered = {
            k: list(dict.fromkeys(
                s for s in (
                    initial[k].backend.source if initial[k].backend else None, options.sources.get(k),
                    *options.offered.get(k, ()), *(getattr(p, k) for p in PRESETS.values()),
                ) if s
            ))
            for k in SIDES
        }

    def offered(self, key: str) -> list[str]:
        """The sources visitors may load into slot `key`."""
        return list(self._offered[key])

    def side(self, key: str) -> Side:
        return self.comparator.sides[key]

    def source(self, key: str) -> str | None:
        side = self.side(key)
        return side.backend.source if side.backend else None

    def load(self, key: str, source: str) -> Side:
        """Put `source` in slot `key` (a no-op if it is there already); returns the new side.

        A source not offered is refused before anything is unloaded or opened (SourceRefused),
        with the same words whether or not such a file exists. The new model is loaded while the
        current one keeps answering, and replaces it only once it works: a model that fails to
        load leaves the current one in place (LoadFailed). Only where both cannot fit in memory
        at once is the current one unloaded first.
        """
        if source not in self._offered[key]:
            raise SourceRefused(f"not one of the models this server offers for {key}")
        with self._load_lock:
            current = self.side(key)
            if current.backend and current.backend.source == source:
                return current
            if current.backend and not self._fits_beside(source):
                with current.lock:  # waits for a generation on this side to finish
                    self.comparator.put(Side(key, load_error=f"loading {source}…"))
                    current = self.side(key)
                    _release()
            side = load_side(key, source, self.options.device, self.options.fast, for_visitor=True,
                             draft=self.options.draft)
            if side.backend is None and current.backend is not None:
                raise LoadFailed(f"{side.load_error}; {current.backend.source} stays loaded")
            with current.lock:  # a generation in progress on the old model finishes first
                self.comparator.put(side)
            del current
            _release()
            settle(self.comparator.sides)
            return side

    def _fits_beside(self, source: str) -> bool:
        """Whether `source`'s weights fit in the memory left with every current model loaded."""
        from models.loading import FIT_MARGIN, estimate_bytes, free_bytes, pick_device

        device = self.options.device or pick_device()
        need = estimate_bytes(source, 2 if device.startswith("cuda") else 4)
        return need is None or need * FIT_MARGIN <= free_bytes(device)


def _release() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()

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
        with the same words whether or not such a file exists.
        """
        if source not in self._offered[key]:
            raise SourceRefused(f"not one of the models this server offers for {key}")
        with self._load_lock:
            current = self.side(key)
            if current.backend and current.backend.source == source:
                return current
            with current.lock:  # waits for a generation on this side to finish
                self.comparator.put(Side(key, load_error=f"loading {source}…"))
                del current
                _release()
            side = load_side(key, source, self.options.device, self.options.fast)
            self.comparator.put(side)
            settle(self.comparator.sides)
            return side


def _release() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()

"""The two model slots of a running app: which model each side holds, swapped on request.

The slots own their Comparator and put each new side into it, so the next comparison sees a
swap and one in progress keeps the model it started with. A slot never empties: the new model
loads beside the current one, which answers until the new one works. Only where both cannot fit
is the current one unloaded first, and only after the new one has shown it can load (its config
opens, it is of this side's family, it fits once the current one is gone); if it then fails,
the previous model is loaded back.
"""

from __future__ import annotations

import gc
import threading

from models.families import SIDES

from .comparator import Comparator
from .sides import ModelOptions, Side, load_side, settle


class SourceRefused(ValueError):
    """A model a visitor asked for that is not on the operator's list."""


class LoadFailed(RuntimeError):
    """A model that could not be loaded; the one that was there still is."""


class ModelSlots:
    def __init__(self, options: ModelOptions, sides: dict[str, Side] | None = None, **comparator_options):
        from models.registry import PRESETS

        self.options = options
        initial = {k: (sides or {}).get(k) or Side(k, load_error="no model loaded yet") for k in SIDES}
        self.comparator = Comparator(initial, **comparator_options)
        self._load_lock = threading.Lock()
        # The operator's list, fixed at start: what was loaded, named (--gemma/--qwen, --offer),
        # and the presets' checkpoints where the operator offers them (--offer-presets). A browser
        # can pick from it, never name a path of its own.
        presets = PRESETS.values() if options.offer_presets else ()
        self._offered = {
            k: list(dict.fromkeys(
                s for s in (
                    initial[k].backend.source if initial[k].backend else None, options.sources.get(k),
                    *options.offered.get(k, ()), *(getattr(p, k) for p in presets),
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
            previous = current.backend.source if current.backend else None
            if previous and not self._fits_beside(source):
                self._preflight(key, source, previous)  # before anything is unloaded
                with current.lock:  # waits for a generation on this side to finish
                    self.comparator.put(Side(key, load_error=f"loading {source}…"))
                del current
                _release()
            side = self._load_side(key, source)
            if side.backend is None and previous is not None:
                if self.side(key).backend is None:  # it was unloaded for this one: load it back
                    restored = self._load_side(key, previous)
                    self.comparator.put(restored)
                    if restored.backend is None:
                        raise LoadFailed(f"{side.load_error}; {previous} could not be loaded back ({restored.load_error})")
                raise LoadFailed(f"{side.load_error}; {previous} stays loaded")
            with self.side(key).lock:  # a generation in progress on the old model finishes first
                self.comparator.put(side)
            _release()
            settle(self.comparator.sides)
            return side

    def _load_side(self, key: str, source: str) -> Side:
        return load_side(key, source, self.options.device, self.options.fast, for_visitor=True, draft=self.options.draft,
                         warm=self.options.warm)

    def _preflight(self, key: str, source: str, current: str) -> None:
        """LoadFailed, with `current` still loaded, unless `source` can load in its place."""
        from models.loading import FIT_MARGIN, ModelLoadError, estimate_bytes, free_bytes, open_config, pick_device

        try:
            open_config(source, key)
        except ModelLoadError as e:
            raise LoadFailed(f"{e.reason}; {current} stays loaded") from None
        device = self.options.device or pick_device()
        per_param = 2 if device.startswith("cuda") else 4
        need, freed = estimate_bytes(source, per_param), estimate_bytes(current, per_param) or 0
        if need is not None and need * FIT_MARGIN > free_bytes(device) + freed:
            raise LoadFailed(f"'{source}' does not fit in memory even with {current} unloaded; {current} stays loaded")

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

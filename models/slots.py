"""The two model slots of a running app: which model each side holds, swapped on request.

Switching a side's model releases the previous one before the next loads, so two large
checkpoints never sit in memory at once. The slots' `sides` dict is the one the Comparator
reads, so a swap is seen by the next comparison.
"""

from __future__ import annotations

import gc
import threading

from .comparison import SIDES, Comparator, Side, load_side
from .registry import CHECKPOINTS


class ModelSlots:
    def __init__(
        self, device: str | None = None, parallel: bool = False, timeout_s: float | None = None, fast: bool = False
    ):
        self.device = device
        self.fast = fast
        self.sides: dict[str, Side] = {k: Side(k, load_error="no model loaded yet") for k in SIDES}
        self.comparator = Comparator(self.sides, parallel=parallel, timeout_s=timeout_s)
        self._load_lock = threading.Lock()

    def source(self, key: str) -> str | None:
        side = self.sides[key]
        return side.backend.source if side.backend else None

    def load(self, key: str, source: str) -> Side:
        """Put `source` in slot `key` (a no-op if it is there already); returns the new side."""
        with self._load_lock:
            current = self.sides[key]
            if current.backend and current.backend.source == source:
                return current
            with current.lock:  # waits for a generation on this side to finish
                self.sides[key] = Side(key, load_error=f"loading {source}…")
                del current
                _release()
            side = load_side(key, source, self.device, self.fast)
            self.sides[key] = side
            return side


def choices(key: str, extra: list[str] = ()) -> list[str]:
    """The registry's checkpoints of one family, after any extra sources (replicas, folders)."""
    return list(dict.fromkeys([*extra, *(c.hub_id for c in CHECKPOINTS if c.family == key)]))


def _release() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()

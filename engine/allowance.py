"""What one visitor may take of a shared server: so much per window, counted per client.

A client is any of the keys a request carries (its session, its address): an amount is taken
only when every one of its keys has room, and is then counted against each, so neither a fresh
session from one address nor many addresses in one session gets around the bound. Times are
read on one clock (monotonic; a test passes its own), and what has left the window is forgotten.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

GiB = 2**30


@dataclass(frozen=True)
class VisitorBudget:
    """What each visitor may take of the shared server, per hour unless said (the operator's:
    COMPARE_<FIELD> variables, as modalities.limits)."""

    eval_tasks_per_hour: int = 50  # tasks of Evaluate from the page
    model_picks_per_hour: int = 6  # model switches (each loads a model for everyone)
    upload_bytes_per_hour: int = 2 * GiB
    images_per_conversation: int = 16  # earlier turns' images past this are left out of the history
    concurrent_checks: int = 2  # input checks (decoding uploads) at once, for everyone
    queue_size: int = 64  # events waiting in the queue at once, for everyone (past it: "queue is full")
    # On ZeroGPU: the longest GPU call a comparison asks for, in seconds. Each visitor's daily GPU
    # quota is charged what a call asks for (an anonymous visitor has 120 s a day), and the page's
    # longest answer is what fits in it (engine.gpu.GpuBudget).
    gpu_seconds: int = 110


class Allowance:
    """At most `amount` per client key in any `window_s` seconds. Safe to share between threads."""

    def __init__(self, amount: float, window_s: float = 3600.0, clock=time.monotonic):
        self.amount, self.window_s, self._clock = amount, window_s, clock
        self._taken: dict[str, deque[tuple[float, float]]] = {}  # key -> (time, amount) in the window
        self._lock = threading.Lock()

    def _used(self, key: str, now: float) -> float:
        taken = self._taken.get(key)
        while taken and taken[0][0] <= now - self.window_s:
            taken.popleft()
        if not taken:
            self._taken.pop(key, None)  # nothing left to remember of this client
            return 0.0
        return sum(n for _, n in taken)

    def left(self, clients: list[str]) -> float:
        """What the most used of `clients` may still take now."""
        with self._lock:
            now = self._clock()
            return min((self.amount - self._used(k, now) for k in clients), default=self.amount)

    def take(self, clients: list[str], n: float = 1) -> bool:
        """Count `n` against every one of `clients` if each has room for it; False (nothing taken) if not."""
        with self._lock:
            now = self._clock()
            if any(self._used(k, now) + n > self.amount for k in clients):
                return False
            for key in clients:
                self._taken.setdefault(key, deque()).append((now, n))
            return True

    def since_last(self, clients: list[str]) -> float | None:
        """Seconds since any of `clients` last took something (None: not in the window)."""
        with self._lock:
            now = self._clock()
            times = [self._taken[k][-1][0] for k in clients if self._taken.get(k)]
            return now - max(times) if times else None


def clients(session: str | None, address: str | None) -> list[str]:
    """The keys a request is counted under."""
    return [f"{kind}:{value}" for kind, value in (("session", session), ("address", address)) if value]

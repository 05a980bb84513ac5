"""Turns on the models: comparisons admitted at once, first come, first served.

Every comparison the comparator runs takes a turn for its whole run and gives it back at the
end (or when its reader stops). The app sizes the turns as its queue (one at a time, or
--concurrency N with both models on servers). What makes them worth having beside Gradio's
queue: a long job of many comparisons (an evaluation from the page) takes one turn per
comparison, so a visitor who clicks Compare meanwhile waits for one comparison, not the job.
"""

from __future__ import annotations

import threading
from collections import deque
from contextlib import contextmanager


class Turns:
    def __init__(self, at_once: int = 1):
        self.at_once = at_once
        self._running = 0
        self._waiting: deque[object] = deque()
        self._cond = threading.Condition()

    @contextmanager
    def turn(self):
        ticket = object()
        with self._cond:
            self._waiting.append(ticket)
            self._cond.wait_for(lambda: self._waiting[0] is ticket and self._running < self.at_once)
            self._waiting.popleft()
            self._running += 1
            self._cond.notify_all()  # the next in line may fit too
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify_all()

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)

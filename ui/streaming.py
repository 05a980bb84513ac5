"""What the tabs that run the models share: the GPU decorator, uploaded files as paths, and the
pacing of a streamed comparison for the page.

The models' own update rate (models.backend.UPDATE_INTERVAL_S) is the page's too: about ten
updates a second look live; one per token (hundreds a second from a fast model) saturates the
browser's main thread, and Stop clicks queue behind it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from engine.results import ComparisonResult
from models.backend import UPDATE_INTERVAL_S

try:  # On a ZeroGPU Space the generation must run inside spaces.GPU; elsewhere this is a no-op.
    import spaces

    gpu = spaces.GPU(duration=180)
except ImportError:

    def gpu(fn):
        return fn


def file_paths(files) -> tuple[str, ...]:
    if not files:
        return ()
    return tuple(str(getattr(f, "name", f)) for f in (files if isinstance(files, list) else [files]))


def paced(stream: Iterator[ComparisonResult]) -> Iterator[ComparisonResult]:
    """A comparison's states as the page should see them: at most every UPDATE_INTERVAL_S, but at
    once whenever a column's status changes. Closing it ends the comparison (and its generations)."""
    sent_at, statuses = time.perf_counter(), None
    try:
        for state in stream:
            now, current = time.perf_counter(), tuple(r.status for r in state.results.values())
            if current != statuses or now - sent_at >= UPDATE_INTERVAL_S:
                yield state
                sent_at, statuses = now, current
    finally:
        stream.close()

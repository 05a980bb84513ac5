"""What a side of the comparison generates with: a local model (models.local) or a server (models.remote).

The Comparator only sees this interface, so both backends are routed, timed and reported the
same way.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Protocol

from modalities.request import GenerationSettings
from modalities.routing import Capabilities, RoutedInputs

from .families import Family
from .generation import Snapshot
from .prompting import Turn


class Backend(Protocol):
    source: str  # what the user named: a hub id, a folder, or "model @ url"
    family: Family
    capabilities: Capabilities
    is_replica: bool

    def describe(self) -> dict:
        """The environment entry for this side (never secrets)."""

    def release(self) -> None:
        """Free what a failed generation left behind."""

    def run(
        self,
        routed: RoutedInputs,
        settings: GenerationSettings,
        history: list[Turn],
        stop_event: threading.Event,
        timeout_s: float | None,
        contended: bool,
        notes: list[str],
    ) -> Iterator[Snapshot]:
        """Generate for `routed`, yielding snapshots, the last with metrics; append notes for the result."""

"""What a vote must meet before it counts: the operator's limits, with defaults for a public demo.

Kept apart from the vote book so the command line can name the defaults without loading anything.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VotePolicy:
    """What a vote must meet (the operator's: --vote-* options, COMPARE_VOTE_* variables)."""

    min_tokens: int = 3  # each answer's generated tokens, thinking left out
    min_read_s: float = 3.0  # after both answers finished: time to read them
    max_votes: int = 30  # per client (address, and session) in any window
    window_s: float = 3600.0
    burst_s: float = 10.0  # a vote this soon after the same client's last is flagged

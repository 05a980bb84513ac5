"""The contract between the engine and whatever generates for a side: one `Job` in, events out.

A backend (models.local for a checkpoint in this process, models.remote for a server) is given
one Job and yields events: `Started` once the model is called, `Tokens` as they arrive, any
`Note`, and one `Finished`. Every time in an event is read from the job's clock, so every
backend is measured with one clock; turning events into metrics is the engine's job
(engine.timing), done the same way for every backend. A backend never computes a metric.

A backend yields nothing before `Started`, and announces it only after the call has begun: a
yield hands control to the reader (the app's page updates), whose time must never be counted
as the model's.

A failure the user should read is raised as `BackendError`, whose message is the whole story
(which model, what happened, what to try); anything else is an internal error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, Union

from modalities.request import GenerationSettings
from modalities.routing import Capabilities, RoutedInputs

from .families import Family
from .sampling import Generation


# How often a backend hands over what has arrived: as often as the page redraws (about ten
# times a second), and no more. Arrivals are stamped as they happen, in the thread that
# receives them, so batching them costs no accuracy; each hand-over wakes the reader, which
# takes the interpreter from the generating thread, so none is made that the page cannot show.
UPDATE_INTERVAL_S = 0.1


class BackendError(RuntimeError):
    """A side's failure, worded for the user: it becomes that side's `error`."""


def one_line(e: BaseException) -> str:
    """An unexpected exception as one line for a result: its type and the start of its message."""
    message = str(e).splitlines()[0][:300] if str(e) else ""
    return f"{type(e).__name__}: {message}"


@dataclass
class Turn:
    """One earlier exchange of a model's own conversation, with the inputs it was sent."""

    inputs: RoutedInputs
    answer: str


@dataclass(frozen=True)
class Job:
    """One generation for one side."""

    routed: RoutedInputs
    settings: GenerationSettings
    history: tuple[Turn, ...] = ()
    stop: threading.Event = field(default_factory=threading.Event)
    timeout_s: float | None = None  # the per-side limit on the generation
    clock: Callable[[], float] = time.perf_counter  # the one clock every time below is read from


@dataclass(frozen=True)
class InputTokens:
    """Prompt tokens by modality, None where it is not known (a server says only the total)."""

    total: int | None
    text: int | None = None
    image: int | None = None
    video: int | None = None
    audio: int | None = None


# What part of the output a token belongs to. Thinking includes the markers around it;
# "control" is an answer-side special token (end of turn), counted but not shown.
THINKING, ANSWER, CONTROL = "thinking", "answer", "control"


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Started:
    """The model is called now: everything before `at` was preparing its inputs."""

    at: float
    input_tokens: InputTokens
    device: str  # "cuda", "cpu" or "remote"
    dtype: str  # "bfloat16", "float32" or "server"
    includes_network: bool = False  # timed on a client of a server: network and queue included
    generation: Generation | None = None  # what it runs with (a server: what it was sent)


@dataclass(frozen=True)
class Tokens:
    """Tokens that arrived since the last event: their arrival times and parts, and the text so far.

    A remote server streams text, not ids: there each content chunk counts as one arrival.
    """

    times: tuple[float, ...]
    parts: tuple[str, ...]  # THINKING, ANSWER or CONTROL, one per time
    text: str  # the answer so far
    thinking: str  # the thinking so far


@dataclass(frozen=True)
class Drafting:
    """Speculative decoding as a backend ran it: its drafter (None: none ran, `reason` says why)
    and what it counted. Counts are None where they cannot be seen (a server)."""

    drafter: str | None
    reason: str | None = None
    drafted_tokens: int | None = None  # tokens the drafter proposed
    target_passes: int | None = None  # forward passes of the target model, the prompt's included


@dataclass(frozen=True)
class Finished:
    """The generation ended at `at`. Counts are the model's or server's own where it gives them;
    None means: count the arrivals."""

    at: float
    text: str  # the whole answer, decoded in one piece
    thinking: str
    output_tokens: int | None = None
    thinking_tokens: int | None = None
    stopped: bool = False  # ended by the stop signal
    timed_out: bool = False  # ended by the per-side timeout; the text so far is kept
    peak_memory_mb: float | None = None
    memory_scope: str = "none"  # "cuda_allocated", "process_rss" or "server"
    input_tokens: InputTokens | None = None  # where only the end says them (a server's usage)
    drafting: Drafting | None = None  # only when the job asked for its family's drafter


Event = Union[Note, Started, Tokens, Finished]


class Backend(Protocol):
    source: str  # the checkpoint: a hub id, a folder, or "model @ url" for a server
    family: Family
    capabilities: Capabilities
    is_replica: bool

    def describe(self) -> dict:
        """The environment entry for this side (never secrets)."""

    def run(self, job: Job) -> Iterator[Event]:
        """Generate for `job`: Started, then Tokens (and Notes), then one Finished."""

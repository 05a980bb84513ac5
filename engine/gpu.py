"""The one way a comparison reaches the models' GPU: a `GpuCall` of plain data, streamed by `stream`.

On a ZeroGPU Space (SPACES_ZERO_GPU set; ../README.md, "On Hugging Face Spaces") the server's
process has no GPU: `spaces.GPU` forks a worker that does, pickles the call's arguments to it
and every yielded state back. So the call is one module-level function whose argument is a
`GpuCall` (the validated inputs, each side's history, the order, the click's time, a stop flag
that crosses processes) and whose yields are `ComparisonResult`s; it reaches the loaded models
through module state the fork inherits (`install`). Validation, rendering, session state and
recording stay in the server's process. Off ZeroGPU the same function runs in place.

The call's duration is asked for up front (`GpuBudget`): the visitor's daily quota is charged
for it and a call longer than what is left is refused before it runs, so it is sized from the
request and capped by the operator.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from modalities.errors import InputError
from modalities.request import CompareRequest, Inputs
from models.backend import UPDATE_INTERVAL_S, one_line

from .results import ComparisonResult, Status
from .stop import StopFlag

ON_ZEROGPU = os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "t", "true")
# What a ZeroGPU device holds: half an H200 ("large", 74.6 GB) by default, a whole one ("xlarge",
# at twice the quota) when asked; the pair's weights plus room for their caches and activations.
LARGE_GPU_GIB, XLARGE_GPU_GIB, HEADROOM_GIB = 69.5, 131.0, 8.0
SLIDER_END = 4096  # the page's longest answer off ZeroGPU (the engine takes up to 32,768 by API)


@dataclass(frozen=True)
class GpuBudget:
    """How long a GPU call asks for: a fixed part (moving the models on, the prompts) plus each
    local model's new tokens at a conservative speed, capped by the operator
    (COMPARE_GPU_SECONDS; the default fits an anonymous visitor's 120 s a day)."""

    cap_s: int = 110
    fixed_s: int = 15
    tokens_per_s: float = 25.0

    def seconds(self, max_new_tokens: int, local_sides: int) -> int:
        return min(self.cap_s, math.ceil(self.fixed_s + max_new_tokens * local_sides / self.tokens_per_s))

    def max_new_tokens(self, local_sides: int) -> int | None:
        """The longest answer a call within the cap can ask for on ZeroGPU (the slider's end there);
        None elsewhere, where there is no GPU call to fit."""
        if not ON_ZEROGPU or not local_sides:
            return None
        return max(1, int((self.cap_s - self.fixed_s) * self.tokens_per_s / local_sides))

    def slider_end(self, sides) -> int:
        """Where the page's max-new-tokens slider ends: at what one call may ask for on ZeroGPU,
        else at SLIDER_END."""
        return self.max_new_tokens(local_sides(sides)) or SLIDER_END

    def call(self, comparator, request: CompareRequest, inputs: Inputs, stop: StopFlag, **fields) -> GpuCall:
        """The call for `request`; InputError where its answers could not fit the GPU time one call may ask for."""
        local = local_sides(comparator.sides)
        most = self.max_new_tokens(local)
        if most is not None and request.settings.max_new_tokens > most:
            raise InputError("max new tokens", f"at most {most} here: longer answers from both models would not fit "
                             f"the {self.cap_s} s of GPU time one comparison may ask for")
        return GpuCall(request, inputs, stop, seconds=self.seconds(request.settings.max_new_tokens, local), **fields)


@dataclass
class GpuCall:
    """Everything one comparison needs on the GPU, as data that pickles."""

    request: CompareRequest
    inputs: Inputs
    stop: StopFlag
    histories: dict[str, list] = field(default_factory=dict)
    order: list[str] | None = None
    clicked_at: float | None = None
    seconds: int = 60  # the duration asked for (GpuBudget.seconds)


_installed: dict = {}  # "comparator": the one the worker inherits; "call": the decorated function


def install(comparator, size: str | None = None) -> None:
    """On ZeroGPU: decorate the call (before launch, as `spaces` requires) for `comparator`'s
    models; `size` "xlarge" for a pair that does not fit half an H200."""
    import spaces

    _installed["comparator"] = comparator
    _installed["call"] = spaces.GPU(_run_installed, duration=_duration, size=size)


def _duration(call: GpuCall) -> int:
    return call.seconds


COLD_START = ("cold start: this was a fresh GPU worker's first call, so its times include moving the models "
              "onto the GPU and the first kernels' set-up")
_worker: dict = {}  # "pid": the process that has run a call (a fork starts with the server's copy)


def _run_installed(call: GpuCall) -> Iterator[ComparisonResult]:
    cold = _worker.get("pid") != os.getpid()
    _worker["pid"] = os.getpid()
    noted = not cold
    for state in _run(_installed["comparator"], call):
        if not noted:  # said once, on each model's result
            for result in state.results.values():
                result.notes.append(COLD_START)
            noted = True
        yield state


def _run(comparator, call: GpuCall) -> Iterator[ComparisonResult]:
    """The comparison, paced: every UPDATE_INTERVAL_S and at every status change (each state
    crosses a process boundary on ZeroGPU), and always its last state."""
    stream = comparator.stream(call.request, stop_event=call.stop, histories=call.histories, inputs=call.inputs,
                               order=call.order, clicked_at=call.clicked_at)
    sent_at, statuses, state = 0.0, None, None
    try:
        for state in stream:
            now, current = time.perf_counter(), tuple(r.status for r in state.results.values())
            if current != statuses or now - sent_at >= UPDATE_INTERVAL_S or state.done:
                yield state
                sent_at, statuses = now, current
    finally:
        stream.close()


def stream(comparator, call: GpuCall) -> Iterator[ComparisonResult]:
    """The comparison as it fills in. Bad input raises InputError first. A call the platform
    refuses or ends (a visitor's quota, the scheduler's abort) ends as an error in each column
    that had not finished, keeping what streamed."""
    run = _installed.get("call")
    states = run(call) if run else _run(comparator, call)
    state = None
    try:
        for state in states:
            yield state
    except InputError:
        raise
    except Exception as e:  # from the platform: its message is meant for the visitor
        state = state or comparator.blank(call.request, call.inputs, call.order)
        reason = str(e) if type(e).__name__ == "Error" else one_line(e)  # gr.Error: its own message
        for result in state.results.values():
            if result.status in (Status.PENDING, Status.RUNNING):
                result.status, result.error = Status.ERROR, f"the GPU call ended: {reason} (what streamed is kept)"
        state.done = True
        yield state
    finally:
        if hasattr(states, "close"):
            states.close()


class GpuComparator:
    """A comparator whose every `run` is one GPU call (an evaluation's tasks, each its own)."""

    def __init__(self, comparator, budget: GpuBudget = GpuBudget()):
        self.comparator, self.budget = comparator, budget

    @property
    def sides(self):
        return self.comparator.sides

    def run(self, request: CompareRequest, stop_event: StopFlag | None = None) -> ComparisonResult:
        inputs = self.comparator.check(request)
        call = self.budget.call(self.comparator, request, inputs, stop_event or StopFlag(),
                                order=self.comparator.next_order())
        state = None
        for state in stream(self.comparator, call):
            pass
        return state


def size_for(sides) -> str | None:
    """The ZeroGPU device a pair needs: None (the default, half an H200) where both models'
    weights fit in it with HEADROOM_GIB to spare, "xlarge" (a whole one) where they fit in that;
    ValueError, with the reason, where they do not."""
    weights = sum(side.loaded.footprint_mb for side in sides.values() if side.loaded is not None) / 1024
    if weights + HEADROOM_GIB <= LARGE_GPU_GIB:
        return None
    if weights + HEADROOM_GIB <= XLARGE_GPU_GIB:
        return "xlarge"
    raise ValueError(f"the two models' weights take {weights:.0f} GiB: with room for their caches that is more "
                     f"than a whole ZeroGPU device ({XLARGE_GPU_GIB:.0f} GiB) holds. Pick a smaller pair")


def local_sides(sides) -> int:
    """How many of the models run on this machine's GPU (a served one needs none)."""
    return sum(1 for side in sides.values() if side.loaded is not None)

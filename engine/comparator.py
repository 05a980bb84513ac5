"""One comparison: validate the request once, route it to each side, stream both, collect the results.

By default the two models run one after the other (their order alternating between requests),
so neither slows the other and both timings are clean; the parallel mode streams both at once
and marks both timings as contended. A failure on one side becomes that side's `error`; the
other side carries on. Bad input raises InputError before any model runs.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from types import MappingProxyType

from modalities.limits import DEFAULT_LIMITS, Limits
from modalities.request import CompareRequest, Inputs, validate_request
from modalities.routing import check_fits, route
from models.backend import BackendError, Finished, Job, Turn, one_line
from models.families import SIDES
from models.tiny import TINY_NOTICE

from .environment import environment
from .results import ComparisonResult, ModelResult, Status
from .sides import Side
from .timing import Overlap, Stopwatch
from .turns import Turns


class Overlaps:
    """The generations in flight in this process: any two whose times overlap mark each other contended
    (both sides of a parallel comparison, or comparisons admitted at once by the app's --concurrency)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running: list[Overlap] = []

    @contextmanager
    def running(self, parallel: bool = False):
        """One generation in flight; `parallel`: a side of a parallel comparison, contended by design
        even if its partner happens to end before it starts."""
        flag = Overlap(contended=parallel)
        with self._lock:
            for other in self._running:
                other.contended = flag.contended = True
            self._running.append(flag)
        try:
            yield flag
        finally:
            with self._lock:
                self._running = [f for f in self._running if f is not flag]


class Comparator:
    """Runs comparisons between the models of its sides. Safe to share between sessions.

    Its sides are an immutable mapping, replaced whole by `put` (a model switch): a comparison
    in progress keeps the sides it started with.
    """

    def __init__(
        self, sides: Mapping[str, Side], parallel: bool = False, timeout_s: float | None = None,
        limits: Limits = DEFAULT_LIMITS, turns: Turns | None = None,
    ):
        self._sides = MappingProxyType(dict(sides))
        self.turns = turns  # the app's (engine.turns); None: every comparison runs when it is asked
        self.parallel = parallel
        self.timeout_s = timeout_s
        self.limits = limits
        self._runs = 0  # alternates which side goes first in sequential mode
        self._lock = threading.Lock()
        self.overlaps = Overlaps()

    @property
    def sides(self) -> Mapping[str, Side]:
        return self._sides

    def put(self, side: Side) -> None:
        """Make `side` the one its key's comparisons use from now on."""
        with self._lock:
            self._sides = MappingProxyType({**self._sides, side.key: side})

    def next_order(self) -> list[str]:
        """Which side goes first in the next sequential comparison: they take turns. Decided in the
        server's process (on ZeroGPU the comparison itself runs in a worker that forgets)."""
        with self._lock:
            first_gemma = self._runs % 2 == 0
            self._runs += 1
        return list(SIDES) if first_gemma else list(reversed(SIDES))

    def blank(self, request: CompareRequest, inputs: Inputs, order: list[str] | None = None) -> ComparisonResult:
        """The comparison before anything ran (for a call that ended before its first state)."""
        return self._new_result(self._sides, request, inputs, list(order or SIDES))

    def _new_result(self, sides, request: CompareRequest, inputs: Inputs, order: list[str]) -> ComparisonResult:
        results = {}
        for key in SIDES:
            side = sides[key]
            results[key] = ModelResult(side=key, source=side.source)
            if side.backend and side.backend.is_replica:
                results[key].notes.append(TINY_NOTICE)
        return ComparisonResult(
            request=request,
            results=results,
            environment=environment(sides),
            order=order,
            mode="parallel" if self.parallel else "sequential",
            validation_s=inputs.validation_s,
        )

    def _run_side(self, side: Side, inputs: Inputs, request: CompareRequest, result: ModelResult,
                  stop: threading.Event, history: list[Turn], turns: dict, clicked_at: float) -> Iterator[None]:
        """Drive one side; yields whenever its result changed."""
        backend = side.backend
        if backend is None:
            result.status, result.error = Status.ERROR, side.load_error or "model not loaded"
            return
        # 1. Routing: what this model is sent, and why anything is not.
        routed = route(inputs, backend.capabilities)
        result.skipped_inputs = routed.skipped
        result.notes += routed.notes
        if routed.skip_reason:
            result.status = Status.SKIPPED
            result.notes.append(routed.skip_reason)
            return
        if stop.is_set():
            result.status = Status.STOPPED
            return
        # 2. One generation per model at a time; its clock starts when it gets the model.
        with side.lock, self.overlaps.running(self.parallel) as overlap:
            result.status = Status.RUNNING
            yield
            job = Job(routed, request.settings, tuple(history), stop, self.timeout_s, time.perf_counter)
            watch = Stopwatch(result, job.clock(), overlap, clicked_at)
            try:
                for event in backend.run(job):
                    watch.add(event)
                    if isinstance(event, Finished):
                        self._ended(result)
                    yield
            except BackendError as e:
                result.status, result.error = Status.ERROR, str(e)
            except Exception as e:  # an internal error on one side must not end the other's run
                result.status, result.error = Status.ERROR, one_line(e)
            if result.status in (Status.DONE, Status.STOPPED):  # what was shown continues its conversation
                # Kept for follow-ups in the visitor's state: paths, not decoded images or audio.
                light = replace(routed, images=[image.without_pixels() for image in routed.images],
                                audio=routed.audio.without_samples() if routed.audio else None)
                turns[side.key] = Turn(light, result.text)
        yield

    def _ended(self, result: ModelResult) -> None:
        """3. How it ended: stopped by the user, past its timeout (partial answer kept), or done."""
        if result.metrics.timed_out:
            result.status = Status.ERROR
            result.error = f"timed out after the per-side limit of {self.timeout_s:.0f} s (partial answer kept)"
        else:
            result.status = Status.STOPPED if result.metrics.stopped else Status.DONE

    def check(self, request: CompareRequest, inputs: Inputs | None = None, sides: Mapping[str, Side] | None = None) -> Inputs:
        """Validate `request` against the limits (unless `inputs` are its validated inputs already)
        and against every side's model, as `stream` does first; no model runs."""
        inputs = inputs or validate_request(request, self.limits)
        for side in (sides or self._sides).values():  # an input one of the models cannot take at all
            if side.backend:
                check_fits(inputs, side.backend.capabilities)
        return inputs

    def stream(
        self,
        request: CompareRequest,
        stop_event: threading.Event | None = None,
        histories: dict[str, list[Turn]] | None = None,
        inputs: Inputs | None = None,
        order: list[str] | None = None,
        clicked_at: float | None = None,
    ) -> Iterator[ComparisonResult]:
        """Yield the comparison as it fills in; the last yield is complete. Raises InputError first.

        `inputs` are the request's already validated inputs, where the caller validated it itself.
        `order` (sequential mode) is the caller's own run order, such as a blind comparison's draw;
        without it the sides take turns going first, and a given order leaves that turn-taking be.
        `clicked_at` (time.perf_counter) is when the visitor asked, for each model's `waited_s`;
        without it, now.
        """
        clicked_at = time.perf_counter() if clicked_at is None else clicked_at
        sides = self._sides  # a model switched during this comparison is seen by the next one
        inputs = self.check(request, inputs, sides)
        with self.turns.turn() if self.turns else nullcontext():  # after validation, which needs no model
            yield from self._stream(sides, request, inputs, stop_event or threading.Event(), histories or {}, order,
                                   clicked_at)

    def _stream(self, sides, request, inputs, stop_event, histories, order, clicked_at) -> Iterator[ComparisonResult]:
        order = list(SIDES) if self.parallel else (list(order) if order else self.next_order())
        state = self._new_result(sides, request, inputs, order)
        runs = {
            k: self._run_side(sides[k], inputs, request, state.results[k], stop_event, histories.get(k, []), state.turns,
                              clicked_at)
            for k in order
        }
        yield state
        if self.parallel:
            yield from self._interleave(runs, state, stop_event)
        else:
            try:
                for run in runs.values():
                    for _ in run:
                        yield state
            finally:
                for run in runs.values():
                    run.close()  # a reader that stops early ends the generation in progress
        state.done = True
        yield state

    def _interleave(self, runs: dict, state: ComparisonResult, stop_event: threading.Event):
        ticks: queue.Queue = queue.Queue()

        def drive(run) -> None:
            try:
                for _ in run:
                    ticks.put(True)
            finally:
                ticks.put(None)

        threads = [threading.Thread(target=drive, args=(r,), daemon=True) for r in runs.values()]
        for t in threads:
            t.start()
        finished = 0
        try:
            while finished < len(threads):
                if ticks.get() is None:
                    finished += 1
                else:
                    yield state
        finally:
            if finished < len(threads):
                stop_event.set()  # the caller stopped reading: end both generations
            for t in threads:
                t.join()

    def run(self, request: CompareRequest, **kwargs) -> ComparisonResult:
        state = None
        for state in self.stream(request, **kwargs):
            pass
        return state

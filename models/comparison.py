"""One comparison: validate the request once, route it to each side, stream both, collect the results.

By default the two models run one after the other (their order alternating between requests),
so neither slows the other and both timings are clean; the parallel mode streams both at once
and marks both timings as contended. A failure on one side becomes that side's `error`; the
other side carries on. Bad input raises InputError before any model runs.
"""

from __future__ import annotations

import platform
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from modalities.errors import InputError
from modalities.limits import Limits, limits_from_env
from modalities.request import CompareRequest, Inputs, validate_request
from modalities.routing import route

from .backend import Backend
from .families import SIDES
from .generation import GenerationTimeout
from .loading import LoadedModel
from .prompting import Turn
from .remote import RemoteError
from .results import ComparisonResult, ModelResult
from .tiny import TINY_NOTICE

__all__ = ["SIDES", "Comparator", "Side", "load_side", "resolve_sources"]


@dataclass
class Side:
    """One column: a backend (a local model or a remote server), or why there is none."""

    key: str
    backend: Backend | None = None
    load_error: str | None = None
    # At most one generation per model at a time, whoever asks.
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def loaded(self) -> LoadedModel | None:
        """The local model, where this side has one."""
        return getattr(self.backend, "loaded", None)

    @property
    def model_name(self) -> str:
        return self.backend.source if self.backend else "(not loaded)"


def environment(sides: dict[str, Side]) -> dict:
    import torch
    import transformers

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "gpu": gpu,
        "cpu_threads": torch.get_num_threads(),
        "models": {
            k: s.backend.describe() if s.backend else {"id": None, "error": s.load_error} for k, s in sides.items()
        },
    }


class Comparator:
    """Runs comparisons between the models of its sides. Safe to share between sessions."""

    def __init__(
        self,
        sides: dict[str, Side],
        parallel: bool = False,
        timeout_s: float | None = None,
        limits: Limits | None = None,
    ):
        self.sides = sides
        self.parallel = parallel
        self.timeout_s = timeout_s
        self.limits = limits or limits_from_env()
        self._runs = 0  # alternates which side goes first in sequential mode
        self._runs_lock = threading.Lock()

    def _order(self) -> list[str]:
        with self._runs_lock:
            first_gemma = self._runs % 2 == 0
            self._runs += 1
        return list(SIDES) if first_gemma else list(reversed(SIDES))

    def _new_result(self, request: CompareRequest, inputs: Inputs, order: list[str]) -> ComparisonResult:
        results = {}
        for key in SIDES:
            side = self.sides[key]
            r = ModelResult(side=key, model=side.model_name)
            if side.backend and side.backend.is_replica:
                r.notes.append(TINY_NOTICE)
            results[key] = r
        return ComparisonResult(
            request=request.to_dict(),
            results=results,
            environment=environment(self.sides),
            order=order,
            mode="parallel" if self.parallel else "sequential",
            validation_s=inputs.validation_s,
        )

    def _run_side(
        self,
        key: str,
        inputs: Inputs,
        request: CompareRequest,
        result: ModelResult,
        stop_event: threading.Event,
        history: list[Turn],
        turns: dict[str, Turn],
    ) -> Iterator[None]:
        side = self.sides[key]
        backend = side.backend
        if backend is None:
            result.status, result.error = "error", side.load_error or "model not loaded"
            return
        routed = route(inputs, backend.capabilities)
        result.skipped_inputs = routed.skipped
        result.notes += routed.notes
        if routed.skip_reason:
            result.status = "skipped"
            result.notes.append(routed.skip_reason)
            return
        if stop_event.is_set():
            result.status = "stopped"
            return
        with side.lock:
            result.status = "running"
            yield
            try:
                for snap in backend.run(
                    routed, request.settings, history, stop_event, self.timeout_s, self.parallel, result.notes
                ):
                    result.text, result.thinking, result.token_times = snap.text, snap.thinking, snap.token_times
                    if snap.token_times:
                        result.progress.append((snap.token_times[-1], len(snap.text), len(snap.thinking)))
                    if snap.metrics:
                        result.metrics = snap.metrics
                        result.status = "stopped" if snap.metrics.stopped else "done"
                        if snap.metrics.timed_out:
                            result.status = "error"
                            result.error = f"timed out after the per-side limit of {self.timeout_s:.0f} s (partial answer kept)"
                        else:
                            turns[key] = Turn(routed, result.text)
                    yield
            except InputError as e:
                result.status, result.error = "error", str(e)
            except Exception as e:  # one side's failure must not end the other's run
                result.status, result.error = "error", _describe_failure(e)
                backend.release()
        yield

    def stream(
        self,
        request: CompareRequest,
        stop_event: threading.Event | None = None,
        histories: dict[str, list[Turn]] | None = None,
        inputs: Inputs | None = None,
    ) -> Iterator[ComparisonResult]:
        """Yield the comparison as it fills in; the last yield is complete. Raises InputError first.

        `inputs` are the request's already validated inputs, where the caller validated it itself.
        """
        inputs = inputs or validate_request(request, self.limits)
        stop_event = stop_event or threading.Event()
        histories = histories or {}
        order = self._order() if not self.parallel else list(SIDES)
        state = self._new_result(request, inputs, order)
        runs = {
            k: self._run_side(k, inputs, request, state.results[k], stop_event, histories.get(k, []), state.turns)
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


def _describe_failure(e: BaseException) -> str:
    import torch

    if isinstance(e, (RemoteError, GenerationTimeout)):
        return str(e)
    if isinstance(e, torch.OutOfMemoryError):
        return "out of GPU memory during generation (try fewer frames, a smaller image or fewer new tokens)"
    message = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {message[:300]}"


def load_side(key: str, source: str | None, device: str | None = None, fast: bool = False) -> Side:
    """Load one side's model and warm it up; a failure becomes the side's `load_error`."""
    from .generation import warm_up
    from .loading import ModelLoadError, load_model
    from .local import LocalBackend

    if not source:
        return Side(key, load_error="no model chosen")
    try:
        loaded = load_model(source, expected_family=key, device=device, fast=fast)
    except ModelLoadError as e:
        return Side(key, load_error=str(e))
    try:
        warm_up(loaded)
    except Exception as e:  # a compile failure must not cost the model: fall back to the eager path
        if not loaded.fast:
            raise
        loaded.fast, loaded.fast_error = False, _describe_failure(e)
        warm_up(loaded)
    return Side(key, LocalBackend(loaded))


def resolve_sources(gemma: str | None, qwen: str | None, tiny: bool, preset: str) -> dict[str, str]:
    """Which checkpoint each side loads: explicit ids win, then the replicas with --tiny, then the preset."""
    from .registry import PRESETS
    from .tiny import build_replicas

    if tiny and not (gemma and qwen):
        tiny_gemma, tiny_qwen = build_replicas()
        gemma, qwen = gemma or str(tiny_gemma), qwen or str(tiny_qwen)
    chosen = PRESETS[preset]
    return {"gemma": gemma or chosen.gemma, "qwen": qwen or chosen.qwen}

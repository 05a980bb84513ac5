"""Streaming generation with timing that is measured the same way for every model.

`generate` runs in its own thread with a fresh streamer per call. The streamer receives token
ids (never text chunks) and stamps each on arrival with one monotonic clock; the calling thread
splits them into thinking and answer by the family's marker tokens, decodes each part, and
yields snapshots. The thread is joined (or, hung past the per-side timeout, abandoned with an
error), and its exception becomes this model's error.
Token counts come from the ids `generate` returned.
"""

from __future__ import annotations

import queue
import resource
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from modalities.request import GenerationSettings

from .fastpath import fast_overrides
from .loading import LoadedModel
from .prompting import PreparedInputs
from .results import Metrics


# How often a stream refreshes its text: smooth to the eye, and rare enough to cost nothing.
UPDATE_INTERVAL_S = 0.025
# How long past the per-side timeout a generation that does not return is waited for.
HANG_GRACE_S = 10.0


class GenerationTimeout(RuntimeError):
    pass


class _TimedStreamer:
    """A transformers streamer (`put`/`end`) that queues generated ids with their arrival time."""

    def __init__(self):
        self.queue: queue.Queue = queue.Queue()
        self.finished = threading.Event()
        self._prompt_skipped = False

    def put(self, value) -> None:
        now = time.perf_counter()
        if not self._prompt_skipped:  # generate's first put is the prompt itself
            self._prompt_skipped = True
            return
        self.queue.put((value.reshape(-1).tolist(), now))

    def end(self) -> None:
        self.finished.set()

    def take(self) -> list[tuple[list[int], float]]:
        """Everything that has arrived so far."""
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items


def _stop_criterion(*events: threading.Event):
    import torch
    from transformers import StoppingCriteria

    class StopOnEvent(StoppingCriteria):
        answers: dict = {}  # (stop, batch, device) -> a reusable bool tensor: this runs every step

        def __call__(self, input_ids, scores, **kwargs):
            stop = any(e.is_set() for e in events)
            key = (stop, input_ids.shape[0], input_ids.device)
            if key not in self.answers:
                self.answers[key] = torch.full(key[1:2], stop, dtype=torch.bool, device=input_ids.device)
            return self.answers[key]

    return StopOnEvent()


class _IncrementalText:
    """Decoded text of a growing id list, at a cost per token that does not grow with the text.

    As transformers' TextStreamer: ids since the last newline are decoded together (so
    multi-byte characters and tokenizer spacing come out right) and folded into the fixed
    text at each newline. Text ending in an incomplete character waits for the next id.
    """

    def __init__(self, tokenizer):
        self._tok = tokenizer
        self.ids: list[int] = []
        self._fixed = ""
        self._pending_from = 0
        self._text = ""

    def append(self, token_id: int) -> None:
        self.ids.append(token_id)

    def text(self) -> str:
        if len(self.ids) > self._pending_from:
            pending = self._tok.decode(self.ids[self._pending_from :], skip_special_tokens=True)
            if not pending.endswith("\ufffd"):
                self._text = self._fixed + pending
                if pending.endswith("\n"):
                    self._fixed, self._pending_from = self._text, len(self.ids)
        return self._text

    def final(self) -> str:
        return self._tok.decode(self.ids, skip_special_tokens=True)


class ThinkingSplitter:
    """Sorts generated ids into thinking and answer by the family's marker tokens."""

    def __init__(self, loaded: LoadedModel, starts_in_thinking: bool):
        tok = loaded.processor.tokenizer
        self._label = loaded.family.thinking_label
        self._special = set(tok.all_special_ids)
        unk = getattr(tok, "unk_token_id", None)
        start, end = tok.convert_tokens_to_ids([loaded.family.think_start, loaded.family.think_end])
        self._start = start if start != unk else None
        self._end = end if end != unk else None
        self.in_thinking = starts_in_thinking
        self._thinking = _IncrementalText(tok)
        self._answer = _IncrementalText(tok)
        self.thinking_tokens = 0

    def add(self, token_id: int) -> bool:
        """Take one id; True when it is answer text (not thinking, not a marker)."""
        if token_id in (self._start, self._end):
            self.in_thinking = token_id == self._start
            self.thinking_tokens += 1
            return False
        if self.in_thinking:
            self.thinking_tokens += 1
            self._thinking.append(token_id)
            return False
        self._answer.append(token_id)
        return token_id not in self._special

    def _clean_thinking(self, text: str) -> str:
        text = text.lstrip()
        if self._label and text.startswith(self._label):
            text = text[len(self._label) :].lstrip()
        return text

    def texts(self, final: bool = False) -> tuple[str, str]:
        """(answer, thinking) so far; `final` decodes each in one piece, exactly."""
        if final:
            return self._answer.final().strip(), self._clean_thinking(self._thinking.final()).strip()
        return self._answer.text().lstrip(), self._clean_thinking(self._thinking.text())


@dataclass
class Snapshot:
    """The text so far and the arrival times so far; `metrics` is set on the last one."""

    text: str
    thinking: str
    token_times: list[float]
    metrics: Metrics | None = None


def generation_config(loaded: LoadedModel, settings: GenerationSettings, timeout_s: float | None = None):
    """A config that carries only our settings, so neither model gets its own sampling defaults."""
    from transformers import GenerationConfig

    own = loaded.model.generation_config
    sample = settings.temperature > 0
    fast = fast_overrides(loaded.device) if loaded.fast else {}
    return GenerationConfig(
        **fast,
        max_new_tokens=settings.max_new_tokens,
        min_new_tokens=settings.min_new_tokens or None,
        do_sample=sample,
        temperature=settings.temperature if sample else None,
        top_p=settings.top_p if sample else None,
        top_k=None,
        max_time=timeout_s,
        eos_token_id=own.eos_token_id,
        pad_token_id=own.pad_token_id if own.pad_token_id is not None else own.eos_token_id,
        bos_token_id=own.bos_token_id,
    )


def _peak_memory(device: str) -> tuple[float, str]:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20, "cuda_allocated"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "process_rss"


def stream(
    loaded: LoadedModel,
    prepared: PreparedInputs,
    settings: GenerationSettings,
    stop_event: threading.Event | None = None,
    timeout_s: float | None = None,
    contended: bool = False,
) -> Iterator[Snapshot]:
    """Generate, yielding a Snapshot as tokens arrive (at most every UPDATE_INTERVAL_S) and a last one with the metrics."""
    import torch
    from transformers import StoppingCriteriaList

    stop_event = stop_event or threading.Event()
    abandoned = threading.Event()  # set when the caller stops reading: ends this generation only
    streamer = _TimedStreamer()
    splitter = ThinkingSplitter(loaded, prepared.starts_in_thinking)
    config = generation_config(loaded, settings, timeout_s)
    prompt_len = prepared.batch["input_ids"].shape[1]
    outcome: dict = {}

    def work() -> None:
        try:
            with torch.inference_mode():
                out = loaded.model.generate(
                    **prepared.batch,
                    generation_config=config,
                    streamer=streamer,
                    stopping_criteria=StoppingCriteriaList([_stop_criterion(stop_event, abandoned)]),
                )
            outcome["end"] = time.perf_counter()
            outcome["ids"] = out[0, prompt_len:].tolist()
        except BaseException as e:  # re-raised in the calling thread below
            outcome["error"] = e
        finally:
            streamer.end()

    if loaded.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    torch.manual_seed(settings.seed)
    worker = threading.Thread(target=work, name=f"generate-{loaded.family.key}", daemon=True)
    times: list[float] = []
    first_answer: float | None = None
    t0 = time.perf_counter()
    worker.start()
    try:
        finished = False
        while not finished:
            # Wake every UPDATE_INTERVAL_S (or at the end) and take every id that has arrived:
            # each id was stamped on arrival by the generating thread, so batching costs no
            # accuracy, and waking per token would take the interpreter from the model's thread.
            finished = streamer.finished.wait(UPDATE_INTERVAL_S)
            items = streamer.take()
            for ids, arrived in items:
                for token_id in ids:
                    times.append(arrived - t0)
                    if splitter.add(token_id) and first_answer is None:
                        first_answer = arrived - t0
            if items and not finished:
                yield Snapshot(*splitter.texts(), times)
            if timeout_s and not finished and time.perf_counter() - t0 > timeout_s + HANG_GRACE_S:
                # max_time is only checked between steps: a step that never returns lands here.
                abandoned.set()
                raise GenerationTimeout(
                    f"generation hung: no end {timeout_s + HANG_GRACE_S:.0f} s after the model call "
                    f"(per-side timeout {timeout_s:.0f} s); its thread was abandoned"
                )
    finally:
        if worker.is_alive():
            abandoned.set()
        worker.join(timeout=None if not timeout_s else HANG_GRACE_S)
    if "error" in outcome:
        raise outcome["error"]
    generation_s = outcome["end"] - t0
    ids = outcome["ids"]
    peak, scope = _peak_memory(loaded.device)
    n = len(ids)
    decode = (n - 1) / (times[-1] - times[0]) if n >= 2 and times[-1] > times[0] else None
    metrics = Metrics(
        preprocess_s=prepared.preprocess_s,
        ttft_s=times[0] if times else None,
        ttft_answer_s=first_answer,
        decode_tok_s=decode,
        total_s=prepared.preprocess_s + generation_s,
        output_tokens=n,
        thinking_tokens=splitter.thinking_tokens,
        answer_tokens=n - splitter.thinking_tokens,
        input_tokens=prepared.input_tokens,
        device=loaded.device,
        dtype=loaded.dtype,
        peak_memory_mb=round(peak, 1),
        memory_scope=scope,
        contended=contended,
        stopped=stop_event.is_set(),
        # max_time ended it: the per-side timeout, not the token limit or the end of the answer.
        timed_out=bool(timeout_s) and generation_s >= timeout_s and not stop_event.is_set()
        and n < settings.max_new_tokens,
    )
    yield Snapshot(*splitter.texts(final=True), times, metrics)


def warm_up(loaded: LoadedModel) -> None:
    """Untimed generations, so lazy initialisation and compilation never land in a user's request.

    They go through the same chat template and processor as requests (so `generate` sees the
    same inputs), text alone and with an image where the model takes one. On the fast path,
    prompts and generations of different lengths let torch see which shapes vary and compile
    once for all of them (CUDA graphs recorded on a GPU) before any user waits; the time it took
    is kept as `compile_s`.
    """
    import torch
    from PIL import Image

    from modalities.image import ImageInput
    from modalities.routing import RoutedInputs

    from .prompting import prepare

    picture = ImageInput(path=Path("warm-up.png"), image=Image.new("RGB", (64, 48), "gray"), original_size=(64, 48))
    runs = [(RoutedInputs(prompt="Hello, please describe what you see.", system=""), 4)]
    if loaded.fast:
        runs += [(RoutedInputs(prompt="Tell me about the picture. " * 12, system=""), 12)]
        if loaded.capabilities.image:
            runs += [(RoutedInputs(prompt="What is this?", system="", images=[picture]), 6)]
        runs += [(RoutedInputs(prompt="Hi", system=""), 6)]
    start = time.perf_counter()
    with torch.inference_mode():
        for inputs, new_tokens in runs:
            batch = prepare(loaded, inputs, thinking=False).batch
            config = generation_config(loaded, GenerationSettings(max_new_tokens=new_tokens, temperature=0.0))
            loaded.model.generate(**batch, generation_config=config)
    if loaded.fast:
        loaded.compile_s = time.perf_counter() - start

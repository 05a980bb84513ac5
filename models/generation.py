"""Streaming generation with timing that is measured the same way for every model.

`generate` runs in its own thread with a fresh streamer per call. The streamer receives token
ids (never text chunks) and stamps each on arrival with one monotonic clock; the calling thread
splits them into thinking and answer by the family's marker tokens, decodes each part, and
yields snapshots. The thread is always joined, and its exception becomes this model's error.
Token counts come from the ids `generate` returned.
"""

from __future__ import annotations

import queue
import resource
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from modalities.request import GenerationSettings

from .loading import LoadedModel
from .prompting import PreparedInputs
from .results import Metrics


class _TimedStreamer:
    """A transformers streamer (`put`/`end`) that queues generated ids with their arrival time."""

    def __init__(self):
        self.queue: queue.Queue = queue.Queue()
        self._prompt_skipped = False

    def put(self, value) -> None:
        now = time.perf_counter()
        if not self._prompt_skipped:  # generate's first put is the prompt itself
            self._prompt_skipped = True
            return
        self.queue.put((value.reshape(-1).tolist(), now))

    def end(self) -> None:
        self.queue.put(None)


def _stop_criterion(*events: threading.Event):
    import torch
    from transformers import StoppingCriteria

    class StopOnEvent(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            stop = any(e.is_set() for e in events)
            return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)

    return StopOnEvent()


class ThinkingSplitter:
    """Sorts generated ids into thinking and answer by the family's marker tokens."""

    def __init__(self, loaded: LoadedModel, starts_in_thinking: bool):
        tok = loaded.processor.tokenizer
        self._tok = tok
        self._label = loaded.family.thinking_label
        unk = getattr(tok, "unk_token_id", None)
        start, end = tok.convert_tokens_to_ids([loaded.family.think_start, loaded.family.think_end])
        self._start = start if start != unk else None
        self._end = end if end != unk else None
        self.in_thinking = starts_in_thinking
        self.thinking_ids: list[int] = []
        self.answer_ids: list[int] = []
        self.thinking_tokens = 0

    def add(self, token_id: int) -> bool:
        """Take one id; True when it is answer text (not thinking, not a marker)."""
        if token_id == self._start:
            self.in_thinking = True
            self.thinking_tokens += 1
            return False
        if token_id == self._end:
            self.in_thinking = False
            self.thinking_tokens += 1
            return False
        if self.in_thinking:
            self.thinking_tokens += 1
            self.thinking_ids.append(token_id)
            return False
        self.answer_ids.append(token_id)
        return token_id not in self._tok.all_special_ids

    def answer(self) -> str:
        return self._tok.decode(self.answer_ids, skip_special_tokens=True).lstrip()

    def thinking(self) -> str:
        text = self._tok.decode(self.thinking_ids, skip_special_tokens=True).lstrip()
        if self._label and text.startswith(self._label):
            text = text[len(self._label) :].lstrip()
        return text


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
    return GenerationConfig(
        max_new_tokens=settings.max_new_tokens,
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
    """Generate, yielding a Snapshot per arriving token and a last one with the metrics."""
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
        while (item := streamer.queue.get()) is not None:
            ids, arrived = item
            for token_id in ids:
                times.append(arrived - t0)
                if splitter.add(token_id) and first_answer is None:
                    first_answer = arrived - t0
            yield Snapshot(splitter.answer(), splitter.thinking(), times)
    finally:
        if worker.is_alive():
            abandoned.set()
        worker.join()
    generation_s = time.perf_counter() - t0
    if "error" in outcome:
        raise outcome["error"]
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
    )
    yield Snapshot(splitter.answer().strip(), splitter.thinking().strip(), times, metrics)


def warm_up(loaded: LoadedModel) -> None:
    """One short untimed generation, so lazy initialisation never lands in a user's first request."""
    import torch

    tok = loaded.processor.tokenizer
    batch = tok(["Hello"], return_tensors="pt").to(loaded.model.device)
    config = generation_config(loaded, GenerationSettings(max_new_tokens=2, temperature=0.0))
    with torch.inference_mode():
        loaded.model.generate(**batch, generation_config=config)

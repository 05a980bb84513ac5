"""Local generation as events: `generate` in its own thread, each token id stamped on arrival.

`generate` runs in its own thread with a fresh streamer per call. The streamer receives token
ids (never text chunks) and stamps each on arrival with the job's clock; the calling thread
sorts them into thinking and answer by the family's marker tokens (models.thinking), decodes
each part, and yields `Tokens` events. The thread is joined (or, hung past the per-side
timeout, abandoned with an error), and its exception is re-raised to the caller.
Token counts come from the ids `generate` returned. This module measures nothing: the engine
turns the events into metrics.
"""

from __future__ import annotations

import queue
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

from modalities.request import GenerationSettings

from .backend import UPDATE_INTERVAL_S, BackendError, Event, Finished, Job, Started, Tokens
from .drafting import counting, drafter_for
from .fastpath import fast_overrides
from .loading import LoadedModel
from .prompting import PreparedInputs
from .sampling import Generation, asked, generate_kwargs, ran
from .thinking import ThinkingSplitter


# How long past the per-side timeout a generation that does not return is waited for.
HANG_GRACE_S = 10.0


class _TimedStreamer:
    """A transformers streamer (`put`/`end`) that queues generated ids with their arrival time."""

    def __init__(self, clock):
        self.clock = clock
        self.queue: queue.Queue = queue.Queue()
        self.finished = threading.Event()
        self._prompt_skipped = False

    def put(self, value) -> None:
        now = self.clock()
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


def generation_config(loaded: LoadedModel, settings: GenerationSettings, timeout_s: float | None = None,
                      drafting: bool = False):
    """A config in which every sampling field is set, so nothing is inherited from the checkpoint
    (transformers fills unset fields from its generation_config.json): see models.sampling.

    A drafted generation keeps the dynamic cache even on the fast path: assisted decoding crops
    the cache after each verification, which a static cache cannot do."""
    from transformers import GenerationConfig

    own = loaded.model.generation_config
    fast = fast_overrides(loaded.device) if loaded.fast and not drafting else {}
    return GenerationConfig(
        **fast,
        **generate_kwargs(asked(settings, loaded.family)),
        max_new_tokens=settings.max_new_tokens,
        min_new_tokens=settings.min_new_tokens or None,
        max_time=timeout_s,
        eos_token_id=own.eos_token_id,
        pad_token_id=own.pad_token_id if own.pad_token_id is not None else own.eos_token_id,
        bos_token_id=own.bos_token_id,
    )


def effective_generation(loaded: LoadedModel, settings: GenerationSettings, config) -> Generation:
    """The values `generate` will run with: its own merge (the same call `generate` makes) of
    `config` with the checkpoint's generation_config, read back field by field."""
    merged, _ = loaded.model._prepare_generation_config(config)
    return ran(asked(settings, loaded.family), merged)


def _peak_memory(device: str) -> tuple[float, str]:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20, "cuda_allocated"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "process_rss"


def _seed(device: str, seed: int) -> None:
    """Seed the generator sampling will draw from. `torch.manual_seed` also queues a seeding of
    every accelerator torch was built for, recording a stack trace for each while none is in use:
    about 1 ms of every CPU generation, on the thread that shares the model's core."""
    import torch

    if device.startswith("cpu"):
        torch.random.default_generator.manual_seed(seed)
    else:
        torch.manual_seed(seed)


def generate_events(loaded: LoadedModel, prepared: PreparedInputs, job: Job) -> Iterator[Event]:
    """Run `generate` in its own thread; yield Started, Tokens at most every UPDATE_INTERVAL_S, Finished."""
    import torch
    from transformers import StoppingCriteriaList

    abandoned = threading.Event()  # set when the caller stops reading: ends this generation only
    streamer = _TimedStreamer(job.clock)
    splitter = ThinkingSplitter(loaded, prepared.starts_in_thinking)
    # The family's own drafter, when the job asks for it (loaded once, before the clock starts).
    drafter, drafting = drafter_for(loaded) if job.settings.draft else (None, None)
    config = generation_config(loaded, job.settings, job.timeout_s, drafting=drafter is not None)
    generation = effective_generation(loaded, job.settings, config)
    prompt_len = prepared.batch["input_ids"].shape[1]
    outcome: dict = {}

    def work() -> None:
        try:
            with torch.inference_mode(), (counting(loaded, drafter) if drafter is not None else nullcontext()) as counts:
                out = loaded.model.generate(
                    **prepared.batch,
                    generation_config=config,
                    streamer=streamer,
                    stopping_criteria=StoppingCriteriaList([_stop_criterion(job.stop, abandoned)]),
                    **({"assistant_model": drafter} if drafter is not None else {}),
                )
            if counts is not None:
                outcome["counts"] = dict(counts)
            outcome["end"] = job.clock()  # stamped here: the reader may be asleep when it ends
            outcome["ids"] = out[0, prompt_len:].tolist()
        except BaseException as e:  # re-raised in the calling thread below
            outcome["error"] = e
        finally:
            streamer.end()

    if loaded.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    _seed(loaded.device, job.settings.seed)
    worker = threading.Thread(target=work, name=f"generate-{loaded.family.key}", daemon=True)
    # 1. The model call: from here on every arrival counts towards the model's own time. It is
    # announced after the call, so the reader's time (the UI's) never lands in between.
    t0 = job.clock()
    worker.start()
    yield Started(t0, prepared.input_tokens, loaded.device, loaded.dtype, generation=generation)
    try:
        finished = False
        while not finished:
            # 2. Wake every UPDATE_INTERVAL_S (or at the end) and take every id that has arrived:
            # each id was stamped on arrival by the generating thread, so batching costs no
            # accuracy, and waking per token would take the interpreter from the model's thread.
            finished = streamer.finished.wait(UPDATE_INTERVAL_S)
            times, parts = [], []
            for ids, arrived in streamer.take():
                for token_id in ids:
                    times.append(arrived)
                    parts.append(splitter.add(token_id))
            if times:
                yield Tokens(tuple(times), tuple(parts), *splitter.texts())
            # 3. max_time is only checked between steps: a step that never returns lands here.
            if job.timeout_s and not finished and job.clock() - t0 > job.timeout_s + HANG_GRACE_S:
                abandoned.set()
                raise BackendError(
                    f"{loaded.family.label}: generation hung, no end {job.timeout_s + HANG_GRACE_S:.0f} s after "
                    f"the model call (per-side timeout {job.timeout_s:.0f} s); its thread was abandoned"
                )
    finally:
        # 4. A reader that stops early (or a hang) ends this generation; the thread is always joined.
        if worker.is_alive():
            abandoned.set()
        worker.join(timeout=None if not job.timeout_s else HANG_GRACE_S)
    if "error" in outcome:
        raise outcome["error"]
    # 5. The counts are the ids generate returned; the texts are decoded once, in one piece.
    ids = outcome["ids"]
    peak, scope = _peak_memory(loaded.device)
    stopped = job.stop.is_set()
    # max_time ended it: the per-side timeout, not the token limit or the end of the answer.
    timed_out = (
        bool(job.timeout_s) and outcome["end"] - t0 >= job.timeout_s and not stopped
        and len(ids) < job.settings.max_new_tokens
    )
    text, thinking = splitter.texts(final=True)
    yield Finished(
        at=outcome["end"],
        text=text,
        thinking=thinking,
        output_tokens=len(ids),
        stopped=stopped,
        timed_out=timed_out,
        peak_memory_mb=round(peak, 1),
        memory_scope=scope,
        drafting=replace(drafting, **outcome["counts"]) if drafting and "counts" in outcome else drafting,
    )


def warm_up(loaded: LoadedModel) -> float:
    """Untimed generations, so lazy initialisation and compilation never land in a user's request.

    They go through the same chat template and processor as requests (so `generate` sees the
    same inputs), text alone and with an image where the model takes one. On the fast path,
    prompts and generations of different lengths let torch see which shapes vary and compile
    once for all of them (CUDA graphs recorded on a GPU) before any user waits. Returns the
    seconds it took (on the fast path: the compile time).
    """
    import torch
    from PIL import Image

    from modalities.image import ImageInput
    from modalities.routing import RoutedInputs

    from .prompting import prepare

    picture = ImageInput(path=Path("warm-up.png"), image=Image.new("RGB", (64, 48), "gray"))
    runs = [(RoutedInputs(prompt="Hello, please describe what you see.", system=""), 4)]
    if loaded.fast:
        runs += [(RoutedInputs(prompt="Tell me about the picture. " * 12, system=""), 12)]
        if loaded.capabilities.image:
            runs += [(RoutedInputs(prompt="What is this?", system="", images=[picture]), 6)]
        runs += [(RoutedInputs(prompt="Hi", system=""), 6)]
    plan = [(inputs, new_tokens, {}) for inputs, new_tokens in runs]
    if loaded.drafter is not None:  # a drafter already loaded (models.drafting) is warmed too, with the first prompt
        plan.append((*runs[0], {"assistant_model": loaded.drafter}))
    start = time.perf_counter()
    with torch.inference_mode():
        for inputs, new_tokens, extra in plan:
            batch = prepare(loaded, inputs, thinking=False).batch
            config = generation_config(loaded, GenerationSettings(max_new_tokens=new_tokens, temperature=0.0),
                                       drafting=bool(extra))
            loaded.model.generate(**batch, generation_config=config, **extra)
    return time.perf_counter() - start

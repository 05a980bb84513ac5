"""One clock, one set of definitions: a backend's events become a side's text, arrival times and Metrics.

Every backend (a model in this process, a server) yields the same events (models.backend), with
times read from the clock the engine gave its job. This module is the only place that turns
them into numbers, so time to first token, decode speed and token counts mean the same for
every backend:

- ttft_s: first arrival minus the model call (`Started.at`);
- ttft_answer_s: first ANSWER arrival minus the model call;
- decode_tok_s: (output tokens - 1) / (last arrival - first arrival), None with < 2 tokens;
- output_tokens: the model's or server's count, else the number of arrivals;
- thinking_tokens: the server's count, else the THINKING arrivals (scaled to the output count
  when a server counted the output but not the thinking);
- preprocess_s: the model call minus the job's start; total_s: the end minus the job's start;
- waited_s: the first arrival minus the click (the moment the visitor asked: for the app, when its
  check event arrived, so the queue wait is in it; for a command, when the comparison began);
- contended: whether any other generation was in flight at some point of this one (`Overlap`).
- with a drafter: accepted_tokens = output tokens - the model's forward passes (each pass keeps
  the drafted tokens it agrees with plus one of its own), acceptance_rate = accepted / drafted,
  tokens_per_target_pass = output tokens / passes.
"""

from __future__ import annotations

from models.backend import ANSWER, THINKING, Drafting, Event, Finished, Note, Started, Tokens

from .results import DraftMetrics, Metrics, ModelResult


def decode_speed(output_tokens: int, first: float | None, last: float | None) -> float | None:
    if output_tokens < 2 or first is None or last is None or last <= first:
        return None
    return (output_tokens - 1) / (last - first)


def draft_metrics(drafting: Drafting | None, output_tokens: int) -> DraftMetrics | None:
    if drafting is None:
        return None
    drafted, passes = drafting.drafted_tokens, drafting.target_passes
    accepted = None if drafted is None or not passes else max(0, min(drafted, output_tokens - passes))
    return DraftMetrics(
        drafter=drafting.drafter,
        reason=drafting.reason,
        drafted_tokens=drafted,
        accepted_tokens=accepted,
        acceptance_rate=accepted / drafted if accepted is not None and drafted else None,
        tokens_per_target_pass=output_tokens / passes if passes else None,
    )


class Overlap:
    """Whether a generation shared the machine: set by engine.comparator.Overlaps while another
    generation runs beside it (or from the start, for a side of a parallel comparison)."""

    def __init__(self, contended: bool = False):
        self.contended = contended


class Stopwatch:
    """Feeds one side's events into its ModelResult: text and thinking so far, notes, arrival
    times (seconds from the model call) and, from `Finished`, the Metrics."""

    def __init__(self, result: ModelResult, job_start: float, overlap: Overlap, clicked_at: float | None = None):
        self.result = result
        self.job_start = job_start
        self.overlap = overlap  # read when the generation ends: contention is known only then
        self.clicked_at = job_start if clicked_at is None else clicked_at
        self.started: Started | None = None
        self.parts: list[str] = []

    def add(self, event: Event) -> None:
        r = self.result
        if isinstance(event, Note):
            r.notes.append(event.text)
        elif isinstance(event, Started):
            self.started = event
            r.generation = event.generation
        elif isinstance(event, Tokens):
            r.token_times += [t - self.started.at for t in event.times]
            self.parts += event.parts
            r.text, r.thinking = event.text, event.thinking
            r.progress.append((r.token_times[-1], len(r.text), len(r.thinking)))
        elif isinstance(event, Finished):
            r.text, r.thinking = event.text, event.thinking
            r.metrics = self._metrics(event)

    def _metrics(self, end: Finished) -> Metrics:
        start, times = self.started, self.result.token_times
        arrivals = len(times)
        output = end.output_tokens if end.output_tokens is not None else arrivals
        thinking = end.thinking_tokens
        if thinking is None:  # the thinking arrivals' share of the output (all of them when counted here)
            thinking = round(output * self.parts.count(THINKING) / arrivals) if arrivals else 0
        first_answer = next((t for t, p in zip(times, self.parts) if p == ANSWER), None)
        return Metrics(
            preprocess_s=start.at - self.job_start,
            ttft_s=times[0] if times else None,
            ttft_answer_s=first_answer,
            waited_s=start.at + times[0] - self.clicked_at if times else None,
            decode_tok_s=decode_speed(output, times[0] if times else None, times[-1] if times else None),
            total_s=end.at - self.job_start,
            output_tokens=output,
            thinking_tokens=thinking,
            answer_tokens=output - thinking,
            input_tokens=end.input_tokens or start.input_tokens,
            device=start.device,
            dtype=start.dtype,
            peak_memory_mb=end.peak_memory_mb,
            memory_scope=end.memory_scope,
            contended=self.overlap.contended,
            stopped=end.stopped,
            includes_network=start.includes_network,
            timed_out=end.timed_out,
            drafting=draft_metrics(end.drafting, output),
        )

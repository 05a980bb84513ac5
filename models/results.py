"""What a generation returns: the text, the thinking, and metrics measured the same way for every model.

These dataclasses are the engine's output contract: the command line prints `to_dict()` of a
`ComparisonResult` as JSON, and the UI formats the same objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from modalities.routing import SkippedInput


@dataclass
class Metrics:
    """Times in seconds, measured with one monotonic clock.

    preprocess_s   frame sampling/decoding for this model and its processor call
    ttft_s         from the model call to the first generated token
    ttft_answer_s  from the model call to the first answer token, after any thinking (None if none)
    decode_tok_s   tokens after the first, over the time after the first (None with < 2 tokens)
    total_s        preprocess_s plus the whole generation
    output_tokens  every generated token, end-of-turn included; equals the generated ids' length
    thinking_tokens the part of output_tokens inside the thinking block, its markers included
    input_tokens   prompt tokens by modality, counted from the placeholders the processor inserted
    contended      True when both models ran at once, so neither timing is clean
    includes_network  True for a remote server: timed on the client, network and queue included
    """

    preprocess_s: float
    ttft_s: float | None
    ttft_answer_s: float | None
    decode_tok_s: float | None
    total_s: float
    output_tokens: int
    thinking_tokens: int
    answer_tokens: int
    input_tokens: dict[str, int]
    device: str
    dtype: str
    peak_memory_mb: float | None
    memory_scope: str  # "cuda_allocated" or "process_rss"
    contended: bool = False
    stopped: bool = False
    includes_network: bool = False  # measured on a client of a remote server
    timed_out: bool = False  # ended by the per-side timeout; the text so far is kept


@dataclass
class ModelResult:
    side: str  # "gemma" or "qwen"
    model: str
    status: str = "pending"  # pending, running, done, stopped, skipped or error
    text: str = ""
    thinking: str = ""
    skipped_inputs: list[SkippedInput] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    metrics: Metrics | None = None
    error: str | None = None
    # Seconds from the model call at which each generated token arrived, and how much answer
    # and thinking text had been decoded by each update: (seconds, answer chars, thinking chars).
    # Recordings keep both, so a replay can show the text at the pace it came.
    token_times: list[float] = field(default_factory=list)
    progress: list[tuple[float, int, int]] = field(default_factory=list)

    def to_dict(self, with_token_times: bool = False) -> dict:
        d = asdict(self)
        d["skipped_inputs"] = [asdict(s) | {"message": str(s)} for s in self.skipped_inputs]
        if not with_token_times:
            d.pop("token_times")
            d.pop("progress")
        return d


@dataclass
class ComparisonResult:
    request: dict
    results: dict[str, ModelResult]
    environment: dict
    order: list[str]
    mode: str  # "sequential" or "parallel"
    validation_s: float = 0.0
    done: bool = False  # False while the engine is still streaming into it
    # Each side's finished exchange (a prompting.Turn), for continuing its own conversation.
    turns: dict[str, object] = field(default_factory=dict)

    def to_dict(self, with_token_times: bool = False) -> dict:
        return {
            "request": self.request,
            "results": {k: r.to_dict(with_token_times) for k, r in self.results.items()},
            "environment": self.environment,
            "order": self.order,
            "mode": self.mode,
            "validation_s": self.validation_s,
        }

    @property
    def ok(self) -> bool:
        return all(r.error is None for r in self.results.values())


def result_from_dict(d: dict) -> ModelResult:
    """A ModelResult back from `to_dict` (as recordings store it)."""
    fields = {k: v for k, v in d.items() if k in ModelResult.__dataclass_fields__}
    fields["skipped_inputs"] = [
        SkippedInput(s["input"], s["modality"], s["reason"]) for s in d.get("skipped_inputs", [])
    ]
    if d.get("metrics"):
        fields["metrics"] = Metrics(**{k: v for k, v in d["metrics"].items() if k in Metrics.__dataclass_fields__})
    fields["progress"] = [tuple(p) for p in d.get("progress", [])]
    return ModelResult(**fields)

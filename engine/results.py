"""What a comparison returns, in one vocabulary, and the same objects read back from disk.

These dataclasses are the engine's output contract: the command line prints `to_dict()` of a
`ComparisonResult` as JSON, the app formats the objects, recordings store `to_dict()` and
`from_dict` gives the objects back to export, replay and the evaluation. Names mean one thing
everywhere: `side` is "gemma" or "qwen", `source` is the checkpoint (hub id, folder, or
"model @ url" for a server), `status` is one of `Status`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum

from modalities.fields import typed_fields
from modalities.request import CompareRequest, GenerationSettings
from modalities.routing import SkippedInput
from models.backend import InputTokens
from models.sampling import Generation


class Status(StrEnum):
    PENDING = "pending"  # not started yet
    RUNNING = "running"
    DONE = "done"
    STOPPED = "stopped"  # by the user; any partial answer is kept
    SKIPPED = "skipped"  # the model takes none of the inputs
    ERROR = "error"  # see `error`; any partial answer is kept


@dataclass
class DraftMetrics:
    """Speculative decoding with the family's own drafter (engine.timing defines each figure).

    drafter                 the drafter checkpoint; None when none ran (`reason` says why)
    drafted_tokens          tokens the drafter proposed
    accepted_tokens         of those, the ones the model kept (output tokens minus its passes)
    acceptance_rate         accepted over drafted
    tokens_per_target_pass  output tokens per forward pass of the model itself (1.0 without a drafter)
    """

    drafter: str | None
    reason: str | None = None
    drafted_tokens: int | None = None
    accepted_tokens: int | None = None
    acceptance_rate: float | None = None
    tokens_per_target_pass: float | None = None

    def summary(self) -> str:
        if self.drafter is None:
            return f"drafter: none ({self.reason})" if self.reason else "drafter: none"
        if self.drafted_tokens is None:
            return f"drafter: {self.drafter}" + (f" ({self.reason})" if self.reason else "")
        rate = "—" if self.acceptance_rate is None else f"{self.acceptance_rate:.0%}"
        per_pass = "—" if self.tokens_per_target_pass is None else f"{self.tokens_per_target_pass:.2f}"
        return (f"drafter: {self.drafter}: {self.accepted_tokens} of {self.drafted_tokens} drafted tokens accepted "
                f"({rate}), {per_pass} tokens per pass of the model" + (f"; {self.reason}" if self.reason else ""))


@dataclass
class Metrics:
    """Times in seconds, all read from one monotonic clock (engine.timing defines each one).

    preprocess_s   preparing this model's inputs (frames, processor) before the model call
    ttft_s         from the model call to the first generated token
    ttft_answer_s  from the model call to the first answer token, after any thinking (None if none)
    decode_tok_s   tokens after the first, over the time after the first (None with < 2 tokens)
    total_s        preprocess_s plus the whole generation
    output_tokens  every generated token, end-of-turn included (the model's or server's count)
    thinking_tokens the part of output_tokens inside the thinking block, its markers included
    input_tokens   prompt tokens by modality where known, and their total
    waited_s       from the click to the first token, what the visitor felt: queue wait, validation,
                   any model that ran before this one, preprocessing and ttft_s (None without a token)
    contended      True when another generation ran at some point of this one, so the timing is not clean
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
    input_tokens: InputTokens
    device: str
    dtype: str
    peak_memory_mb: float | None
    memory_scope: str  # "cuda_allocated", "process_rss" or "server"
    waited_s: float | None = None
    contended: bool = False
    stopped: bool = False
    includes_network: bool = False
    timed_out: bool = False  # ended by the per-side timeout; the text so far is kept
    drafting: DraftMetrics | None = None  # only when the request asked for each family's drafter

    @classmethod
    def from_dict(cls, d: dict) -> Metrics:
        fields = typed_fields(cls, d)
        fields["input_tokens"] = InputTokens(**typed_fields(InputTokens, d.get("input_tokens") or {"total": None}))
        drafting = d.get("drafting")
        fields["drafting"] = DraftMetrics(**typed_fields(DraftMetrics, drafting)) if isinstance(drafting, dict) else None
        return cls(**fields)


@dataclass
class ModelResult:
    side: str
    source: str
    status: Status = Status.PENDING
    text: str = ""
    thinking: str = ""
    skipped_inputs: list[SkippedInput] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    metrics: Metrics | None = None
    error: str | None = None
    # The sampling it actually ran with (after transformers' merge; for a server, what was sent).
    generation: Generation | None = None
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

    @classmethod
    def from_dict(cls, d: dict) -> ModelResult:
        fields = typed_fields(cls, d)
        if d.get("status", Status.PENDING) not in set(Status):
            raise ValueError(f"status: {str(d.get('status'))[:20]!r} is not one of {', '.join(Status)}")
        fields["status"] = Status(d.get("status", Status.PENDING))
        fields["skipped_inputs"] = [
            SkippedInput(**typed_fields(SkippedInput, {k: s[k] for k in ("input", "modality", "reason")}))
            for s in d.get("skipped_inputs", [])
        ]
        fields["metrics"] = Metrics.from_dict(d["metrics"]) if d.get("metrics") else None
        fields["generation"] = Generation.from_dict(d["generation"]) if d.get("generation") else None
        fields["progress"] = [tuple(p) for p in d.get("progress", [])]
        return cls(**fields)


@dataclass
class ComparisonResult:
    request: CompareRequest
    results: dict[str, ModelResult]
    environment: dict
    order: list[str]
    mode: str  # "sequential" or "parallel"
    validation_s: float = 0.0
    done: bool = False  # False while the engine is still streaming into it
    # Each side's finished exchange (a models.backend.Turn), for continuing its own conversation.
    turns: dict[str, object] = field(default_factory=dict)

    def to_dict(self, with_token_times: bool = False) -> dict:
        return {
            "request": self.request.to_dict(),
            "results": {k: r.to_dict(with_token_times) for k, r in self.results.items()},
            "environment": self.environment,
            "order": self.order,
            "mode": self.mode,
            "validation_s": self.validation_s,
        }

    @classmethod
    def from_dict(cls, d: dict) -> ComparisonResult:
        request = typed_fields(CompareRequest, d["request"])
        request["settings"] = GenerationSettings(**typed_fields(GenerationSettings, d["request"].get("settings") or {}))
        request["images"] = tuple(request.get("images") or ())
        fields = typed_fields(cls, d)
        if not isinstance(d["results"], dict) or not isinstance(d.get("environment") or {}, dict):
            raise ValueError("results: not an object")
        return cls(
            request=CompareRequest(**request),
            results={k: ModelResult.from_dict(r) for k, r in d["results"].items()},
            environment=d.get("environment") or {},
            order=list(fields.get("order") or d["results"]),
            mode=fields.get("mode", "sequential"),
            validation_s=fields.get("validation_s", 0.0),
            done=True,
        )

    @property
    def ok(self) -> bool:
        return all(r.error is None for r in self.results.values())


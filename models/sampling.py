"""How a side samples: the values a request's sampling mode asks of one family, and the record of
what actually ran.

transformers fills every generation field left unset from the checkpoint's own
`generation_config.json` (Gemma 4 ships top-k 64, Qwen 3.5 top-k 20), so nothing here is left
unset: `asked` names every sampling value, and the local backend records the values `generate`
runs with after that merge (`Generation`), never the ones it meant to pass. A server is sent
what the OpenAI API can carry; what it cannot carry is said in `not_applied`.
"""

from __future__ import annotations

from dataclasses import dataclass

from modalities.fields import typed_fields
from modalities.request import RECOMMENDED, GenerationSettings

from .families import Family


@dataclass(frozen=True)
class Generation:
    """What one side was run with. Sampling values are None under greedy decoding, which uses none."""

    mode: str  # "identical" or "recommended"
    do_sample: bool
    temperature: float | None
    top_p: float | None
    top_k: int | None  # 0: off
    min_p: float | None  # 0: off
    repetition_penalty: float | None  # 1: off
    presence_penalty: float | None  # sent to a server only; 0: off
    max_new_tokens: int
    seed: int
    not_applied: tuple[str, ...] = ()  # what the mode asks for that this backend cannot apply

    @classmethod
    def from_dict(cls, d: dict) -> Generation:
        fields = typed_fields(cls, d)
        return cls(**{**fields, "not_applied": tuple(fields.get("not_applied") or ())})

    def summary(self) -> str:
        """One line for people: `identical · temperature 0.7 · top-p 0.95 · top-k off · …`."""
        if not self.do_sample:
            return f"{self.mode} · greedy · seed {self.seed}"
        parts = [
            self.mode,
            f"temperature {self.temperature}",
            f"top-p {self.top_p}",
            "top-k " + ("off" if not self.top_k else str(self.top_k)),
            "min-p " + ("off" if not self.min_p else str(self.min_p)),
        ]
        if self.repetition_penalty not in (None, 1.0):
            parts.append(f"repetition penalty {self.repetition_penalty}")
        if self.presence_penalty:
            parts.append(f"presence penalty {self.presence_penalty}")
        return " · ".join([*parts, f"seed {self.seed}"])


def asked(settings: GenerationSettings, family: Family) -> Generation:
    """Every sampling value the request's mode asks of `family` (before any backend applies it)."""
    common = dict(mode=settings.sampling, max_new_tokens=settings.max_new_tokens, seed=settings.seed, repetition_penalty=1.0)
    if settings.sampling == RECOMMENDED:
        r = family.recommended[settings.thinking]
        return Generation(
            do_sample=True, temperature=r.temperature, top_p=r.top_p, top_k=r.top_k, min_p=r.min_p,
            presence_penalty=r.presence_penalty, **common,
        )
    if settings.temperature == 0:
        return Generation(
            do_sample=False, temperature=None, top_p=None, top_k=None, min_p=None, presence_penalty=None, **common
        )
    return Generation(
        do_sample=True, temperature=settings.temperature, top_p=settings.top_p, top_k=0, min_p=0.0,
        presence_penalty=0.0, **common,
    )


def generate_kwargs(g: Generation) -> dict:
    """The GenerationConfig fields for `g`, each one set: none is left for the checkpoint to fill."""
    if not g.do_sample:
        # Greedy decoding uses none of these; the library's neutral values leave nothing of the
        # checkpoint's to merge in, and nothing for it to warn about.
        return dict(do_sample=False, temperature=1.0, top_p=1.0, top_k=50, repetition_penalty=1.0)
    return dict(
        do_sample=True, temperature=g.temperature, top_p=g.top_p, top_k=g.top_k, min_p=g.min_p,
        repetition_penalty=g.repetition_penalty,
    )


def ran(g: Generation, merged) -> Generation:
    """What `generate` runs with: `merged` is its own merge of our config with the checkpoint's."""
    sample = bool(merged.do_sample)
    unsupported = (
        (f"presence penalty {g.presence_penalty}, published for this family: not an option of transformers' generate",)
        if g.presence_penalty else ()
    )
    return Generation(
        mode=g.mode,
        do_sample=sample,
        temperature=merged.temperature if sample else None,
        top_p=merged.top_p if sample else None,
        top_k=merged.top_k if sample else None,
        min_p=merged.min_p if sample else None,
        repetition_penalty=merged.repetition_penalty,
        presence_penalty=None,
        max_new_tokens=merged.max_new_tokens,
        seed=g.seed,
        not_applied=unsupported,
    )


def sent(g: Generation) -> Generation:
    """What a server is sent: temperature, top-p, seed, the token limit, and the presence penalty
    where the mode asks for one. top-k, min-p and repetition penalty are not OpenAI API fields."""
    unsent = [] if not g.do_sample else [
        f"{name} {value}" for name, value in (("top-k", g.top_k), ("min-p", g.min_p)) if value is not None
    ]
    note = (f"{', '.join(unsent)}: not OpenAI API fields, not sent; the server's own defaults apply",) if unsent else ()
    return Generation(
        mode=g.mode,
        do_sample=g.do_sample,
        temperature=g.temperature if g.do_sample else 0.0,
        top_p=g.top_p if g.do_sample else 1.0,
        top_k=None,
        min_p=None,
        repetition_penalty=None,
        presence_penalty=g.presence_penalty or None,
        max_new_tokens=g.max_new_tokens,
        seed=g.seed,
        not_applied=note,
    )

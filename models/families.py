"""The two model families: how to recognise a checkpoint of each, how each marks its thinking,
and what is known of its audio. What differs by family is data here, read by the modules that act
on it; two things live with their code: the drafter classes transformers can run (models.drafting)
and each checkpoint's size and modalities (models.registry).

A loaded model's family comes from its config's `model_type`, never from its name or path.
Only for a model on a server, whose config the OpenAI API does not show, is its name read,
to guess whether it hears (`hearing_names`); `--gemma-accepts` overrides the guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sampling:
    """Sampling settings a family publishes (its model card's recommendations)."""

    temperature: float
    top_p: float
    top_k: int
    min_p: float = 0.0
    presence_penalty: float = 0.0  # an option of OpenAI-style servers, not of transformers' generate


@dataclass(frozen=True)
class Family:
    key: str  # "gemma" or "qwen": the side of the comparison
    label: str  # shown to users
    model_types: tuple[str, ...]
    think_start: str  # token that opens a thinking block
    think_end: str  # token that closes it
    # Gemma 4 opens thoughts with "<|channel>thought\n": the word is a label, not a thought.
    thinking_label: str = ""
    # Lower-case name fragments of the checkpoints that hear (for served models only).
    hearing_names: tuple[str, ...] = ()
    # The most and the least audio the family's processor takes (Gemma 4: 750 tokens of 40 ms, one
    # token); for a served model, whose processor the API does not show.
    max_audio_s: float | None = None
    min_audio_s: float | None = None
    # Gated DeltaNet layers, whose speed depends on optional kernels (models.fastpath).
    linear_attention: bool = False
    # The longest side over the shortest its image processor takes (None: no limit).
    max_aspect_ratio: float | None = None
    # The published sampling settings, by thinking mode (False: off, True: on).
    recommended: dict[bool, Sampling] = field(default_factory=dict)
    # Its own drafter for speculative decoding (models.drafting): the checkpoint's name plus this
    # suffix, or, where this stack cannot run one, why not.
    drafter_suffix: str | None = None
    no_drafter: str = ""


# gemma4_unified is the encoder-free 12B: same tokens, markers and templates as the rest of Gemma 4.
GEMMA = Family(
    "gemma", "Gemma 4", ("gemma4", "gemma4_unified"), "<|channel>", "<channel|>", thinking_label="thought",
    hearing_names=("e2b", "e4b", "12b"), max_audio_s=30.0, min_audio_s=0.04,
    recommended={thinking: Sampling(temperature=1.0, top_p=0.95, top_k=64) for thinking in (False, True)},
    drafter_suffix="-assistant",  # google/gemma-4-E2B-it -> google/gemma-4-E2B-it-assistant
)
QWEN = Family(
    "qwen", "Qwen 3.5", ("qwen3_5", "qwen3_5_moe"), "<think>", "</think>", linear_attention=True,
    max_aspect_ratio=200.0,  # transformers' smart_resize refuses 200 and over
    recommended={
        False: Sampling(temperature=0.7, top_p=0.8, top_k=20, presence_penalty=1.5),
        True: Sampling(temperature=1.0, top_p=0.95, top_k=20, presence_penalty=1.5),
    },
    no_drafter="Qwen 3.5's drafter is the multi-token-prediction head inside its own checkpoint, which "
    "transformers does not load (it drops the mtp.* weights); vLLM and SGLang run it, so serve Qwen there "
    "for a drafted run",
)
FAMILIES = {f.key: f for f in (GEMMA, QWEN)}
SIDES = tuple(FAMILIES)  # the two columns, Gemma 4 left
LABELS = {key: f.label for key, f in FAMILIES.items()}


def family_of_model_type(model_type: str) -> Family | None:
    return next((f for f in FAMILIES.values() if model_type in f.model_types), None)

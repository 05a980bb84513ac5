"""A comparison request, and its validation into decoded inputs before any model runs.

`validate_request` is the gate: it checks the prompt and the generation settings, then
opens every media file. Either every input is usable, or one InputError names the first
bad one and its reason. Nothing downstream re-checks files.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

from .audio import AudioInput, load_audio
from .errors import InputError, clean_text
from .image import ImageInput, load_image
from .limits import DEFAULT_LIMITS, Limits
from .video import VideoInput, load_video

MAX_NEW_TOKENS_LIMIT = 32_768
MAX_SEED = 2**32 - 1  # what every random generator involved takes

# How both models sample. identical: exactly the temperature and top-p below for both, every
# other filter off, nothing taken from either checkpoint. recommended: each family's published
# settings for its thinking mode (models.families), the temperature and top-p below unused.
IDENTICAL, RECOMMENDED = "identical", "recommended"
SAMPLING_MODES = (IDENTICAL, RECOMMENDED)


@dataclass(frozen=True)
class GenerationSettings:
    """One request's settings, the same for both models. temperature 0 means greedy decoding."""

    max_new_tokens: int = 512
    temperature: float = 0.7
    top_p: float = 0.95
    seed: int = 0
    thinking: bool = False
    sampling: str = IDENTICAL
    # For benchmarks: generate at least this many tokens, so runs compare equal lengths.
    min_new_tokens: int = 0
    # Each side drafts with its family's own drafter where its stack runs one (models.drafting).
    draft: bool = False


@dataclass(frozen=True)
class CompareRequest:
    prompt: str
    images: tuple[str, ...] = ()
    video: str | None = None
    audio: str | None = None
    system: str = ""
    settings: GenerationSettings = field(default_factory=GenerationSettings)

    def __post_init__(self):
        # Lone surrogates (a browser or a script can send them) become U+FFFD here, where every
        # request starts, so nothing later fails to print, write or send the text.
        for name in ("prompt", "system"):
            if isinstance(getattr(self, name), str):
                object.__setattr__(self, name, clean_text(getattr(self, name)))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Inputs:
    """Validated, decoded media of one request, shared by both models."""

    prompt: str
    system: str
    images: list[ImageInput] = field(default_factory=list)
    video: VideoInput | None = None
    audio: AudioInput | None = None
    validation_s: float = 0.0


def number(name: str, value, kind: type = float):
    """A number a visitor sent, as `kind`; InputError naming it when it is no finite number (NaN
    and infinity come through JSON as easily as any other) or, for an int, not a whole one."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(name, f"{clean_text(str(value))[:40]!r} is not a number") from None
    if not math.isfinite(x):
        raise InputError(name, f"{x} is not a finite number")
    if kind is int:
        if x != int(x):
            raise InputError(name, f"{x:g} is not a whole number")
        return int(x)
    return x


def validate_settings(s: GenerationSettings) -> None:
    if not 1 <= s.max_new_tokens <= MAX_NEW_TOKENS_LIMIT:
        raise InputError("max new tokens", f"{s.max_new_tokens} is outside 1..{MAX_NEW_TOKENS_LIMIT}")
    if not 0.0 <= s.temperature <= 2.0:
        raise InputError("temperature", f"{s.temperature} is outside 0..2")
    if not 0.0 < s.top_p <= 1.0:
        raise InputError("top-p", f"{s.top_p} is outside (0, 1]")
    if not 0 <= s.seed <= MAX_SEED:
        raise InputError("seed", f"{s.seed} is outside 0..{MAX_SEED}")
    if s.sampling not in SAMPLING_MODES:
        raise InputError("sampling", f"'{s.sampling}' is not one of {', '.join(SAMPLING_MODES)}")


def validate_request(request: CompareRequest, limits: Limits = DEFAULT_LIMITS) -> Inputs:
    """Check the whole request and decode its media; raise InputError on the first bad input."""
    start = time.perf_counter()
    prompt = request.prompt.strip()
    has_media = bool(request.images or request.video or request.audio)
    if not prompt and not has_media:
        raise InputError("prompt", "empty, and no image, video or audio was given")
    for name, text in (("prompt", request.prompt), ("system prompt", request.system)):
        if len(text) > limits.max_prompt_chars:
            raise InputError(name, f"{len(text)} characters, over the limit of {limits.max_prompt_chars}")
    validate_settings(request.settings)
    if len(request.images) > limits.max_images:
        raise InputError("images", f"{len(request.images)} given, at most {limits.max_images} allowed")
    inputs = Inputs(prompt=prompt, system=request.system.strip())
    inputs.images = [load_image(p, limits) for p in request.images]
    if request.video:
        inputs.video = load_video(request.video, limits)
    if request.audio:
        inputs.audio = load_audio(request.audio, limits)
    inputs.validation_s = time.perf_counter() - start
    return inputs

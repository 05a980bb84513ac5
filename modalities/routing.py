"""Routing: which of a request's inputs each model is sent, and why the others are not.

A model's `Capabilities` are read from its own config and processor (see models.loading),
never from its family name. An input a model cannot take is listed in its result as a
`SkippedInput` with the reason, never dropped silently. Audio longer than a model takes is cut
to its limit, and the cut is noted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import InputError
from .audio import SAMPLE_RATE, AudioInput
from .image import ImageInput
from .request import Inputs
from .video import VideoInput


@dataclass(frozen=True)
class Capabilities:
    label: str  # how the model is named in reasons, e.g. "Qwen 3.5"
    image: bool = False
    video: bool = False
    audio: bool = False
    max_audio_s: float | None = None
    min_audio_s: float | None = None  # one audio token: shorter audio holds nothing it can read
    max_aspect_ratio: float | None = None  # of an image or video frame (Qwen 3.5's processor: 200)
    context_tokens: int | None = None

    @property
    def modalities(self) -> list[str]:
        return ["text"] + [m for m in ("image", "video", "audio") if getattr(self, m)]


@dataclass(frozen=True)
class SkippedInput:
    input: str  # e.g. "audio 'question.wav'"
    modality: str
    reason: str

    def __str__(self) -> str:
        return f"{self.input} not sent: {self.reason}"


@dataclass
class RoutedInputs:
    """What one model is sent. `skip_reason` is set when it is sent nothing at all."""

    prompt: str
    system: str
    images: list[ImageInput] = field(default_factory=list)
    video: VideoInput | None = None
    audio: AudioInput | None = None
    skipped: list[SkippedInput] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skip_reason: str | None = None


def check_fits(inputs: Inputs, caps: Capabilities) -> None:
    """Refuse, before any model runs, an input too small or too narrow for a model that takes it:
    sent on, it would fail inside that model's processor or encoder with an internal error."""
    if caps.audio and caps.min_audio_s and inputs.audio and inputs.audio.duration_s < caps.min_audio_s:
        raise InputError(
            inputs.audio.name,
            f"{inputs.audio.duration_s * 1000:.1f} ms long, shorter than {caps.label}'s shortest audio "
            f"({caps.min_audio_s * 1000:.0f} ms, one audio token)",
        )
    pictures = [(i.name, *i.image.size) for i in inputs.images if caps.image and i.image is not None]
    if caps.video and inputs.video:
        pictures.append((inputs.video.name, inputs.video.width, inputs.video.height))
    for name, width, height in pictures:
        ratio = max(width, height) / max(min(width, height), 1)
        if caps.max_aspect_ratio and ratio >= caps.max_aspect_ratio:
            raise InputError(
                name, f"{width}x{height}: its long side is {ratio:.0f} times its short side; {caps.label} "
                f"takes less than {caps.max_aspect_ratio:.0f}"
            )


def route(inputs: Inputs, caps: Capabilities) -> RoutedInputs:
    routed = RoutedInputs(prompt=inputs.prompt, system=inputs.system)

    def skip(item, modality: str) -> None:
        routed.skipped.append(SkippedInput(item.name, modality, f"{caps.label} has no {modality} input"))

    for image in inputs.images:
        if caps.image:
            routed.images.append(image)
            routed.notes += [f"{image.name}: {n}" for n in image.notes]
        else:
            skip(image, "image")
    if inputs.video:
        if caps.video:
            routed.video = inputs.video
            routed.notes += [f"{inputs.video.name}: {n}" for n in inputs.video.notes]
        else:
            skip(inputs.video, "video")
    if inputs.audio:
        audio = inputs.audio
        if not caps.audio:
            skip(audio, "audio")
        else:
            routed.notes += [f"{audio.name}: {n}" for n in audio.notes]
            if caps.max_audio_s and audio.duration_s > caps.max_audio_s:
                keep = int(caps.max_audio_s * SAMPLE_RATE)
                routed.notes.append(
                    f"{audio.name}: cut from {audio.duration_s:.1f} s to the first {caps.max_audio_s:.0f} s, "
                    f"the most {caps.label} takes"
                )
                audio = audio.first(keep)
            routed.audio = audio
    sent_any = bool(routed.prompt or routed.images or routed.video or routed.audio)
    if not sent_any:
        routed.skip_reason = f"{caps.label} takes none of the inputs: " + "; ".join(map(str, routed.skipped))
    return routed

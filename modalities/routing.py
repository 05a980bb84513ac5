"""Routing: which of a request's inputs each model is sent, and why the others are not.

A model's `Capabilities` are read from its own config and processor (see models.loading),
never from its family name. An input a model cannot take is listed in its result as a
`SkippedInput` with the reason, never dropped silently. Audio longer than a model takes is cut
to its limit, and the cut is noted.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

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
                audio = replace(audio, waveform=audio.waveform[:keep])
            routed.audio = audio
    sent_any = bool(routed.prompt or routed.images or routed.video or routed.audio)
    if not sent_any:
        routed.skip_reason = f"{caps.label} takes none of the inputs: " + "; ".join(map(str, routed.skipped))
    return routed

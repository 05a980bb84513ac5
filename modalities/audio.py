"""Audio: load with librosa as 16 kHz mono float32, after checking the duration from the header.

Cutting to what each model takes (Gemma 4: 30 s) happens in routing, per model, and is
reported in that model's result.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError
from .files import check_file, describe
from .limits import DEFAULT_LIMITS, Limits

SAMPLE_RATE = 16_000


@dataclass
class AudioInput:
    path: Path
    waveform: np.ndarray  # float32, mono, SAMPLE_RATE
    source_rate: int | None
    notes: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return len(self.waveform) / SAMPLE_RATE

    @property
    def name(self) -> str:
        return describe("audio", self.path)


def _header_duration(path: Path) -> tuple[float | None, int | None]:
    """Duration and sample rate from the header where soundfile can read it (else None)."""
    import soundfile

    try:
        info = soundfile.info(str(path))
        return float(info.duration), int(info.samplerate)
    except Exception:  # soundfile cannot parse every container (m4a); librosa falls back below
        return None, None


def load_audio(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> AudioInput:
    """Load, check and resample one audio file; raise InputError naming it if it is unusable."""
    import librosa

    p = check_file("audio", path, limits)
    name = describe("audio", p)
    duration, rate = _header_duration(p)
    if duration is not None and duration > limits.max_audio_seconds:
        raise InputError(name, f"{duration:.0f} s long, over the limit of {limits.max_audio_seconds:.0f} s")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # librosa warns before its audioread fallback
            waveform, _ = librosa.load(str(p), sr=SAMPLE_RATE, mono=True, duration=limits.max_audio_seconds)
    except Exception as e:  # librosa raises many types (soundfile, audioread, EOFError)
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(name, f"not audio that can be decoded ({reason[:160]})") from None
    if waveform.size == 0:
        raise InputError(name, "the audio is empty (zero length)")
    if not np.isfinite(waveform).all():
        raise InputError(name, "the audio holds invalid (non-finite) samples")
    audio = AudioInput(p, waveform.astype(np.float32, copy=False), rate)
    if rate and rate != SAMPLE_RATE:
        audio.notes.append(f"resampled from {rate} Hz to {SAMPLE_RATE} Hz mono")
    return audio

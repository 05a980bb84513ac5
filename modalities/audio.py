"""Audio: load with librosa as 16 kHz mono float32, after checking the duration from the header.

librosa reads what libsndfile reads (wav, flac, ogg, mp3); containers it cannot open without
a system FFmpeg (m4a/AAC, audio tracks of video files) are decoded with PyAV, which carries
its own FFmpeg. Cutting to what each model takes (Gemma 4: 30 s) happens in routing, per
model, and is reported in that model's result.
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
    waveform: np.ndarray | None  # float32, mono, SAMPLE_RATE; None once dropped (without_samples)
    notes: list[str] = field(default_factory=list)
    length: int = 0  # samples: what `waveform` holds, kept when it is dropped

    def __post_init__(self):
        if self.waveform is not None:
            self.length = len(self.waveform)

    @property
    def duration_s(self) -> float:
        return self.length / SAMPLE_RATE

    def samples(self) -> np.ndarray:
        """The decoded samples; decoded again from the file (and cut as before) when dropped."""
        if self.waveform is not None:
            return self.waveform
        return load_audio(self.path).waveform[: self.length]

    def without_samples(self) -> AudioInput:
        """This input holding only its path and length: what an earlier turn of a conversation keeps,
        so a session's state never holds decoded audio (20 minutes are 77 MB of samples)."""
        return AudioInput(self.path, None, self.notes, self.length)

    def first(self, samples: int) -> AudioInput:
        """The first `samples` of it, copied: a slice would keep the whole decoded file alive."""
        return AudioInput(self.path, self.waveform[:samples].copy(), self.notes)

    @property
    def name(self) -> str:
        return describe("audio", self.path)


def _header_duration(path: Path) -> tuple[float | None, int | None]:
    """Duration and sample rate from the header, before decoding (None where unreadable)."""
    import soundfile

    try:
        info = soundfile.info(str(path))
        return float(info.duration), int(info.samplerate)
    except Exception:  # soundfile cannot parse every container (m4a): ask PyAV
        pass
    try:
        import av

        with av.open(str(path)) as container:
            if not container.streams.audio:
                return None, None
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base:
                return float(stream.duration * stream.time_base), stream.rate
            if container.duration:
                return container.duration / 1_000_000, stream.rate
            return None, stream.rate
    except Exception:
        return None, None


def _decode_with_av(path: Path, max_seconds: float) -> np.ndarray:
    """16 kHz mono float32 through PyAV's own FFmpeg; raises ValueError when there is no audio."""
    import av

    chunks, total, limit = [], 0, int(max_seconds * SAMPLE_RATE)
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise ValueError("no audio stream")
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        for frame in container.decode(container.streams.audio[0]):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
                total += chunks[-1].size
            if total >= limit:
                break
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks)[:limit] if chunks else np.zeros(0, np.float32)


def _wav_truncation(path: Path) -> str | None:
    """For RIFF/WAVE files, whether the file is shorter than its header declares.

    libsndfile silently reads what is there, so a cut-off WAV would otherwise pass as a
    shorter, valid one.
    """
    with open(path, "rb") as f:
        head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    declared = int.from_bytes(head[4:8], "little") + 8
    actual = path.stat().st_size
    if declared != 0xFFFFFFFF + 8 and actual < declared:  # 0xFFFFFFFF marks a streamed WAV
        return f"truncated: the file ends at {actual} of the {declared} bytes its header declares"
    return None


def load_audio(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> AudioInput:
    """Load, check and resample one audio file; raise InputError naming it if it is unusable."""
    import librosa

    p = check_file("audio", path, limits)
    name = describe("audio", p)
    if truncation := _wav_truncation(p):
        raise InputError(name, truncation)
    duration, rate = _header_duration(p)
    if duration is not None and duration > limits.max_audio_seconds:
        raise InputError(name, f"{duration:.0f} s long, over the limit of {limits.max_audio_seconds:.0f} s")
    try:
        if rate is None:  # libsndfile cannot read it: go straight to PyAV
            raise ValueError("not a libsndfile format")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            waveform, _ = librosa.load(str(p), sr=SAMPLE_RATE, mono=True, duration=limits.max_audio_seconds)
    except Exception:  # librosa raises many types (soundfile, audioread, EOFError)
        try:
            waveform = _decode_with_av(p, limits.max_audio_seconds)
        except Exception as e:
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise InputError(name, f"not audio that can be decoded ({reason[:160]})") from None
    if waveform.size == 0:
        raise InputError(name, "the audio is empty (zero length)")

    if not np.isfinite(waveform).all():
        raise InputError(name, "the audio holds invalid (non-finite) samples")
    audio = AudioInput(p, waveform.astype(np.float32, copy=False))
    if rate and rate != SAMPLE_RATE:
        audio.notes.append(f"resampled from {rate} Hz to {SAMPLE_RATE} Hz mono")
    return audio

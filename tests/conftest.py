"""Shared fixtures: the offline replicas, loaded once, and media files the tests make themselves.

Nothing here downloads anything: the replicas are built locally (models.tiny) and loaded
through the same `from_pretrained` path as real checkpoints.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.comparator import Comparator  # noqa: E402
from engine.sides import load_side  # noqa: E402
from modalities.request import CompareRequest, GenerationSettings  # noqa: E402
from models.families import SIDES  # noqa: E402
from models.tiny import build_replicas  # noqa: E402

SAMPLES = ROOT / "samples"
GREEDY = GenerationSettings(max_new_tokens=12, temperature=0.0)


@pytest.fixture(scope="session")
def replica_dirs() -> tuple[Path, Path]:
    return build_replicas()


@pytest.fixture(scope="session")
def sides(replica_dirs):
    gemma_dir, qwen_dir = replica_dirs
    loaded = {"gemma": load_side("gemma", str(gemma_dir)), "qwen": load_side("qwen", str(qwen_dir))}
    for key in SIDES:
        assert loaded[key].loaded is not None, f"{key} replica failed to load: {loaded[key].load_error}"
    return loaded


@pytest.fixture
def comparator(sides) -> Comparator:
    return Comparator(sides)


def request(prompt: str = "What is shown?", settings: GenerationSettings = GREEDY, **media) -> CompareRequest:
    return CompareRequest(prompt=prompt, settings=settings, **media)


# --- media made by the tests -------------------------------------------------------------


def write_video(path: Path, seconds: float = 2.0, fps: int = 10, size=(160, 120), codec="mpeg4", audio=False,
                gop: int | None = None, b_frames: int = 0):
    """Encode a small moving-square video with PyAV (optionally with an audio stream too, a keyframe
    every `gop` frames, and B-frames, which are decoded out of presentation order)."""
    import av

    w, h = size
    frames = max(1, int(seconds * fps))
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        if gop:
            stream.codec_context.gop_size = gop
        stream.codec_context.max_b_frames = b_frames
        for n in range(frames):
            arr = np.full((h, w, 3), 200, np.uint8)
            x = int(n / frames * (w - 20))
            arr[h // 2 - 10 : h // 2 + 10, x : x + 20] = (255, 0, 0)
            for packet in stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_audio(path: Path, seconds: float = 2.0, rate: int = 44_100, channels: int = 2):
    import soundfile

    t = np.arange(int(seconds * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * 440 * t).astype(np.float32)
    soundfile.write(str(path), np.stack([tone] * channels, axis=1) if channels > 1 else tone, rate)
    return path


def write_audio_only_container(path: Path, seconds: float = 1.0):
    """An .mp4 holding only an audio stream: a 'video' with no video stream."""
    import av

    rate = 16_000
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate)
        samples = (0.2 * np.sin(np.arange(int(seconds * rate)) / 10)).astype(np.float32)
        for start in range(0, len(samples), 1024):
            chunk = samples[start : start + 1024]
            frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture
def media(tmp_path) -> dict[str, Path]:
    """A few valid files of each kind."""
    img = tmp_path / "photo.png"
    Image.new("RGB", (320, 200), (30, 120, 200)).save(img)
    return {
        "image": img,
        "video": write_video(tmp_path / "clip.mp4"),
        "audio": write_audio(tmp_path / "tone.wav"),
    }


def write_audio_av(path: Path, codec: str, seconds: float = 2.0, rate: int = 44_100):
    """Encode a tone with PyAV into any container/codec it has (mp3, aac/m4a, ...)."""
    import av

    t = np.arange(int(seconds * rate)) / rate
    samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        fmt = stream.codec_context.codec.audio_formats[0].name if stream.codec_context.codec.audio_formats else "fltp"
        size = stream.codec_context.frame_size or 1024
        for start in range(0, len(samples), size):
            chunk = samples[start : start + size]
            frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            resampled = av.AudioResampler(format=fmt, layout="mono", rate=rate).resample(frame)
            for f in resampled:
                for packet in stream.encode(f):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="session")
def all_replicas() -> dict[str, Path]:
    """Every replica, one per real template shape (models.tiny.REPLICAS), by folder name."""
    from models.tiny import build

    return build()

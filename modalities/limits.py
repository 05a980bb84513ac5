"""Named limits on inputs, each with a sane default and checked before anything is decoded.

One `Limits` object travels with validation, so a deployment (a public Space, a laptop)
can tighten or loosen them in one place without touching the loaders: each field can be set
from an environment variable, COMPARE_ and its name in capitals (e.g. COMPARE_MAX_IMAGE_PIXELS).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 512 * MiB
    # 8000 x 6000 photos are fine; anything far larger is most likely a decompression bomb.
    max_image_pixels: int = 64_000_000
    # Images are decoded at most this large: Qwen's vision processors take up to 2^24 pixels at
    # their largest setting, Gemma 4's largest budget (1120 soft tokens) about 2.6 MP, so a 64 MP
    # photo decoded whole is three quarters waste. JPEGs are decoded at the smaller size directly.
    max_image_decode_pixels: int = 2**24
    max_images: int = 8
    max_video_seconds: float = 30 * 60
    max_video_frames: int = 30 * 60 * 60  # 30 minutes at 60 fps
    # Frames are decoded at most this large on their longest side; every processor
    # downscales further, so decoding 4K frames at full size would only cost memory and time.
    max_decode_side: int = 1280
    # Any frame is decoded from the keyframe before it: a video whose keyframes are further apart
    # costs that much decoding for every sampled frame (one keyframe in 10 minutes: 19 s of CPU
    # just to check the file). Encoders put one every few seconds.
    max_keyframe_interval_s: float = 20.0
    max_audio_seconds: float = 20 * 60
    max_prompt_chars: int = 100_000


DEFAULT_LIMITS = Limits()


def from_env(cls, environ=os.environ):
    """A dataclass of named numbers with its defaults, any COMPARE_<FIELD> environment variable
    applied; ValueError names a bad one."""
    defaults, values = cls(), {}
    for f in fields(cls):
        raw = environ.get(f"COMPARE_{f.name.upper()}")
        if raw is not None:
            try:
                values[f.name] = type(getattr(defaults, f.name))(float(raw))
            except ValueError:
                raise ValueError(f"COMPARE_{f.name.upper()}={raw!r} is not a number") from None
    return cls(**values)


def limits_from_env(environ=os.environ) -> Limits:
    """The defaults, with any COMPARE_<FIELD> environment variable applied; ValueError names a bad one."""
    return from_env(Limits, environ)

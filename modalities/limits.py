"""Named limits on inputs, each with a sane default and checked before anything is decoded.

One `Limits` object travels with validation, so a deployment (a public Space, a laptop)
can tighten or loosen them in one place without touching the loaders.
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 512 * MiB
    # 8000 x 6000 photos are fine; anything far larger is most likely a decompression bomb.
    max_image_pixels: int = 64_000_000
    max_images: int = 8
    max_video_seconds: float = 30 * 60
    # Frames are decoded at most this large on their longest side; every processor
    # downscales further, so decoding 4K frames at full size would only cost memory and time.
    max_decode_side: int = 1280
    max_audio_seconds: float = 20 * 60
    max_prompt_chars: int = 100_000


DEFAULT_LIMITS = Limits()

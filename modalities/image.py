"""Images: open with Pillow, refuse what is not a usable image, normalise the rest to 8-bit RGB.

Awkward but valid images are converted and the conversion is noted (it is shown to the user):
EXIF rotation is applied, alpha is composited on white, CMYK/greyscale/palette become RGB,
16-bit and float images are scaled to 8 bits, and an animated image gives its first frame.
The pixel count is checked from the header before any pixel is decoded, and an image larger than
any processor takes (Limits.max_image_decode_pixels) is halved until it is not: a JPEG is decoded
at that size directly (its DCT scaling, `Image.draft`), anything else reduced once decoded.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import InputError
from .files import check_file, describe
from .limits import DEFAULT_LIMITS, Limits, MiB


EXIF_ORIENTATION = 0x0112


@dataclass
class ImageInput:
    path: Path
    image: Image.Image | None  # 8-bit RGB, already upright; None once dropped (without_pixels)
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return describe("image", self.path)

    def pixels(self) -> Image.Image:
        """The decoded image; decoded again from its file when `without_pixels` dropped it."""
        return self.image if self.image is not None else load_image(self.path).image

    def without_pixels(self) -> ImageInput:
        """This input holding only its path: what an earlier turn of a conversation keeps, so
        a session's state never holds decoded images (an 8000x8000 photo is 190 MB of pixels)."""
        return ImageInput(self.path, None, self.notes)


def _to_8bit_rgb(im: Image.Image, notes: list[str]) -> Image.Image:
    if im.mode.startswith("I;16"):
        # The high byte of each 16-bit sample: no wider copy of the image is ever made.
        im = Image.fromarray((np.asarray(im, dtype=np.uint16) >> 8).astype(np.uint8), "L")
        notes.append("high bit-depth image scaled to 8 bits")
    elif im.mode in ("I", "F"):
        arr = np.asarray(im, dtype=np.float32)
        top = max(float(arr.max()), 1.0) if im.mode == "F" else (65535.0 if arr.max() > 255 else 255.0)
        arr *= 255.0 / top
        im = Image.fromarray(np.clip(arr, 0, 255, out=arr).astype(np.uint8), "L")
        notes.append("high bit-depth image scaled to 8 bits")
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, rgba)
        notes.append("transparency composited on white")
    if im.mode == "CMYK":
        notes.append("CMYK converted to RGB")
    return im.convert("RGB") if im.mode != "RGB" else im


def load_image(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> ImageInput:
    """Open, check and normalise one image file; raise InputError naming it if it is unusable."""
    p = check_file("image", path, limits)
    name = describe("image", p)
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb warning: we check the size ourselves just below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(p)
        width, height = im.size
        if width < 1 or height < 1:
            raise InputError(name, "the image has no pixels")
        if width * height > limits.max_image_pixels:
            raise InputError(
                name,
                f"{width}x{height} is {width * height / 1e6:.0f} megapixels, over the limit of "
                f"{limits.max_image_pixels / 1e6:.0f} (refused as a possible decompression bomb)",
            )
        frames = getattr(im, "n_frames", 1)
        if frames > 1:
            im.seek(0)
            notes.append(f"animated image: first of {frames} frames used")
        factor = 1
        while width * height > limits.max_image_decode_pixels * factor * factor and factor < 8:
            factor *= 2
        if factor > 1 and im.format == "JPEG":
            im.draft("RGB" if im.mode != "L" else "L", (-(-width // factor), -(-height // factor)))
        im.load()  # decodes now, so a truncated file fails here rather than in a processor
        # A file far larger than its pixels could need carries something else (appended data):
        # it would be copied into recordings and archives as it is, so it is refused.
        need = width * height * len(im.getbands()) * (2 if im.mode.startswith("I;16") else 1) * frames
        if p.stat().st_size > 2 * need + 4 * MiB:
            raise InputError(
                name, f"{p.stat().st_size / MiB:.0f} MiB for a {width}x{height} image: it holds more than an image"
            )
        orientation = im.getexif().get(EXIF_ORIENTATION, 1)
        upright = ImageOps.exif_transpose(im) if orientation != 1 else im
        if orientation != 1:
            notes.append("rotated upright from its EXIF orientation")
        rgb = _to_8bit_rgb(upright, notes)
        if factor > 1:
            if rgb.width * rgb.height > limits.max_image_decode_pixels:  # not a JPEG: decoded whole, reduced now
                rgb = rgb.reduce(factor)
            notes.append(f"{width}x{height} decoded at {rgb.width}x{rgb.height}: larger than either model takes")
    except InputError:
        raise
    except Image.DecompressionBombError as e:
        raise InputError(name, f"refused as a possible decompression bomb ({e})") from None
    except UnidentifiedImageError:
        raise InputError(name, "not an image file Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(name, f"the image could not be decoded ({e})") from None
    return ImageInput(path=p, image=rgb, notes=notes)

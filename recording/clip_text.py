"""Text for clips: a real font, a fallback for the scripts it lacks, wrapping, and drawing.

The primary font is DejaVu Sans, which matplotlib (a dependency) ships: Latin, Greek, Cyrillic,
Hebrew and Arabic. CJK needs a CJK font: the first of FALLBACK_FONTS that is installed is used
for every character the primary lacks (Debian's fonts-wqy-microhei or fonts-noto-cjk), so a
Chinese answer is drawn in a Chinese font, never as boxes. Each character's font is chosen from
the fonts' own character maps; Pillow's complex layout (raqm) orders right-to-left runs.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

FALLBACK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # Debian: fonts-wqy-microhei
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian: fonts-noto-cjk
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)


def _matplotlib_font(name: str) -> str:
    import matplotlib

    return str(Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf" / name)


@lru_cache(maxsize=None)
def _cmap(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=0, lazy=True)
    return frozenset(font.getBestCmap())


def fallback_font() -> str | None:
    return next((p for p in FALLBACK_FONTS if Path(p).is_file()), None)


class Fonts:
    """One size of the clip's fonts: regular and bold, and the fallback for scripts they lack."""

    def __init__(self, size: int):
        from PIL import ImageFont

        self.size = size
        self.regular = ImageFont.truetype(_matplotlib_font("DejaVuSans.ttf"), size)
        self.bold = ImageFont.truetype(_matplotlib_font("DejaVuSans-Bold.ttf"), size)
        self._covered = _cmap(_matplotlib_font("DejaVuSans.ttf"))
        fallback = fallback_font()
        self.fallback = ImageFont.truetype(fallback, size) if fallback else None
        self.line_height = int(size * 1.35)

    def font_for(self, char: str, bold: bool = False):
        """The font a character is drawn in: the primary where it has the glyph, else the fallback."""
        if ord(char) in self._covered or self.fallback is None or char.isspace():
            return self.bold if bold else self.regular
        return self.fallback

    def runs(self, text: str, bold: bool = False) -> list[tuple[str, object]]:
        """`text` cut into runs of one font each."""
        runs: list[tuple[str, object]] = []
        for char in text:
            font = self.font_for(char, bold)
            if runs and runs[-1][1] is font:
                runs[-1] = (runs[-1][0] + char, font)
            else:
                runs.append((char, font))
        return runs

    def width(self, text: str, bold: bool = False) -> float:
        return sum(font.getlength(run) for run, font in self.runs(text, bold))

    def draw(self, draw, xy: tuple[float, float], text: str, fill, bold: bool = False) -> None:
        x, y = xy
        for run, font in self.runs(text, bold):
            draw.text((x, y), run, font=font, fill=fill)
            x += font.getlength(run)


_PIECES = re.compile(r"\S+\s*|\s+")


def wrap(fonts: Fonts, text: str, width: float, bold: bool = False) -> list[str]:
    """`text` in lines no wider than `width`: at spaces where there are any, else (CJK, a long URL)
    between characters. Newlines are kept."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for piece in _PIECES.findall(paragraph) or [""]:
            if fonts.width(line + piece.rstrip(), bold) <= width:
                line += piece
                continue
            if line.strip():
                lines.append(line.rstrip())
                line = ""
            while fonts.width(piece.rstrip(), bold) > width:  # no space to break at: break anywhere
                low, high = 1, len(piece)  # the longest head that fits (at least one character)
                while low < high:
                    mid = (low + high + 1) // 2
                    low, high = (mid, high) if fonts.width(piece[:mid], bold) <= width else (low, mid - 1)
                lines.append(piece[:low])
                piece = piece[low:]
            line = piece.lstrip() if not line else line + piece
        lines.append(line.rstrip())
    return lines

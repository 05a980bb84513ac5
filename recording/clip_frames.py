"""The frames of a clip: a title card, the race (two columns typing, timed), and an end card.

Thinking is drawn dimmed above the answer; a long answer scrolls (its last lines stay in view);
side by side on a landscape frame, one above the other on a portrait one. `Renderer.shown` is the
state the last race frame drew, for whoever checks a frame without reading its pixels.
"""

from __future__ import annotations

from pathlib import Path

from engine.results import ComparisonResult, Status
from models.families import LABELS, SIDES

from .clip_text import Fonts, wrap
from .clip_timeline import TITLE_S, ClipTimeline, Column
from .session import Recorded

COLOURS = {"gemma": (66, 133, 244), "qwen": (97, 92, 237)}  # as the app's column headers
INK, DIM, PAPER, RULE = (32, 33, 36), (140, 140, 150), (255, 255, 255), (225, 227, 232)


def _verdict(result: ComparisonResult) -> str:
    """What the figures support: both finished, the same inputs; otherwise why there is no verdict."""
    rs = [result.results.get(k) for k in SIDES]
    if any(r is None or r.status != Status.DONE or r.metrics is None for r in rs):
        return "No verdict: an answer did not finish."
    if any(r.skipped_inputs for r in rs):
        return "No verdict on speed: the two models were not sent the same inputs."
    (g, q), parts = (r.metrics for r in rs), []
    for name, a, b, lower in (("began answering", g.ttft_s, q.ttft_s, True),
                              ("decoded", g.decode_tok_s, q.decode_tok_s, False)):
        if a and b and a != b:
            first = (a < b) == lower
            ratio = max(a, b) / min(a, b)
            parts.append(f"{LABELS[SIDES[0] if first else SIDES[1]]} {name} {ratio:.1f}× {'sooner' if lower else 'faster'}")
    return ("; ".join(parts) + ".") if parts else "Neither was faster."


class Renderer:
    """Draws the clip's frames at one size."""

    def __init__(self, entry: Recorded, timeline: ClipTimeline, size: tuple[int, int], media_root: Path | None = None):
        self.entry, self.timeline, self.size = entry, timeline, size
        self.w, self.h = size
        self.vertical = self.h > self.w
        unit = min(self.w, self.h) / 720
        self.text, self.small, self.big = Fonts(round(17 * unit)), Fonts(round(14 * unit)), Fonts(round(28 * unit))
        self.pad = round(24 * unit)
        self.media_root = media_root
        self._wrapped: dict[tuple, list[str]] = {}
        self._title = self._end = None
        self.shown: dict[str, Column] = {}

    def frame(self, t: float):
        """The frame at clip time `t`."""
        if t < TITLE_S:
            self._title = self._title or self.title_card()
            return self._title
        if t >= TITLE_S + self.timeline.race_s:
            self._end = self._end or self.end_card()
            return self._end
        return self.race(round(t - TITLE_S, 9))  # no float residue moves a token across a frame

    def _canvas(self):
        from PIL import Image, ImageDraw

        image = Image.new("RGB", self.size, PAPER)
        return image, ImageDraw.Draw(image)

    def _model_name(self, side: str) -> str:
        source = (self.entry.result.environment.get("models", {}).get(side) or {}).get("source") or ""
        return f"{LABELS[side]} · {Path(source.split(' @ ')[0]).name or source}"

    def title_card(self):
        image, draw = self._canvas()
        request, env = self.entry.result.request, self.entry.result.environment
        y = self.pad * 2
        self.big.draw(draw, (self.pad, y), "Gemma 4 vs Qwen 3.5", INK, bold=True)
        y += self.big.line_height * 2
        for line in wrap(self.text, request.prompt or "(no text)", self.w - 2 * self.pad)[:8]:
            self.text.draw(draw, (self.pad, y), line, INK)
            y += self.text.line_height
        y += self.pad
        y = self._thumbnails(image, y)
        for side in SIDES:
            self.text.draw(draw, (self.pad, y), self._model_name(side), COLOURS[side], bold=True)
            y += self.text.line_height
        gpu = env.get("gpu") or "CPU (no GPU)"
        self.small.draw(draw, (self.pad, y + self.pad // 2), f"Recorded {self.entry.recorded_at} on {gpu}", DIM)
        return image

    def _thumbnails(self, image, y: int) -> int:
        from PIL import Image

        x, side = self.pad, round(self.h * 0.16)
        shown = False
        for item in self.entry.media:
            path = (self.media_root / item.file) if self.media_root else None
            if item.kind != "image" or path is None or not path.is_file():
                continue
            try:
                with Image.open(path) as im:
                    im.thumbnail((side, side))
                    image.paste(im.convert("RGB"), (x, y))
                    x += im.width + self.pad // 2
                    shown = True
            except OSError:
                continue
        names = [f"{m.kind}: {m.name}" for m in self.entry.media if m.kind != "image"]
        if names:
            from PIL import ImageDraw

            self.small.draw(ImageDraw.Draw(image), (x, y), " · ".join(names), DIM)
            shown = True
        return y + (side + self.pad if shown else 0)

    def _box(self, side: str) -> tuple[int, int, int, int]:
        """One column's area: side by side on a landscape frame, one above the other on a portrait one."""
        n = self.timeline.sides.index(side) if side in self.timeline.sides else 0
        if self.vertical:
            height = (self.h - self.pad) // 2
            return self.pad, self.pad // 2 + n * height, self.w - self.pad, (n + 1) * height
        width = (self.w - self.pad) // 2
        return self.pad // 2 + n * width + self.pad // 2, self.pad, (n + 1) * width, self.h - self.pad

    def _lines(self, text: str, width: int, font: Fonts) -> list[str]:
        key = (text, width, font.size)
        if key not in self._wrapped:
            if len(self._wrapped) > 64:
                self._wrapped.clear()
            self._wrapped[key] = wrap(font, text, width)
        return self._wrapped[key]

    def race(self, race_t: float):
        image, draw = self._canvas()
        self.shown = self.timeline.at(race_t)  # what this frame draws, for whoever checks it
        for side, col in self.shown.items():
            left, top, right, bottom = self._box(side)
            draw.rectangle((left, top, right, top + self.text.line_height + self.pad // 2), fill=COLOURS[side])
            self.text.draw(draw, (left + self.pad // 2, top + self.pad // 4), self._model_name(side), PAPER, bold=True)
            y = top + self.text.line_height + self.pad
            speed = f" · {col.tokens_per_s:.1f} tok/s" if col.tokens_per_s else ""
            timer = f"{col.elapsed_s:5.1f} s · {col.tokens} tokens{speed}" + (" · done" if col.done else "")
            self.small.draw(draw, (left, y), timer, INK, bold=True)
            if col.first_token_s is not None:
                mark = f"▲ first token at {col.first_token_s:.2f} s"
                self.small.draw(draw, (right - self.small.width(mark), y), mark, COLOURS[side])
            y += self.small.line_height + self.pad // 2
            draw.line((left, y, right, y), fill=RULE, width=1)
            y += self.pad // 2
            width = right - left
            lines = [(line, DIM) for line in self._lines(col.thinking, width, self.small)] if col.thinking else []
            lines += [(line, INK) for line in self._lines(col.answer, width, self.text)]
            room = max(1, (bottom - y) // self.text.line_height)
            for line, colour in lines[-room:]:  # the newest lines stay in view
                (self.small if colour == DIM else self.text).draw(draw, (left, y), line, colour)
                y += self.text.line_height
        return image

    def end_card(self):
        image, draw = self._canvas()
        result, y = self.entry.result, self.pad * 2
        self.big.draw(draw, (self.pad, y), "How they compared", INK, bold=True)
        y += self.big.line_height * 2
        rows = [("time to first token", "ttft_s", "{:.2f} s"), ("time to first answer token", "ttft_answer_s", "{:.2f} s"),
                ("decode speed", "decode_tok_s", "{:.1f} tok/s"), ("total time", "total_s", "{:.2f} s"),
                ("output tokens", "output_tokens", "{:.0f}")]
        columns = [self.pad, round(self.w * 0.45), round(self.w * 0.72)]
        for x, (text, colour) in zip(columns, [("", INK), *((LABELS[k], COLOURS[k]) for k in SIDES)]):
            self.text.draw(draw, (x, y), text, colour, bold=True)
        y += self.text.line_height + self.pad // 3
        for name, field, fmt in rows:
            self.text.draw(draw, (columns[0], y), name, INK)
            for x, side in zip(columns[1:], SIDES):
                m = result.results[side].metrics if side in result.results else None
                value = getattr(m, field, None) if m else None
                self.text.draw(draw, (x, y), "—" if value is None else fmt.format(value), INK)
            y += self.text.line_height
        y += self.pad
        for line in wrap(self.text, _verdict(result), self.w - 2 * self.pad):
            self.text.draw(draw, (self.pad, y), line, INK, bold=True)
            y += self.text.line_height
        return image

"""A recorded comparison as a video clip: both answers racing at their recorded pace, timed on screen.

    title card (TITLE_S) → the race (its recorded length ÷ speed) → end card (END_S)

What each moment shows is `clip_timeline.ClipTimeline.at`; how it is drawn, `clip_frames`; here,
the sizes and the encoding: H.264 MP4 through PyAV (yuv420p, plays everywhere), or an animated
GIF (10 frames a second, one fixed palette, so 20 s of 720p text stays well under 8 MB). The file
is written under a temporary name and renamed, so a failed render leaves nothing. Nothing here
loads a model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .clip_frames import COLOURS, DIM, INK, PAPER, RULE, Renderer
from .clip_timeline import ClipError, ClipTimeline, clip_duration
from .session import Recorded

SIZES = {"1280x720": (1280, 720), "1920x1080": (1920, 1080), "1080x1920": (1080, 1920)}
MP4_FPS, GIF_FPS = 30, 10


def _gif_palette():
    """One palette for every GIF frame: paper, ink, the dims and both columns' colours, with steps
    between each and paper for the anti-aliased edges of the text."""
    from PIL import Image

    base = [PAPER, INK, DIM, RULE, *COLOURS.values()]
    colours = []
    for colour in base:
        for step in range(0, 8):
            f = step / 7
            colours.append(tuple(round(c * (1 - f) + p * f) for c, p in zip(colour, PAPER)))
    flat = [v for c in colours[:256] for v in c]
    palette = Image.new("P", (1, 1))
    palette.putpalette(flat + [0] * (768 - len(flat)))
    return palette


def render_clip(entry: Recorded, out: str | Path, size: tuple[int, int] = SIZES["1280x720"], speed: float = 1.0,
                media_root: Path | None = None, progress: Callable[[float], None] | None = None) -> Path:
    """Write the clip of `entry` to `out` (.mp4 or .gif); `progress` hears the fraction done."""
    out = Path(out)
    if out.suffix.lower() not in (".mp4", ".gif"):
        raise ClipError(f"'{out.name}': a clip is written as .mp4 or .gif")
    timeline = ClipTimeline(entry.result, speed)
    renderer = Renderer(entry, timeline, size, media_root)
    gif = out.suffix.lower() == ".gif"
    fps = GIF_FPS if gif else MP4_FPS
    count = max(1, round(clip_duration(timeline) * fps))
    partial = out.with_name(f".{out.name}.partial")
    try:
        (_write_gif if gif else _write_mp4)(partial, renderer, count, fps, progress)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return out


def _frames(renderer: Renderer, count: int, fps: int, progress):
    for n in range(count):
        if progress and n % fps == 0:
            progress(n / count)
        yield renderer.frame(n / fps)
    if progress:
        progress(1.0)


def _write_mp4(path: Path, renderer: Renderer, count: int, fps: int, progress) -> None:
    import av

    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "veryfast", "crf": "23"})
        stream.width, stream.height, stream.pix_fmt = renderer.w, renderer.h, "yuv420p"
        for image in _frames(renderer, count, fps, progress):
            frame = av.VideoFrame.from_image(image).reformat(format="yuv420p")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


def _write_gif(path: Path, renderer: Renderer, count: int, fps: int, progress) -> None:
    from PIL import Image

    palette = _gif_palette()
    frames = [image.quantize(palette=palette, dither=Image.Dither.NONE) for image in _frames(renderer, count, fps, progress)]
    frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:], duration=round(1000 / fps), loop=0)

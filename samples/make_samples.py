"""Regenerate the sample media: `python samples/make_samples.py`.

Each sample has an answer that can be checked, listed in examples.json:
- chart.png: a bar chart of quarterly sales (tallest bar: Q2, 30);
- crossing.mp4: three balls crossing a vertical line, one after another (answer: 3);
- question.wav: a spoken question, 16 kHz mono, made with espeak-ng (answer: eight).
Needs Pillow, numpy, PyAV (`av`) and, for the WAV, the espeak-ng program.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
QUARTERS = {"Q1": 12, "Q2": 30, "Q3": 18, "Q4": 24}
SPOKEN_QUESTION = "How many legs does a spider have?"


def make_chart(path: Path) -> None:
    w, h = 480, 360
    im = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(im)
    d.text((150, 12), "Sales by quarter (units)", fill="black")
    base, scale = 320, 8
    d.line((40, base, w - 20, base), fill="black", width=2)
    colours = ["#4477aa", "#ee6677", "#228833", "#ccbb44"]
    for i, ((label, value), colour) in enumerate(zip(QUARTERS.items(), colours)):
        x = 70 + i * 100
        d.rectangle((x, base - value * scale, x + 60, base), fill=colour)
        d.text((x + 22, base + 8), label, fill="black")
        d.text((x + 22, base - value * scale - 16), str(value), fill="black")
    im.save(path, optimize=True)


def make_video(path: Path, seconds: int = 4, fps: int = 10) -> None:
    import av

    w, h = 320, 240
    with av.open(str(path), "w") as container:
        # H.264 in yuv420p: the codec every browser plays (the app shows a preview of it).
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.bit_rate = 400_000
        frames = seconds * fps
        for n in range(frames):
            im = Image.new("RGB", (w, h), (235, 235, 235))
            d = ImageDraw.Draw(im)
            d.line((w // 2, 0, w // 2, h), fill="black", width=3)
            for k, (colour, y) in enumerate((("red", 60), ("blue", 120), ("green", 180))):
                # Ball k starts after the one before it and crosses the line once.
                t = n / frames * 3 - k * 0.6
                x = int(-20 + min(max(t, 0), 1) * (w + 40))
                d.ellipse((x - 15, y - 15, x + 15, y + 15), fill=colour)
            frame = av.VideoFrame.from_ndarray(np.asarray(im), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def make_question(path: Path) -> None:
    if not shutil.which("espeak-ng"):
        raise SystemExit("espeak-ng is needed for question.wav (apt-get install espeak-ng)")
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(raw), SPOKEN_QUESTION], check=True)
    import librosa
    import soundfile

    audio, _ = librosa.load(str(raw), sr=16_000, mono=True)
    soundfile.write(str(path), audio, 16_000, subtype="PCM_16")
    raw.unlink()


if __name__ == "__main__":
    make_chart(HERE / "chart.png")
    make_video(HERE / "crossing.mp4")
    make_question(HERE / "question.wav")
    for name in ("chart.png", "crossing.mp4", "question.wav"):
        print(f"{name}: {(HERE / name).stat().st_size / 1024:.0f} KiB")

"""Harness figures on the replicas: what the engine adds over bare `generate`, and media decoding cost.

    python benchmarks/harness.py [--repeats 5] [--tokens 64]

Prints, for each model:
- the overhead of the engine's streaming generation (streamer, thinking split, incremental
  decoding, timing) over a bare `model.generate` on the same processed inputs, and of a whole
  `compare` (validation, routing, processor, generation) over bare `generate` plus the
  processor call. Target: at most 3% of wall time, warm-up excluded.
- the time to validate a 60-second 720p video and decode the 32 frames a model samples from
  it (target: under 1 s on 2 cores), and to load and resample 30 s of 44.1 kHz stereo audio
  (target: under 0.3 s).
Medians of `--repeats` runs, after one warm-up run of each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modalities.audio import load_audio  # noqa: E402
from modalities.request import CompareRequest, GenerationSettings, validate_request  # noqa: E402
from modalities.routing import route  # noqa: E402
from modalities.video import decode_frames, load_video  # noqa: E402
from engine.comparator import Comparator  # noqa: E402
from engine.results import ModelResult  # noqa: E402
from engine.sides import Side, load_side  # noqa: E402
from engine.timing import Stopwatch  # noqa: E402
from models.backend import Job  # noqa: E402
from models.families import SIDES  # noqa: E402
from models.generation import generate_events, generation_config  # noqa: E402
from models.prompting import prepare  # noqa: E402
from models.tiny import build_replicas  # noqa: E402


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up, not counted
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired(base, candidate, repeats: int) -> tuple[float, float, float]:
    """Median times of `base` and `candidate`, run alternately so drift on a shared machine hits
    both alike, and the median of the per-pair overheads in percent."""
    base(), candidate()  # warm-up, not counted
    a, b = [], []
    for _ in range(repeats):
        for fn, out in ((base, a), (candidate, b)):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    overhead = statistics.median((y / x - 1) * 100 for x, y in zip(a, b))
    return statistics.median(a), statistics.median(b), overhead


def make_video(path: Path, seconds: int = 60, fps: int = 30, size=(1280, 720)) -> Path:
    import av

    w, h = size
    with av.open(str(path), "w") as container:
        stream_ = container.add_stream("mpeg4", rate=fps)
        stream_.width, stream_.height, stream_.pix_fmt = w, h, "yuv420p"
        stream_.options = {"g": str(fps * 2)}  # a keyframe every 2 s, as typical encoders
        base = np.full((h, w, 3), 90, np.uint8)
        for n in range(seconds * fps):
            frame = base.copy()
            x = (n * 7) % (w - 80)
            frame[300:380, x : x + 80] = (230, 40, 40)
            for packet in stream_.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream_.encode():
            container.mux(packet)
    return path


def make_audio(path: Path, seconds: int = 30, rate: int = 44_100) -> Path:
    import soundfile

    t = np.arange(seconds * rate) / rate
    tone = (0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    soundfile.write(str(path), np.stack([tone, tone], axis=1), rate)
    return path


def overhead(sides, repeats: int, tokens: int) -> None:
    import torch

    settings = GenerationSettings(max_new_tokens=tokens, min_new_tokens=tokens, temperature=0.0)
    request = CompareRequest(prompt="Describe the image in detail.", images=(str(ROOT / "samples/chart.png"),), settings=settings)
    inputs = validate_request(request)
    print(f"Engine overhead over bare generate ({tokens} new tokens, greedy, median of {repeats}):")
    for key in SIDES:
        loaded = sides[key].loaded
        routed = route(inputs, loaded.capabilities)
        prepared = prepare(loaded, routed, thinking=False)
        config = generation_config(loaded, settings)

        def bare():
            with torch.inference_mode():
                loaded.model.generate(**prepared.batch, generation_config=config)

        def engine():
            job = Job(routed, settings)
            watch = Stopwatch(ModelResult(key, loaded.source), job.clock(), contended=False)
            for event in generate_events(loaded, prepared, job):
                watch.add(event)

        def processor():
            prepare(loaded, route(validate_request(request), loaded.capabilities), thinking=False)

        solo = Comparator({k: sides[k] if k == key else Side(k, load_error="off") for k in SIDES})

        def by_hand():
            processor()
            bare()

        def whole():
            solo.run(request)

        t_bare, t_engine, over_engine = paired(bare, engine, repeats)
        t_hand, t_whole, over_whole = paired(by_hand, whole, repeats)
        print(
            f"  {key:5s} generate {t_bare * 1000:6.1f} ms vs streaming engine {t_engine * 1000:6.1f} ms ({over_engine:+.1f}%)"
            f" | validate+processor+generate {t_hand * 1000:6.1f} ms vs compare {t_whole * 1000:6.1f} ms ({over_whole:+.1f}%)"
        )


def media(sides, repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print("Media (median of %d):" % repeats)
        video_path = make_video(Path(tmp) / "720p-60s.mp4")
        gemma_video = sides["gemma"].loaded.processor.video_processor

        def video():
            from transformers.video_utils import VideoMetadata

            v = load_video(video_path)
            md = VideoMetadata(total_num_frames=v.total_frames, fps=v.fps, width=v.decode_width, height=v.decode_height)
            indices = gemma_video.sample_frames(md, num_frames=32)
            frames = decode_frames(v, indices)
            assert frames.shape[0] == 32

        t = median_time(video, repeats)
        print(f"  validate + decode 32 frames of a 60 s 720p video: {t:.3f} s (target < 1 s)")
        audio_path = make_audio(Path(tmp) / "stereo-44k-30s.wav")
        t = median_time(lambda: load_audio(audio_path), repeats)
        print(f"  load + resample 30 s of 44.1 kHz stereo audio:    {t:.3f} s (target < 0.3 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--tokens", type=int, default=128)
    # The replicas are too small to gain from intra-op threads, and on two cores a second
    # torch thread fights the harness's own thread for a core; one keeps the figures stable.
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)

    gemma_dir, qwen_dir = build_replicas()
    sides = {"gemma": load_side("gemma", str(gemma_dir)), "qwen": load_side("qwen", str(qwen_dir))}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, replicas (random weights)")
    overhead(sides, args.repeats, args.tokens)
    media(sides, args.repeats)


if __name__ == "__main__":
    main()

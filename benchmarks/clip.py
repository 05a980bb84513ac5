"""How fast clips render: a 20 s race of two long answers, as MP4 (720p, 30 fps) and GIF, timed.

    python benchmarks/clip.py [--seconds 20] [--size 1280x720] [--out FILE.json] [--still FILE.png]

Records one comparison on the offline replicas, stretches its recorded times to a race of
`--seconds` (so both columns type and scroll for the whole race, as a real model's answer does)
and renders it; prints, for each format, the render time against the clip's own length (a factor
under 1 is faster than real time). `--still` saves the frame halfway through the race.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def race(seconds: float):
    from engine.comparator import Comparator
    from engine.sides import load_side
    from modalities.request import CompareRequest, GenerationSettings
    from models.tiny import build_replicas
    from recording.session import Recorded

    dirs = build_replicas()
    sides = {k: load_side(k, str(d)) for k, d in zip(("gemma", "qwen"), dirs)}
    result = Comparator(sides).run(CompareRequest("Tell me about the chart.", images=(str(ROOT / "samples/chart.png"),),
                                                  settings=GenerationSettings(max_new_tokens=400, temperature=0.7)))
    result = copy.deepcopy(result)
    for r in result.results.values():
        end = max(r.token_times[-1:] + [1e-3])
        scale = seconds / end * (1.0 if r.side == "gemma" else 0.8)  # one finishes first
        r.token_times = [t * scale for t in r.token_times]
        r.progress = [(t * scale, a, th) for t, a, th in r.progress]
        r.metrics.total_s = r.metrics.preprocess_s + r.token_times[-1]
    return Recorded(1, "benchmark", result)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--still", type=Path)
    args = parser.parse_args()
    from recording.clip import SIZES, render_clip
    from recording.clip_frames import Renderer
    from recording.clip_timeline import TITLE_S, ClipTimeline, clip_duration

    entry = race(args.seconds)
    size = SIZES[args.size]
    length = clip_duration(ClipTimeline(entry.result))
    figures = {"size": args.size, "race_s": args.seconds, "clip_s": length}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("mp4", "gif"):
            start = time.perf_counter()
            out = render_clip(entry, Path(tmp) / f"clip.{kind}", size)
            took = time.perf_counter() - start
            figures[kind] = {"render_s": took, "realtime_factor": took / length, "megabytes": out.stat().st_size / 2**20}
    if args.still:
        renderer = Renderer(entry, ClipTimeline(entry.result), size)
        renderer.frame(TITLE_S + args.seconds / 2).save(args.still)
    print(json.dumps(figures, indent=2))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The shipped samples: the Compare tab's examples (samples/examples.json) and the folder the
Evaluate tab's suites live in."""

from __future__ import annotations

import json
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _examples() -> list[dict]:
    return json.loads((SAMPLES / "examples.json").read_text())


def examples_labels() -> list[str]:
    """Each example's chip: its name and the kinds of input it sends."""
    labels = []
    for e in _examples():
        kinds = [k for k, field in (("image", "images"), ("video", "video"), ("audio", "audio")) if e.get(field)]
        labels.append(f"{e['name']} · {', '.join(kinds) or 'text'}" + (" · thinking" if e.get("thinking") else ""))
    return labels


def examples_rows() -> list[list]:
    """Each example as the Compare tab's Examples rows: prompt, images, video, audio, thinking."""
    root = SAMPLES.parent
    return [
        [
            e["prompt"],
            [str(root / p) for p in e.get("images", [])] or None,
            str(root / e["video"]) if e.get("video") else None,
            str(root / e["audio"]) if e.get("audio") else None,
            bool(e.get("thinking", False)),
        ]
        for e in _examples()
    ]

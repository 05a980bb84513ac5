"""Evaluation suites: JSONL files of tasks with known answers.

One task per line: `id`, `category`, `prompt`, optional `images` / `video` / `audio` (paths
relative to the project root or to the suite file), `expected`, and `score` — one of `label`
(with `labels`), `number`, `accepted` (a list of accepted answers) or `code` (`expected` holds
the unit tests). A bad line is an error naming the file, the line and the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from modalities.errors import InputError

SCORERS = {"label", "number", "accepted", "code"}
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Task:
    id: str
    category: str
    prompt: str
    expected: object
    score: str
    labels: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    video: str | None = None
    audio: str | None = None
    suite: str = ""
    extra: dict = field(default_factory=dict, compare=False)


def _resolve(path: str, suite_file: Path) -> str:
    for base in (suite_file.parent, ROOT, Path.cwd()):
        if (base / path).exists():
            return str(base / path)
    return path  # validation of the request names it as missing


def load_suite(path: str | Path) -> list[Task]:
    path = Path(path)
    name = f"suite '{path.name}'"
    if not path.is_file():
        raise InputError(name, "file not found")
    tasks, seen = [], set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            missing = {"id", "category", "prompt", "expected", "score"} - row.keys()
            if missing:
                raise ValueError(f"missing {', '.join(sorted(missing))}")
            if row["score"] not in SCORERS:
                raise ValueError(f"score must be one of {', '.join(sorted(SCORERS))}")
            if row["score"] == "label" and row["expected"] not in row.get("labels", []):
                raise ValueError("a label task needs labels that include the expected one")
            if row["id"] in seen:
                raise ValueError(f"duplicate id {row['id']}")
        except (ValueError, AttributeError) as e:
            raise InputError(name, f"line {number}: {e}") from None
        seen.add(row["id"])
        known = {"id", "category", "prompt", "expected", "score", "labels", "images", "video", "audio"}
        tasks.append(
            Task(
                id=row["id"],
                category=row["category"],
                prompt=row["prompt"],
                expected=row["expected"],
                score=row["score"],
                labels=tuple(row.get("labels", ())),
                images=tuple(_resolve(p, path) for p in row.get("images", ())),
                video=_resolve(row["video"], path) if row.get("video") else None,
                audio=_resolve(row["audio"], path) if row.get("audio") else None,
                suite=path.stem,
                extra={k: v for k, v in row.items() if k not in known},
            )
        )
    if not tasks:
        raise InputError(name, "no tasks")
    return tasks

"""Evaluation suites: JSONL files of tasks with known answers.

One task per line: `id`, `category`, `prompt`, optional `images` / `video` / `audio` (relative
paths, found under the suite's folder or the project root; an absolute path or `..` is refused),
`expected`, and `score` — one of `label` (with `labels`), `number`, `accepted` (a list of accepted
answers) or `code` (`expected` holds the unit tests). Every field is checked for its type; a bad
line is an error naming the file, the line and the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from modalities.errors import InputError, clean_value

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
    if Path(path).is_absolute() or ".." in Path(path).parts:
        raise ValueError(f"media path {path!r} must be relative, inside the suite's folder or the project")
    for base in (suite_file.parent, ROOT):
        if (base / path).exists():
            return str(base / path)
    return str(suite_file.parent / path)  # validation of the request names it as missing


# Each field's type; `expected` depends on the scorer.
_TYPES = {"id": str, "category": str, "prompt": str, "score": str, "video": str, "audio": str}
_EXPECTED = {"label": (str,), "number": (int, float), "accepted": (list,), "code": (str,)}


def _check(row) -> None:
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    missing = {"id", "category", "prompt", "expected", "score"} - row.keys()
    if missing:
        raise ValueError(f"missing {', '.join(sorted(missing))}")
    for key, kind in _TYPES.items():
        if key in row and row[key] is not None and not isinstance(row[key], kind):
            raise ValueError(f"{key} must be a {kind.__name__}, not {type(row[key]).__name__}")
    for key in ("labels", "images"):
        if key in row and not (isinstance(row[key], list) and all(isinstance(v, str) for v in row[key])):
            raise ValueError(f"{key} must be a list of strings")
    if row["score"] not in SCORERS:
        raise ValueError(f"score must be one of {', '.join(sorted(SCORERS))}")
    expected = row["expected"]
    if not isinstance(expected, _EXPECTED[row["score"]]) or isinstance(expected, bool):
        raise ValueError(f"expected must be a {' or '.join(t.__name__ for t in _EXPECTED[row['score']])} for a {row['score']} task")
    if row["score"] == "accepted" and not all(isinstance(v, str) for v in expected):
        raise ValueError("expected must be a list of strings for an accepted task")
    if row["score"] == "label" and expected not in row.get("labels", []):
        raise ValueError("a label task needs labels that include the expected one")


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
            row = clean_value(json.loads(line))
            _check(row)
            if row["id"] in seen:
                raise ValueError(f"duplicate id {row['id']}")
            known = {"id", "category", "prompt", "expected", "score", "labels", "images", "video", "audio"}
            task = Task(
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
        except ValueError as e:
            raise InputError(name, f"line {number}: {e}") from None
        seen.add(row["id"])
        tasks.append(task)
    if not tasks:
        raise InputError(name, "no tasks")
    return tasks

"""Checks every media file gets before its decoder sees it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .errors import InputError
from .limits import Limits


def describe(kind: str, path: str | Path) -> str:
    """How an input is named in messages: its kind and file name, e.g. `image 'chart.png'`."""
    return f"{kind} '{Path(path).name}'"


def check_file(kind: str, path: str | Path, limits: Limits) -> Path:
    """The path as a readable, non-empty regular file within the size limit, or an InputError."""
    p = Path(path)
    name = describe(kind, p)
    if not p.exists():
        raise InputError(name, "file not found")
    if not p.is_file():
        raise InputError(name, "not a regular file")
    size = p.stat().st_size
    if size == 0:
        raise InputError(name, "the file is empty")
    if size > limits.max_file_bytes:
        raise InputError(
            name, f"the file is {size / 2**20:.0f} MiB, over the limit of {limits.max_file_bytes / 2**20:.0f} MiB"
        )
    return p


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

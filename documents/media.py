"""Input files kept beside what was recorded about them: copied under their SHA-256 into FOLDER/media/.

Recordings (recording.session) and arena votes (preference.votes) both keep their inputs this way.
A copy is written to a temporary name, then renamed, so a half-copied file never takes a real
name (and a copy that fails, on a full disk, leaves nothing); the same file uploaded twice is
stored once. What visitors sent is theirs: folders are made 0700 and files 0600, so no other user
of the machine (nor code run by the evaluation's sandbox as `nobody`) can read them.
`media_file` is the one way back from a recorded name to a path: it refuses anything outside the
media folder.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from modalities.files import sha256_of

MEDIA_DIR = "media"


@dataclass(frozen=True)
class MediaCopy:
    """An input file, copied into a folder's media/ under its SHA-256."""

    kind: str  # "image", "video" or "audio"
    name: str  # the file name as uploaded
    sha256: str
    file: str  # relative to the folder


def copy_media(folder: Path, kind: str, source: str | Path) -> MediaCopy:
    src = Path(source)
    digest = sha256_of(src)
    name = f"{digest[:32]}{src.suffix.lower()}"
    target = Path(folder) / MEDIA_DIR / name
    private_folder(target.parent)
    if not target.exists():
        partial = target.with_name(f".{name}.partial")
        try:
            shutil.copyfile(src, partial)
            os.chmod(partial, 0o600)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    return MediaCopy(kind, src.name, digest, f"{MEDIA_DIR}/{name}")


def private_folder(path: Path) -> Path:
    """`path` made (with any missing parents) readable by this user only."""
    path = Path(path)
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    return path


def copy_request_media(folder: Path, request) -> list[MediaCopy]:
    """Every input file of a CompareRequest, in the request's order: images, video, audio."""
    media = [copy_media(folder, "image", p) for p in request.images]
    return media + [copy_media(folder, k, path) for k, path in (("video", request.video), ("audio", request.audio)) if path]


def media_file(folder: Path, file: str) -> Path | None:
    """The media file `file` names inside `folder`/media/, or None when it points anywhere else
    (an absolute path, `..`): a recorded file never makes anything outside its folder readable."""
    media = (Path(folder) / MEDIA_DIR).resolve()
    path = (Path(folder) / file).resolve()
    return path if path.parent == media else None

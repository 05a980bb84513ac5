"""Uploaded files as the paths a request names (the Compare and Arena tabs).

(Running and pacing a comparison for the page is engine.gpu's: the models' own update rate,
models.backend.UPDATE_INTERVAL_S, is the page's too.)
"""

from __future__ import annotations


def file_paths(files) -> tuple[str, ...]:
    if not files:
        return ()
    return tuple(str(getattr(f, "name", f)) for f in (files if isinstance(files, list) else [files]))

"""The two sides of a comparison and how they are made: a model loaded here or one on a server.

`ModelOptions` is what the command line (or the app's environment variables) says about the
models; `make_sides` turns it into a Side per family, the same way for `compare`, `eval` and
the app. A side that cannot be made carries the reason (`load_error`) instead of failing the
whole start-up: the other side still runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from models.backend import Backend, one_line
from models.families import FAMILIES, SIDES
from models.loading import LoadedModel
from models.registry import DEFAULT_PRESET
from models.remote import API_KEY_ENV


@dataclass
class Side:
    """One column: a backend (a local model or a remote server), or why there is none."""

    key: str
    backend: Backend | None = None
    load_error: str | None = None
    # At most one generation per model at a time, whoever asks.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def loaded(self) -> LoadedModel | None:
        """The local model, where this side has one."""
        return getattr(self.backend, "loaded", None)

    @property
    def source(self) -> str:
        return self.backend.source if self.backend else "(not loaded)"


@dataclass(frozen=True)
class ModelOptions:
    """What the user chose for the models, before anything is loaded."""

    tiny: bool = False  # the offline replicas, for any side not named explicitly
    preset: str = DEFAULT_PRESET
    sources: dict[str, str | None] = field(default_factory=dict)  # side -> hub id or folder
    endpoints: dict[str, str | None] = field(default_factory=dict)  # side -> OpenAI-compatible URL
    accepts: dict[str, list[str] | None] = field(default_factory=dict)  # side -> what a served model takes
    api_key_env: str = API_KEY_ENV
    device: str | None = None
    fast: bool = False
    draft: bool = False  # each family's own drafter, loaded with its model where this stack runs one
    offered: dict[str, tuple[str, ...]] = field(default_factory=dict)  # side -> more models visitors may pick
    offer_presets: bool = False  # the presets' checkpoints too (the operator's --offer-presets)
    warm: bool = True  # run each model once at load (not on ZeroGPU, whose main process has no GPU)


def resolve_sources(options: ModelOptions) -> dict[str, str]:
    """Which checkpoint each local side loads: explicit ids win, then the replicas with --tiny, then the preset."""
    from models.registry import PRESETS
    from models.tiny import build_replicas

    chosen = {k: options.sources.get(k) for k in SIDES}
    if options.tiny and not all(chosen.values()):
        replicas = dict(zip(SIDES, build_replicas()))
        chosen = {k: chosen[k] or str(replicas[k]) for k in SIDES}
    preset = PRESETS[options.preset]
    return {k: chosen[k] or getattr(preset, k) for k in SIDES}


def load_side(
    key: str, source: str | None, device: str | None = None, fast: bool = False, for_visitor: bool = False,
    draft: bool = False, warm: bool = True,
) -> Side:
    """Load one side's model (and, with `draft`, its drafter) and warm it up; a failure becomes the
    side's `load_error` (without the operator's hint of what to run when a web visitor asked for the model)."""
    from models.loading import ModelLoadError, load_model

    if not source:
        return Side(key, load_error="no model chosen")
    try:
        loaded = load_model(source, expected_family=key, device=device, fast=fast)
    except ModelLoadError as e:
        return Side(key, load_error=e.reason if for_visitor else str(e))
    return ready_side(key, loaded, draft, warm)


def ready_side(key: str, loaded, draft: bool = False, warm: bool = True) -> Side:
    """A loaded model made ready to answer: its drafter loaded if asked, warmed up (the fast path
    compiles here, and falls back to eager if that fails). Without `warm` (ZeroGPU, where nothing
    may run on the GPU outside a GPU call) the first call is the warm-up, and its result says so."""
    from models.drafting import drafter_for
    from models.fastpath import compiled_graphs
    from models.generation import warm_up
    from models.local import LocalBackend

    if draft:  # loaded now, so the first drafted request does not wait for it; warmed up below
        drafter_for(loaded)
    if not warm:
        return Side(key, LocalBackend(loaded))
    try:
        graphs = compiled_graphs()
        seconds = warm_up(loaded)
        compiled = compiled_graphs() > graphs
        if loaded.fast and not compiled:  # e.g. torch's recompile limit: decoding stays eager
            loaded.fast_error = "the warm-up compiled nothing: the static cache is used, decoding is not compiled"
        loaded.compile_s = seconds if loaded.fast and compiled else None
    except Exception as e:  # a compile failure must not cost the model: fall back to the eager path
        if not loaded.fast:
            raise
        loaded.fast, loaded.fast_error = False, one_line(e)
        warm_up(loaded)
    return Side(key, LocalBackend(loaded))


def settle(sides: Mapping[str, Side]) -> None:
    """Warm each fast-path model once more, now that every model is loaded.

    Both families' forward passes run through one compiled code object (transformers' forward
    wrapper), so compiling one model makes the other's next call compile again. One more
    untimed pass here keeps that out of the first request (tests/test_fastpath.py checks it).
    """
    from models.generation import warm_up

    for side in sides.values():
        if side.loaded is not None and side.loaded.fast:
            warm_up(side.loaded)


def remote_side(
    key: str, url: str, model: str | None, accepts: list[str] | None = None, api_key_env: str = API_KEY_ENV
) -> Side:
    """A Side served from `url`, or one carrying the reason it cannot be."""
    from models.remote import remote_backend

    if not model:
        return Side(key, load_error=f"--{key}-endpoint needs --{key} to name the model as the server serves it")
    return Side(key, remote_backend(FAMILIES[key], url, model, accepts, api_key_env))


def make_side(key: str, options: ModelOptions, source: str) -> Side:
    """One side as the options say: from its server where an endpoint is given, else `source` loaded here."""
    endpoint = options.endpoints.get(key)
    if endpoint:
        return remote_side(key, endpoint, options.sources.get(key), options.accepts.get(key), options.api_key_env)
    return load_side(key, source, options.device, options.fast, draft=options.draft, warm=options.warm)


def make_sides(options: ModelOptions, say: Callable[[str], None] = lambda line: None) -> dict[str, Side]:
    """Both sides; `say` hears what is being loaded and why a side is not available."""
    sources = resolve_sources(options)
    sides = {}
    for key in SIDES:
        if not options.endpoints.get(key):
            say(f"loading {key}: {sources[key]}")
        sides[key] = make_side(key, options, sources[key])
        if sides[key].load_error:
            say(f"  {key} not available: {sides[key].load_error}")
    settle(sides)
    return sides

"""What a visitor may see of the server: model names, never its folders, hosts or ports.

A checkpoint is named to visitors by `public_name`: a hub id as it is (it is public), a folder by
its own name, a served model by its name on the server; where a person reads it at a glance
(pickers, the Arena's reveal, a replay's label), by `friendly_name`. `Scrubber` is applied at the one edge
where results become what a page or an API caller gets: every exact occurrence of a server-side
name it knows (the offered and loaded checkpoints, their drafters, the servers' URLs) in any
string of the value — a raw result, an error, a note — becomes its public name. Recordings,
votes and the command line keep the full names: they are the operator's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

SERVED = " @ "  # how a served model's source reads: "model @ http://host:port/v1"


def public_name(source: str | None) -> str | None:
    """A checkpoint as a visitor may see it."""
    if not source:
        return source
    if SERVED in source:
        return source.split(SERVED, 1)[0] + " (served)"
    if source.startswith(("/", "./", "../", "~")) or Path(source).is_dir():
        return Path(source).name or source
    return source


def friendly_name(source: str | None) -> str | None:
    """A checkpoint as a visitor reads it at a glance: "Gemma 4 E4B", "Qwen 3.5 9B", "Gemma 4
    E2B/E4B · offline replica"; any other folder or served model by its public name (its id,
    kept in a tooltip and in the raw JSON)."""
    import re

    from models.families import LABELS
    from models.registry import checkpoint
    from models.tiny import REPLICAS

    name = public_name(source)
    if not name:
        return name
    if name in REPLICAS:
        replica = REPLICAS[name]
        kinds = replica.stands_for.split(":")[0].replace(", ", "/").replace(" and larger", "+")
        return f"{LABELS[replica.family]} {kinds} · offline replica"
    known = checkpoint(name)
    if known is not None:
        size = re.sub(r"^(gemma-4-|qwen3\.5-)|-it$", "", name.split("/")[-1], flags=re.I)
        return f"{LABELS[known.family]} {size}"
    return name


class Scrubber:
    def __init__(self, sources: Iterable[str | None] = (), urls: Iterable[str | None] = ()):
        from documents.markdown import esc

        pairs = {s: public_name(s) for s in sources if s}
        pairs |= {u: "the server" for u in urls if u}
        # The same names as Markdown text the app wrote them (ui.markup.plain escapes `_` and the like).
        pairs |= {esc(name): esc(shown) for name, shown in pairs.items()}
        # Longest first, so a folder is never half-replaced by a name inside it.
        self._pairs = sorted(((k, v) for k, v in pairs.items() if k != v), key=lambda kv: -len(kv[0]))

    def text(self, value: str) -> str:
        for name, shown in self._pairs:
            if name in value:
                value = value.replace(name, shown)
        return value

    def view(self, value):
        """`value` (any JSON-like value, or a component update) with every string scrubbed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.view(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.view(v) for v in value)
        return value


def scrubber(slots, environment: Mapping | None = None) -> Scrubber:
    """Every server-side name a page could meet now: what the slots offer and hold, and what a
    result's environment names (a drafter, a server's URL)."""
    from models.families import SIDES

    sources, urls = [], []
    for key in SIDES:
        sources += slots.offered(key)
        side = slots.side(key)
        if side.backend:
            described = side.backend.describe()
            sources += [described.get("source"), side.backend.source, described.get("drafter")]
            urls.append(described.get("endpoint"))
    for model in ((environment or {}).get("models") or {}).values():
        if isinstance(model, Mapping):
            sources += [model.get("source"), model.get("drafter")]
            urls.append(model.get("endpoint"))
    return Scrubber([s for s in sources if isinstance(s, str)], [u for u in urls if isinstance(u, str)])

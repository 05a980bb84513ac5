"""Engine results as what each answer column shows: the chat messages, the turn and status lines,
each model's details, and the line under a model picker. Pure functions: no Gradio, no state,
shared by the live app and replay. The table under both answers is ui.table, its charts' rows
ui.charts.
"""

from __future__ import annotations

from pathlib import Path

from engine.results import ModelResult, Status
from engine.timing import decode_speed
from modalities.files import describe
from modalities.request import CompareRequest

from .markup import plain, to_html
from .public import public_name


def user_message(request: CompareRequest, result: ModelResult | None = None, thumbnails: bool = False) -> dict:
    """The visitor's turn as one model's column shows it: inputs that model was not sent struck out;
    with `thumbnails`, each image it was sent shown small after the text (only for files the page
    itself uploaded: Gradio serves them)."""
    skipped = {s.input for s in result.skipped_inputs} if result else set()
    media = [("image", p) for p in request.images] + [(k, p) for k, p in (("video", request.video), ("audio", request.audio)) if p]
    names = [
        f"~~{plain(Path(p).name)}~~ (not sent)" if describe(kind, p) in skipped else plain(Path(p).name)
        for kind, p in media
    ]
    text = request.prompt or "(no text)"
    attached = f"\n\n*Attached: {', '.join(names)}*" if names else ""
    content = to_html(text + attached)
    sent = [p for p in request.images if describe("image", p) not in skipped] if thumbnails else []
    if not sent:
        return {"role": "user", "content": content}
    return {"role": "user", "content": [content, *({"path": p, "alt_text": Path(p).name} for p in sent)]}


def still_there(messages: list[dict]) -> list[dict]:
    """Earlier turns as they can be shown again: a thumbnail whose upload was since removed (uploads
    are kept an hour) is left out rather than failing the whole page update."""
    def keep(part) -> bool:
        return not isinstance(part, dict) or Path(part.get("path", "")).is_file()

    return [m | {"content": [c for c in m["content"] if keep(c)]} if isinstance(m["content"], list) else m
            for m in messages]


def turn_line(earlier: int, images_left_out: int = 0) -> str:
    """Over the answers: which turn this is and what context each model is given."""
    if not earlier:
        return "**Turn 1**: a new conversation: each model sees only this message."
    n = f"{earlier} earlier exchange" + ("s" if earlier > 1 else "")
    left_out = (f" The {images_left_out} oldest image{'s' if images_left_out > 1 else ''} of this conversation "
                "are left out of it (a conversation carries a bounded number)." if images_left_out else "")
    return (f"**Turn {earlier + 1}**: each model also sees its own {n} (its own answers, not the other's)."
            f"{left_out} An example or Clear starts a new conversation.")


CHECKING = "◷ Checking the inputs…"
ATTACH = "Attach an image, a video or audio"


def queued_line(ahead: int | None) -> str:
    """A column's line between a passing check and its comparison's start: how many comparisons
    held or waited for the models when the check passed (None: not known)."""
    if not ahead:
        return "◷ Waiting for its turn on the models…"
    return f"◷ Queued: {ahead} comparison{'s' if ahead > 1 else ''} ahead of yours"


# Fewer tokens than this give no meaningful decode speed (a stopped answer's handful, say).
MIN_TOKENS_FOR_SPEED = 8


def status_line(result: ModelResult, waiting_for: str | None = None) -> str:
    """One line over a column: what this model is doing now, or how it ended."""
    r = result
    if r.status == Status.PENDING:
        return f"◷ Waiting: runs after {waiting_for} (one model at a time, so neither slows the other)" if waiting_for else "◷ Starting…"
    if r.status == Status.RUNNING:
        n = len(r.token_times)
        # The engine's one definition of decode speed (engine.timing), on the arrivals so far.
        tok_s = decode_speed(n, r.token_times[0], r.token_times[-1]) if n >= MIN_TOKENS_FOR_SPEED else None
        speed = f", {tok_s:.1f} tok/s" if tok_s else ""
        return f"▶ Generating: {n} tokens{speed}" if n else "▶ Generating: waiting for the first token"
    if r.status == Status.STOPPED:
        if r.metrics is None and not r.token_times:  # stopped while it waited its turn: it never ran
            return "■ Not run: stopped before it started"
        tokens = r.metrics.output_tokens if r.metrics else len(r.token_times)
        return f"■ Stopped by you after {tokens} tokens: the answer is partial"
    if r.status == Status.ERROR:
        return "⚠ Error: see below"
    if r.status == Status.SKIPPED:
        return "– Not run: it takes none of the inputs"
    total = f" in {r.metrics.total_s:.2f} s" if r.metrics else ""
    return f"✓ Done{total}"


def assistant_messages(result: ModelResult) -> list[dict]:
    messages = []
    if result.thinking:
        done = result.status != Status.RUNNING
        messages.append(
            {
                "role": "assistant",
                "content": to_html(result.thinking),
                "metadata": {"title": "Thinking", "status": "done" if done else "pending"},
            }
        )
    if result.text or (result.status in (Status.RUNNING, Status.PENDING) and not result.error):
        messages.append({"role": "assistant", "content": to_html(result.text) if result.text else "…"})
    if result.error:
        messages.append({"role": "assistant", "content": to_html(f"**Error:** {plain(result.error)}")})
    elif result.status == Status.SKIPPED:
        messages.append({"role": "assistant", "content": "(not run: it takes none of the inputs)"})
    return messages


def input_tokens_text(tokens) -> str:
    """`total 120 (text 20, image 100)`; a server that counts only the total shows just that."""
    parts = ", ".join(f"{m} {n}" for m in ("text", "image", "video", "audio") if (n := getattr(tokens, m)))
    total = "—" if tokens.total is None else str(tokens.total)
    return f"total {total}" + (f" ({parts})" if parts else "")


def details_markdown(result: ModelResult) -> str:
    """What only this side has: its skipped inputs, notes, error and sampling (the figures are in
    the comparison table under both answers)."""
    lines = [f"- **{plain(str(skipped))}**" for skipped in result.skipped_inputs]
    lines += [f"- {plain(note)}" for note in result.notes]
    m = result.metrics
    if m and m.stopped:
        lines.append("\n**Stopped by you**: its figures in the table cover only the partial answer.")
    if m and m.drafting:
        lines.append(f"\n{plain(m.drafting.summary())}")
    if result.generation:  # what it samples with, from the model call on
        g = result.generation
        lines.append(f"\nSampling: {plain(g.summary())}" + "".join(f"\n- {plain(n)}" for n in g.not_applied))
    return "\n".join(lines) or " "


def model_info_markdown(side) -> str:
    """One line under a model picker: what is loaded, where, and what it takes."""
    if side.backend is None:
        return f"**not loaded** — {plain(side.load_error or '')}"
    if side.loaded is None:  # served remotely
        accepts = " / ".join(side.backend.capabilities.modalities)
        return f"**{plain(public_name(side.backend.source))}** · remote server · accepts {accepts} · timings include the network"
    loaded, caps = side.loaded, side.loaded.capabilities
    replica = " · **offline replica (random weights)**" if loaded.is_replica else ""
    size = f"{loaded.footprint_mb / 1024:.1f} GiB" if loaded.footprint_mb >= 1024 else f"{loaded.footprint_mb:.1f} MiB"
    return (
        f"**{plain(public_name(loaded.source))}** · {size} on {loaded.device} ({loaded.dtype})"
        f" · accepts {' / '.join(caps.modalities)}{replica}"
    )

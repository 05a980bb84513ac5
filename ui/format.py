"""Engine results as what the app's components show. Pure functions: no Gradio, no state.

Each takes typed results (engine.results) and returns chat messages, Markdown or chart rows,
so they can be tested without a browser and are shared by the live app and replay.
"""

from __future__ import annotations

import re
from pathlib import Path

from engine.results import ComparisonResult, ModelResult, Status
from engine.timing import decode_speed
from modalities.files import describe
from modalities.request import CompareRequest
from models.families import LABELS, SIDES


# Fenced code blocks (closed, or open to the end while an answer streams) and inline code spans:
# shown as code, never rendered as HTML, so they are left as they are.
_CODE = re.compile(r"(^(`{3,}|~{3,}).*?(?:^\2[ \t]*$|\Z)|(`+).+?\3)", re.S | re.M)


def safe_markdown(text: str) -> str:
    """Model output (or anything a visitor or a recording supplied) as Markdown that loads nothing.

    Outside code, `<` becomes an entity, so no HTML element exists at all (no <img>, <svg>,
    <video>, <form>, <input>, style attribute), and `![` becomes `!&#91;`, so no Markdown image
    fetches a URL: an answer cannot make a viewer's browser contact any host, nor draw a form.
    Entities are decoded after Markdown is parsed, so both still read as typed.
    """
    out, last = [], 0
    for code in _CODE.finditer(text):
        out.append(_neutralise(text[last : code.start()]))
        out.append(code.group(0))
        last = code.end()
    out.append(_neutralise(text[last:]))
    return "".join(out)


def _neutralise(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("![", "!&#91;")


def _fmt(value, unit: str = "", digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}{unit}"


def user_message(request: CompareRequest, result: ModelResult | None = None) -> dict:
    """The visitor's turn as one model's column shows it: inputs that model was not sent struck out."""
    skipped = {s.input for s in result.skipped_inputs} if result else set()
    media = [("image", p) for p in request.images] + [(k, p) for k, p in (("video", request.video), ("audio", request.audio)) if p]
    names = [
        f"~~{safe_markdown(Path(p).name)}~~ (not sent)" if describe(kind, p) in skipped else safe_markdown(Path(p).name)
        for kind, p in media
    ]
    text = safe_markdown(request.prompt) if request.prompt else "(no text)"
    attached = f"\n\n*Attached: {', '.join(names)}*" if names else ""
    return {"role": "user", "content": text + attached}


# Fewer tokens than this give no meaningful decode speed (a stopped answer's handful, say).
MIN_TOKENS_FOR_SPEED = 8


def status_line(result: ModelResult, waiting_for: str | None = None) -> str:
    """One line over a column: what this model is doing now, or how it ended."""
    r = result
    if r.status == Status.PENDING:
        return f"⏳ Waiting: runs after {waiting_for} (one model at a time, so neither slows the other)" if waiting_for else "⏳ Starting…"
    if r.status == Status.RUNNING:
        n = len(r.token_times)
        # The engine's one definition of decode speed (engine.timing), on the arrivals so far.
        tok_s = decode_speed(n, r.token_times[0], r.token_times[-1]) if n >= MIN_TOKENS_FOR_SPEED else None
        speed = f", {tok_s:.1f} tok/s" if tok_s else ""
        return f"▶ Generating: {n} tokens{speed}" if n else "▶ Generating: waiting for the first token"
    if r.status == Status.STOPPED:
        tokens = r.metrics.output_tokens if r.metrics else len(r.token_times)
        return f"⏹ Stopped by you after {tokens} tokens: the answer is partial"
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
                "content": safe_markdown(result.thinking),
                "metadata": {"title": "Thinking", "status": "done" if done else "pending"},
            }
        )
    if result.text or (result.status in (Status.RUNNING, Status.PENDING) and not result.error):
        messages.append({"role": "assistant", "content": safe_markdown(result.text) or "…"})
    if result.error:
        messages.append({"role": "assistant", "content": f"**Error:** {safe_markdown(result.error)}"})
    elif result.status == Status.SKIPPED:
        messages.append({"role": "assistant", "content": "(not run: it takes none of the inputs)"})
    return messages


def input_tokens_text(tokens) -> str:
    """`total 120 (text 20, image 100)`; a server that counts only the total shows just that."""
    parts = ", ".join(f"{m} {n}" for m in ("text", "image", "video", "audio") if (n := getattr(tokens, m)))
    total = "—" if tokens.total is None else str(tokens.total)
    return f"total {total}" + (f" ({parts})" if parts else "")


def details_markdown(result: ModelResult) -> str:
    """The metrics table and every note, skipped input and error of one side."""
    lines = [f"- **{safe_markdown(str(skipped))}**" for skipped in result.skipped_inputs]
    lines += [f"- {safe_markdown(note)}" for note in result.notes]
    m = result.metrics
    if m and m.stopped:
        lines.append("\n**Stopped by you**: the figures below cover only the partial answer.")
    if m:
        lines += [
            "",
            "| metric | value |",
            "|---|---|",
            f"| time to first token | {_fmt(m.ttft_s, ' s', 3)} |",
            f"| time to first answer token | {_fmt(m.ttft_answer_s, ' s', 3)} |",
            f"| decode speed | {_fmt(m.decode_tok_s if m.output_tokens >= MIN_TOKENS_FOR_SPEED else None, ' tok/s', 1)} |",
            f"| total (incl. preprocessing {_fmt(m.preprocess_s, ' s', 2)}) | {_fmt(m.total_s, ' s')} |",
            f"| output tokens (thinking) | {m.output_tokens} ({m.thinking_tokens}) |",
            f"| input tokens | {input_tokens_text(m.input_tokens)} |",
            f"| device, dtype, peak memory | {m.device}, {m.dtype}, {_fmt(m.peak_memory_mb, ' MiB', 0)} |",
        ]
        if m.contended:
            lines.append("\n*Both models ran at once: these timings are contended.*")
    elif result.status == Status.RUNNING:
        lines.append(f"\n*Generating… {len(result.token_times)} tokens*")
    if result.generation:  # what it samples with, from the model call on
        g = result.generation
        lines.append(f"\nSampling: {safe_markdown(g.summary())}" + "".join(f"\n- {safe_markdown(n)}" for n in g.not_applied))
    return "\n".join(lines) or " "


def timing_rows(result: ComparisonResult) -> list[dict]:
    """Rows for the timing chart: seconds per metric per model."""
    rows = []
    for key in SIDES:
        m = result.results[key].metrics
        if not m:
            continue
        for label, value in (("first token", m.ttft_s), ("first answer token", m.ttft_answer_s), ("total", m.total_s)):
            if value is not None:
                rows.append({"bar": f"{label} · {LABELS[key]}", "seconds": round(value, 4), "model": LABELS[key]})
    return rows


def model_info_markdown(side) -> str:
    """One line under a model picker: what is loaded, where, and what it takes."""
    if side.backend is None:
        return f"**not loaded** — {side.load_error}"
    if side.loaded is None:  # served remotely
        accepts = " / ".join(side.backend.capabilities.modalities)
        return f"`{side.backend.source}` · remote server · accepts {accepts} · timings include the network"
    loaded, caps = side.loaded, side.loaded.capabilities
    replica = " · **offline replica (random weights)**" if loaded.is_replica else ""
    size = f"{loaded.footprint_mb / 1024:.1f} GiB" if loaded.footprint_mb >= 1024 else f"{loaded.footprint_mb:.1f} MiB"
    return (
        f"`{loaded.source}` · {size} on {loaded.device} ({loaded.dtype})"
        f" · accepts {' / '.join(caps.modalities)}{replica}"
    )

"""Engine results as what the app's components show. Pure functions: no Gradio, no state.

Each takes typed results (engine.results) and returns chat messages, Markdown or chart rows,
so they can be tested without a browser and are shared by the live app and replay.
"""

from __future__ import annotations

import math
from pathlib import Path

from engine.results import ComparisonResult, ModelResult, Status
from engine.timing import decode_speed
from modalities.files import describe
from modalities.request import CompareRequest
from models.families import LABELS, SIDES

from .markup import plain, to_html
from .public import public_name


def user_message(request: CompareRequest, result: ModelResult | None = None) -> dict:
    """The visitor's turn as one model's column shows it: inputs that model was not sent struck out."""
    skipped = {s.input for s in result.skipped_inputs} if result else set()
    media = [("image", p) for p in request.images] + [(k, p) for k, p in (("video", request.video), ("audio", request.audio)) if p]
    names = [
        f"~~{plain(Path(p).name)}~~ (not sent)" if describe(kind, p) in skipped else plain(Path(p).name)
        for kind, p in media
    ]
    text = request.prompt or "(no text)"
    attached = f"\n\n*Attached: {', '.join(names)}*" if names else ""
    return {"role": "user", "content": to_html(text + attached)}


def turn_line(earlier: int, images_left_out: int = 0) -> str:
    """Over the answers: which turn this is and what context each model is given."""
    if not earlier:
        return "**Turn 1**: a new conversation: each model sees only this message."
    n = f"{earlier} earlier exchange" + ("s" if earlier > 1 else "")
    left_out = (f" The {images_left_out} oldest image{'s' if images_left_out > 1 else ''} of this conversation "
                "are left out of it (a conversation carries a bounded number)." if images_left_out else "")
    return (f"**Turn {earlier + 1}**: each model also sees its own {n} (its own answers, not the other's)."
            f"{left_out} An example or Clear starts a new conversation.")


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
        if r.metrics is None and not r.token_times:  # stopped while it waited its turn: it never ran
            return "⏹ Not run: stopped before it started"
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


# --- the comparison table and charts under both answers ----------------------------------------

LOWER, HIGHER = "lower", "higher"
BETTER = "★"


def _per_token_ms(m) -> float | None:
    return m.total_s / m.output_tokens * 1000 if m.output_tokens else None


def _lengths(state: ComparisonResult) -> set[int]:
    return {state.results[k].metrics.output_tokens for k in SIDES if state.results[k].metrics}


def _rows(state: ComparisonResult) -> list[tuple[str, str | None, int, dict]]:
    """(metric, which way is better or None, digits, {side: value or None}) in table order."""
    met = {k: state.results[k].metrics for k in SIDES}

    def each(fn):
        return {k: (fn(m) if m else None) for k, m in met.items()}

    speed = {k: (m.decode_tok_s if m and m.output_tokens >= MIN_TOKENS_FOR_SPEED else None) for k, m in met.items()}
    return [
        ("time to first token (s)", LOWER, 3, each(lambda m: m.ttft_s)),
        ("time to first answer token (s)", LOWER, 3, each(lambda m: m.ttft_answer_s)),
        # The visitor's own wait (engine.timing): queue, checks, the model before it, its own start.
        ("first token after you clicked (s)", None, 3, each(lambda m: m.waited_s)),
        ("decode speed (tok/s)", HIGHER, 1, speed),
        # A total compares fairly only between answers of the same length; per token it always does.
        ("total (s)", LOWER if len(_lengths(state)) == 1 else None, 3, each(lambda m: m.total_s)),
        ("total per output token (ms)", LOWER, 1, each(_per_token_ms)),
        ("preprocessing (s)", LOWER, 3, each(lambda m: m.preprocess_s)),
        ("output tokens (thinking)", None, 0, each(lambda m: f"{m.output_tokens} ({m.thinking_tokens})")),
        ("input tokens", None, 0, each(lambda m: input_tokens_text(m.input_tokens))),
        ("device, dtype", None, 0, each(lambda m: f"{m.device}, {m.dtype}")),
        ("peak memory (MiB)", None, 0, each(lambda m: m.peak_memory_mb)),
    ] + _draft_rows(each)


def _draft_rows(each) -> list:
    """With a drafter asked for: which ran, how much of its drafting was kept, tokens per pass."""
    drafts = each(lambda m: m.drafting)
    if not any(drafts.values()):
        return []
    return [
        ("drafter", None, 0, {k: (d.drafter or "none") if d else "not asked" for k, d in drafts.items()}),
        ("drafted tokens accepted", None, 0, {k: f"{d.accepted_tokens} of {d.drafted_tokens}" if d and d.drafted_tokens
                                                  is not None else None for k, d in drafts.items()}),
        ("acceptance rate", HIGHER, 2, {k: d.acceptance_rate if d else None for k, d in drafts.items()}),
        ("tokens per pass of the model", HIGHER, 2, {k: d.tokens_per_target_pass if d else None for k, d in drafts.items()}),
    ]


def _cell(value, digits: int) -> str:
    if value is None:
        return "—"
    return plain(value) if isinstance(value, str) else f"{value:.{digits}f}"


def comparison_table(state: ComparisonResult, columns: dict[str, str] | None = None) -> str:
    """Both models' figures in one aligned table: metrics as rows, the models as columns, the
    better value starred where both ran to the end (a stopped or failed answer is not compared).

    `columns` (side -> heading, in column order) where the page shows the sides otherwise than as
    Gemma then Qwen, such as the Arena's "Model A: …" first."""
    if not any(state.results[k].metrics for k in SIDES):
        return " "
    columns = columns or {k: LABELS[k] for k in SIDES}
    comparable = all(state.results[k].status == Status.DONE for k in SIDES)
    position = {k: ("ran first" if i == 0 else "ran second") if state.mode == "sequential" else "ran at once"
                for i, k in enumerate(state.order)}
    head = [f"{heading} ({position.get(k, 'not run')})" for k, heading in columns.items()]
    lines = ["| metric | " + " | ".join(head) + " |", "|---|" + "---:|" * len(columns)]
    lines.append("| status | " + " | ".join(status_word(state.results[k]) for k in columns) + " |")
    for name, better, digits, values in _rows(state):
        cells = {k: _cell(values[k], digits) for k in SIDES}
        numbers = {k: v for k, v in values.items() if isinstance(v, (int, float))}
        if better and comparable and len(numbers) == len(SIDES) and len(set(numbers.values())) > 1:
            best = (min if better == LOWER else max)(numbers, key=numbers.get)
            cells[best] += f" {BETTER}"
        lines.append(f"| {name} | " + " | ".join(cells[k] for k in columns) + " |")
    notes = [f"{BETTER} the better value (compared only when both answers ran to the end)."]
    if len(_lengths(state)) > 1:
        notes.append("The answers differ in length: compare the totals per output token, not the totals.")
    metrics = [state.results[k].metrics for k in SIDES if state.results[k].metrics]
    if any(m.contended for m in metrics):
        notes.append("Both models ran at once: these timings are contended." if state.mode == "parallel" else
                     "Another comparison ran at the same time: these timings are contended.")
    if len({bool(m.drafting and m.drafting.drafter) for m in metrics}) > 1:
        notes.append("Only one model drafted its tokens: its speed is a drafted run's, the other's a plain one's.")
    if any(m.includes_network for m in metrics):
        notes.append("A remote model's times are taken here, so they include the network and the server's queue.")
    return "\n".join(lines) + "\n\n" + " ".join(f"*{n}*" for n in notes)


def status_word(result: ModelResult) -> str:
    return {
        Status.DONE: "done", Status.STOPPED: "stopped by you (partial)", Status.ERROR: "error",
        Status.SKIPPED: "not run", Status.RUNNING: "generating", Status.PENDING: "waiting",
    }[result.status]


def first_token_rows(result: ComparisonResult) -> list[dict]:
    """Bars for the first-token chart (seconds from each model's call), in a fixed order."""
    rows = []
    for key in SIDES:
        m = result.results[key].metrics
        if not m:
            continue
        for label, value in (("first token", m.ttft_s), ("first answer token", m.ttft_answer_s)):
            if value is not None:
                rows.append({"bar": f"{label} · {LABELS[key]}", "seconds": round(value, 4), "model": LABELS[key]})
    return rows


FIRST_TOKEN_BARS = [f"{label} · {LABELS[k]}" for label in ("first token", "first answer token") for k in SIDES]

MAX_CURVE_POINTS = 200  # per model: enough for the shape, light enough for the page


def token_curve_rows(result: ComparisonResult) -> list[dict]:
    """Tokens over time for each model (seconds from its model call, tokens so far): the slope
    is the decode speed, where it starts the time to first token, where it ends the answer's length."""
    rows = []
    for key in SIDES:
        times = result.results[key].token_times
        step = max(1, math.ceil(len(times) / MAX_CURVE_POINTS))
        picked = list(range(0, len(times), step))
        if times and picked[-1] != len(times) - 1:
            picked.append(len(times) - 1)
        rows += [{"seconds": round(times[i], 4), "tokens": i + 1, "model": LABELS[key]} for i in picked]
    return rows


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

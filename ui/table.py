"""The comparison table under both answers: metrics as rows, the two models as columns, the
better value starred only where the figures support it. Pure: engine results in, Markdown out."""

from __future__ import annotations

from engine.results import ComparisonResult, ModelResult, Status
from models.families import LABELS, SIDES

from .format import MIN_TOKENS_FOR_SPEED, input_tokens_text
from .markup import plain

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
    thought = any(m and m.thinking_tokens for m in met.values())  # else the first answer token is the first token
    return [
        ("time to first token (s)", LOWER, 3, each(lambda m: m.ttft_s)),
        *([("time to first answer token (s)", LOWER, 3, each(lambda m: m.ttft_answer_s))] if thought else []),
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


def not_comparable(state: ComparisonResult) -> str | None:
    """Why the two models' figures do not compare, or None where they do: both answers ran to the
    end, and both models were sent the same inputs (a model that processed audio the other never
    heard did more work before its first token)."""
    unfinished = [LABELS[k] for k in SIDES if state.results[k].status != Status.DONE]
    if unfinished:
        return f"{' and '.join(unfinished)} did not run to the end, so the figures are not compared"
    skipped = {k: [s.input for s in state.results[k].skipped_inputs] for k in SIDES}
    if len({tuple(v) for v in skipped.values()}) > 1:
        key = next(k for k in SIDES if skipped[k])
        return (f"{LABELS[key]} was not sent {plain(', '.join(skipped[key]))}, so the two models answered different "
                "inputs and their times are not compared")
    return None


def _times(a: float | None, b: float | None) -> float | None:
    return max(a, b) / min(a, b) if a and b and min(a, b) > 0 else None


def verdict(state: ComparisonResult) -> str:
    """The figures in words, saying only what they support: who began answering sooner, who
    decoded faster, whose answer was longer (differences under 10% are "about the same")."""
    reason = not_comparable(state)
    if reason:
        return f"**No verdict:** {reason}."
    m = {k: state.results[k].metrics for k in SIDES}
    parts = []
    first = {k: m[k].ttft_s for k in SIDES}
    ratio = _times(*first.values())
    if ratio is not None:
        sooner = min(first, key=first.get)
        parts.append(f"{LABELS[sooner]} began answering {ratio:.1f}× sooner" if ratio >= 1.1
                     else "both began answering within 10% of each other")
    speeds = {k: m[k].decode_tok_s for k in SIDES if m[k].output_tokens >= MIN_TOKENS_FOR_SPEED}
    ratio = _times(*speeds.values()) if len(speeds) == len(SIDES) else None
    if ratio is not None:
        faster = max(speeds, key=speeds.get)
        parts.append(f"{LABELS[faster]} decoded {ratio:.1f}× faster" if ratio >= 1.1 else "both decoded at about the same speed")
    lengths = {k: m[k].answer_tokens for k in SIDES}
    ratio = _times(*lengths.values())
    if ratio is not None and ratio >= 1.1:
        longer = max(lengths, key=lengths.get)
        parts.append(f"{LABELS[longer]}'s answer was {ratio:.1f}× longer")
    if any(x.contended for x in m.values()):
        parts.append("the timings are contended (see below)")
    return "**Verdict:** " + ("; ".join(parts) + "." if parts else "too few tokens to compare.")


def comparison_table(state: ComparisonResult, columns: dict[str, str] | None = None) -> str:
    """The verdict in words, then both models' figures in one aligned table: metrics as rows, the
    models as columns, the better value starred only where the figures compare (not_comparable).

    `columns` (side -> heading, in column order) where the page shows the sides otherwise than as
    Gemma then Qwen, such as the Arena's "Model A: …" first."""
    if not any(state.results[k].metrics for k in SIDES):
        return " "
    columns = columns or {k: LABELS[k] for k in SIDES}
    why_not = not_comparable(state)
    comparable = why_not is None
    position = {k: ("ran first" if i == 0 else "ran second") if state.mode == "sequential" else "ran at once"
                for i, k in enumerate(state.order)}
    head = [f"{heading} ({position.get(k, 'not run')})" for k, heading in columns.items()]
    lines = [verdict(state), "", "| metric | " + " | ".join(head) + " |", "|---|" + "---:|" * len(columns)]
    lines.append("| status | " + " | ".join(status_word(state.results[k]) for k in columns) + " |")
    for name, better, digits, values in _rows(state):
        cells = {k: _cell(values[k], digits) for k in SIDES}
        numbers = {k: v for k, v in values.items() if isinstance(v, (int, float))}
        if better and comparable and len(numbers) == len(SIDES) and len(set(numbers.values())) > 1:
            best = (min if better == LOWER else max)(numbers, key=numbers.get)
            cells[best] += f" {BETTER}"
        lines.append(f"| {name} | " + " | ".join(cells[k] for k in columns) + " |")
    notes = [f"{BETTER} the better value." if comparable else f"No {BETTER}: {why_not}."]
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

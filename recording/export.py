"""Reports of a recorded session: self-contained HTML, Markdown or JSON.

Each comparison shows its prompt and media (thumbnails embedded in HTML), both answers side by
side and their metrics; charts show each model's time to first token and decode speed across
the session, and a summary table gives medians. The HTML needs no network: images and charts
are embedded as data URLs and inline SVG, and it loads no script or stylesheet from anywhere.
"""

from __future__ import annotations

import base64
import io
import json
import statistics
from dataclasses import asdict
from pathlib import Path

from documents.html import esc, page, svg
from documents.markdown import esc as md
from documents.media import MediaCopy
from models.families import LABELS, SIDES

from .session import Recorded, Session

SUMMARY_METRICS = (
    ("ttft_s", "time to first token (s)"),
    ("ttft_answer_s", "time to first answer token (s)"),
    ("decode_tok_s", "decode (tok/s)"),
    ("total_s", "total (s)"),
    ("output_tokens", "output tokens"),
    ("thinking_tokens", "thinking tokens"),
)


def _metric(entry: Recorded, side: str, name: str):
    r = entry.result.results.get(side)
    return getattr(r.metrics, name) if r and r.metrics else None


def summary(session: Session) -> dict:
    """Medians per model and metric over the comparisons where the model produced metrics."""
    table = {}
    for side in SIDES:
        table[side] = {}
        for name, _ in SUMMARY_METRICS:
            values = [v for e in session.entries if (v := _metric(e, side, name)) is not None]
            table[side][name] = {"median": statistics.median(values) if values else None, "n": len(values)}
    return table


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


# --- charts ----------------------------------------------------------------------------------


def _chart_svg(session: Session, name: str, label: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, ax = plt.subplots(figsize=(6, 2.6), dpi=100)
    for side, colour in zip(SIDES, ("#4477aa", "#ee6677")):
        points = [(i + 1, v) for i, e in enumerate(session.entries) if (v := _metric(e, side, name)) is not None]
        if points:
            ax.plot(*zip(*points), marker="o", label=LABELS[side], color=colour)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("comparison")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return svg(fig)


# --- thumbnails ------------------------------------------------------------------------------


def _thumbnail(session: Session, item: MediaCopy) -> str | None:
    """A small JPEG data URL of an image or a video's first frame, or None."""
    from PIL import Image

    path = session.media_path(item)
    if not path.exists():
        return None
    try:
        if item.kind == "image":
            im = Image.open(path)
            im.seek(0)
            im = im.convert("RGB")
        elif item.kind == "video":
            from modalities.video import decode_frames, load_video

            im = Image.fromarray(decode_frames(load_video(path), [0])[0])
        else:
            return None
    except Exception:  # a damaged media file is reported by its missing thumbnail, not a failed report
        return None
    im.thumbnail((240, 240))
    buffer = io.BytesIO()
    im.save(buffer, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


# --- formats ---------------------------------------------------------------------------------

CSS = """
.answer{white-space:pre-wrap;background:#f6f6f6;padding:.6em}
.thinking{white-space:pre-wrap;color:#666}.media img{max-height:160px;margin-right:.5em}
.problem{color:#a00}.charts{display:flex;flex-wrap:wrap;gap:1em}
"""


def _html_side(r) -> list[str]:
    parts = [f"<div><h3>{esc(LABELS[r.side])}: <code>{esc(r.source)}</code></h3>"]
    if r.thinking:
        parts.append(f"<details><summary>Thinking</summary><div class='thinking'>{esc(r.thinking)}</div></details>")
    if r.error:
        parts.append(f"<p class='problem'>Error: {esc(r.error)}</p>")
    parts.append(f"<div class='answer'>{esc(r.text)}</div>")
    parts += [f"<p>{esc(s)}</p>" for s in r.skipped_inputs]
    if r.metrics and r.metrics.drafting:
        parts.append(f"<p>{esc(r.metrics.drafting.summary())}</p>")
    rows = "".join(
        f"<tr><td>{label}</td><td>{esc(_fmt(getattr(r.metrics, name) if r.metrics else None))}</td></tr>"
        for name, label in SUMMARY_METRICS
    )
    return parts + [f"<table>{rows}</table></div>"]


def to_html(session: Session) -> str:
    parts = [f"<h1>Gemma 4 vs Qwen 3.5 — recorded session</h1><p>{len(session.entries)} comparisons from <code>{esc(session.folder)}</code></p>"]
    parts += [f"<p class='problem'>{esc(problem)}</p>" for problem in session.problems]
    parts.append("<h2>Summary (medians)</h2><table><tr><th>metric</th>" + "".join(f"<th>{LABELS[s]}</th>" for s in SIDES) + "</tr>")
    table = summary(session)
    for name, label in SUMMARY_METRICS:
        parts.append(f"<tr><td>{label}</td>" + "".join(f"<td>{esc(_fmt(table[s][name]['median']))}</td>" for s in SIDES) + "</tr>")
    parts.append("</table><div class='charts'>")
    parts.append(_chart_svg(session, "ttft_s", "time to first token (s)"))
    parts.append(_chart_svg(session, "decode_tok_s", "decode (tok/s)"))
    parts.append("</div>")
    for i, entry in enumerate(session.entries, start=1):
        parts.append(f"<h2>Comparison {i}</h2><p><small>{esc(entry.recorded_at)}</small></p>")
        parts.append(f"<p><b>Prompt:</b> {esc(entry.result.request.prompt)}</p>")
        media = []
        for item in entry.media:
            thumb = _thumbnail(session, item)
            media.append(f"<img alt='{esc(item.name)}' src='{thumb}'>" if thumb else f"<span>[{esc(item.kind)}: {esc(item.name)}]</span>")
        if media:
            parts.append("<div class='media'>" + "".join(media) + "</div>")
        parts.append("<div class='pair'>")
        for side in SIDES:
            if side in entry.result.results:
                parts += _html_side(entry.result.results[side])
        parts.append("</div>")
    return page("Session report", "\n".join(parts), CSS)


def to_markdown(session: Session) -> str:
    """Every value in the report goes through `md` (documents.markdown.esc): literal text only."""
    labels = " | ".join(md(LABELS[s]) for s in SIDES)
    lines = ["# Gemma 4 vs Qwen 3.5 — recorded session", "", f"{len(session.entries)} comparisons.", ""]
    lines += [f"- **{md(p)}**" for p in session.problems]
    table = summary(session)
    lines += ["", "## Summary (medians)", "", f"| metric | {labels} |", "|---|" + "---|" * len(SIDES)]
    lines += [f"| {md(label)} | " + " | ".join(md(_fmt(table[s][n]["median"])) for s in SIDES) + " |" for n, label in SUMMARY_METRICS]
    for i, entry in enumerate(session.entries, start=1):
        results = entry.result.results
        lines += ["", f"## Comparison {i}", "", f"**Prompt:** {md(entry.result.request.prompt)}", ""]
        lines += [f"- {md(item.kind)}: {md(item.name)}" for item in entry.media]
        lines += ["", f"| | {labels} |", "|---|" + "---|" * len(SIDES)]
        answers = [md(results[s].text or results[s].error or "", limit=500) if s in results else "" for s in SIDES]
        lines.append("| answer | " + " | ".join(answers) + " |")
        for name, label in SUMMARY_METRICS:
            lines.append(f"| {md(label)} | " + " | ".join(md(_fmt(_metric(entry, s, name))) for s in SIDES) + " |")
        drafting = {s: results[s].metrics.drafting if s in results and results[s].metrics else None for s in SIDES}
        if any(drafting.values()):
            lines.append("| drafting | " + " | ".join(md(d.summary() if d else "—") for d in drafting.values()) + " |")
    return "\n".join(lines) + "\n"


def to_json(session: Session) -> str:
    return json.dumps(
        {
            "folder": str(session.folder),
            "summary": summary(session),
            "problems": session.problems,
            "comparisons": [
                {"line": e.line, "recorded_at": e.recorded_at, **e.result.to_dict(with_token_times=True),
                 "media": [asdict(m) for m in e.media]}
                for e in session.entries
            ],
        },
        indent=2,
        ensure_ascii=False,
    )


FORMATS = {"html": to_html, "md": to_markdown, "json": to_json}


def export(session: Session, fmt: str, out: Path | None = None) -> Path:
    out = out or session.folder / f"report.{fmt}"
    out.write_text(FORMATS[fmt](session), encoding="utf-8")
    return out

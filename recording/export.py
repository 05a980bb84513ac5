"""Reports of a recorded session: self-contained HTML, Markdown or JSON.

Each comparison shows its prompt and media (thumbnails embedded in HTML), both answers side by
side and their metrics; charts show each model's time to first token and decode speed across
the session, and a summary table gives medians. The HTML needs no network: images and charts
are embedded as data URLs and inline SVG, and it loads no script or stylesheet from anywhere.
"""

from __future__ import annotations

import base64
import html
import io
import json
import statistics
from pathlib import Path

from .session import Session

from models.families import LABELS as TITLES
from models.families import SIDES
SUMMARY_METRICS = (
    ("ttft_s", "time to first token (s)"),
    ("ttft_answer_s", "time to first answer token (s)"),
    ("decode_tok_s", "decode (tok/s)"),
    ("total_s", "total (s)"),
    ("output_tokens", "output tokens"),
    ("thinking_tokens", "thinking tokens"),
)


def _metric(entry: dict, side: str, name: str):
    metrics = entry["results"].get(side, {}).get("metrics") or {}
    return metrics.get(name)


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
            ax.plot(*zip(*points), marker="o", label=TITLES[side], color=colour)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("comparison")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # drop the XML prolog and doctype for inline use


# --- thumbnails ------------------------------------------------------------------------------


def _thumbnail(session: Session, item: dict) -> str | None:
    """A small JPEG data URL of an image or a video's first frame, or None."""
    from PIL import Image

    path = session.media_path(item)
    if not path.exists():
        return None
    try:
        if item["kind"] == "image":
            im = Image.open(path)
            im.seek(0)
            im = im.convert("RGB")
        elif item["kind"] == "video":
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
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1em}.answer{white-space:pre-wrap;background:#f6f6f6;padding:.6em}
.thinking{white-space:pre-wrap;color:#666}.media img{max-height:160px;margin-right:.5em}
.problem{color:#a00}.charts{display:flex;flex-wrap:wrap;gap:1em}
"""


def to_html(session: Session) -> str:
    esc = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Session report</title><style>{CSS}</style></head><body>"]
    parts.append(f"<h1>Gemma 4 vs Qwen 3.5 — recorded session</h1><p>{len(session.entries)} comparisons from <code>{esc(str(session.folder))}</code></p>")
    for problem in session.problems:
        parts.append(f"<p class='problem'>{esc(problem)}</p>")
    parts.append("<h2>Summary (medians)</h2><table><tr><th>metric</th>" + "".join(f"<th>{TITLES[s]}</th>" for s in SIDES) + "</tr>")
    table = summary(session)
    for name, label in SUMMARY_METRICS:
        parts.append(f"<tr><td>{label}</td>" + "".join(f"<td>{_fmt(table[s][name]['median'])}</td>" for s in SIDES) + "</tr>")
    parts.append("</table><div class='charts'>")
    parts.append(_chart_svg(session, "ttft_s", "time to first token (s)"))
    parts.append(_chart_svg(session, "decode_tok_s", "decode (tok/s)"))
    parts.append("</div>")
    for i, entry in enumerate(session.entries, start=1):
        request = entry["request"]
        parts.append(f"<h2>Comparison {i}</h2><p><small>{esc(entry.get('recorded_at', ''))}</small></p>")
        parts.append(f"<p><b>Prompt:</b> {esc(request.get('prompt', ''))}</p>")
        media = []
        for item in entry.get("media", []):
            thumb = _thumbnail(session, item)
            media.append(f"<img alt='{esc(item['name'])}' src='{thumb}'>" if thumb else f"<span>[{esc(item['kind'])}: {esc(item['name'])}]</span>")
        if media:
            parts.append("<div class='media'>" + "".join(media) + "</div>")
        parts.append("<div class='pair'>")
        for side in SIDES:
            r = entry["results"].get(side, {})
            parts.append(f"<div><h3>{TITLES[side]}: <code>{esc(str(r.get('model')))}</code></h3>")
            if r.get("thinking"):
                parts.append(f"<details><summary>Thinking</summary><div class='thinking'>{esc(r['thinking'])}</div></details>")
            if r.get("error"):
                parts.append(f"<p class='problem'>Error: {esc(r['error'])}</p>")
            parts.append(f"<div class='answer'>{esc(r.get('text', ''))}</div>")
            for s in r.get("skipped_inputs", []):
                parts.append(f"<p>{esc(s.get('message', ''))}</p>")
            m = r.get("metrics") or {}
            rows = "".join(f"<tr><td>{label}</td><td>{_fmt(m.get(name))}</td></tr>" for name, label in SUMMARY_METRICS)
            parts.append(f"<table>{rows}</table></div>")
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def to_markdown(session: Session) -> str:
    lines = ["# Gemma 4 vs Qwen 3.5 — recorded session", "", f"{len(session.entries)} comparisons.", ""]
    lines += [f"- **{p}**" for p in session.problems]
    table = summary(session)
    lines += ["", "## Summary (medians)", "", "| metric | Gemma 4 | Qwen 3.5 |", "|---|---|---|"]
    lines += [f"| {label} | {_fmt(table['gemma'][n]['median'])} | {_fmt(table['qwen'][n]['median'])} |" for n, label in SUMMARY_METRICS]
    for i, entry in enumerate(session.entries, start=1):
        request = entry["request"]
        lines += ["", f"## Comparison {i}", "", f"**Prompt:** {request.get('prompt', '')}", ""]
        lines += [f"- {item['kind']}: {item['name']}" for item in entry.get("media", [])]
        lines += ["", "| | Gemma 4 | Qwen 3.5 |", "|---|---|---|"]
        answers = [(entry["results"].get(s, {}).get("text") or entry["results"].get(s, {}).get("error") or "").replace("\n", " ").replace("|", "\\|") for s in SIDES]
        lines.append(f"| answer | {answers[0][:500]} | {answers[1][:500]} |")
        for name, label in SUMMARY_METRICS:
            lines.append(f"| {label} | {_fmt(_metric(entry, 'gemma', name))} | {_fmt(_metric(entry, 'qwen', name))} |")
    return "\n".join(lines) + "\n"


def to_json(session: Session) -> str:
    return json.dumps(
        {"folder": str(session.folder), "summary": summary(session), "problems": session.problems, "comparisons": session.entries},
        indent=2,
        ensure_ascii=False,
    )


FORMATS = {"html": to_html, "md": to_markdown, "json": to_json}


def export(session: Session, fmt: str, out: Path | None = None) -> Path:
    out = out or session.folder / f"report.{fmt}"
    out.write_text(FORMATS[fmt](session), encoding="utf-8")
    return out

"""The evaluation report: accuracy with Wilson intervals, latency and token efficiency, per model and category.

Writes report.html (self-contained: charts embedded as PNG data URLs, every task's two
answers side by side), report.md, accuracy.png and tokens.png beside results.jsonl.
"""

from __future__ import annotations

import base64
import json
import math
import statistics
from collections import defaultdict
from pathlib import Path

from documents.html import esc, page
from models.families import LABELS, SIDES

from documents.intervals import wilson
from .runner import TaskRun, Verdict, read_runs

def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]


def aggregate(runs: list[TaskRun]) -> list[dict]:
    """One line per side, category and thinking mode (and 'all' categories)."""
    groups = defaultdict(list)
    for run in runs:
        for side in SIDES:
            if side in run.verdicts:
                for category in (run.category, "all"):
                    groups[(side, category, run.thinking)].append((run.verdicts[side], run.results[side].metrics))
    table = []
    for (side, category, thinking), cells in sorted(groups.items()):
        scored = [(v, m) for v, m in cells if v.applicable and v.correct is not None]
        correct = sum(1 for v, _ in scored if v.correct)
        low, high = wilson(correct, len(scored))
        measured = [m for _, m in scored if m is not None]
        times = [m.total_s for m in measured]
        out_tokens = [m.output_tokens for m in measured]
        think_tokens = [m.thinking_tokens for m in measured]
        table.append({
            "side": side, "category": category, "thinking": thinking, "n": len(scored), "correct": correct,
            "accuracy": correct / len(scored) if scored else None, "ci95": [low, high],
            "not_applicable": sum(1 for v, _ in cells if not v.applicable),
            "not_scored": sum(1 for v, _ in cells if v.applicable and v.correct is None),
            "median_s": statistics.median(times) if times else None, "p90_s": _p90(times),
            "median_output_tokens": statistics.median(out_tokens) if out_tokens else None,
            "median_thinking_tokens": statistics.median(think_tokens) if think_tokens else None,
        })
    return table


def thinking_effect(table: list[dict]) -> list[dict]:
    """With both modes run: accuracy and tokens with thinking minus without, per side and category."""
    index = {(r["side"], r["category"], r["thinking"]): r for r in table}
    effect = []
    for (side, category, thinking), on in index.items():
        off = index.get((side, category, False))
        if thinking and off and on["accuracy"] is not None and off["accuracy"] is not None:
            effect.append({
                "side": side, "category": category,
                "accuracy_delta": on["accuracy"] - off["accuracy"],
                "output_tokens_delta": (on["median_output_tokens"] or 0) - (off["median_output_tokens"] or 0),
            })
    return effect


def _fmt(v, pct=False) -> str:
    if v is None:
        return "—"
    return f"{v * 100:.0f}%" if pct else (f"{v:.3g}" if isinstance(v, float) else str(v))


def _charts(table: list[dict], out: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = sorted({r["thinking"] for r in table})
    categories = sorted({r["category"] for r in table if r["n"]})
    fig, ax = plt.subplots(figsize=(max(6, len(categories) * 1.4), 3.4), dpi=100)
    series = [(s, m) for s in SIDES for m in modes]
    width = 0.8 / max(1, len(series))
    for i, (side, mode) in enumerate(series):
        rows = {r["category"]: r for r in table if r["side"] == side and r["thinking"] == mode}
        xs, ys, errs = [], [], [[], []]
        for j, c in enumerate(categories):
            r = rows.get(c)
            if r and r["accuracy"] is not None:
                xs.append(j + (i - (len(series) - 1) / 2) * width)
                ys.append(r["accuracy"])
                errs[0].append(r["accuracy"] - r["ci95"][0])
                errs[1].append(r["ci95"][1] - r["accuracy"])
        label = LABELS[side] + (" (thinking)" if mode else "")
        ax.bar(xs, ys, width, yerr=errs, capsize=3, label=label)
    ax.set_xticks(range(len(categories)), categories, rotation=20)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("accuracy (95% CI)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths = {"accuracy": out / "accuracy.png", "tokens": out / "tokens.png"}
    fig.savefig(paths["accuracy"])
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.4), dpi=100)
    for side, marker in zip(SIDES, "os"):
        for mode in modes:
            rows = [r for r in table if r["side"] == side and r["thinking"] == mode and r["category"] != "all" and r["accuracy"] is not None]
            ax.scatter([r["median_output_tokens"] or 0 for r in rows], [r["accuracy"] for r in rows],
                       label=LABELS[side] + (" (thinking)" if mode else ""), marker=marker)
    ax.set_xlabel("median output tokens per task")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(paths["tokens"])
    plt.close(fig)
    return paths


def _table_md(table: list[dict]) -> list[str]:
    lines = ["| model | thinking | category | n | accuracy (95% CI) | median s | p90 s | median out tokens | median thinking tokens | n/a | not scored |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in table:
        ci = f"{_fmt(r['accuracy'], True)} ({_fmt(r['ci95'][0], True)}–{_fmt(r['ci95'][1], True)})"
        lines.append(
            f"| {LABELS[r['side']]} | {'on' if r['thinking'] else 'off'} | {r['category']} | {r['n']} | {ci} | "
            f"{_fmt(r['median_s'])} | {_fmt(r['p90_s'])} | {_fmt(r['median_output_tokens'])} | "
            f"{_fmt(r['median_thinking_tokens'])} | {r['not_applicable']} | {r['not_scored']} |"
        )
    return lines


def write_report(out: Path, notes: list[str] = ()) -> dict[str, Path]:
    runs = read_runs(out)
    table = aggregate(runs)
    effect = thinking_effect(table)
    charts = _charts(table, out)
    md = ["# Gemma 4 vs Qwen 3.5 — evaluation", "", f"{len(runs)} task runs.", ""]
    md += [f"- {n}" for n in notes] + [""] + _table_md(table)
    if effect:
        md += ["", "## What thinking changes", "", "| model | category | accuracy Δ | median output tokens Δ |", "|---|---|---|---|"]
        md += [f"| {LABELS[e['side']]} | {e['category']} | {e['accuracy_delta'] * 100:+.0f} pts | {e['output_tokens_delta']:+.0f} |" for e in effect]
    md += ["", "![accuracy](accuracy.png)", "", "![tokens](tokens.png)", ""]
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")

    data = {k: "data:image/png;base64," + base64.b64encode(p.read_bytes()).decode() for k, p in charts.items()}
    body = [f"<h1>Gemma 4 vs Qwen 3.5 — evaluation</h1><p>{len(runs)} task runs.</p>"]
    body += [f"<p class='note'>{esc(n)}</p>" for n in notes]
    body.append("<table><tr>" + "".join(f"<th>{h}</th>" for h in ("model", "thinking", "category", "n", "accuracy (95% CI)", "median s", "p90 s", "median out tokens", "median thinking tokens", "n/a", "not scored")) + "</tr>")
    for r in table:
        ci = f"{_fmt(r['accuracy'], True)} ({_fmt(r['ci95'][0], True)}–{_fmt(r['ci95'][1], True)})"
        cells = [LABELS[r["side"]], "on" if r["thinking"] else "off", r["category"], r["n"], ci, _fmt(r["median_s"]), _fmt(r["p90_s"]),
                 _fmt(r["median_output_tokens"]), _fmt(r["median_thinking_tokens"]), r["not_applicable"], r["not_scored"]]
        body.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    body.append(f"</table><p><img alt='accuracy by category' src='{data['accuracy']}'> <img alt='tokens vs accuracy' src='{data['tokens']}'></p><h2>Tasks</h2>")
    for run in runs:
        marks = " · ".join(f"{LABELS[s]}: {mark(v)}" for s, v in run.verdicts.items())
        body.append(f"<details><summary><code>{esc(run.task)}</code> ({esc(run.category)}, thinking {'on' if run.thinking else 'off'}) — {esc(marks)}</summary>")
        body.append(f"<p>Expected: <code>{esc(json.dumps(run.expected, ensure_ascii=False))}</code></p><div class='pair'>")
        for s, r in run.results.items():
            body.append(f"<div><h4>{LABELS[s]}</h4><pre>{esc(r.text or r.error or '')}</pre><p>{esc(run.verdicts[s].detail)}</p></div>")
        body.append("</div></details>")
    css = "pre{white-space:pre-wrap;background:#f6f6f6;padding:.5em}.note{color:#a60}"
    (out / "report.html").write_text(page("Evaluation", "".join(body), css), encoding="utf-8")
    (out / "summary.json").write_text(json.dumps({"table": table, "thinking_effect": effect, "notes": list(notes)}, indent=2), encoding="utf-8")
    return {"html": out / "report.html", "md": out / "report.md", **charts}


def mark(verdict: Verdict) -> str:
    """One task's verdict for one model, as shown to people."""
    if not verdict.applicable:
        return "n/a"
    return {True: "right", False: "wrong", None: "not scored"}[verdict.correct]

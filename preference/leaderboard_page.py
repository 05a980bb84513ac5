"""The leaderboard as one self-contained HTML page: its tables, a ratings chart and a win-rate chart
(inline SVG; no script, nothing fetched). Every figure comes from `leaderboard.leaderboard`."""

from __future__ import annotations

from documents.html import esc, page, svg
from models.families import LABELS, SIDES

from .leaderboard import HOW_TO_READ, empty_note, friendly, summary_line, tables


def _ratings_chart(board: dict) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ratings = list(reversed(board["ratings"]))
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * len(ratings)), dpi=100)
    ys = range(len(ratings))
    values = [r["rating"] for r in ratings]
    errors = [[r["rating"] - r["ci95"][0] for r in ratings], [r["ci95"][1] - r["rating"] for r in ratings]]
    ax.errorbar(values, ys, xerr=errors, fmt="o", capsize=4, color="#4477aa")
    ax.set_yticks(list(ys), [r["model"] for r in ratings])
    ax.set_xlabel("rating (95% interval)")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return svg(fig)


def _win_rate_chart(board: dict) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g, q = SIDES
    rows = [("all", board["pairs"])] + [(b["value"], b["pairs"]) for key in ("modality", "thinking")
                                        for b in board["breakdown"][key]]
    bars = [(f"{label}: {friendly(p[g], g)} vs {friendly(p[q], q)}", p) for label, pairs in rows for p in pairs]
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.4 * len(bars)), dpi=100)
    for y, (_, p) in enumerate(reversed(bars)):
        rate = p[f"{g}_win_rate"]
        ax.errorbar([rate], [y], xerr=[[rate - p["ci95"][0]], [p["ci95"][1] - rate]], fmt="o", capsize=4, color="#ee6677")
    ax.set_yticks(range(len(bars)), [label for label, _ in reversed(bars)], fontsize=8)
    ax.axvline(0.5, color="#888", linestyle="--", linewidth=1)
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"{LABELS[g]}'s win rate (95% Wilson interval; ties count half)")
    fig.tight_layout()
    return svg(fig)


def to_html(board: dict) -> str:
    parts = ["<h1>Arena leaderboard</h1>", f"<p>{esc(summary_line(board))}</p>", f"<p>{esc(HOW_TO_READ)}</p>"]
    if board["ratings"]:
        parts += [_ratings_chart(board), _win_rate_chart(board)]
    for title, (head, rows) in tables(board).items():
        parts.append(f"<h2>{esc(title)}</h2>")
        if not rows:
            parts.append(f"<p>{esc(empty_note(board, title))}</p>")
            continue
        parts.append("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</table>")
    return page("Arena leaderboard", "\n".join(parts))

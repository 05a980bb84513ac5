"""The leaderboard: what the lasting votes say, with intervals, as JSON, Markdown or a self-contained page.

`leaderboard` computes every number once, as a JSON-ready dict; `to_markdown` and `to_html`
only lay it out, so the app's tab and `python app.py leaderboard` cannot disagree. Ties and
"both bad" count half a win for each side, everywhere. Votes cast on the offline replicas are
left out unless `include_replicas`; what was left out, and why, is part of the result.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path

from documents.html import esc, page, svg
from documents.markdown import esc as md
from documents.intervals import wilson
from models.families import LABELS, SIDES

from .ratings import RESAMPLES, SEED, Outcome, bradley_terry
from .votes import Vote

REPLICAS_LEFT_OUT = "offline replica (counted with --include-replicas)"


def _pairs(votes: list[Vote]) -> list[dict]:
    """Per pair of checkpoints (Gemma's first): votes, wins, ties, losses, Gemma's share with its interval."""
    groups: dict[tuple[str, str], list[Vote]] = defaultdict(list)
    for v in votes:
        groups[(v.sources[SIDES[0]], v.sources[SIDES[1]])].append(v)
    rows = []
    for (first, second), group in sorted(groups.items()):
        share = sum(v.score(SIDES[0]) for v in group)
        low, high = wilson(share, len(group))
        rows.append({
            SIDES[0]: first, SIDES[1]: second, "votes": len(group),
            f"{SIDES[0]}_wins": sum(v.score(SIDES[0]) == 1 for v in group),
            "ties": sum(v.vote == "tie" for v in group),
            "both_bad": sum(v.vote == "both_bad" for v in group),
            f"{SIDES[1]}_wins": sum(v.score(SIDES[1]) == 1 for v in group),
            f"{SIDES[0]}_win_rate": share / len(group), "ci95": [low, high],
        })
    return rows


def _position(votes: list[Vote]) -> dict:
    """How often the left column (Model A) wins the votes that chose one: 0.5 means no lean."""
    decisive = [v for v in votes if v.vote in ("A", "B")]
    left = sum(v.vote == "A" for v in decisive)
    return {"decisive": len(decisive), "left_wins": left, "left_win_rate": left / len(decisive) if decisive else None,
            "ci95": list(wilson(left, len(decisive))) if decisive else None}


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _latency(votes: list[Vote]) -> dict:
    """Median time to first answer token and output tokens of the preferred and the other answer."""
    decisive = [v for v in votes if v.vote in ("A", "B")]
    out = {"decisive": len(decisive)}
    for role, won in (("winners", 1.0), ("losers", 0.0)):
        picked = [(v, k) for v in decisive for k in SIDES if v.score(k) == won]
        out[role] = {
            "median_ttft_answer_s": _median(v.ttft_answer_s[k] for v, k in picked),
            "median_output_tokens": _median(v.output_tokens[k] for v, k in picked),
        }
    return out


def leaderboard(votes: list[Vote], dropped: dict[str, int] | None = None, include_replicas: bool = False) -> dict:
    """Every figure of the leaderboard from `votes` (as read by preference.votes.read_votes)."""
    dropped = dict(dropped or {})
    if not include_replicas:
        replicas = sum(v.replica for v in votes)
        votes = [v for v in votes if not v.replica]
        if replicas:
            dropped[REPLICAS_LEFT_OUT] = replicas
    ratings = bradley_terry(
        [Outcome(v.sources[SIDES[0]], v.sources[SIDES[1]], v.score(SIDES[0])) for v in votes]
    )
    breakdown = {}
    for name, key in (("modality", lambda v: v.modality), ("thinking", lambda v: "on" if v.thinking else "off")):
        groups = defaultdict(list)
        for v in votes:
            groups[key(v)].append(v)
        breakdown[name] = [{"value": value, "votes": len(g), "pairs": _pairs(g)} for value, g in sorted(groups.items())]
    return {
        "votes": len(votes),
        "dropped": dropped,
        "replicas_included": include_replicas,
        "pairs": _pairs(votes),
        "ratings": [
            {"checkpoint": r.player, "rating": r.rating, "ci95": [r.low, r.high], "votes": r.votes} for r in ratings
        ],
        "breakdown": breakdown,
        "position": _position(votes),
        "latency": _latency(votes),
        "bootstrap": {"resamples": RESAMPLES, "seed": SEED},
    }


# --- layout --------------------------------------------------------------------------------


def short(source: str) -> str:
    """A checkpoint as a reader knows it: a hub id or server name as is, a folder by its last part."""
    return Path(source).name if source.startswith(("/", ".", "~")) else source


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _ci(interval) -> str:
    return "no votes" if interval is None else f"{interval[0] * 100:.0f}–{interval[1] * 100:.0f}%"


def _num(value, digits=2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _rows(board: dict) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Each table of the leaderboard as a header and rows of plain text (escaped by the caller)."""
    g, q = SIDES
    pair_head = [LABELS[g], LABELS[q], "votes", f"{LABELS[g]} wins", "ties", "both bad", f"{LABELS[q]} wins",
                 f"{LABELS[g]} win rate (95% CI)"]

    def pair_rows(pairs, prefix=()):
        return [[*prefix, short(p[g]), short(p[q]), str(p["votes"]), str(p[f"{g}_wins"]), str(p["ties"]),
                 str(p["both_bad"]), str(p[f"{q}_wins"]), f"{_pct(p[f'{g}_win_rate'])} ({_ci(p['ci95'])})"]
                for p in pairs]

    position, latency = board["position"], board["latency"]
    return {
        "Ratings (Bradley–Terry, 95% bootstrap interval)": (
            ["checkpoint", "rating", "95% CI", "votes"],
            [[short(r["checkpoint"]), f"{r['rating']:.0f}", f"{r['ci95'][0]:.0f}–{r['ci95'][1]:.0f}", str(r["votes"])]
             for r in board["ratings"]],
        ),
        "Pairs": (pair_head, pair_rows(board["pairs"])),
        "By modality": (["modality", *pair_head],
                        [row for b in board["breakdown"]["modality"] for row in pair_rows(b["pairs"], (b["value"],))]),
        "By thinking": (["thinking", *pair_head],
                        [row for b in board["breakdown"]["thinking"] for row in pair_rows(b["pairs"], (b["value"],))]),
        "Position bias": (
            ["votes that chose a side", "left column (A) won", "left win rate (95% CI)"],
            [[str(position["decisive"]), str(position["left_wins"]),
              f"{_pct(position['left_win_rate'])} ({_ci(position['ci95'])})"]],
        ),
        "Latency next to preference": (
            ["answers", "median time to first answer token (s)", "median output tokens"],
            [[role, _num(latency[role]["median_ttft_answer_s"]), _num(latency[role]["median_output_tokens"], 0)]
             for role in ("winners", "losers")],
        ),
    }


def summary_line(board: dict) -> str:
    dropped = sum(board["dropped"].values())
    reasons = "; ".join(f"{n} {why}" for why, n in board["dropped"].items())
    used = board["votes"]
    return f"{used} vote{'' if used == 1 else 's'} used, {dropped} dropped" + (f" ({reasons})" if reasons else "") + "."


HOW_TO_READ = (
    "Ties and \"both bad\" count half a win for each side. An interval that contains 50% (or ratings whose "
    "intervals overlap) means the votes do not yet say which is preferred. A left win rate away from 50% "
    "means the layout leans: Model A is always the left column, and which model is A is drawn at random."
)


def to_markdown(board: dict) -> str:
    parts = ["# Arena leaderboard", "", md(summary_line(board)), "", md(HOW_TO_READ)]
    for title, (head, rows) in _rows(board).items():
        parts += ["", f"## {title}", ""]
        if not rows:
            parts.append("No votes yet.")
            continue
        parts.append("| " + " | ".join(md(h) for h in head) + " |")
        parts.append("|" + "---|" * len(head))
        parts += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
    return "\n".join(parts) + "\n"


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
    ax.set_yticks(list(ys), [short(r["checkpoint"]) for r in ratings])
    ax.set_xlabel("rating (95% bootstrap interval)")
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
    bars = [(f"{label}: {short(p[g])} vs {short(p[q])}", p) for label, pairs in rows for p in pairs]
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
    for title, (head, rows) in _rows(board).items():
        parts.append(f"<h2>{esc(title)}</h2>")
        if not rows:
            parts.append("<p>No votes yet.</p>")
            continue
        parts.append("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</table>")
    return page("Arena leaderboard", "\n".join(parts))

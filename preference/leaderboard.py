"""The leaderboard: what the lasting votes say, with intervals, as JSON, Markdown or a self-contained page.

`leaderboard` computes every number once, as a JSON-ready dict; `to_json`, `to_markdown` and
`leaderboard_page.to_html` only lay it out, so the app's tab and `python app.py leaderboard` cannot disagree. Ties
and "both bad" count half a win for each side, everywhere. Votes cast on the offline replicas are
left out unless `include_replicas`; what was left out, and why, is part of the result. Beside the
plain ratings: the same ratings controlled for the answers' length and Markdown (preference.ratings),
with each feature's weight and how far each rating moved. A rank counts the checkpoints whose whole
interval lies above this one's, plus one, so checkpoints the votes cannot yet tell apart share a rank.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from pathlib import Path

from documents.markdown import esc as md
from documents.intervals import wilson
from models.families import LABELS, SIDES

from .ratings import RESAMPLES, SEED, Outcome, Rating, bradley_terry, style_controlled
from .votes import STYLE_FEATURES, Vote

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


def _style_difference(vote: Vote) -> tuple[float, ...]:
    """Each style feature as (Gemma's − Qwen's) / (Gemma's + Qwen's): −1 to 1, 0 when both are equal."""
    g, q = (vote.style[k] for k in SIDES)
    return tuple((g[f] - q[f]) / (g[f] + q[f]) if g[f] + q[f] else 0.0 for f in STYLE_FEATURES)


def _rated(ratings: list[Rating], names: dict[str, str]) -> list[dict]:
    return [
        {"rank": 1 + sum(o.low > r.high for o in ratings), "checkpoint": r.player, "model": names.get(r.player, r.player),
         "rating": r.rating, "ci95": [r.low, r.high], "votes": r.votes}
        for r in ratings
    ]


def friendly(source: str, side: str) -> str:
    """A checkpoint as a visitor knows it: its family and its short name, never a server folder."""
    return f"{LABELS[side]} · {short(source)}"


def leaderboard(votes: list[Vote], dropped: dict[str, int] | None = None, include_replicas: bool = False) -> dict:
    """Every figure of the leaderboard from `votes` (as read by preference.votes.read_votes)."""
    dropped = dict(dropped or {})
    if not include_replicas:
        replicas = sum(v.replica for v in votes)
        votes = [v for v in votes if not v.replica]
        if replicas:
            dropped[REPLICAS_LEFT_OUT] = replicas
    names = {v.sources[k]: friendly(v.sources[k], k) for v in votes for k in SIDES}
    g, q = SIDES
    outcomes = [Outcome(v.sources[g], v.sources[q], v.score(g), _style_difference(v)) for v in votes]
    plain = _rated(bradley_terry(outcomes), names)
    controlled_ratings, weights = style_controlled(outcomes, STYLE_FEATURES)
    controlled = _rated(controlled_ratings, names)
    before = {r["checkpoint"]: r["rating"] for r in plain}
    for r in controlled:
        r["moved"] = round(r["rating"] - before[r["checkpoint"]], 1)
    breakdown = {}
    for name, key in (("modality", lambda v: v.modality), ("thinking", lambda v: "on" if v.thinking else "off")):
        groups = defaultdict(list)
        for v in votes:
            groups[key(v)].append(v)
        breakdown[name] = [{"value": value, "votes": len(g), "pairs": _pairs(g)} for value, g in sorted(groups.items())]
    return {
        "votes": len(votes),
        "dropped": dropped,
        "flagged": {"burst": sum(v.burst for v in votes)},
        "replicas_included": include_replicas,
        "pairs": _pairs(votes),
        "ratings": plain,
        "length_controlled": {
            "ratings": controlled,
            "weights": [{"feature": w.feature, "weight": w.weight, "ci95": [w.low, w.high]} for w in weights],
            "unused": [f for f in STYLE_FEATURES if f not in {w.feature for w in weights}],
        },
        "breakdown": breakdown,
        "position": _position(votes),
        "latency": _latency(votes),
        "bootstrap": {"resamples": RESAMPLES, "seed": SEED},
    }


def _finite(value):
    """The board with every NaN or infinity (a hand-edited file can hold them) as null: valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def to_json(board: dict) -> str:
    return json.dumps(_finite(board), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


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


def tables(board: dict) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Each table of the leaderboard as a header and rows of plain text (escaped by the caller)."""
    g, q = SIDES
    pair_head = [LABELS[g], LABELS[q], "votes", f"{LABELS[g]} wins", "ties", "both bad", f"{LABELS[q]} wins",
                 f"{LABELS[g]} win rate (95% CI)"]

    def pair_rows(pairs, prefix=()):
        return [[*prefix, friendly(p[g], g), friendly(p[q], q), str(p["votes"]), str(p[f"{g}_wins"]), str(p["ties"]),
                 str(p["both_bad"]), str(p[f"{q}_wins"]), f"{_pct(p[f'{g}_win_rate'])} ({_ci(p['ci95'])})"]
                for p in pairs]

    position, latency = board["position"], board["latency"]
    return {
        "Ratings (Bradley–Terry, 95% interval)": (
            ["rank", "model", "rating", "95% CI", "votes"],
            [[str(r["rank"]), r["model"], f"{r['rating']:.0f}", f"{r['ci95'][0]:.0f}–{r['ci95'][1]:.0f}", str(r["votes"])]
             for r in board["ratings"]],
        ),
        "Ratings controlled for length and Markdown": (
            ["rank", "model", "rating", "95% CI", "moved"],
            [[str(r["rank"]), r["model"], f"{r['rating']:.0f}", f"{r['ci95'][0]:.0f}–{r['ci95'][1]:.0f}",
              f"{r['moved']:+.0f}"] for r in board["length_controlled"]["ratings"]],
        ),
        "Style weights (Elo points per unit of spread of the difference)": (
            ["feature", "weight", "95% CI"],
            [[w["feature"], f"{w['weight']:+.0f}", f"{w['ci95'][0]:+.0f} to {w['ci95'][1]:+.0f}"]
             for w in board["length_controlled"]["weights"]],
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
    used, bursts = board["votes"], board.get("flagged", {}).get("burst", 0)
    return (f"{used} vote{'' if used == 1 else 's'} used, {dropped} dropped" + (f" ({reasons})" if reasons else "") + "."
            + (f" {bursts} of the votes used came in a burst from one visitor (flagged `burst`)." if bursts else ""))


HOW_TO_READ = (
    "Ties and \"both bad\" count half a win for each side. An interval that contains 50% (or ratings whose "
    "intervals overlap, and so share a rank) means the votes do not yet say which is preferred. The controlled "
    "ratings credit what the answers' length and Markdown explain to those, not to the model; a rating that "
    "moved a lot was partly won by style. A left win rate away from 50% means the layout leans: Model A is "
    "always the left column, and which model is A is drawn at random."
)


def empty_note(board: dict, title: str) -> str:
    if board["votes"] and title.startswith("Style weights"):
        return "None yet: the answers' differences in length and Markdown have not varied across the votes."
    return "No votes yet."


def to_markdown(board: dict) -> str:
    parts = ["# Arena leaderboard", "", md(summary_line(board)), "", md(HOW_TO_READ)]
    for title, (head, rows) in tables(board).items():
        parts += ["", f"## {title}", ""]
        if not rows:
            parts.append(empty_note(board, title))
            continue
        parts.append("| " + " | ".join(md(h) for h in head) + " |")
        parts.append("|" + "---|" * len(head))
        parts += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
    return "\n".join(parts) + "\n"

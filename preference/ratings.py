"""Bradley–Terry ratings from pairwise votes, with intervals that hold at any number of votes,
and the same ratings controlled for the answers' style (length and Markdown structure).

A vote between checkpoints i and j scores 1 for the one preferred, 0 for the other, and a half
for each on a tie or "both bad", as Chatbot Arena counts them. The model: P(i preferred to j)
= p_i / (p_i + p_j). It is fitted by maximum likelihood (Newton's method), with a prior of one
virtual tie against a reference of strength 1 for every player, so a checkpoint that
never won (or never lost) gets a finite rating; with more than a handful of votes the prior
barely moves anything. Ratings are shown on the Elo scale (400 points = 10:1 odds), centred on
RATING_CENTRE.

Intervals: the hull of two 95% intervals. One comes from resampling the votes (a multinomial
draw over the distinct outcomes, the same as drawing votes with replacement) and refitting:
RESAMPLES fits, a fixed seed, so the same votes always give the same numbers. The bootstrap is
right with many votes and wrong with few: when every vote has the same outcome (1 vote, 3–0, all
ties) every resample is that same data set and its interval has zero width. The other is the
posterior's own normal approximation at the fit (its curvature, prior included), which is never
zero wide and is what the data say when there is almost none. With a few dozen votes the two
agree and the hull is the bootstrap's.

Style control (LMArena's): the same fit with covariates, each the normalised difference of the
two answers in one feature ((a − b) / (a + b), scaled to unit spread across the votes): answer
length and Markdown structure (headers, list items, bold). A vote that favours the longer
answer, whatever the model, is then credited to length, not to the model that writes longer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATING_CENTRE = 1000.0
ELO_SCALE = 400.0 / np.log(10.0)  # natural-log strength to Elo points
PRIOR_TIES = 1.0
STYLE_PRIOR = 1.0  # precision of a normal prior on each style weight (per unit spread): weak, keeps few votes finite
RESAMPLES = 1000
SEED = 0
MAX_ITERATIONS = 100
TOLERANCE = 1e-9
Z95 = 1.959964


@dataclass(frozen=True)
class Outcome:
    """One vote between two players: `score` is what `first` earned (1, 0.5 or 0); `style`, where
    style is controlled, holds one normalised difference (first's answer against second's) per feature."""

    first: str
    second: str
    score: float
    style: tuple[float, ...] = ()


@dataclass(frozen=True)
class Rating:
    player: str
    rating: float
    low: float  # 95% interval (module docstring)
    high: float
    votes: int


@dataclass(frozen=True)
class Weight:
    """A style feature's weight: Elo points for one unit of spread of its difference, with its 95% interval."""

    feature: str
    weight: float
    low: float
    high: float


def _fit(players: int, i: np.ndarray, j: np.ndarray, score: np.ndarray, weight: np.ndarray,
         x: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-strengths (centred on 0) and style weights from votes (i, j, score for i, style
    differences x), each counted `weight` times, and the posterior's standard deviation of each.

    Newton's method on the log-posterior (concave, and strictly so with the priors), which
    converges in a few steps where the textbook minorise–maximise iteration takes thousands.
    """
    k = 0 if x is None else x.shape[1]
    theta, beta = np.zeros(players), np.zeros(k)
    for _ in range(MAX_ITERATIONS):
        eta = theta[i] - theta[j] + (x @ beta if k else 0.0)
        q = 1.0 / (1.0 + np.exp(-eta))  # P(i preferred to j)
        r = weight * (score - q)
        v = weight * q * (1 - q)
        prior = 1.0 / (1.0 + np.exp(-theta))  # the virtual tie against a reference of strength 1
        hessian = np.zeros((players + k, players + k))  # minus the log-posterior's
        hessian[:players, :players] = np.diag(PRIOR_TIES * prior * (1 - prior))
        np.add.at(hessian, (i, i), v)
        np.add.at(hessian, (j, j), v)
        np.add.at(hessian, (i, j), -v)
        np.add.at(hessian, (j, i), -v)
        gradient = np.concatenate([np.bincount(i, r, players) - np.bincount(j, r, players) + PRIOR_TIES * (0.5 - prior),
                                   x.T @ r - STYLE_PRIOR * beta if k else []])
        if k:
            cross = np.zeros((players, k))
            np.add.at(cross, i, v[:, None] * x)
            np.add.at(cross, j, -v[:, None] * x)
            hessian[:players, players:] = cross
            hessian[players:, :players] = cross.T
            hessian[players:, players:] = (x * v[:, None]).T @ x + STYLE_PRIOR * np.eye(k)
        step = np.linalg.solve(hessian, gradient)
        theta += step[:players]
        beta += step[players:]
        if np.max(np.abs(step)) < TOLERANCE:
            break
    covariance = np.linalg.inv(hessian)
    centre = np.eye(players) - 1.0 / players  # the ratings are shown centred
    sd_theta = np.sqrt(np.clip(np.diag(centre @ covariance[:players, :players] @ centre.T), 0, None))
    sd_beta = np.sqrt(np.clip(np.diag(covariance[players:, players:]), 0, None))
    return theta - theta.mean(), beta, np.concatenate([sd_theta, sd_beta])


def _fits(outcomes: list[Outcome], players: list[str], style: bool, resamples: int, seed: int):
    """The estimate, each parameter's 95% interval (hull of bootstrap and posterior) and each player's votes."""
    index = {p: n for n, p in enumerate(players)}
    # The distinct outcomes and how often each happened (with style, nearly every vote is its own).
    cells: dict[tuple, int] = {}
    for o in outcomes:
        key = (index[o.first], index[o.second], float(o.score), o.style if style else ())
        cells[key] = cells.get(key, 0) + 1
    i, j, score = (np.array([c[n] for c in cells]) for n in range(3))
    x = np.array([c[3] for c in cells], dtype=float) if style else None
    counts = np.array(list(cells.values()), dtype=float)
    theta, beta, sd = _fit(len(players), i, j, score, counts, x)
    estimate = np.concatenate([theta, beta])
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(outcomes), counts / counts.sum(), size=resamples)
    samples = np.array([np.concatenate(_fit(len(players), i, j, score, d.astype(float), x)[:2]) for d in draws])
    low, high = np.percentile(samples, [2.5, 97.5], axis=0)
    low, high = np.minimum(low, estimate - Z95 * sd), np.maximum(high, estimate + Z95 * sd)
    votes = np.bincount(i, counts, len(players)) + np.bincount(j, counts, len(players))
    return estimate, low, high, votes


def bradley_terry(outcomes: list[Outcome], resamples: int = RESAMPLES, seed: int = SEED) -> list[Rating]:
    """Each player's rating with its 95% interval and vote count, best first."""
    ratings, _ = _ratings(outcomes, (), resamples, seed)
    return ratings


def style_controlled(outcomes: list[Outcome], features: tuple[str, ...], resamples: int = RESAMPLES,
                     seed: int = SEED) -> tuple[list[Rating], list[Weight]]:
    """Ratings with the answers' style as covariates (each Outcome's `style`, one value per feature),
    and each feature's weight in Elo points per unit of spread (only the features that varied)."""
    return _ratings(outcomes, features, resamples, seed)


def _ratings(outcomes, features, resamples, seed) -> tuple[list[Rating], list[Weight]]:
    players = sorted({o.first for o in outcomes} | {o.second for o in outcomes})
    if not players:
        return [], []
    if features:  # to unit spread (not centred: a difference's sign says which answer it favours)
        spread = np.array([o.style for o in outcomes], dtype=float).std(axis=0)
        used = spread > 0  # a feature in which no two answers differed says nothing: left out
        features = tuple(f for f, u in zip(features, used) if u)
        outcomes = [Outcome(o.first, o.second, o.score, tuple(np.asarray(o.style)[used] / spread[used]))
                    for o in outcomes]
    estimate, low, high, votes = _fits(outcomes, players, bool(features), resamples, seed)
    n = len(players)
    ratings = [
        Rating(p, _elo(estimate[m]), _elo(low[m]), _elo(high[m]), int(votes[m])) for m, p in enumerate(players)
    ]
    weights = [Weight(f, _points(estimate[n + m]), _points(low[n + m]), _points(high[n + m]))
               for m, f in enumerate(features)]
    return sorted(ratings, key=lambda r: -r.rating), weights


def _elo(log_strength: float) -> float:
    return round(float(RATING_CENTRE + ELO_SCALE * log_strength), 1)


def _points(log_odds: float) -> float:
    return round(float(ELO_SCALE * log_odds), 1)

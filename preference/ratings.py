"""Bradley–Terry ratings from pairwise votes, with bootstrap intervals.

A vote between checkpoints i and j scores 1 for the one preferred, 0 for the other, and a half
for each on a tie or "both bad", as Chatbot Arena counts them. The model: P(i preferred to j)
= p_i / (p_i + p_j). It is fitted by maximum likelihood (Newton's method), with a prior of one
virtual tie against a reference of strength 1 for every player, so a checkpoint that
never won (or never lost) gets a finite rating; with more than a handful of votes the prior
barely moves anything. Ratings are shown on the Elo scale (400 points = 10:1 odds), centred on
RATING_CENTRE.

Intervals come from resampling the votes (a multinomial draw over the distinct outcomes, which
is the same as drawing votes with replacement) and refitting: RESAMPLES fits, a fixed seed, so
the same votes always give the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATING_CENTRE = 1000.0
ELO_SCALE = 400.0 / np.log(10.0)  # natural-log strength to Elo points
PRIOR_TIES = 1.0
RESAMPLES = 1000
SEED = 0
MAX_ITERATIONS = 100
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Outcome:
    """One vote between two players: `score` is what `first` earned (1, 0.5 or 0)."""

    first: str
    second: str
    score: float


@dataclass(frozen=True)
class Rating:
    player: str
    rating: float
    low: float  # 95% bootstrap interval
    high: float
    votes: int


def _fit(players: int, i: np.ndarray, j: np.ndarray, score: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Log-strengths from votes (i, j, score for i), each counted `weight` times, centred on 0.

    Newton's method on the log-likelihood (concave, and strictly so with the prior), which
    converges in a few steps where the textbook minorise–maximise iteration takes thousands.
    """
    theta = np.zeros(players)
    for _ in range(MAX_ITERATIONS):
        q = 1.0 / (1.0 + np.exp(theta[j] - theta[i]))  # P(i preferred to j)
        r = weight * (score - q)
        v = weight * q * (1 - q)
        prior = 1.0 / (1.0 + np.exp(-theta))  # the virtual tie against a reference of strength 1
        gradient = np.bincount(i, r, players) - np.bincount(j, r, players) + PRIOR_TIES * (0.5 - prior)
        hessian = np.diag(PRIOR_TIES * prior * (1 - prior))
        np.add.at(hessian, (i, i), v)
        np.add.at(hessian, (j, j), v)
        np.add.at(hessian, (i, j), -v)
        np.add.at(hessian, (j, i), -v)
        step = np.linalg.solve(hessian, gradient)  # hessian here is minus the log-likelihood's
        theta += step
        if np.max(np.abs(step)) < TOLERANCE:
            break
    return theta - theta.mean()


def bradley_terry(outcomes: list[Outcome], resamples: int = RESAMPLES, seed: int = SEED) -> list[Rating]:
    """Each player's rating with its 95% bootstrap interval and vote count, best first."""
    players = sorted({o.first for o in outcomes} | {o.second for o in outcomes})
    if not players:
        return []
    index = {p: n for n, p in enumerate(players)}
    # The distinct (first, second, score) outcomes and how often each happened.
    cells: dict[tuple[int, int, float], int] = {}
    for o in outcomes:
        key = (index[o.first], index[o.second], float(o.score))
        cells[key] = cells.get(key, 0) + 1
    i, j, score = (np.array(c) for c in zip(*cells))
    counts = np.array(list(cells.values()), dtype=float)
    estimate = _fit(len(players), i, j, score, counts)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(outcomes), counts / counts.sum(), size=resamples)
    samples = np.array([_fit(len(players), i, j, score, d.astype(float)) for d in draws])
    low, high = np.percentile(samples, [2.5, 97.5], axis=0)
    votes = np.bincount(i, counts, len(players)) + np.bincount(j, counts, len(players))
    ratings = [
        Rating(p, _elo(estimate[n]), _elo(low[n]), _elo(high[n]), int(votes[n])) for n, p in enumerate(players)
    ]
    return sorted(ratings, key=lambda r: -r.rating)


def _elo(log_strength: float) -> float:
    return round(float(RATING_CENTRE + ELO_SCALE * log_strength), 1)

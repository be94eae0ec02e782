"""The comparative-judgement model: Bradley–Terry scores from "A beat B" judgements.

A pure module (numbers in, numbers out; no database), so it can be tested against an
independent implementation and timed on its own (bench/bradley_terry_bench.py).

    fit(pairs, ids=None, penalty=DEFAULT_PENALTY) -> Fit

`pairs` is an iterable of (winner id, loser id); `ids` adds scripts that have no judgement
yet. Ids are any hashable values (script ids). The result holds, per id, the score (a
logit: a script 1 point above another wins against it 73 % of the time, the scores averaging
0), its standard error, the script's infit, and the scale separation reliability (SSR) of the
whole set.

The estimate maximises the Bradley–Terry likelihood with a weak Gaussian prior on the scores
(`penalty` · Σ score², the same objective as `choix.opt_pairwise(alpha=penalty)`), so a script
that won or lost every comparison still gets a finite score and standard error rather than
±∞. Newton's method with a backtracking line search; the standard errors come from the
inverse of the Hessian at the optimum.

    judge_infit(judgements, fit) -> {judge: infit}
    split_half(judgements, ids=None, repeats=4, seed=0) -> mean correlation, or None

`judgements` is an iterable of (judge, winner id, loser id).
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# Weak enough to shift scores by about 1 % at 10 judgements a script; strong enough to keep
# a script that won (or lost) everything at a finite score.
DEFAULT_PENALTY = 0.01
MAX_ITERATIONS = 100
TOLERANCE = 1e-10


@dataclass(frozen=True)
class Fit:
    """The fitted scale. Dicts are keyed by script id, in the order the ids were first seen."""

    scores: dict[Hashable, float]
    standard_errors: dict[Hashable, float]
    infit: dict[Hashable, float | None]  # None: the script has no judgement yet
    ssr: float | None  # None: fewer than two scripts, or no spread at all
    judgements: int
    iterations: int

    def probability(self, a: Hashable, b: Hashable) -> float:
        """The model's chance that `a` is judged better than `b`."""
        return float(1.0 / (1.0 + np.exp(self.scores[b] - self.scores[a])))


def _index(pairs: Sequence[tuple[Hashable, Hashable]], ids: Iterable[Hashable] | None) -> dict[Hashable, int]:
    index: dict[Hashable, int] = {}
    for script in ids or ():
        index.setdefault(script, len(index))
    for winner, loser in pairs:
        if winner == loser:
            raise ValueError(f"A script cannot be judged against itself ({winner!r}).")
        index.setdefault(winner, len(index))
        index.setdefault(loser, len(index))
    return index


def _objective(theta: np.ndarray, won: np.ndarray, lost: np.ndarray, penalty: float) -> float:
    return float(np.logaddexp(0.0, theta[lost] - theta[won]).sum() + penalty * (theta**2).sum())


def _fit_arrays(n: int, won: np.ndarray, lost: np.ndarray, penalty: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Scores and the Hessian at the optimum for n scripts, the winners and losers of each judgement (indices)."""
    theta = np.zeros(n)
    diagonal = np.concatenate([won * n + won, lost * n + lost])
    off = np.concatenate([won * n + lost, lost * n + won])
    hessian = 2 * penalty * np.eye(n)
    iterations = 0
    while iterations < MAX_ITERATIONS:
        iterations += 1
        p = 1.0 / (1.0 + np.exp(theta[lost] - theta[won]))  # chance the winner wins
        residual = 1.0 - p
        gradient = 2 * penalty * theta - np.bincount(won, residual, n) + np.bincount(lost, residual, n)
        v = p * residual
        hessian = 2 * penalty * np.eye(n)
        hessian += (np.bincount(diagonal, np.tile(v, 2), n * n) - np.bincount(off, np.tile(v, 2), n * n)).reshape(n, n)
        step = np.linalg.solve(hessian, gradient)
        current = _objective(theta, won, lost, penalty)
        t = 1.0
        while t > 1e-8 and _objective(theta - t * step, won, lost, penalty) > current + 1e-12:
            t /= 2
        theta = theta - t * step
        if np.max(np.abs(t * step)) < TOLERANCE:
            break
    return theta, hessian, iterations


def fit(
    pairs: Iterable[tuple[Hashable, Hashable]],
    ids: Iterable[Hashable] | None = None,
    *,
    penalty: float = DEFAULT_PENALTY,
) -> Fit:
    """Fit the Bradley–Terry model to (winner, loser) pairs; see the module's docstring."""
    if penalty <= 0:
        raise ValueError("The penalty must be positive, or a script that won everything has no finite score.")
    pairs = list(pairs)
    index = _index(pairs, ids)
    n = len(index)
    if n == 0:
        return Fit({}, {}, {}, None, 0, 0)
    won = np.fromiter((index[a] for a, _ in pairs), dtype=np.int64, count=len(pairs))
    lost = np.fromiter((index[b] for _, b in pairs), dtype=np.int64, count=len(pairs))
    theta, hessian, iterations = _fit_arrays(n, won, lost, penalty)
    se = np.sqrt(np.diag(np.linalg.inv(hessian)))
    # Infit: the information-weighted mean square of the residuals, per script (1 = as the
    # model expects; well above 1 = judges disagree about it).
    p = 1.0 / (1.0 + np.exp(theta[lost] - theta[won]))
    squared = (1.0 - p) ** 2
    information = p * (1.0 - p)
    residuals = np.bincount(won, squared, n) + np.bincount(lost, squared, n)
    informations = np.bincount(won, information, n) + np.bincount(lost, information, n)
    ids_in_order = list(index)
    infit = {
        script: (float(residuals[i] / informations[i]) if informations[i] > 0 else None)
        for i, script in enumerate(ids_in_order)
    }
    return Fit(
        scores={script: float(theta[i]) for i, script in enumerate(ids_in_order)},
        standard_errors={script: float(se[i]) for i, script in enumerate(ids_in_order)},
        infit=infit,
        ssr=separation_reliability(theta, se),
        judgements=len(pairs),
        iterations=iterations,
    )


def separation_reliability(
    scores: Sequence[float] | np.ndarray, standard_errors: Sequence[float] | np.ndarray
) -> float | None:
    """Scale separation reliability: the share of the scores' observed variance that is not
    measurement error, (variance − mean squared standard error) / variance, at least 0.
    None with fewer than two scores or none spread."""
    scores = np.asarray(scores, dtype=float)
    if scores.size < 2:
        return None
    variance = float(np.var(scores, ddof=1))
    if variance <= 0:
        return None
    error = float(np.mean(np.asarray(standard_errors, dtype=float) ** 2))
    return max(0.0, (variance - error) / variance)


def judge_infit(judgements: Iterable[tuple[Hashable, Hashable, Hashable]], result: Fit) -> dict[Hashable, float]:
    """Per judge, the information-weighted mean square of their judgements' residuals under the
    fitted scale: about 1 for a judge who agrees with the consensus, well above 1 for one who
    often picks the script the others rate lower."""
    squared: dict[Hashable, float] = {}
    information: dict[Hashable, float] = {}
    for judge, winner, loser in judgements:
        p = result.probability(winner, loser)
        squared[judge] = squared.get(judge, 0.0) + (1.0 - p) ** 2
        information[judge] = information.get(judge, 0.0) + p * (1.0 - p)
    return {judge: squared[judge] / information[judge] for judge in squared if information[judge] > 0}


def split_half(
    judgements: Iterable[tuple[Hashable, Hashable, Hashable]],
    ids: Iterable[Hashable] | None = None,
    *,
    repeats: int = 4,
    seed: int = 0,
    penalty: float = DEFAULT_PENALTY,
) -> float | None:
    """Split-half reliability: the judges are split at random into two halves, each half's
    judgements are fitted on their own, and the two sets of scores are correlated (Pearson,
    over every script); the mean over `repeats` random splits. None with fewer than two
    judges or three scripts."""
    judgements = list(judgements)
    judges = sorted({judge for judge, _, _ in judgements}, key=repr)
    scripts = list(_index([(a, b) for _, a, b in judgements], ids))
    if len(judges) < 2 or len(scripts) < 3:
        return None
    chooser = random.Random(seed)
    correlations = []
    for _ in range(repeats):
        shuffled = judges[:]
        chooser.shuffle(shuffled)
        first = set(shuffled[: len(shuffled) // 2])
        halves = [
            fit([(a, b) for judge, a, b in judgements if (judge in first) == side], scripts, penalty=penalty)
            for side in (True, False)
        ]
        x = np.array([halves[0].scores[s] for s in scripts])
        y = np.array([halves[1].scores[s] for s in scripts])
        if np.std(x) == 0 or np.std(y) == 0:
            continue
        correlations.append(float(np.corrcoef(x, y)[0, 1]))
    return float(np.mean(correlations)) if correlations else None

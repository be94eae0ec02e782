"""Which two scripts a comparative-judgement judge sees next, and how far a session has got.

A pure module (ids in, ids out; no database), beside the model it feeds
(classroom/bradley_terry.py), timed in bench/pairing_bench.py.

    next_pair(scripts, judgements, judge, *, rng, target=10, random_rounds=4,
              exclude=(), sides=None, scale=None) -> (left, right) or None

`scripts` are the session's script ids (any hashable values, in a stable order);
`judgements` are the judgements so far as (judge, winner id, loser id), the same triples
`bradley_terry.split_half` and `judge_infit` take; `judge` is the judge asking. The rules:

- A judge never sees the same pair twice, in either order.
- The script with the fewest judgements (by any judge) goes first; ties are broken at random.
- The random start: while that script has fewer than `random_rounds` judgements, its partner
  is drawn at random from the scripts with the fewest judgements.
- Then adaptive: the partner is drawn at random with a chance proportional to the information
  the comparison carries, p(1 − p) with p the chance that one beats the other (largest, ¼, when
  the two are level), plus a small floor so that far-apart scripts are still sometimes
  compared and the design stays connected. Partners still below the target are preferred, so
  a session of n scripts reaches the target in about n · target / 2 judgements.
- p comes from the current scores shrunk towards 0 by the current SSR (an empirical-Bayes
  shrinkage: the share of the scores' spread that is not noise). Adaptive pairing on raw
  scores inflates the SSR, even for judges who toss a coin (Bramley 2015): pairing on early
  luck makes luck look like separation. Shrunk, scores that are mostly noise give near-random
  pairing, and pairing becomes adaptive only as the scale becomes real. In simulation
  (tests/test_pairing.py) coin-flip judges then keep an SSR near 0 rather than 0.4–0.7.
- Left and right: the script shown on the left less often (by `sides`, see `side_balance`)
  goes on the left; a tie is settled at random.
- `exclude`: scripts this judge must not see (a pupil judge's own class).

It returns None when every script the judge may see has reached the target, or when the
judge has seen every pair still worth showing.

The current scores (adaptive phase only) come from `scale`, a `bradley_terry.Fit` the caller
may cache, or, when `scale` is None, from a fresh fit of all the judgements. A fit of 200
scripts and 2,000 judgements takes about 5 ms (a call without it, 0.3 ms), so refitting on
every request is affordable at department scale; for larger sessions cache the fit and refit
only every N judgements:

    scale = current_scale(scripts, judgements, cached=scale, every=20)

returns `cached` while fewer than `every` judgements have been added since it was fitted
(`Fit.judgements` records how many it saw), else a new fit. Scores a few judgements stale
are harmless here: they only steer which partner is likely, never which pairs are allowed.
Scripts the cached fit has not seen count as average (score 0). The 5 ms is on one BLAS
thread: numpy's default of a thread per core, in web workers that already share the cores,
makes a fit ten times slower or worse (bench/pairing_bench.py; OPENBLAS_NUM_THREADS=1).

    progress(scripts, judgements, target=10) -> Progress

how far the session has got: judgements made, judgements the session needs in all
(n · target / 2, rounded up) and still needs at least, scripts at the target.

Concurrency is the caller's: two judges asking at the same moment are both given pairs from
the same counts, so a script can end a judgement or two over the target.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from classroom.bradley_terry import Fit, fit

DEFAULT_TARGET = 10  # judgements per script: the figure the research recommends
DEFAULT_RANDOM_ROUNDS = 4  # judgements per script paired at random before pairing adapts
DEFAULT_REFIT_EVERY = 20
# Added to every partner's information weight (at most 0.25, for a level pair), so a partner
# far off on the scale is still drawn now and then and no part of the scale is cut off.
INFORMATION_FLOOR = 0.01

Judgement = tuple[Hashable, Hashable, Hashable]  # (judge, winner, loser)


@dataclass(frozen=True)
class Progress:
    """How far a judging session has got."""

    scripts: int
    made: int  # judgements made so far
    needed: int  # judgements the session needs in all: scripts · target / 2, rounded up
    remaining: int  # judgements still needed, at least
    at_target: int  # scripts with at least `target` judgements

    @property
    def complete(self) -> bool:
        return self.remaining == 0

    @property
    def fraction(self) -> float:
        """The share of the work done, from 0 to 1."""
        done = self.made + self.remaining
        return 1.0 if done == 0 else min(1.0, self.made / done)


def side_balance(shown: Iterable[tuple[Hashable, Hashable]]) -> dict[Hashable, int]:
    """Per script, the times it was shown on the left minus the times on the right, from the
    (left, right) pairs as shown; the `sides` that `next_pair` balances."""
    balance: dict[Hashable, int] = {}
    for left, right in shown:
        balance[left] = balance.get(left, 0) + 1
        balance[right] = balance.get(right, 0) - 1
    return balance


def current_scale(
    scripts: Iterable[Hashable],
    judgements: Sequence[Judgement],
    *,
    cached: Fit | None = None,
    every: int = DEFAULT_REFIT_EVERY,
) -> Fit:
    """`cached` while fewer than `every` judgements have been added since it was fitted, else
    a new Bradley–Terry fit of all the judgements (see the module's docstring)."""
    if cached is not None and 0 <= len(judgements) - cached.judgements < every:
        return cached
    return fit([(winner, loser) for _, winner, loser in judgements], scripts)


def _counts(scripts: Sequence[Hashable], judgements: Iterable[Judgement]) -> dict[Hashable, int]:
    counts = dict.fromkeys(scripts, 0)
    for _, winner, loser in judgements:
        if winner in counts:
            counts[winner] += 1
        if loser in counts:
            counts[loser] += 1
    return counts


def next_pair(
    scripts: Sequence[Hashable],
    judgements: Sequence[Judgement],
    judge: Hashable,
    *,
    rng: random.Random,
    target: int = DEFAULT_TARGET,
    random_rounds: int = DEFAULT_RANDOM_ROUNDS,
    exclude: Collection[Hashable] = (),
    sides: Mapping[Hashable, int] | None = None,
    scale: Fit | None = None,
) -> tuple[Hashable, Hashable] | None:
    """The next pair for `judge` to compare, as (left, right), or None; see the module's docstring."""
    if target < 1:
        raise ValueError("The target must be at least one judgement a script.")
    excluded = set(exclude)
    eligible = list(dict.fromkeys(s for s in scripts if s not in excluded))
    if len(eligible) < 2:
        return None
    counts = _counts(eligible, judgements)
    # The partners this judge has already compared each script with (eligible scripts only).
    seen: dict[Hashable, set[Hashable]] = {}
    for who, winner, loser in judgements:
        if who == judge and winner in counts and loser in counts:
            seen.setdefault(winner, set()).add(loser)
            seen.setdefault(loser, set()).add(winner)
    others = len(eligible) - 1
    short = [s for s in eligible if counts[s] < target and len(seen.get(s, ())) < others]
    if not short:
        return None
    fewest = min(counts[s] for s in short)
    first = rng.choice([s for s in short if counts[s] == fewest])
    partners = [s for s in eligible if s != first and s not in seen.get(first, ())]
    below = [s for s in partners if counts[s] < target]
    partners = below or partners  # over the target only when nothing below it is left
    if counts[first] < random_rounds:
        least = min(counts[s] for s in partners)
        second = rng.choice([s for s in partners if counts[s] == least])
    else:
        if scale is None:
            scale = current_scale(scripts, judgements)
        shrink = scale.ssr or 0.0
        mine = scale.scores.get(first, 0.0)
        weights = []
        for s in partners:
            p = 1.0 / (1.0 + math.exp(shrink * (scale.scores.get(s, 0.0) - mine)))
            weights.append(p * (1.0 - p) + INFORMATION_FLOOR)
        second = rng.choices(partners, weights)[0]
    balance = sides or {}
    first_side, second_side = balance.get(first, 0), balance.get(second, 0)
    if first_side < second_side or (first_side == second_side and rng.random() < 0.5):
        return first, second
    return second, first


def progress(scripts: Sequence[Hashable], judgements: Iterable[Judgement], target: int = DEFAULT_TARGET) -> Progress:
    """How far the session has got; see the module's docstring. Judgements of scripts no
    longer in `scripts` count as made but not towards any script."""
    judgements = list(judgements)
    counts = _counts(list(dict.fromkeys(scripts)), judgements)
    shortfalls = [max(0, target - c) for c in counts.values()]
    # Each judgement serves two scripts, but a lone script short of the target needs its own.
    remaining = max(math.ceil(sum(shortfalls) / 2), max(shortfalls, default=0))
    return Progress(
        scripts=len(counts),
        made=len(judgements),
        needed=math.ceil(len(counts) * target / 2),
        remaining=remaining,
        at_target=sum(1 for c in counts.values() if c >= target),
    )

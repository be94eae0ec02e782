"""Choosing comparative-judgement pairs (classroom/pairing.py), with simulated judges."""

import itertools
import math
import random

import numpy as np
import pytest
from threadpoolctl import threadpool_limits  # installed with scikit-learn (requirements-dev.txt)

from classroom.bradley_terry import fit
from classroom.pairing import current_scale, next_pair, progress, side_balance

SCRIPTS = 200
TARGET = 10
SPREAD = 3.0  # SD of the true qualities, in logits
NOISE = 0.5  # SD of a judge's misreading of a script's quality, per judgement, in logits


@pytest.fixture(autouse=True)
def one_blas_thread():
    """A 200 × 200 solve on two BLAS threads competing with other work is about ten times
    slower than on one, and the simulations below fit the scale 100 times each."""
    with threadpool_limits(1):
        yield


def session(seed, *, coin=False, judges=8, exclude=None, scripts=SCRIPTS, target=TARGET, refit_every=10):
    """A whole judging session: judges ask for pairs from `next_pair` until it has none left.

    Each script has a true quality drawn from N(0, SPREAD). A judge perceives each script of
    a pair as its quality + N(0, NOISE), then picks the left one with the Bradley–Terry chance
    1 / (1 + e^(right − left)) on what they perceived; a coin-flip judge picks either with
    chance ½. The scale is refitted every `refit_every` judgements, as a caller caching the
    fit would. Returns the truth, the judgements (judge, winner, loser) and the pairs as shown."""
    rng = random.Random(seed)
    truth = [rng.gauss(0, SPREAD) for _ in range(scripts)]
    ids = list(range(scripts))
    judgements, shown = [], []
    sides: dict = {}
    scale = None
    while True:
        judge = rng.randrange(judges)
        scale = current_scale(ids, judgements, cached=scale, every=refit_every)
        pair = next_pair(
            ids,
            judgements,
            judge,
            rng=rng,
            target=target,
            exclude=(exclude or {}).get(judge, ()),
            sides=sides,
            scale=scale,
        )
        if pair is None:
            return truth, judgements, shown
        left, right = pair
        shown.append((judge, left, right))
        sides[left] = sides.get(left, 0) + 1
        sides[right] = sides.get(right, 0) - 1
        if coin:
            p = 0.5
        else:
            p = 1 / (1 + math.exp((truth[right] + rng.gauss(0, NOISE)) - (truth[left] + rng.gauss(0, NOISE))))
        judgements.append((judge, left, right) if rng.random() < p else (judge, right, left))


def spearman(x, y):
    return float(np.corrcoef(np.argsort(np.argsort(x)), np.argsort(np.argsort(y)))[0, 1])


def assert_sound_design(judgements, shown, scripts=SCRIPTS, target=TARGET):
    """Every script at the target; no judge saw a pair twice; left and right balanced to ±2."""
    counts = progress(range(scripts), judgements, target)
    assert counts.at_target == scripts and counts.complete
    assert len(judgements) <= math.ceil(scripts * target / 2) + 5
    pairs = [(judge, frozenset((a, b))) for judge, a, b in shown]
    assert len(set(pairs)) == len(pairs)
    assert max(abs(v) for v in side_balance((a, b) for _, a, b in shown).values()) <= 2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_judges_following_the_model_give_a_reliable_scale_that_matches_the_truth(seed):
    """The issue's bar: 200 scripts, 10 judgements a script (1,000 in all), 8 judges, true
    qualities N(0, 3) logits, each judge misreading each script by N(0, 0.5) per judgement
    and then choosing with the Bradley–Terry chance, pairs from `next_pair` (4 random rounds,
    then adaptive, the scale refitted every 10 judgements) → Spearman with the truth ≥ 0.90
    and SSR ≥ 0.80.

    Adaptive pairing is known to inflate the SSR (Bramley 2015), so the correlation with the
    truth, which pairing cannot inflate, is the check that matters; the coin-flip test below
    checks the inflation. Measured over seeds 1–10 at this setting: Spearman 0.898–0.939
    (mean 0.927), SSR 0.87–0.90; with random pairing throughout, Spearman 0.917 and SSR 0.76
    on average, so adaptivity buys a little accuracy and a lot of SSR. The spread matters more
    than the pairing: at a true SD of 2.5 the mean Spearman is 0.91, at 2 it is 0.89 (NMM's
    published scales have an SD about 2, measurement error included)."""
    truth, judgements, shown = session(seed)
    assert len(judgements) == SCRIPTS * TARGET // 2
    assert_sound_design(judgements, shown)
    result = fit([(w, lo) for _, w, lo in judgements], range(SCRIPTS))
    assert spearman([result.scores[i] for i in range(SCRIPTS)], truth) >= 0.90
    assert result.ssr >= 0.80


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_coin_flip_judges_give_a_low_reliability_despite_adaptive_pairing(seed):
    """Judges who toss a coin: the SSR stays ≤ 0.20. Pairing on unshrunk scores gives
    0.4–0.7 here (the inflation Bramley 2015 found)."""
    _, judgements, shown = session(seed, coin=True)
    assert_sound_design(judgements, shown)
    assert fit([(w, lo) for _, w, lo in judgements], range(SCRIPTS)).ssr <= 0.20


def test_pairing_adapts_after_the_random_start():
    """Once every script has 4 judgements, pairs are closer in true quality than random ones
    (about 0.7 of the random gap over seeds 1–10; random pairing throughout gives 1)."""
    truth, judgements, _ = session(5)
    gaps = [abs(truth[a] - truth[b]) for _, a, b in judgements]
    start = SCRIPTS * 4 // 2
    random_gap = np.mean(gaps[:start])
    assert random_gap == pytest.approx(SPREAD * 2 / math.sqrt(math.pi), rel=0.15)  # E|X − Y| for two N(0, SD)
    assert np.mean(gaps[start:]) < 0.8 * random_gap


def test_excluded_scripts_are_never_shown_and_the_rest_reach_the_target():
    """Pupil judges in four classes of 15 scripts each, none shown their own class's."""
    classes = {judge: set(range(judge * 15, judge * 15 + 15)) for judge in range(4)}
    truth, judgements, shown = session(8, judges=4, exclude=classes, scripts=60)
    assert not [1 for judge, a, b in shown if a in classes[judge] or b in classes[judge]]
    assert_sound_design(judgements, shown, scripts=60)


def test_a_judge_never_sees_a_pair_twice_and_is_told_when_none_is_left():
    rng = random.Random(0)
    scripts = ["a", "b", "c", "d", "e"]
    judgements = []
    while (pair := next_pair(scripts, judgements, "solo", rng=rng, target=100)) is not None:
        judgements.append(("solo", *pair))
    assert sorted(tuple(sorted(p)) for _, *p in judgements) == list(itertools.combinations(scripts, 2))
    # Another judge may still see those pairs.
    assert next_pair(scripts, judgements, "other", rng=rng, target=100) is not None


def test_the_scripts_with_fewest_judgements_come_first():
    judgements = [("t", "a", "b"), ("t", "a", "c"), ("t", "b", "c")]
    for seed in range(20):
        pair = next_pair(["a", "b", "c", "d", "e"], judgements, "u", rng=random.Random(seed))
        assert set(pair) == {"d", "e"}  # in the random start, the partner has the fewest too


def test_none_once_every_script_has_reached_the_target():
    judgements = [("t", "a", "b"), ("t", "b", "c"), ("t", "c", "a")]
    assert next_pair(["a", "b", "c"], judgements, "u", rng=random.Random(0), target=2) is None
    assert next_pair(["a", "b", "c"], judgements, "u", rng=random.Random(0), target=3) is not None
    assert next_pair(["a", "b"], [], "u", rng=random.Random(0), exclude={"a"}) is None
    with pytest.raises(ValueError):
        next_pair(["a", "b"], [], "u", rng=random.Random(0), target=0)


def test_the_script_shown_on_the_left_less_often_goes_on_the_left():
    for seed in range(10):
        pair = next_pair(["a", "b"], [], "u", rng=random.Random(seed), sides={"a": 2, "b": -1})
        assert pair == ("b", "a")
    assert side_balance([("a", "b"), ("a", "c"), ("c", "a")]) == {"a": 1, "b": -1, "c": 0}


def test_the_same_seed_gives_the_same_session():
    assert session(4, scripts=40)[1] == session(4, scripts=40)[1]


def test_a_cached_scale_is_reused_until_enough_judgements_are_added():
    judgements = [("t", i, i + 1) for i in range(9)]
    scale = current_scale(range(10), judgements)
    assert scale.judgements == 9
    more = judgements + [("t", 0, 9)] * 5
    assert current_scale(range(10), more, cached=scale, every=6) is scale
    assert current_scale(range(10), more, cached=scale, every=5).judgements == 14
    assert current_scale(range(10), judgements[:5], cached=scale, every=5).judgements == 5  # fewer: refit


def test_progress_by_hand():
    judgements = [("t", "a", "b"), ("t", "a", "c"), ("t", "b", "c"), ("t", "a", "gone")]
    result = progress(["a", "b", "c", "d"], judgements, target=3)
    # a has 3, b 2, c 2, d 0: short by 0 + 1 + 1 + 3 = 5 → at least 3 more (d needs 3 on its own)
    assert (result.scripts, result.made, result.needed, result.remaining, result.at_target) == (4, 4, 6, 3, 1)
    assert result.fraction == pytest.approx(4 / 7) and not result.complete
    assert progress([], [], 10).complete and progress([], [], 10).fraction == 1.0

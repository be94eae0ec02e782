"""The comparative-judgement model (classroom/bradley_terry.py), checked against choix."""

import random

import choix
import numpy as np
import pytest

from classroom.bradley_terry import DEFAULT_PENALTY, fit, judge_infit, separation_reliability, split_half


def simulated(n, rounds, spread, seed, judges=6):
    """Random pairs, each script in `rounds` judgements, judges following the model."""
    rng = random.Random(seed)
    truth = [rng.gauss(0, spread) for _ in range(n)]
    judgements = []
    for _ in range(rounds):
        order = list(range(n))
        rng.shuffle(order)
        for a, b in zip(order[::2], order[1::2], strict=True):
            p = 1 / (1 + np.exp(truth[b] - truth[a]))
            winner, loser = (a, b) if rng.random() < p else (b, a)
            judgements.append((f"judge-{rng.randrange(judges)}", winner, loser))
    return truth, judgements


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scores_agree_with_choix(seed):
    _, judgements = simulated(60, 10, 1.5, seed)
    pairs = [(wi, lo) for _, wi, lo in judgements]
    ours = fit(pairs, range(60))
    theirs = choix.opt_pairwise(60, pairs, alpha=DEFAULT_PENALTY)
    assert max(abs(ours.scores[i] - theirs[i]) for i in range(60)) < 1e-3
    assert abs(sum(ours.scores.values())) < 1e-6  # the scale is centred on 0


def test_a_script_that_won_everything_gets_a_finite_score_above_the_rest():
    pairs = [("best", other) for other in "abcde"] + [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "a")]
    result = fit(pairs)
    assert np.isfinite(result.scores["best"]) and np.isfinite(result.standard_errors["best"])
    assert result.scores["best"] == max(result.scores.values())
    assert result.standard_errors["best"] > result.standard_errors["a"]  # less is known about it


def test_more_judgements_give_smaller_standard_errors():
    _, few = simulated(40, 4, 1.5, 7)
    _, many = simulated(40, 16, 1.5, 7)
    few_se = np.mean(list(fit([(wi, lo) for _, wi, lo in few], range(40)).standard_errors.values()))
    many_se = np.mean(list(fit([(wi, lo) for _, wi, lo in many], range(40)).standard_errors.values()))
    assert many_se < few_se * 0.7


def test_coin_flip_judges_give_a_low_reliability():
    rng = random.Random(5)
    _, judgements = simulated(200, 10, 2.0, 5)
    pairs = [(wi, lo) if rng.random() < 0.5 else (lo, wi) for _, wi, lo in judgements]
    assert fit(pairs, range(200)).ssr <= 0.2


def test_judges_following_the_model_give_a_reliable_scale():
    truth, judgements = simulated(200, 10, 3.0, 11)
    result = fit([(wi, lo) for _, wi, lo in judgements], range(200))
    ranks = np.argsort(np.argsort([result.scores[i] for i in range(200)]))
    true_ranks = np.argsort(np.argsort(truth))
    assert np.corrcoef(ranks, true_ranks)[0, 1] >= 0.90
    assert split_half(judgements, range(200)) > 0.6


def test_a_judge_who_always_picks_the_weaker_script_misfits():
    truth, judgements = simulated(80, 12, 2.0, 3, judges=5)
    contrary = [
        ("contrary", lo, wi) if truth[wi] > truth[lo] else ("contrary", wi, lo) for _, wi, lo in judgements[:60]
    ]
    both = judgements + contrary
    result = fit([(wi, lo) for _, wi, lo in both], range(80))
    infit = judge_infit(both, result)
    assert infit["contrary"] > 2 * max(value for judge, value in infit.items() if judge != "contrary")


def test_separation_reliability_by_hand():
    # variance of (−1, 0, 1) is 1 (ddof 1); mean squared error 0.25 → (1 − 0.25) / 1
    assert separation_reliability([-1, 0, 1], [0.5, 0.5, 0.5]) == pytest.approx(0.75)
    assert separation_reliability([0.0], [0.1]) is None
    assert separation_reliability([-0.1, 0.1], [1, 1]) == 0.0


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        fit([("a", "a")])
    with pytest.raises(ValueError):
        fit([("a", "b")], penalty=0)
    assert fit([]).scores == {}
    assert fit([], ["a"]).infit == {"a": None}

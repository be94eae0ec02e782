"""Suggested marks from a comparative-judgement scale and anchors (classroom/anchoring.py)."""

import math
import random

import numpy as np
import pytest

from classroom.anchoring import (
    Anchor,
    AnchoringError,
    Band,
    CriterionScale,
    anchor,
    place_mark,
)


def scale(criterion, bands, *, is_spag=False, max_marks=None):
    """A criterion from (number, low, high) bands; level ids are "<criterion>-L<number>"."""
    made = tuple(Band(f"{criterion}-L{number}", number, low, high) for number, low, high in bands)
    top = max((high for _, _, high in bands), default=0)
    return CriterionScale(criterion, top if max_marks is None else max_marks, made, is_spag)


# An analytic scheme: two content criteria and SPaG, bands without gaps.
A = scale("A", [(1, 1, 5), (2, 6, 10), (3, 11, 15), (4, 16, 20)])
B = scale("B", [(1, 1, 4), (2, 5, 8), (3, 9, 12)])
SPAG = scale("S", [(1, 1, 1), (2, 2, 3), (3, 4, 4)], is_spag=True)

# AQA-style: one holistic content grid and SPaG.
AQA = scale("AO1+AO2", [(1, 1, 4), (2, 5, 8), (3, 9, 12), (4, 13, 16)])
AQA_SPAG = scale("SPaG", [(1, 1, 1), (2, 2, 3), (3, 4, 4)], is_spag=True)


def valid(criteria, scores):
    """The rule classroom.models.validate_scores applies, re-implemented: every criterion has a
    (level, marks); no level means 0 marks; a level must be one of its criterion's, with the
    marks inside its band."""
    if set(scores) != {c.criterion for c in criteria}:
        return False
    for criterion in criteria:
        level, marks = scores[criterion.criterion]
        if level is None:
            if marks != 0:
                return False
            continue
        band = next((b for b in criterion.bands if b.level == level), None)
        if band is None or not band.low <= marks <= band.high:
            return False
    return True


def on_a_line(xs, lines):
    """Anchors at scores `xs` whose marks per criterion are intercept + slope · x exactly."""
    return [Anchor(f"anchor-{i}", {c: round(a + b * x) for c, (a, b) in lines.items()}) for i, x in enumerate(xs)]


# --- placing a predicted mark in a band ------------------------------------------------------


def test_a_mark_inside_a_band_takes_that_band_rounding_half_up():
    assert place_mark(7.2, A) == (A.bands[1], 7)
    assert place_mark(5.5, A) == (A.bands[1], 6)  # half up, into the next band
    assert place_mark(0.5, A) == (A.bands[0], 1)
    assert place_mark(0.49, A) == (None, 0)


def test_clamping_at_zero_and_at_the_maximum():
    assert place_mark(-3.7, A) == (None, 0)
    assert place_mark(23.4, A) == (A.bands[3], 20)


def test_zero_is_no_level_unless_a_band_starts_at_zero():
    assert place_mark(0.0, A) == (None, 0)
    from_zero = scale("Z", [(1, 0, 2), (2, 3, 5)])
    assert place_mark(0.0, from_zero) == (from_zero.bands[0], 0)
    assert place_mark(-1.0, from_zero) == (from_zero.bands[0], 0)


def test_a_mark_in_a_gap_goes_to_the_nearest_band_edge_and_halfway_to_the_lower_top():
    gappy = scale("G", [(1, 1, 3), (2, 7, 9)], max_marks=12)
    assert place_mark(4.0, gappy) == (gappy.bands[0], 3)
    assert place_mark(6.0, gappy) == (gappy.bands[1], 7)
    assert place_mark(5.0, gappy) == (gappy.bands[0], 3)  # halfway: the lower band's top
    assert place_mark(11.0, gappy) == (gappy.bands[1], 9)  # above every band: the top band's top
    assert place_mark(12.0, gappy) == (gappy.bands[1], 9)


def test_a_mark_below_the_lowest_band_but_above_zero_goes_to_the_band():
    from_two = scale("T", [(1, 2, 4), (2, 5, 8)])
    assert place_mark(1.0, from_two) == (from_two.bands[0], 2)
    assert place_mark(0.4, from_two) == (None, 0)


def test_bands_in_any_order_and_a_criterion_without_levels():
    shuffled = CriterionScale("R", 8, (Band("hi", 2, 5, 8), Band("lo", 1, 1, 4)))
    assert place_mark(3.0, shuffled)[0].level == "lo"
    assert place_mark(6.0, shuffled)[0].level == "hi"
    assert place_mark(3.0, CriterionScale("E", 0, ())) == (None, 0)


def test_a_band_outside_the_criterion_is_refused():
    with pytest.raises(ValueError, match="not inside 0–10"):
        CriterionScale("X", 10, (Band("x", 1, 5, 12),))


# --- the lines --------------------------------------------------------------------------------


def test_anchors_on_a_line_are_recovered_exactly():
    xs = [-1.5, 0.0, 1.0, 2.5]
    lines = {"A": (8.0, 4.0), "B": (6.0, 2.0), "S": (2.0, 0.0)}  # whole marks at every x above
    scores = {f"anchor-{i}": x for i, x in enumerate(xs)} | {"new": 0.5}
    result = anchor(scores, dict.fromkeys(scores, 0.0), on_a_line(xs, lines), [A, B, SPAG])
    assert result.slope == pytest.approx(6.0)
    assert result.intercept == pytest.approx(14.0)
    assert result.residual_sd == 0.0
    assert result.correlation == pytest.approx(1.0)
    assert result.disagreements == dict.fromkeys(result.anchors, 0.0)
    for criterion, (a, b) in lines.items():
        assert result.lines[criterion].slope == pytest.approx(b)
        assert result.lines[criterion].intercept == pytest.approx(a)
    new = result.suggestions["new"]
    assert [c.expected for c in new.criteria] == pytest.approx([10.0, 7.0, 2.0])
    assert [c.marks for c in new.criteria] == [10, 7, 2]
    assert new.total == 17 and new.spag == 2
    assert new.standard_error == 0.0 and (new.low, new.high) == (17, 17)
    assert all(c.standard_error == 0.0 for c in new.criteria)
    for agreed in on_a_line(xs, lines):  # each anchor gets its own marks back
        assert result.suggestions[agreed.script].scores() == {
            c.criterion: (place_mark(agreed.marks[c.criterion], c)[0].level, agreed.marks[c.criterion])
            for c in (A, B, SPAG)
        }


def test_predictions_are_clamped_but_expected_is_not():
    lines = {"A": (8.0, 4.0), "B": (6.0, 2.0), "S": (2.0, 0.0)}
    scores = {"anchor-0": 0.0, "anchor-1": 1.0, "weak": -5.0, "strong": 5.0}
    result = anchor(scores, dict.fromkeys(scores, 0.0), on_a_line([0.0, 1.0], lines), [A, B, SPAG])
    weak, strong = result.suggestions["weak"], result.suggestions["strong"]
    assert weak.criteria[0].expected == pytest.approx(-12.0)
    assert weak.scores() == {"A": (None, 0), "B": (None, 0), "S": ("S-L2", 2)}
    assert weak.total == 0 and weak.level_number is None
    assert strong.criteria[0].expected == pytest.approx(28.0)
    assert strong.scores() == {"A": ("A-L4", 20), "B": ("B-L3", 12), "S": ("S-L2", 2)}
    assert strong.total == 32 and strong.high == 32  # the range stops at the content maximum


def test_spag_is_kept_apart_from_the_total():
    lines = {"A": (8.0, 4.0), "B": (6.0, 2.0), "S": (3.0, -1.0)}  # SPaG may even fall
    xs = [0.0, 1.0, 2.0]
    scores = {f"anchor-{i}": x for i, x in enumerate(xs)} | {"new": 1.0}
    with_spag = anchor(scores, dict.fromkeys(scores, 0.0), on_a_line(xs, lines), [A, B, SPAG])
    assert with_spag.slope == pytest.approx(6.0)
    new = with_spag.suggestions["new"]
    assert (new.total, new.spag) == (12 + 8, 2)
    assert new.expected == pytest.approx(20.0)
    without = anchor(scores, dict.fromkeys(scores, 0.0), on_a_line(xs, lines), [A, B])
    assert without.suggestions["new"].spag is None
    assert without.suggestions["new"].total == new.total
    assert without.slope == with_spag.slope


def noisy_session(seed, anchors=8, scripts=20):
    """Scores and anchors with marks scattered about lines, for three content criteria and SPaG."""
    rng = random.Random(seed)
    c1 = scale("C1", [(1, 1, 6), (2, 7, 12), (3, 13, 18)])
    c2 = scale("C2", [(1, 1, 4), (2, 5, 8)])
    c3 = scale("C3", [(1, 1, 2), (2, 3, 4), (3, 5, 6)])
    criteria = [c1, c2, SPAG, c3]
    scores = {f"s{i}": rng.gauss(0, 1.5) for i in range(scripts)}
    errors = {script: rng.uniform(0.2, 0.6) for script in scores}
    centres = {"C1": (9, 3), "C2": (4, 1.5), "S": (2, 0.7), "C3": (3, 1)}
    made = []
    for script in list(scores)[:anchors]:
        marks = {}
        for criterion in criteria:
            a, b = centres[criterion.criterion]
            mark = round(a + b * scores[script] + rng.gauss(0, 1))
            marks[criterion.criterion] = min(max(mark, 0), criterion.max_marks)
        made.append(Anchor(script, marks))
    return scores, errors, made, criteria


def test_the_criteria_lines_add_up_to_the_line_of_the_total():
    scores, errors, anchors, criteria = noisy_session(3)
    result = anchor(scores, errors, anchors, criteria)
    x = np.array([scores[a.script] for a in anchors])
    totals = np.array([sum(a.marks[c] for c in ("C1", "C2", "C3")) for a in anchors])
    slope, intercept = np.polyfit(x, totals, 1)
    assert result.slope == pytest.approx(slope) and result.intercept == pytest.approx(intercept)
    for criterion in criteria:  # each criterion's own least-squares line
        own = np.polyfit(x, [a.marks[criterion.criterion] for a in anchors], 1)
        assert [result.lines[criterion.criterion].slope, result.lines[criterion.criterion].intercept] == pytest.approx(
            own
        )
    content = ("C1", "C2", "C3")
    assert sum(result.lines[c].slope for c in content) == pytest.approx(slope)
    assert sum(result.lines[c].intercept for c in content) == pytest.approx(intercept)
    residuals = totals - (intercept + slope * x)
    assert result.residual_sd == pytest.approx(math.sqrt((residuals**2).sum() / (len(anchors) - 2)))
    assert result.correlation == pytest.approx(np.corrcoef(x, totals)[0, 1])
    for suggestion in result.suggestions.values():
        content_expected = [c.expected for c in suggestion.criteria if c.criterion in content]
        assert sum(content_expected) == pytest.approx(suggestion.expected)
        assert suggestion.total == sum(c.marks for c in suggestion.criteria if c.criterion in content)


def test_anchors_not_on_the_scale_are_ignored():
    scores, errors, anchors, criteria = noisy_session(4)
    stranger = Anchor("not judged", {c.criterion: c.max_marks for c in criteria})
    with_stranger = anchor(scores, errors, [*anchors, stranger], criteria)
    assert with_stranger.anchors == tuple(a.script for a in anchors)
    assert with_stranger.slope == anchor(scores, errors, anchors, criteria).slope
    assert "not judged" not in with_stranger.suggestions


# --- standard errors and ranges ------------------------------------------------------------


def test_the_standard_error_grows_away_from_the_anchors_and_with_the_scripts_own_error():
    scores, errors, anchors, criteria = noisy_session(5)
    x = np.array([scores[a.script] for a in anchors])
    mean, sxx, n = x.mean(), ((x - x.mean()) ** 2).sum(), len(anchors)
    probes = {"centre": mean, "near": mean + 1, "far": mean + 3, "far below": mean - 3, "unsure": mean + 1}
    probe_errors = dict.fromkeys(probes, 0.0) | {"unsure": 0.5}
    result = anchor(scores | probes, errors | probe_errors, anchors, criteria)
    se = {name: result.suggestions[name].standard_error for name in probes}
    assert result.residual_sd > 0
    assert se["centre"] < se["near"] < se["far"]
    assert se["far below"] > se["near"]
    assert se["unsure"] > se["near"]
    for name, x0 in probes.items():
        expected = math.sqrt(
            result.slope**2 * probe_errors[name] ** 2 + result.residual_sd**2 * (1 + 1 / n + (x0 - mean) ** 2 / sxx)
        )
        assert se[name] == pytest.approx(expected)
        line = result.lines["C1"]
        c1 = result.suggestions[name].criteria[0]
        assert c1.standard_error == pytest.approx(
            math.sqrt(
                line.slope**2 * probe_errors[name] ** 2 + line.residual_sd**2 * (1 + 1 / n + (x0 - mean) ** 2 / sxx)
            )
        )


def test_with_two_anchors_only_the_scripts_own_error_counts():
    lines = {"A": (8.0, 4.0), "B": (6.0, 2.0), "S": (2.0, 0.0)}
    scores = {"anchor-0": 0.0, "anchor-1": 1.0, "new": 3.0}
    result = anchor(scores, {"anchor-0": 0.3, "anchor-1": 0.3, "new": 0.5}, on_a_line([0.0, 1.0], lines), [A, B, SPAG])
    assert result.residual_sd == 0.0
    assert result.suggestions["new"].standard_error == pytest.approx(6.0 * 0.5)


def test_the_95_percent_range_covers_the_true_total_about_95_percent_of_the_time():
    """200 simulated sessions of 30 scripts: true quality θ ~ N(0, 1.5); true marks
    round(15 + 3θ + N(0, 1.5)), out of 30; the judges' scores θ + N(0, se) with se between 0.3
    and 0.6; eight scripts at random are anchors with their true marks. The range of each other
    script should hold its true mark about 95 % of the time."""
    criterion = scale("C", [(k, 6 * k - 5, 6 * k) for k in range(1, 6)])
    covered = counted = 0
    for seed in range(200):
        rng = random.Random(seed)
        quality = [rng.gauss(0, 1.5) for _ in range(30)]
        truth = [min(30, max(0, round(15 + 3 * q + rng.gauss(0, 1.5)))) for q in quality]
        errors = {i: rng.uniform(0.3, 0.6) for i in range(30)}
        scores = {i: quality[i] + rng.gauss(0, errors[i]) for i in range(30)}
        chosen = rng.sample(range(30), 8)
        result = anchor(scores, errors, [Anchor(i, {"C": truth[i]}) for i in chosen], [criterion])
        for i in set(range(30)) - set(chosen):
            suggestion = result.suggestions[i]
            covered += suggestion.low <= truth[i] <= suggestion.high
            counted += 1
    assert 0.90 <= covered / counted <= 0.99


def test_the_main_criterion_and_its_level_range():
    big = scale("Big", [(1, 1, 5), (2, 6, 10), (3, 11, 15), (4, 16, 20)])
    same = scale("Same", [(1, 1, 10), (2, 11, 20)])  # as many marks as Big
    scores, errors, anchors, _ = noisy_session(6)
    anchors = [Anchor(a.script, {"Big": a.marks["C1"], "Same": a.marks["C1"], "S": a.marks["S"]}) for a in anchors]
    for criteria, main in (([same, SPAG, big], 0), ([SPAG, big, same], 1)):  # the first of equals
        result = anchor(scores, errors, anchors, criteria)
        levels = set()
        for suggestion in result.suggestions.values():
            chosen = suggestion.criteria[main]
            assert suggestion.level_number == chosen.level_number
            low, _ = place_mark(chosen.expected - 1.96 * chosen.standard_error, criteria[main])
            high, _ = place_mark(chosen.expected + 1.96 * chosen.standard_error, criteria[main])
            assert suggestion.level_low == (low and low.number)
            assert suggestion.level_high == (high and high.number)
            assert (suggestion.level_low or 0) <= (suggestion.level_number or 0) <= (suggestion.level_high or 0)
            levels.add(suggestion.level_number or 0)
        assert max(levels) == (2 if main == 0 else 4)  # the levels are the main criterion's


# --- errors ------------------------------------------------------------------------------------


SCORES = {"a": -1.0, "b": 0.0, "c": 1.0}
ERRORS = dict.fromkeys(SCORES, 0.3)


def marked(script, a, b=3, s=2):
    return Anchor(script, {"A": a, "B": b, "S": s})


def test_no_anchors():
    with pytest.raises(AnchoringError, match=r"No script .* has agreed marks yet\. At least two scripts"):
        anchor(SCORES, ERRORS, [], [A, B, SPAG])


def test_one_anchor_and_one_not_on_the_scale():
    with pytest.raises(AnchoringError, match=r"Only 1 script .* far apart on the judges' scale"):
        anchor(SCORES, ERRORS, [marked("a", 4), marked("elsewhere", 12)], [A, B, SPAG])


def test_anchors_with_equal_scores():
    scores = SCORES | {"twin": -1.0}
    with pytest.raises(AnchoringError, match=r"The 2 scripts with agreed marks all have the same place"):
        anchor(scores, ERRORS | {"twin": 0.3}, [marked("a", 4), marked("twin", 12)], [A, B, SPAG])


def test_marks_falling_as_the_scale_rises():
    with pytest.raises(AnchoringError, match=r"do not rise with the judges' scale.*Check the agreed marks"):
        anchor(SCORES, ERRORS, [marked("a", 15), marked("b", 9), marked("c", 4)], [A, B, SPAG])


def test_flat_totals_are_refused_even_if_spag_rises():
    with pytest.raises(AnchoringError, match="do not rise"):
        anchor(SCORES, ERRORS, [marked("a", 8, s=1), marked("c", 8, s=4)], [A, B, SPAG])


def test_bad_agreed_marks_and_schemes():
    with pytest.raises(AnchoringError, match="leave out a criterion"):
        anchor(SCORES, ERRORS, [marked("a", 4), Anchor("c", {"A": 12, "B": 3})], [A, B, SPAG])
    with pytest.raises(AnchoringError, match="agreed mark of 21 on a criterion marked out of 20"):
        anchor(SCORES, ERRORS, [marked("a", 4), marked("c", 21)], [A, B, SPAG])
    with pytest.raises(AnchoringError, match="two sets of agreed marks"):
        anchor(SCORES, ERRORS, [marked("a", 4), marked("c", 12), marked("a", 5)], [A, B, SPAG])
    with pytest.raises(AnchoringError, match="no criteria apart from SPaG"):
        anchor(SCORES, ERRORS, [marked("a", 4), marked("c", 12)], [SPAG])
    with pytest.raises(ValueError, match="no standard error"):
        anchor(SCORES, {"a": 0.3}, [marked("a", 4), marked("c", 12)], [A, B, SPAG])


# --- disagreements ---------------------------------------------------------------------------


def test_an_anchor_far_off_the_line_is_flagged():
    rng = random.Random(8)
    xs = [-2.0 + 0.4 * i for i in range(10)]
    scores = {f"anchor-{i}": x for i, x in enumerate(xs)}
    marks = [round(10 + 3 * x + rng.choice([-1, 0, 1])) for x in xs]
    marks[4] += 9  # planted: the judges put it near the middle, the agreed mark near the top
    anchors = [Anchor(f"anchor-{i}", {"A": m, "B": 0, "S": 0}) for i, m in enumerate(marks)]
    result = anchor(scores, dict.fromkeys(scores, 0.3), anchors, [A, B, SPAG])
    assert result.disagreements["anchor-4"] > 2
    assert all(abs(z) < 2 for script, z in result.disagreements.items() if script != "anchor-4")
    assert result.flagged == ("anchor-4",)
    predicted = result.intercept + result.slope * scores["anchor-4"]
    se = result.suggestions["anchor-4"].standard_error
    assert result.disagreements["anchor-4"] == pytest.approx((marks[4] - predicted) / se)


def test_with_seven_anchors_or_fewer_none_can_be_flagged():
    """The documented limit: a far-off anchor widens the residual SD it is measured by."""
    wide = CriterionScale("W", 100, (Band("w", 1, 1, 100),))
    for n, flagged in ((7, False), (8, True)):
        marks = [10 + 4 * i for i in range(n)]
        marks[n // 2] += 60
        anchors = [Anchor(i, {"W": m}) for i, m in enumerate(marks)]
        result = anchor({i: 0.5 * i for i in range(n)}, dict.fromkeys(range(n), 0.0), anchors, [wide])
        assert bool(result.flagged) is flagged


# --- every suggestion is a valid mark --------------------------------------------------------


def random_scheme(rng):
    """One to three content criteria and maybe SPaG, with random bands: gaps, a band from 0."""
    criteria = []
    for k in range(rng.randint(1, 3) + 1):
        is_spag = k == 0
        if is_spag and rng.random() < 0.5:
            continue
        bands, low = [], rng.choice([0, 1, 1, 2])
        for number in range(1, rng.randint(1, 5) + 1):
            high = low + rng.randint(0, 4)
            bands.append((number, low, high))
            low = high + 1 + rng.choice([0, 0, 1, 3])  # sometimes a gap
        top = bands[-1][2]
        criteria.append(scale(f"K{k}", bands, is_spag=is_spag, max_marks=top + rng.choice([0, 0, 2])))
    rng.shuffle(criteria)
    return criteria


@pytest.mark.parametrize("seed", range(40))
def test_every_suggestion_is_a_mark_validate_scores_accepts(seed):
    rng = random.Random(seed)
    criteria = random_scheme(rng)
    content_max = sum(c.max_marks for c in criteria if not c.is_spag)
    scores = {i: rng.gauss(0, 2) for i in range(25)}
    errors = {i: rng.uniform(0, 1) for i in scores}
    # Six anchors whose marks never fall as the scores rise, from nothing to full marks.
    chosen = sorted(rng.sample(range(25), 6), key=scores.__getitem__)
    columns = {c.criterion: [0, *sorted(rng.randint(0, c.max_marks) for _ in range(4)), c.max_marks] for c in criteria}
    anchors = [Anchor(script, {c: column[k] for c, column in columns.items()}) for k, script in enumerate(chosen)]
    result = anchor(scores, errors, anchors, criteria)
    assert set(result.suggestions) == set(scores)
    for suggestion in result.suggestions.values():
        assert valid(criteria, suggestion.scores())
        assert 0 <= suggestion.low <= suggestion.total <= suggestion.high <= content_max
        assert all(
            0 <= c.marks <= next(k.max_marks for k in criteria if k.criterion == c.criterion)
            for c in suggestion.criteria
        )


# --- a realistic scheme ----------------------------------------------------------------------


def test_an_aqa_style_scheme():
    """AO1+AO2 out of 16 in four levels of four marks, and SPaG out of 4 (1; 2–3; 4)."""
    scores = {"top": 2.4, "upper": 1.0, "middle": 0.1, "lower": -1.2, "bottom": -2.5, "unmarked": 0.6}
    errors = dict.fromkeys(scores, 0.4)
    agreed = {"top": (15, 4), "upper": (11, 3), "middle": (8, 2), "lower": (5, 2), "bottom": (1, 0)}
    anchors = [Anchor(s, {"AO1+AO2": content, "SPaG": spag}) for s, (content, spag) in agreed.items()]
    result = anchor(scores, errors, anchors, [AQA, AQA_SPAG])
    assert result.anchors == tuple(agreed)
    assert result.correlation > 0.99
    assert result.slope == pytest.approx(result.lines["AO1+AO2"].slope)
    assert not result.flagged
    unmarked = result.suggestions["unmarked"]
    assert 9 <= unmarked.total <= 10 and unmarked.level_number == 3
    assert unmarked.spag in (2, 3)
    assert unmarked.scores()["AO1+AO2"] == ("AO1+AO2-L3", unmarked.total)
    assert unmarked.level_low is not None and unmarked.level_low <= 3 <= unmarked.level_high
    assert unmarked.low < unmarked.total < unmarked.high
    bottom = result.suggestions["bottom"]
    assert bottom.total in (0, 1, 2) and bottom.level_number in (None, 1)
    for suggestion in result.suggestions.values():
        assert valid([AQA, AQA_SPAG], suggestion.scores())
        assert 0 <= suggestion.low <= suggestion.high <= 16
    far_below = anchor(scores | {"blank": -6.0}, errors | {"blank": 0.4}, anchors, [AQA, AQA_SPAG])
    assert far_below.suggestions["blank"].scores() == {"AO1+AO2": (None, 0), "SPaG": (None, 0)}

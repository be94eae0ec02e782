"""Suggested marks from a comparative-judgement scale and a few scripts with agreed marks.

A pure module (numbers in, numbers out; no database), beside the scale it reads
(classroom/bradley_terry.py).

    anchor(scores, standard_errors, anchors, criteria) -> Anchoring

`scores` and `standard_errors` are a judging session's Bradley–Terry scores (logits) and
their standard errors, per script id. `anchors` are the scripts whose marks have been agreed
(`Anchor`: marks per criterion id, for every criterion of the scheme) and `criteria` describe
the mark scheme (`CriterionScale`: each criterion's maximum, its level bands, and whether it
is SPaG). Every script on the scale, the anchors included, gets a `Suggestion`: a level and a
mark per criterion, a suggested total with its standard error and a 95 % range, and the level
range of the scheme's main criterion. Ids are any hashable values.

The method:

- One straight line per criterion: ordinary least squares of the anchors' agreed marks on
  their scores. Least squares is linear in the marks, so the content (non-SPaG) criteria's
  lines add up exactly to the line of the content total, and the criteria's predictions add
  up (before rounding) to the predicted total. SPaG has a line of its own and stays out of the
  total, as it does in a teacher's mark. Anchors that are not on the scale are ignored. Two
  anchors with different scores are the fewest that fix a line, and the content total must
  rise with the scale: if it does not, the anchors contradict the judges and no line is drawn.
- The standard error of a prediction for a script with score x and score standard error s,
  for criterion c with slope b_c:

      sqrt(b_c² · s² + σ_c² · (1 + 1/n + (x − x̄)² / Sxx))

  the judges' uncertainty about the script's place on the scale carried through the line,
  plus the usual error of predicting from a fitted line: σ_c is the anchors' residual standard
  deviation about it (n − 2 degrees of freedom; 0 with two anchors, which any line fits), and
  the error grows away from the anchors' mean score x̄ (Sxx = Σ(x − x̄)² over the n anchors).
  The total's standard error is the same with the total's own line and residual standard
  deviation (the criteria's errors are correlated, so theirs do not simply add).
- Marks: the prediction is clamped to 0..the criterion's maximum, rounded half up and put in
  a band, so that every suggestion is one `validate_scores` accepts (`place_mark`): the band
  that contains it; 0 with no band containing 0 is "no level" (no rewardable material); a mark
  between two bands goes to the nearest band edge (halfway: the lower band's top); a mark above
  every band goes to the top band's top.
- The total is the sum of the content criteria's marks; its 95 % range is the total ± 1.96
  standard errors, rounded and clamped to 0..the content maximum. The level range is that of
  the main criterion (the content criterion with the most marks, e.g. AQA's AO1+AO2 grid):
  its prediction ± 1.96 of its standard errors, each end placed as above.
- Disagreements: per anchor, its agreed total minus the line's prediction, in standard errors
  of that prediction (a z-score). The page flags |z| > 2 (`FLAG_Z`): an anchor the judges
  place differently from its agreed marks.

Limits. An anchor far off the line also widens σ: no residual can exceed
sqrt((n − 2)(1 − h)) · σ, with h = 1/n + (x − x̄)²/Sxx ≥ 1/n, so |z| stays below
sqrt((n − 2)(n − 1)/(n + 1)), and with seven anchors or fewer no anchor can be flagged,
however far off it is. The anchors' own scores carry the judges' error too, so their scatter
about the line already holds some of it and the b²·s² term counts it again: when the anchors'
score standard errors are like the script's, the 95 % range is on the wide side (in the
simulation in tests/test_anchoring.py, eight anchors among 30 scripts, it holds the true total
96 % of the time; 98 % with fifteen anchors).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Z95 = 1.96  # a normal 95 % range is the estimate ± 1.96 standard errors
FLAG_Z = 2.0  # an anchor this many standard errors off the line disagrees with the judges
SPREAD = 1e-9  # anchors' scores (logits) closer than this count as the same place on the scale
EXACT = 1e-9  # residuals (marks) smaller than this are rounding error: the anchor is on the line


class AnchoringError(ValueError):
    """Suggested marks cannot be worked out; the message is for teachers, as it stands."""


@dataclass(frozen=True)
class Band:
    """One level of a criterion: the Level's id, its number (1 = lowest) and its mark band."""

    level: Hashable
    number: int
    low: int  # min_marks
    high: int  # max_marks


@dataclass(frozen=True)
class CriterionScale:
    """One criterion of a mark scheme: its id, maximum, levels (any order) and whether it is SPaG."""

    criterion: Hashable
    max_marks: int
    bands: tuple[Band, ...]
    is_spag: bool = False

    def __post_init__(self) -> None:
        if self.max_marks < 0:
            raise ValueError(f"Criterion {self.criterion!r} has a negative maximum ({self.max_marks}).")
        for band in self.bands:
            if not 0 <= band.low <= band.high <= self.max_marks:
                raise ValueError(
                    f"Level {band.number} of criterion {self.criterion!r} has the band {band.low}–{band.high}, "
                    f"which is not inside 0–{self.max_marks}."
                )


@dataclass(frozen=True)
class Anchor:
    """A script with agreed marks: criterion id -> marks, for every criterion of the scheme."""

    script: Hashable
    marks: Mapping[Any, int]  # Any, not Hashable: Mapping's keys are invariant, so dict[int, int] would not do


@dataclass(frozen=True)
class Line:
    """A criterion's (or the total's) line, marks = intercept + slope · score, and the anchors'
    residual standard deviation about it (0 with two anchors)."""

    slope: float
    intercept: float
    residual_sd: float


@dataclass(frozen=True)
class CriterionSuggestion:
    criterion: Hashable
    level: Hashable | None  # Band.level, or None: no level (no rewardable material, 0 marks)
    level_number: int | None
    marks: int  # clamped, rounded and placed in a band
    expected: float  # the line's prediction, before clamping, rounding and placing
    standard_error: float  # of the prediction, in marks


@dataclass(frozen=True)
class Suggestion:
    """The suggested marks for one script; see the module's docstring."""

    script: Hashable
    criteria: tuple[CriterionSuggestion, ...]  # in the order the criteria were given
    total: int  # the content (non-SPaG) criteria's marks added up
    spag: int | None  # the SPaG marks; None when the scheme has no SPaG criterion
    expected: float  # the total's line's prediction, unrounded
    standard_error: float  # of the content total, in marks
    low: int  # the 95 % range for the total
    high: int
    level_number: int | None  # the main criterion's level (None: no level)
    level_low: int | None  # the main criterion's level at the low and high ends of its 95 % range
    level_high: int | None

    def scores(self) -> dict[Hashable, tuple[Hashable | None, int]]:
        """criterion -> (level, marks), the shape `validate_scores` takes."""
        return {c.criterion: (c.level, c.marks) for c in self.criteria}


@dataclass(frozen=True)
class Anchoring:
    """The mapping from the scale to marks, and every script's suggestion."""

    suggestions: dict[Hashable, Suggestion]  # every script on the scale, anchors included, in its order
    anchors: tuple[Hashable, ...]  # the anchors used (those on the scale)
    slope: float  # of the content total, marks a logit
    intercept: float
    correlation: float | None  # Pearson r of the anchors' agreed totals with their scores
    residual_sd: float  # of the anchors' agreed totals about the line (0 with two anchors)
    disagreements: dict[Hashable, float]  # per anchor: (agreed − predicted total) / its standard error
    lines: dict[Hashable, Line]  # per criterion, SPaG included

    @property
    def flagged(self) -> tuple[Hashable, ...]:
        """The anchors more than `FLAG_Z` standard errors off the line."""
        return tuple(script for script, z in self.disagreements.items() if abs(z) > FLAG_Z)


def round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def place_mark(value: float, scale: CriterionScale) -> tuple[Band | None, int]:
    """The (band, marks) a predicted mark becomes: clamped to 0..maximum, rounded half up and
    put in a band as the module's docstring says; band None is no level, with 0 marks."""
    mark = round_half_up(min(max(value, 0.0), float(scale.max_marks)))
    bands = sorted(scale.bands, key=lambda band: (band.number, band.low))
    for band in bands:
        if band.low <= mark <= band.high:
            return band, mark
    if mark == 0 or not bands:
        return None, 0
    # Between bands or above them all: the nearest band edge, the lower one when halfway.
    edge, band = min(
        ((edge, band) for band in bands for edge in (band.low, band.high)),
        key=lambda pair: (abs(pair[0] - mark), pair[0]),
    )
    return band, edge


def _number(band: Band | None) -> int | None:
    return None if band is None else band.number


def _too_few(count: int) -> AnchoringError:
    need = "At least two scripts with agreed marks, far apart on the judges' scale, are needed"
    if count == 0:
        return AnchoringError(
            f"No script in this session has agreed marks yet. {need}: "
            "agree the marks of a strong script and a weak one."
        )
    if count == 1:
        return AnchoringError(
            f"Only 1 script in this session has agreed marks. {need}: "
            "agree the marks of a script the judges placed well above or below it."
        )
    return AnchoringError(
        f"The {count} scripts with agreed marks all have the same place on the judges' scale. {need}: "
        "agree the marks of a script the judges placed well above or below them."
    )


def _anchors_used(
    scores: Mapping[Any, float], anchors: Sequence[Anchor], criteria: Sequence[CriterionScale]
) -> list[Anchor]:
    """The anchors on the scale, with their marks checked against the scheme."""
    used: list[Anchor] = []
    seen: set[Hashable] = set()
    for agreed in anchors:
        if agreed.script not in scores:
            continue
        if agreed.script in seen:
            raise AnchoringError("A script has two sets of agreed marks: keep one of them and try again.")
        seen.add(agreed.script)
        for criterion in criteria:
            if criterion.criterion not in agreed.marks:
                raise AnchoringError(
                    "A script's agreed marks leave out a criterion of the mark scheme: give it a mark on "
                    "every criterion, or stop using it as an anchor."
                )
            mark = agreed.marks[criterion.criterion]
            if not 0 <= mark <= criterion.max_marks:
                raise AnchoringError(
                    f"A script has an agreed mark of {mark} on a criterion marked out of {criterion.max_marks}: "
                    "correct its agreed marks."
                )
        used.append(agreed)
    return used


def _residual_sd(residuals: np.ndarray, n: int) -> np.ndarray:
    """Per column, the residual standard deviation on n − 2 degrees of freedom (0 when n = 2)."""
    if n <= 2:
        return np.zeros(residuals.shape[1:])
    return np.sqrt((residuals**2).sum(axis=0) / (n - 2))


def anchor(
    scores: Mapping[Any, float],
    standard_errors: Mapping[Any, float],
    anchors: Sequence[Anchor],
    criteria: Sequence[CriterionScale],
) -> Anchoring:
    """Fit the lines from the anchors and suggest marks for every script; see the module's docstring.
    Script ids are the keys of `scores` (typed Any, as a Mapping's keys are invariant).

    Raises AnchoringError (a message for teachers) when the anchors cannot fix the lines, and
    ValueError when the numbers given are not a scale or a scheme at all."""
    criteria = tuple(criteria)
    ids = [criterion.criterion for criterion in criteria]
    if len(set(ids)) != len(ids):
        raise ValueError("A criterion appears twice in the mark scheme.")
    content = [i for i, criterion in enumerate(criteria) if not criterion.is_spag]
    spag = [i for i, criterion in enumerate(criteria) if criterion.is_spag]
    if not content:
        raise AnchoringError(
            "This mark scheme has no criteria apart from SPaG, so there is no total to suggest: "
            "add a criterion to the mark scheme."
        )
    for script, score in scores.items():
        if script not in standard_errors:
            raise ValueError(f"Script {script!r} has a score but no standard error.")
        if not math.isfinite(score) or not math.isfinite(standard_errors[script]) or standard_errors[script] < 0:
            raise ValueError(f"Script {script!r} has a score or standard error that is not a finite number.")

    used = _anchors_used(scores, anchors, criteria)
    n = len(used)
    x = np.array([scores[agreed.script] for agreed in used], dtype=float)
    if n < 2 or float(x.max() - x.min()) <= SPREAD:
        raise _too_few(n)
    marks = np.array([[agreed.marks[c] for c in ids] for agreed in used], dtype=float)  # anchors × criteria

    mean_x = float(x.mean())
    dx = x - mean_x
    sxx = float(dx @ dx)
    slopes = dx @ (marks - marks.mean(axis=0)) / sxx
    intercepts = marks.mean(axis=0) - slopes * mean_x
    residuals = marks - (intercepts + np.outer(x, slopes))
    residuals[np.abs(residuals) < EXACT] = 0.0
    sds = _residual_sd(residuals, n)

    slope = float(slopes[content].sum())
    intercept = float(intercepts[content].sum())
    if slope <= EXACT:
        raise AnchoringError(
            "The agreed marks do not rise with the judges' scale: the scripts the judges placed higher "
            "do not have higher agreed totals. Check the agreed marks of the anchor scripts, or choose others."
        )
    totals = marks[:, content].sum(axis=1)
    total_residuals = totals - (intercept + slope * x)
    total_residuals[np.abs(total_residuals) < EXACT] = 0.0
    total_sd = float(_residual_sd(total_residuals[:, None], n)[0])
    correlation = float(np.corrcoef(x, totals)[0, 1]) if float(totals.std()) > 0 else None

    maximum = sum(criteria[i].max_marks for i in content)
    main = max(content, key=lambda i: criteria[i].max_marks)  # the first of equals

    def total_se(score: float, se: float) -> float:
        leverage = 1 / n + (score - mean_x) ** 2 / sxx
        return math.sqrt(slope**2 * se**2 + total_sd**2 * (1 + leverage))

    suggestions: dict[Hashable, Suggestion] = {}
    for script, score in scores.items():
        se = standard_errors[script]
        leverage = 1 / n + (score - mean_x) ** 2 / sxx
        expected = intercepts + slopes * score
        errors = np.sqrt(slopes**2 * se**2 + sds**2 * (1 + leverage))
        parts = []
        for i, criterion in enumerate(criteria):
            band, given = place_mark(float(expected[i]), criterion)
            parts.append(
                CriterionSuggestion(
                    criterion=criterion.criterion,
                    level=None if band is None else band.level,
                    level_number=_number(band),
                    marks=given,
                    expected=float(expected[i]),
                    standard_error=float(errors[i]),
                )
            )
        total = sum(parts[i].marks for i in content)
        error = total_se(score, se)
        main_low, _ = place_mark(float(expected[main] - Z95 * errors[main]), criteria[main])
        main_high, _ = place_mark(float(expected[main] + Z95 * errors[main]), criteria[main])
        suggestions[script] = Suggestion(
            script=script,
            criteria=tuple(parts),
            total=total,
            spag=sum(parts[i].marks for i in spag) if spag else None,
            expected=intercept + slope * score,
            standard_error=error,
            low=min(max(round_half_up(total - Z95 * error), 0), maximum),
            high=min(max(round_half_up(total + Z95 * error), 0), maximum),
            level_number=parts[main].level_number,
            level_low=_number(main_low),
            level_high=_number(main_high),
        )

    disagreements = {}
    for agreed, score, residual in zip(used, x, total_residuals, strict=True):
        error = total_se(float(score), standard_errors[agreed.script])
        disagreements[agreed.script] = float(residual / error) if error > 0 else 0.0

    return Anchoring(
        suggestions=suggestions,
        anchors=tuple(agreed.script for agreed in used),
        slope=slope,
        intercept=intercept,
        correlation=correlation,
        residual_sd=total_sd,
        disagreements=disagreements,
        lines={
            ids[i]: Line(slope=float(slopes[i]), intercept=float(intercepts[i]), residual_sd=float(sds[i]))
            for i in range(len(criteria))
        },
    )

"""Agreement figures: how far two markers' marks of the same scripts agree.

Two sources of pairs, each script marked by two people:
- *second marking*: a pupil's first mark (the class teacher's, as it was before any
  moderation changed it) against the blind second mark (ReviewMark SECOND) of a
  ModerationItem; the first marker is the item's `first_marker`, the second the review's
  `marker`;
- *standardisation*: the agreed mark of a standardisation script (AGREED_STANDARD) against
  each marker's blind trial mark of it (TRIAL).

The first half of this module is pure statistics on plain values (no database); the second
loads the pairs in a fixed number of queries whatever the number of scripts and markers.

Definitions (the page says the same):
- Levels: each criterion's level number; a criterion given no level ("no rewardable
  material") counts as level 0. Level figures pool every criterion of every script both
  marks have a level row for (SPaG included).
- Exact agreement: the share of those criterion levels the two markers gave alike. Within one
  level: the share that differ by at most one level.
- Mean difference: the second marker's content total minus the first's (in standardisation,
  the marker's minus the agreed mark), averaged over scripts: positive means the second
  marker is more generous, negative more severe. Its spread is the sample standard deviation
  of those differences (n − 1).
- Quadratic weighted kappa on levels (Cohen's kappa with weights (i − j)²), over the pooled
  criterion levels; the label set is the scheme's levels, 0 to its highest level number.
  1 is perfect agreement, 0 no better than chance.
- Rank correlation: Spearman's rho of the two markers' totals (tied totals get the average of
  their ranks): do the markers put the scripts in the same order?
- Every figure carries the number it rests on (`Figure.n`: scripts, or criterion levels for
  the level figures). A figure that cannot be computed is None with the reason (`Figure.why`):
  no scripts; fewer than two (spread, kappa, rank correlation); or no variation to measure
  (kappa when both markers gave one and the same level throughout; rank correlation when
  either marker gave every script the same total).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from django.db.models import F, Max, Q, QuerySet

from classroom.models import (
    Assignment,
    CriterionMark,
    MarkChange,
    ModerationItem,
    ReviewCriterionMark,
    ReviewMark,
    Standardisation,
    User,
)

NO_LEVEL = 0  # "no rewardable material": below level 1

# --- the statistics (pure) -------------------------------------------------------------------


@dataclass(frozen=True)
class Marking:
    """One marker's mark of one script: criterion → level number (None: no rewardable
    material, counted as level 0), the content total and what it is out of."""

    levels: Mapping[Any, int | None]
    total: int
    max_total: int

    def level(self, criterion: Any) -> int:
        number = self.levels[criterion]
        return NO_LEVEL if number is None else number


@dataclass(frozen=True)
class ScriptPair:
    """The same script marked twice: `first` (the first marker, or the agreed standard) and
    `second` (the second marker, or the marker on trial). Differences are second − first."""

    first: Marking
    second: Marking
    label: str = ""


@dataclass(frozen=True)
class Figure:
    """One agreement figure: its value (None when it cannot be computed, with `why`) and the
    number of scripts or criterion levels it rests on."""

    value: float | None
    n: int
    why: str = ""

    @property
    def defined(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Agreement:
    """Every figure for one set of script pairs (one marker pair, or an assignment pooled)."""

    scripts: int  # scripts marked by both
    levels: int  # criterion levels compared
    exact: Figure  # share of levels alike (0–1)
    within_one: Figure  # share of levels at most one apart (0–1)
    mean_difference: Figure  # second − first, in marks
    sd_difference: Figure  # sample standard deviation of the differences
    kappa: Figure  # quadratic weighted kappa on levels
    spearman: Figure  # rank correlation of totals
    out_of: tuple[int, ...] = ()  # the content maxima the totals are out of


def level_pairs(pairs: Iterable[ScriptPair]) -> list[tuple[int, int]]:
    """(first level, second level) for every criterion both marks of each script have, in
    criterion order within each script (no level counted as 0)."""
    result = []
    for pair in pairs:
        for criterion in sorted(set(pair.first.levels) & set(pair.second.levels), key=str):
            result.append((pair.first.level(criterion), pair.second.level(criterion)))
    return result


def exact_agreement(levels: Sequence[tuple[int, int]]) -> Figure:
    """The share (0–1) of criterion levels the two markers gave alike."""
    if not levels:
        return Figure(None, 0, "no criterion levels to compare")
    return Figure(sum(a == b for a, b in levels) / len(levels), len(levels))


def within_one_agreement(levels: Sequence[tuple[int, int]]) -> Figure:
    """The share (0–1) of criterion levels at most one level apart."""
    if not levels:
        return Figure(None, 0, "no criterion levels to compare")
    return Figure(sum(abs(a - b) <= 1 for a, b in levels) / len(levels), len(levels))


def mean_difference(differences: Sequence[int]) -> Figure:
    """The mean of the total differences (second − first)."""
    if not differences:
        return Figure(None, 0, "no scripts marked by both")
    return Figure(float(statistics.fmean(differences)), len(differences))


def sd_difference(differences: Sequence[int]) -> Figure:
    """The sample standard deviation (n − 1) of the total differences: how far the
    differences spread around their mean. 0 when one marker is a constant amount apart."""
    if len(differences) < 2:
        return Figure(None, len(differences), "needs at least two scripts")
    return Figure(float(statistics.stdev(differences)), len(differences))


def quadratic_weighted_kappa(levels: Sequence[tuple[int, int]], labels: Iterable[int]) -> Figure:
    """Cohen's kappa with quadratic weights over (first, second) level pairs.

    `labels` is the label set (the scheme's levels, 0 to the top level); a level outside it is
    added. The weight of a disagreement between labels i and j is (pos(i) − pos(j))², their
    positions in the sorted label set: the level difference squared for consecutive level
    numbers (as scikit-learn's `cohen_kappa_score(weights="quadratic", labels=…)`).
    kappa = 1 − Σ w·observed / Σ w·expected, with expected = row total × column total / n;
    computed exactly in integers, so the only rounding is the final division.
    Undefined with fewer than two levels, or when expected disagreement is nil (both markers
    gave one and the same level throughout).
    """
    n = len(levels)
    if n < 2:
        return Figure(None, n, "needs at least two criterion levels")
    label_list = sorted({*labels, *(a for a, _ in levels), *(b for _, b in levels)})
    position = {label: index for index, label in enumerate(label_list)}
    first_counts: dict[int, int] = defaultdict(int)
    second_counts: dict[int, int] = defaultdict(int)
    observed = 0
    for a, b in levels:
        i, j = position[a], position[b]
        first_counts[i] += 1
        second_counts[j] += 1
        observed += (i - j) ** 2
    # Σ_ij w_ij · r_i · c_j, so that Σ w·expected = this / n.
    expected_times_n = sum((i - j) ** 2 * r * c for i, r in first_counts.items() for j, c in second_counts.items())
    if expected_times_n == 0:
        return Figure(None, n, "both markers gave the same level every time, so chance agreement cannot be told apart")
    return Figure(1 - observed * n / expected_times_n, n)


def average_ranks(values: Sequence[float]) -> list[Fraction]:
    """Ranks 1…n of `values`; tied values share the average of the ranks they span."""
    order = sorted(range(len(values)), key=lambda index: values[index])
    ranks: list[Fraction] = [Fraction(0)] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        shared = Fraction(start + end + 2, 2)  # the mean of ranks start+1 … end+1
        for index in order[start : end + 1]:
            ranks[index] = shared
        start = end + 1
    return ranks


def spearman(first: Sequence[float], second: Sequence[float]) -> Figure:
    """Spearman's rank correlation: Pearson's correlation of the average ranks (as
    scipy.stats.spearmanr). Undefined for fewer than two scripts or when either marker gave
    every script the same total (no order to compare)."""
    if len(first) != len(second):
        raise ValueError("Both markers need a total for every script.")
    n = len(first)
    if n < 2:
        return Figure(None, n, "needs at least two scripts")
    rx, ry = average_ranks(first), average_ranks(second)
    mean = Fraction(n + 1, 2)  # ranks always average (n + 1) / 2
    sxx = sum((x - mean) ** 2 for x in rx)
    syy = sum((y - mean) ** 2 for y in ry)
    if sxx == 0 or syy == 0:
        return Figure(None, n, "one marker gave every script the same total, so there is no order to compare")
    sxy = sum((x - mean) * (y - mean) for x, y in zip(rx, ry, strict=True))
    return Figure(max(-1.0, min(1.0, float(sxy) / math.sqrt(sxx * syy))), n)


def agreement(pairs: Sequence[ScriptPair], labels: Iterable[int]) -> Agreement:
    """Every figure for these script pairs; `labels` is the scheme's label set for kappa."""
    levels = level_pairs(pairs)
    differences = [pair.second.total - pair.first.total for pair in pairs]
    return Agreement(
        scripts=len(pairs),
        levels=len(levels),
        exact=exact_agreement(levels),
        within_one=within_one_agreement(levels),
        mean_difference=mean_difference(differences),
        sd_difference=sd_difference(differences),
        kappa=quadratic_weighted_kappa(levels, labels),
        spearman=spearman([pair.first.total for pair in pairs], [pair.second.total for pair in pairs]),
        out_of=tuple(sorted({p.first.max_total for p in pairs} | {p.second.max_total for p in pairs})),
    )


def level_differences(pair: ScriptPair) -> list[int]:
    """second − first level, for each criterion both marks have (no level counted as 0)."""
    return [second - first for first, second in level_pairs([pair])]


# --- where the pairs come from (a fixed number of queries) -----------------------------------


def scheme_labels(top_level: int | None) -> list[int]:
    """The label set of a scheme whose highest level number is `top_level`: 0 (no rewardable
    material) to the top level."""
    return list(range(NO_LEVEL, (top_level or 0) + 1))


def _markings(rows: Iterable[Mapping[str, Any]], key: str) -> dict[Any, Marking]:
    """Group criterion rows (criterion_id, level number, total, max_total) into one Marking per `key`."""
    levels: dict[Any, dict[int, int | None]] = defaultdict(dict)
    totals: dict[Any, tuple[int, int]] = {}
    for row in rows:
        levels[row[key]][row["criterion_id"]] = row["level_number"]
        totals[row[key]] = (row["total"], row["max_total"])
    return {k: Marking(levels[k], *totals[k]) for k in totals}


@dataclass
class SecondMarked:
    """One moderation item with both marks: the pupil's first mark and the blind second mark."""

    assignment_id: int
    label: str
    first_marker_id: int | None
    second_marker_id: int | None
    pair: ScriptPair


def second_marked_scripts(items: QuerySet[ModerationItem]) -> list[SecondMarked]:
    """The moderation items among `items` that have a complete second mark and a complete
    first mark, with both marks. The first mark is the pupil's Mark as the first marker left
    it: where moderation has since changed it (MarkChange rows of source MODERATION), the
    values before the earliest such change. Three queries."""
    second_rows = list(
        ReviewCriterionMark.objects.filter(
            review_mark__kind=ReviewMark.Kind.SECOND,
            review_mark__completed_at__isnull=False,
            review_mark__item__in=items,
        ).values(
            "criterion_id",
            item_id=F("review_mark__item_id"),
            level_number=F("level__number"),
            total=F("review_mark__total"),
            max_total=F("review_mark__max_total"),
            marker_id=F("review_mark__marker_id"),
            submission_id=F("review_mark__item__submission_id"),
            assignment_id=F("review_mark__item__sample__assignment_id"),
            label=F("review_mark__item__label"),
            first_marker_id=F("review_mark__item__first_marker_id"),
        )
    )
    seconds: dict[int, Mapping[str, Any]] = {}
    for second_row in second_rows:
        seconds.setdefault(second_row["item_id"], second_row)
    second_marks = _markings(second_rows, "item_id")
    if not second_marks:
        return []
    sampled = items.filter(review_marks__kind=ReviewMark.Kind.SECOND, review_marks__completed_at__isnull=False).values(
        "submission_id"
    )
    first_rows = list(
        CriterionMark.objects.filter(mark__completed_at__isnull=False, mark__submission__in=sampled).values(
            "criterion_id",
            submission_id=F("mark__submission_id"),
            level_number=F("level__number"),
            total=F("mark__total"),
            max_total=F("mark__max_total"),
        )
    )
    changes = (
        MarkChange.objects.filter(source=MarkChange.Source.MODERATION, mark__submission__in=sampled)
        .order_by("changed_at", "pk")
        .values("mark__submission_id", "criterion_id", "level_before__number", "total_before")
    )
    # Undo moderation: the earliest moderation change says what each value was before it.
    before_total: dict[int, int] = {}
    before_level: dict[tuple[int, int], int | None] = {}
    for change in changes:
        submission_id = change["mark__submission_id"]
        before_total.setdefault(submission_id, change["total_before"])
        if change["criterion_id"] is not None:
            before_level.setdefault((submission_id, change["criterion_id"]), change["level_before__number"])
    for first_row in first_rows:
        key = (first_row["submission_id"], first_row["criterion_id"])
        if key in before_level:
            first_row["level_number"] = before_level[key]
        if first_row["submission_id"] in before_total:
            first_row["total"] = before_total[first_row["submission_id"]]
    first_marks = _markings(first_rows, "submission_id")
    result = []
    for item_id, second in second_marks.items():
        meta = seconds[item_id]
        first = first_marks.get(meta["submission_id"])
        if first is None:
            continue
        result.append(
            SecondMarked(
                assignment_id=meta["assignment_id"],
                label=meta["label"],
                first_marker_id=meta["first_marker_id"],
                second_marker_id=meta["marker_id"],
                pair=ScriptPair(first, second, meta["label"]),
            )
        )
    return result


# The columns of a standardisation mark's criterion rows (trial_marked_scripts, standardisation_rows).
_REVIEW_FIELDS = ("review_mark_id", "criterion_id")
_REVIEW_EXPRESSIONS = {
    "level_number": F("level__number"),
    "kind": F("review_mark__kind"),
    "marker_id": F("review_mark__marker_id"),
    "script_id": F("review_mark__script_id"),
    "label": F("review_mark__script__label"),
    "standardisation_id": F("review_mark__script__standardisation_id"),
    "total": F("review_mark__total"),
    "max_total": F("review_mark__max_total"),
}


@dataclass
class TrialMarked:
    """One marker's trial mark of one standardisation script, with the script's agreed mark."""

    standardisation_id: int
    script_id: int
    label: str
    marker_id: int | None
    pair: ScriptPair  # first: the agreed mark, second: the marker's


def trial_marked_scripts(trials: QuerySet[ReviewMark]) -> list[TrialMarked]:
    """The complete TRIAL marks among `trials` whose script has a complete agreed mark, each
    paired with that agreed mark. One query."""
    trial_marks = trials.filter(kind=ReviewMark.Kind.TRIAL)
    rows = ReviewCriterionMark.objects.filter(
        Q(review_mark__in=trial_marks)
        | Q(review_mark__kind=ReviewMark.Kind.AGREED_STANDARD, review_mark__script__in=trial_marks.values("script_id")),
        review_mark__completed_at__isnull=False,
    ).values(*_REVIEW_FIELDS, **_REVIEW_EXPRESSIONS)
    return pair_trials(list(rows))


def pair_trials(rows: list[dict[str, Any]]) -> list[TrialMarked]:
    """Pair the criterion rows of trial and agreed marks (as trial_marked_scripts and
    standardisation_rows load them) script by script: each trial mark whose script has an
    agreed mark, in the order the marks were made."""
    marks = _markings(rows, "review_mark_id")
    meta = {row["review_mark_id"]: row for row in rows}
    agreed = {row["script_id"]: marks[pk] for pk, row in meta.items() if row["kind"] == ReviewMark.Kind.AGREED_STANDARD}
    result = []
    for pk, row in sorted(meta.items()):
        standard = agreed.get(row["script_id"])
        if row["kind"] != ReviewMark.Kind.TRIAL or standard is None:
            continue
        result.append(
            TrialMarked(
                standardisation_id=row["standardisation_id"],
                script_id=row["script_id"],
                label=row["label"],
                marker_id=row["marker_id"],
                pair=ScriptPair(standard, marks[pk], row["label"]),
            )
        )
    return result


def standardisation_rows(standardisations: QuerySet[Standardisation]) -> list[dict[str, Any]]:
    """Every complete agreed and trial mark's criterion rows for these standardisations, in one
    query (the shape pair_trials reads)."""
    return list(
        ReviewCriterionMark.objects.filter(
            review_mark__completed_at__isnull=False,
            review_mark__kind__in=[ReviewMark.Kind.TRIAL, ReviewMark.Kind.AGREED_STANDARD],
            review_mark__script__standardisation__in=standardisations,
        ).values(*_REVIEW_FIELDS, **_REVIEW_EXPRESSIONS)
    )


# --- the report: figures per assignment and marker pair ---------------------------------------

SECOND_MARKING = "second marking"
STANDARDISATION = "standardisation"
REMOVED = "(account removed)"


@dataclass
class AgreementRow:
    """One line of the table: a marker pair, or every pair of the group together (`pooled`)."""

    first: str
    second: str
    figures: Agreement
    pooled: bool = False


@dataclass
class AgreementGroup:
    """The figures of one assignment's second marking, or one standardisation's trial marks."""

    kind: str  # SECOND_MARKING or STANDARDISATION
    pk: int
    title: str
    context: str  # the class (second marking) or the question (standardisation)
    labels: list[int]
    rows: list[AgreementRow] = field(default_factory=list)


def _name(users: Mapping[int, User], pk: int | None) -> str:
    return users[pk].display_name if pk is not None and pk in users else REMOVED


def _group_rows(
    keyed: Mapping[tuple[int | None, int | None], list[ScriptPair]],
    labels: list[int],
    users: Mapping[int, User],
    pooled_label: str,
    first_name: str | None = None,
) -> list[AgreementRow]:
    rows = []
    if len(keyed) > 1:
        everything = [pair for pairs in keyed.values() for pair in pairs]
        rows.append(AgreementRow(pooled_label, "", agreement(everything, labels), pooled=True))
    pair_rows = [
        AgreementRow(
            first_name if first_name is not None else _name(users, first),
            _name(users, second),
            agreement(pairs, labels),
        )
        for (first, second), pairs in keyed.items()
    ]
    rows.extend(sorted(pair_rows, key=lambda row: (row.first.casefold(), row.second.casefold())))
    return rows


def agreement_report(
    items: QuerySet[ModerationItem], trials: QuerySet[ReviewMark], pooled_label: str = "All markers"
) -> list[AgreementGroup]:
    """Agreement figures for the second marking of `items` (per assignment, and per pair of
    first and second marker) and for the standardisation `trials` (per standardisation, and
    per marker against the agreed marks). A group's pooled row (all its pairs together,
    labelled `pooled_label`) comes first when it has more than one pair. Seven queries
    whatever the number of scripts and markers: second marks, first marks, moderation
    changes, trial and agreed marks, assignments, standardisations, markers."""
    seconds = second_marked_scripts(items)
    trial_pairs = trial_marked_scripts(trials)
    assignments = {
        row["pk"]: row
        for row in Assignment.objects.filter(pk__in={s.assignment_id for s in seconds})
        .annotate(top_level=Max("prompt__mark_scheme__criteria__levels__number"))
        .values("pk", "title", "school_class__name", "top_level")
    }
    standardisations = {
        row["pk"]: row
        for row in Standardisation.objects.filter(pk__in={t.standardisation_id for t in trial_pairs})
        .annotate(top_level=Max("prompt__mark_scheme__criteria__levels__number"))
        .values("pk", "title", "prompt__question", "top_level")
    }
    marker_ids = {s.first_marker_id for s in seconds} | {s.second_marker_id for s in seconds}
    marker_ids |= {t.marker_id for t in trial_pairs}
    users = {user.pk: user for user in User.objects.filter(pk__in={pk for pk in marker_ids if pk is not None})}

    groups: list[AgreementGroup] = []
    by_assignment: dict[int, dict[tuple[int | None, int | None], list[ScriptPair]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for s in seconds:
        by_assignment[s.assignment_id][(s.first_marker_id, s.second_marker_id)].append(s.pair)
    second_groups = []
    for pk, keyed in by_assignment.items():
        meta = assignments[pk]
        labels = scheme_labels(meta["top_level"])
        group = AgreementGroup(SECOND_MARKING, pk, meta["title"], meta["school_class__name"], labels)
        group.rows = _group_rows(keyed, labels, users, pooled_label)
        second_groups.append(group)
    groups.extend(sorted(second_groups, key=lambda g: (g.context.casefold(), g.title.casefold(), g.pk)))

    by_standardisation: dict[int, dict[tuple[int | None, int | None], list[ScriptPair]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for t in trial_pairs:
        by_standardisation[t.standardisation_id][(None, t.marker_id)].append(t.pair)
    standard_groups = []
    for pk, keyed in by_standardisation.items():
        standard = standardisations[pk]
        labels = scheme_labels(standard["top_level"])
        group = AgreementGroup(STANDARDISATION, pk, standard["title"], standard["prompt__question"], labels)
        group.rows = _group_rows(keyed, labels, users, pooled_label, first_name="Agreed mark")
        standard_groups.append(group)
    groups.extend(sorted(standard_groups, key=lambda g: (g.title.casefold(), g.pk)))
    return groups

"""Agreement figures and the head of department's overview (issue 14, items 4 and 7).

The statistics are checked against independent implementations (scikit-learn's
cohen_kappa_score, scipy's spearmanr, numpy) on seeded random fixtures; then where the pairs
come from, the pages, who sees what, the CSV, and the query budgets at two data sizes.
"""

from __future__ import annotations

import csv
import datetime
import io
import random

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from scipy.stats import spearmanr
from sklearn.metrics import cohen_kappa_score

from classroom import agreement, progress
from classroom.agreement import Marking, ScriptPair
from classroom.department import record_review_mark
from classroom.models import (
    CriterionMark,
    Mark,
    MarkChange,
    ModerationItem,
    ModerationSample,
    ReviewMark,
    Standardisation,
    StandardisationScript,
)
from classroom.status import HANDED_IN_KEYS
from tests.factories import (
    AssignmentFactory,
    EssayPromptFactory,
    SchoolClassFactory,
    StudentFactory,
    TeacherFactory,
    marking_scheme,
)
from tests.helpers import draft, give_mark, hand_in

TOLERANCE = 1e-9
CRITERIA = ("AO1", "AO2", "AO3")
LABELS = list(range(5))  # no rewardable material (0) and levels 1–4


# --- the statistics against independent implementations -----------------------------------------


def random_pairs(rng: random.Random, n: int) -> list[ScriptPair]:
    """n scripts, each marked twice: levels 0–4 (None sometimes: no rewardable material) on
    three criteria, the second marker near the first, totals 0–30 with many ties."""
    pairs = []
    for _ in range(n):
        first = {c: rng.choice([None, 1, 2, 3, 4]) for c in CRITERIA}
        second = {c: max(0, min(4, (level or 0) + rng.choice([-2, -1, 0, 0, 0, 1, 1]))) for c, level in first.items()}
        total = rng.randint(0, 30)
        pairs.append(
            ScriptPair(
                Marking(first, total, 30),
                Marking({c: (level or None) for c, level in second.items()}, max(0, total + rng.randint(-4, 5)), 30),
            )
        )
    return pairs


def flat_levels(pairs: list[ScriptPair]) -> tuple[list[int], list[int]]:
    first, second = [], []
    for pair in pairs:
        for c in CRITERIA:
            first.append(pair.first.levels[c] or 0)
            second.append(pair.second.levels[c] or 0)
    return first, second


@pytest.mark.parametrize("seed", range(12))
def test_figures_match_scikit_learn_scipy_and_numpy(seed):
    rng = random.Random(seed)
    pairs = random_pairs(rng, rng.randint(3, 60))
    figures = agreement.agreement(pairs, LABELS)
    first, second = flat_levels(pairs)
    totals_first = [p.first.total for p in pairs]
    totals_second = [p.second.total for p in pairs]
    differences = np.array(totals_second) - np.array(totals_first)

    assert figures.scripts == len(pairs) and figures.levels == len(first) == 3 * len(pairs)
    expected_kappa = cohen_kappa_score(first, second, weights="quadratic", labels=LABELS)
    assert figures.kappa.value == pytest.approx(expected_kappa, abs=TOLERANCE)
    assert figures.kappa.n == len(first)
    assert figures.spearman.value == pytest.approx(spearmanr(totals_first, totals_second).statistic, abs=TOLERANCE)
    assert figures.spearman.n == len(pairs)
    assert figures.exact.value == pytest.approx(np.mean(np.array(first) == np.array(second)), abs=TOLERANCE)
    within = np.mean(np.abs(np.array(first) - np.array(second)) <= 1)
    assert figures.within_one.value == pytest.approx(within, abs=TOLERANCE)
    assert figures.mean_difference.value == pytest.approx(differences.mean(), abs=TOLERANCE)
    assert figures.sd_difference.value == pytest.approx(differences.std(ddof=1), abs=TOLERANCE)
    assert figures.out_of == (30,)


@pytest.mark.parametrize("seed", range(6))
def test_kappa_matches_scikit_learn_when_few_labels_are_used(seed):
    """Only some of the scheme's levels used: the label set still runs 0 to the top level."""
    rng = random.Random(100 + seed)
    levels = [(rng.choice([1, 3]), rng.choice([1, 2, 3])) for _ in range(rng.randint(5, 30))]
    figure = agreement.quadratic_weighted_kappa(levels, LABELS)
    expected = cohen_kappa_score([a for a, _ in levels], [b for _, b in levels], weights="quadratic", labels=LABELS)
    assert figure.value == pytest.approx(expected, abs=TOLERANCE)


def test_a_marker_exactly_two_marks_higher_shows_plus_two_with_no_spread():
    pairs = [
        ScriptPair(Marking({"AO1": 2, "AO2": 3}, total, 20), Marking({"AO1": 2, "AO2": 3}, total + 2, 20))
        for total in (4, 9, 11, 15, 7, 12)
    ]
    figures = agreement.agreement(pairs, LABELS)
    assert figures.mean_difference.value == 2.0 and figures.mean_difference.n == 6
    assert figures.sd_difference.value == 0.0 and figures.sd_difference.n == 6
    assert figures.spearman.value == pytest.approx(1.0, abs=TOLERANCE)
    assert figures.exact.value == 1.0 and figures.exact.n == 12
    assert figures.kappa.value == pytest.approx(1.0, abs=TOLERANCE)


def test_a_severe_second_marker_shows_a_negative_difference():
    pairs = [ScriptPair(Marking({"AO1": 3}, t, 20), Marking({"AO1": 2}, t - 3, 20)) for t in (10, 12, 14)]
    assert agreement.agreement(pairs, LABELS).mean_difference.value == -3.0


def test_no_scripts_gives_no_figures_and_says_why():
    figures = agreement.agreement([], LABELS)
    assert figures.scripts == 0 and figures.levels == 0
    for figure in (figures.exact, figures.within_one, figures.mean_difference, figures.kappa, figures.spearman):
        assert figure.value is None and figure.n == 0 and figure.why
    assert figures.sd_difference.value is None


def test_one_script_gives_a_mean_but_no_spread_and_no_rank_correlation():
    figures = agreement.agreement(
        [ScriptPair(Marking({"AO1": 2, "AO2": 3}, 8, 20), Marking({"AO1": 3, "AO2": 3}, 11, 20))], LABELS
    )
    assert figures.mean_difference.value == 3.0 and figures.mean_difference.n == 1
    assert figures.sd_difference.value is None and "two scripts" in figures.sd_difference.why
    assert figures.spearman.value is None and "two scripts" in figures.spearman.why
    assert figures.exact.value == 0.5 and figures.within_one.value == 1.0


def test_kappa_is_undefined_when_both_markers_use_one_level_only():
    figure = agreement.quadratic_weighted_kappa([(2, 2)] * 5, LABELS)
    assert figure.value is None and figure.n == 5 and "same level" in figure.why
    assert agreement.quadratic_weighted_kappa([(2, 3)], LABELS).value is None  # one level pair


def test_rank_correlation_is_undefined_when_a_marker_gives_every_script_the_same_total():
    figure = agreement.spearman([5, 5, 5], [3, 8, 9])
    assert figure.value is None and figure.n == 3 and "same total" in figure.why


def test_rank_correlation_with_ties_matches_scipy():
    first, second = [3, 3, 5, 7, 7, 7, 1], [2, 4, 4, 9, 6, 6, 1]
    assert agreement.spearman(first, second).value == pytest.approx(spearmanr(first, second).statistic, abs=TOLERANCE)
    assert agreement.average_ranks([3, 1, 3, 2]) == [3.5, 1, 3.5, 2]


def test_a_level_outside_the_label_set_is_added_to_it():
    levels = [(1, 1), (2, 3), (6, 5), (3, 3)]
    expected = cohen_kappa_score([a for a, _ in levels], [b for _, b in levels], weights="quadratic", labels=range(7))
    assert agreement.quadratic_weighted_kappa(levels, LABELS).value == pytest.approx(expected, abs=TOLERANCE)


def test_criteria_only_one_mark_has_are_not_compared():
    pair = ScriptPair(Marking({"AO1": 2, "SPAG": 1}, 5, 10), Marking({"AO1": 2}, 5, 10))
    assert agreement.level_pairs([pair]) == [(2, 2)]


def test_level_differences_are_second_minus_first_on_shared_criteria():
    pair = ScriptPair(Marking({"AO1": 3, "AO2": None, "SPAG": 2}, 9, 20), Marking({"AO1": 2, "AO2": 1}, 8, 20))
    assert agreement.level_differences(pair) == [-1, 1]


# --- where the pairs come from ------------------------------------------------------------------


def scores(scheme, ao1: int, ao2: int, spag: int = 2) -> dict:
    """Scores for record_review_mark: criterion id → (level id or None, marks)."""
    crit = {c.code: c for c in scheme.criteria.prefetch_related("levels")}
    result = {}
    for code, marks in (("AO1", ao1), ("AO2", ao2), ("SPAG", spag)):
        level = crit[code].level_for_mark(marks) if marks else None
        result[crit[code].pk] = (level.pk if level else None, marks)
    return result


def second_marked_class(first_marker, second_marker, marks, *, name="10X", agreed=True, prompt=None):
    """A class taught by `first_marker` whose pupils' essays are marked (ao1, ao2) by them and
    second-marked (ao1, ao2) by `second_marker`: `marks` is [((ao1, ao2), (ao1, ao2)), …]."""
    prompt = prompt or EssayPromptFactory(mark_scheme=marking_scheme())
    scheme = prompt.mark_scheme
    school_class = SchoolClassFactory(name=name, teachers=[first_marker])
    assignment = AssignmentFactory(school_class=school_class, prompt=prompt, title=f"Essay for {name}")
    sample = ModerationSample.objects.create(assignment=assignment, size=len(marks))
    for index, (first, second) in enumerate(marks, start=1):
        pupil = StudentFactory()
        school_class.enrol(pupil)
        give_mark(hand_in(assignment, pupil), first_marker, *first, release=False)
        item = ModerationItem.objects.create(
            sample=sample,
            submission=pupil.submissions.get(),
            label=f"Script {index}",
            stratum=ModerationItem.Stratum.RANDOM,
            first_marker=first_marker,
            second_marker=second_marker,
            agreed_at=timezone.now() if agreed else None,
        )
        record_review_mark(ReviewMark.Kind.SECOND, second_marker, scores(scheme, *second), item=item)
    return assignment


def standardised(head, markers_marks, agreed_marks, *, title="Autumn standardisation", tolerance=(1, 2)):
    """A standardisation with agreed marks [(ao1, ao2), …] and each marker's trial marks:
    markers_marks is {marker: [(ao1, ao2), …]} (fewer than the scripts: still marking)."""
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    standardisation = Standardisation.objects.create(
        prompt=prompt, title=title, tolerance_levels=tolerance[0], tolerance_marks=tolerance[1], created_by=head
    )
    scripts = []
    for index, marks in enumerate(agreed_marks):
        script = StandardisationScript.objects.create(
            standardisation=standardisation, label=f"Script {'ABCDEFGH'[index]}", text="An essay.", order=index
        )
        record_review_mark(ReviewMark.Kind.AGREED_STANDARD, head, scores(prompt.mark_scheme, *marks), script=script)
        scripts.append(script)
    for marker, marks in markers_marks.items():
        for script, (ao1, ao2) in zip(scripts, marks, strict=False):
            record_review_mark(ReviewMark.Kind.TRIAL, marker, scores(prompt.mark_scheme, ao1, ao2), script=script)
    return standardisation


def report(items=None, trials=None, **kwargs):
    return agreement.agreement_report(
        ModerationItem.objects.all() if items is None else items,
        ReviewMark.objects.filter(kind=ReviewMark.Kind.TRIAL) if trials is None else trials,
        **kwargs,
    )


@pytest.mark.django_db
def test_second_marking_pairs_compare_the_first_mark_with_the_second(teacher, other_teacher):
    # Totals 2+3=5 vs 4+3=7, 4+6=10 vs 4+6=10, 1+1=2 vs 2+4=6: differences +2, 0, +4.
    second_marked_class(teacher, other_teacher, [((2, 3), (4, 3)), ((4, 6), (4, 6)), ((1, 1), (2, 4))])
    [group] = report()
    assert group.kind == agreement.SECOND_MARKING and group.labels == [0, 1, 2]
    [row] = group.rows  # one pair only: no pooled row
    assert (row.first, row.second) == ("Tess Teacher", "Otto Other")
    assert row.figures.scripts == 3 and row.figures.levels == 9
    assert row.figures.mean_difference.value == 2.0
    assert row.figures.out_of == (10,)
    # Levels (AO1, AO2, SPaG 2 marks = level 1): script 1 AO1 1→2; script 3 AO1 1→1, AO2 1→2.
    assert row.figures.exact.value == pytest.approx(7 / 9)


@pytest.mark.django_db
def test_moderation_changes_do_not_overwrite_the_first_mark(teacher, other_teacher, head):
    assignment = second_marked_class(teacher, other_teacher, [((2, 3), (4, 6)), ((4, 6), (4, 6))])
    mark = Mark.objects.get(submission__assignment=assignment, total=5)
    ao1 = CriterionMark.objects.select_related("criterion", "level").get(mark=mark, criterion__code="AO1")
    new_level = ao1.criterion.levels.get(number=2)
    # What moderation does (apply_mark_change): change the pupil's mark, keep a MarkChange row.
    MarkChange.objects.create(
        mark=mark,
        source=MarkChange.Source.MODERATION,
        changed_by=head,
        criterion=ao1.criterion,
        level_before=ao1.level,
        level_after=new_level,
        marks_before=2,
        marks_after=4,
        total_before=5,
        total_after=7,
        reason="Agreed at moderation.",
    )
    CriterionMark.objects.filter(pk=ao1.pk).update(level=new_level, marks=4)
    Mark.objects.filter(pk=mark.pk).update(total=7)
    [group] = report()
    assert group.rows[0].figures.mean_difference.value == 2.5  # (10 − 5 + 10 − 10) / 2, not (10 − 7) / 2


@pytest.mark.django_db
def test_an_item_without_a_complete_second_mark_is_left_out(teacher, other_teacher):
    assignment = second_marked_class(teacher, other_teacher, [((2, 3), (4, 3)), ((4, 6), (4, 6))])
    ReviewMark.objects.filter(item__submission__assignment=assignment, total=7).update(completed_at=None)
    [group] = report()
    assert group.rows[0].figures.scripts == 1


@pytest.mark.django_db
def test_marker_pairs_are_separate_rows_after_the_pooled_row(teacher, other_teacher, head):
    third = TeacherFactory(first_name="Tom", last_name="Third")
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    assignment = second_marked_class(teacher, other_teacher, [((2, 3), (2, 3)), ((4, 6), (4, 5))], prompt=prompt)
    # A second sample of the same assignment, second-marked by someone else.
    sample = ModerationSample.objects.create(assignment=assignment, size=1)
    pupil = StudentFactory()
    assignment.school_class.enrol(pupil)
    give_mark(hand_in(assignment, pupil), teacher, 3, 4, release=False)
    item = ModerationItem.objects.create(
        sample=sample, submission=pupil.submissions.get(), label="Script 9", stratum="top", first_marker=teacher
    )
    record_review_mark(ReviewMark.Kind.SECOND, third, scores(prompt.mark_scheme, 1, 1), item=item)
    [group] = report()
    assert [(r.first, r.second, r.pooled) for r in group.rows] == [
        ("All markers", "", True),
        ("Tess Teacher", "Otto Other", False),
        ("Tess Teacher", "Tom Third", False),
    ]
    assert [r.figures.scripts for r in group.rows] == [3, 2, 1]
    assert group.rows[2].figures.mean_difference.value == -5.0  # 1 + 1 against 3 + 4


@pytest.mark.django_db
def test_standardisation_pairs_each_marker_with_the_agreed_mark(teacher, other_teacher, head):
    standardised(
        head,
        {teacher: [(2, 3), (4, 6), (3, 4)], other_teacher: [(3, 4), (4, 6), (4, 5)]},
        [(2, 3), (4, 6), (3, 4)],
    )
    [group] = report()
    assert group.kind == agreement.STANDARDISATION
    assert (group.rows[0].first, group.rows[0].pooled, group.rows[0].figures.scripts) == ("All markers", True, 6)
    rows = {row.second: row for row in group.rows}
    assert rows["Tess Teacher"].first == "Agreed mark"
    assert rows["Tess Teacher"].figures.mean_difference.value == 0.0
    assert rows["Tess Teacher"].figures.kappa.value == 1.0
    assert rows["Otto Other"].figures.mean_difference.value == pytest.approx(4 / 3)  # +2, 0, +2


def department_data(head, size: int):
    """Second marking and standardisation at a given size: `size` classes of 2 × size
    scripts, each with its own pair of markers, and 2 × size standardisation markers."""
    markers = [TeacherFactory() for _ in range(size + 1)]
    for index in range(size):
        marks = [((1 + i % 4, 1 + i % 6), (1 + (i + 1) % 4, 1 + i % 6)) for i in range(2 * size)]
        second_marked_class(markers[index], markers[index + 1], marks, name=f"Class {index}")
    standardised(head, {TeacherFactory(): [(2, 3), (3, 4)] for _ in range(2 * size)}, [(2, 3), (4, 6)])


@pytest.mark.django_db
def test_the_report_takes_the_same_queries_whatever_the_size(head):
    counts = []
    for size in (1, 4):
        department_data(head, size)
        with CaptureQueriesContext(connection) as queries:
            groups = report()
        counts.append(len(queries))
    # second marks, first marks, moderation changes, trial and agreed marks, assignments,
    # standardisations, markers
    assert counts == [7, 7]
    assert len(groups) == 1 + 4 + 2  # every class's assignment and both standardisations


# --- the agreement page and its CSV: who sees what ------------------------------------------------


def agreement_urls():
    return [reverse("classroom:agreement"), reverse("classroom:agreement_csv")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [("head", 200), ("teacher", 200), ("other_teacher", 200), ("student", 403), ("outsider", 403)],
)
def test_agreement_pages_access(client, cast, who, status):
    client.force_login(cast[who])
    for url in agreement_urls():
        assert client.get(url).status_code == status, url


@pytest.mark.django_db
def test_agreement_pages_send_anonymous_users_to_log_in(client):
    for url in agreement_urls():
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


@pytest.fixture
def two_pairs(cast):
    """Tess (first) with Otto (second), agreed; and two other teachers' pair, agreed."""
    second_marked_class(cast["teacher"], cast["other_teacher"], [((2, 3), (4, 3)), ((4, 6), (4, 6))], name="10A")
    far = TeacherFactory(first_name="Fay", last_name="Faraway")
    away = TeacherFactory(first_name="Al", last_name="Away")
    second_marked_class(far, away, [((2, 3), (2, 3)), ((3, 5), (4, 6))], name="11B")
    return far, away


@pytest.mark.django_db
def test_the_head_sees_every_pair(client, head, two_pairs):
    client.force_login(head)
    html = client.get(reverse("classroom:agreement")).content.decode()
    assert "Tess Teacher" in html and "Otto Other" in html and "Fay Faraway" in html and "Al Away" in html
    assert "on 2 scripts" in html and "on 6 levels" in html


@pytest.mark.django_db
def test_a_teacher_sees_only_the_pairs_they_are_in(client, cast, two_pairs):
    for who in ("teacher", "other_teacher"):
        client.force_login(cast[who])
        html = client.get(reverse("classroom:agreement")).content.decode()
        assert "Tess Teacher" in html and "Otto Other" in html, who
        assert "Fay Faraway" not in html and "Al Away" not in html and "11B" not in html, who
        assert "You see only the pairs you are in" in html


@pytest.mark.django_db
def test_a_second_marker_learns_nothing_of_the_first_mark_before_it_is_agreed(client, cast):
    second_marked_class(cast["teacher"], cast["other_teacher"], [((2, 3), (4, 3))], name="10A", agreed=False)
    client.force_login(cast["other_teacher"])
    for url in agreement_urls():
        body = client.get(url).content.decode()
        assert "Tess Teacher" not in body and "10A" not in body, url
    client.force_login(cast["teacher"])  # nor the first marker of the second mark
    assert "Otto Other" not in client.get(reverse("classroom:agreement")).content.decode()
    item = ModerationItem.objects.get()
    item.agreed_at = timezone.now()
    item.save(update_fields=["agreed_at"])
    assert "Otto Other" in client.get(reverse("classroom:agreement")).content.decode()


@pytest.mark.django_db
def test_a_teacher_sees_only_their_own_standardisation_marks(client, cast, head):
    standardised(head, {cast["teacher"]: [(2, 3)], cast["other_teacher"]: [(4, 6)]}, [(2, 3)])
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:agreement")).content.decode()
    assert "Tess Teacher" in html and "Otto Other" not in html
    client.force_login(head)
    html = client.get(reverse("classroom:agreement")).content.decode()
    assert "Tess Teacher" in html and "Otto Other" in html


@pytest.mark.django_db
def test_figures_that_cannot_be_computed_show_a_dash_and_why(client, cast):
    second_marked_class(cast["teacher"], cast["other_teacher"], [((2, 3), (4, 3))])
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:agreement")).content.decode()
    assert "—" in html and "Not computed: needs at least two scripts" in html
    assert "+2.00" in html  # the mean difference rests on one script, and says so
    assert "on 1 script<" in html


@pytest.mark.django_db
def test_the_page_says_when_there_is_nothing_yet(client, head):
    client.force_login(head)
    html = client.get(reverse("classroom:agreement")).content.decode()
    assert "No second marks to compare yet." in html and "No standardisation marks to compare yet." in html


@pytest.mark.django_db
def test_the_csv_has_the_figures_with_what_they_rest_on(client, cast, head):
    second_marked_class(cast["teacher"], cast["other_teacher"], [((2, 3), (4, 3)), ((4, 6), (4, 6)), ((1, 1), (2, 4))])
    standardised(head, {cast["teacher"]: [(2, 3)]}, [(2, 3)], title="=HYPERLINK(1)")
    client.force_login(head)
    response = client.get(reverse("classroom:agreement_csv"))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:7] == [
        "kind",
        "assignment or standardisation",
        "class or question",
        "first marker",
        "second marker",
        "scripts",
        "criterion levels",
    ]
    second = next(r for r in rows if r[0] == "second marking")
    assert second[3:7] == ["Tess Teacher", "Otto Other", "3", "9"]
    assert second[9] == "2.0" and second[7] == "77.8"
    standard = next(r for r in rows if r[0] == "standardisation")
    assert standard[1] == "'=HYPERLINK(1)"  # a formula in a title is neutralised
    assert standard[10] == "" and "spread: needs at least two scripts" in standard[14]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 3])
def test_agreement_page_query_budget_does_not_grow(client, head, django_assert_num_queries, size):
    department_data(head, size)
    client.force_login(head)
    # session, user; second marks, first marks, moderation changes, trial and agreed marks,
    # assignments, standardisations, markers
    with django_assert_num_queries(9):
        assert client.get(reverse("classroom:agreement")).status_code == 200


# --- the head's overview ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [("head", 200), ("teacher", 403), ("other_teacher", 403), ("student", 403), ("outsider", 403)],
)
def test_overview_is_for_heads_only(client, cast, who, status):
    client.force_login(cast[who])
    assert client.get(reverse("classroom:department_overview")).status_code == status


@pytest.mark.django_db
def test_overview_anonymous_goes_to_log_in(client):
    response = client.get(reverse("classroom:department_overview"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_overview_counts_marking_progress_and_results(teacher, other_teacher, head, school_class):
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    assignment = AssignmentFactory(school_class=school_class, prompt=prompt, title="Hotline essay")
    pupils = [StudentFactory() for _ in range(4)]
    for pupil in pupils:
        school_class.enrol(pupil)
    give_mark(hand_in(assignment, pupils[0]), teacher, 2, 3)  # 5/10 released
    give_mark(hand_in(assignment, pupils[1]), teacher, 4, 6)  # 10/10 released
    give_mark(hand_in(assignment, pupils[2]), teacher, 4, 6, release=False)  # marked
    hand_in(assignment, pupils[3])  # to mark
    school_class.teachers.add(other_teacher)  # co-taught: listed under both
    view = progress.department_overview()
    names = [entry.teacher.display_name for entry in view.teachers]
    assert names == ["Otto Other", "Tess Teacher"]
    [row] = view.teachers[1].assignments
    assert (row.title, row.pupils, row.handed_in, row.marked, row.released) == ("Hotline essay", 5, 4, 3, 2)
    assert row.mean_percent == 75.0
    [results] = [c for c in view.classes if c.school_class == school_class]
    assert (results.pupils, results.pupils_with_marks, results.marks, results.mean_percent) == (5, 2, 2, 75.0)


@pytest.mark.django_db
def test_overview_figures_agree_with_the_markbook_statuses(teacher, head, school_class):
    """The overview counts submissions; the markbook's grid has every pupil and assignment. They
    must agree: exempt pupils (with nothing, a draft, or work handed in anyway), a pupil who left
    the class (their marks no longer count), late and returned work, marks shown by date."""
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    ten_days_ago = timezone.now() - datetime.timedelta(days=10)
    past_due = AssignmentFactory(school_class=school_class, prompt=prompt, opens_at=ten_days_ago)
    by_date = AssignmentFactory(
        school_class=school_class, prompt=prompt, feedback_release="at_date", feedback_release_at=timezone.now()
    )
    pupils = [StudentFactory() for _ in range(8)]
    for pupil in pupils:
        school_class.enrol(pupil)
    for assignment in (past_due, by_date):
        give_mark(hand_in(assignment, pupils[0]), teacher, 2, 3)
        give_mark(hand_in(assignment, pupils[1]), teacher, 4, 6, release=False)
        hand_in(assignment, pupils[2]).return_for_redraft(by=teacher)
        draft(assignment, pupils[3])
        assignment.exempt(pupils[3], by=teacher)  # a draft: exempt
        assignment.exempt(pupils[4], by=teacher)  # nothing: exempt
        give_mark(hand_in(assignment, pupils[5]), teacher, 1, 1)
        assignment.exempt(pupils[5], by=teacher)  # handed in and marked anyway: counts
        give_mark(hand_in(assignment, pupils[6]), teacher, 4, 3)
    hand_in(past_due, pupils[7])  # late
    school_class.enrolments.get(student=pupils[6]).remove()  # left, with two released marks
    SchoolClassFactory().enrol(StudentFactory())  # a class with no assignments
    AssignmentFactory(school_class=SchoolClassFactory())  # an assignment in a class with no pupils
    book = progress.markbook(school_class)
    view = progress.department_overview()
    [results] = [c for c in view.classes if c.school_class == school_class]
    assert [a.pk for c in view.classes for a in c.assignments] == [by_date.pk, past_due.pk]  # due last first
    released_pupils = set()
    for i, column in enumerate(book.columns):
        kinds = [row.cells[i].kind for row in book.rows]
        [item] = [a for a in results.assignments if a.pk == column.assignment_id]
        assert item.pupils == len(kinds) - kinds.count("exempt") == 6  # the cast's pupil, seven of ours, two exempt
        assert item.handed_in == sum(kind in HANDED_IN_KEYS for kind in kinds)
        assert item.marked == sum(kind in ("marked", "released") for kind in kinds)
        assert item.released == kinds.count("released")
        assert item.mean_percent == column.mean_percent
        released_pupils |= {row.student_id for row in book.rows if row.cells[i].kind == "released"}
    assert [(a.handed_in, a.marked, a.released) for a in results.assignments] == [(3, 3, 3), (4, 3, 2)]
    assert (results.pupils, results.pupils_with_marks, results.marks) == (8, len(released_pupils), 5)
    assert results.mean_percent == book.class_mean_percent


@pytest.mark.django_db
def test_overview_shows_standardisation_and_moderation_status(client, teacher, other_teacher, head):
    third = TeacherFactory(first_name="Tom", last_name="Third")
    TeacherFactory(first_name="Fran", last_name="Fourth")
    # Agreed 5 and 10. Tess: 5 and 10 (within); Otto: 5 and 7 (3 marks off: outside); Tom: one script.
    standardised(head, {teacher: [(2, 3), (4, 6)], other_teacher: [(2, 3), (4, 3)], third: [(2, 3)]}, [(2, 3), (4, 6)])
    assignment = second_marked_class(teacher, other_teacher, [((2, 3), (4, 3)), ((4, 6), (4, 6))], agreed=False)
    ModerationItem.objects.filter(label="Script 1").update(agreed_at=timezone.now())
    ModerationItem.objects.create(
        sample=assignment.moderation_samples.get(),
        submission=hand_in(assignment, StudentFactory()),
        label="Script 3",
        stratum="bottom",
        first_marker=teacher,
    )
    view = progress.department_overview()
    [status] = view.standardisations
    assert (status.scripts, status.done) == (2, 2)
    assert (status.within, status.outside, status.started) == (["Tess Teacher"], ["Otto Other"], ["Tom Third"])
    assert status.not_started == ["Fran Fourth"]
    [sample] = view.samples
    assert (sample.items, sample.second_marked, sample.agreed) == (3, 2, 1)
    client.force_login(head)
    html = client.get(reverse("classroom:department_overview")).content.decode()
    assert "1: Tess Teacher" in html and "1: Otto Other" in html and "2 of 3" in html and "1 of 3" in html
    assert reverse("classroom:agreement") in html and reverse("classroom:department_progress") in html


@pytest.mark.django_db
def test_overview_tables_escape_names_and_show_local_due_dates(client, teacher, head):
    school_class = SchoolClassFactory(name="<b>10X</b> & co", teachers=[teacher])
    pupil = StudentFactory()
    school_class.enrol(pupil)
    due = datetime.datetime(2026, 6, 30, 23, 30, tzinfo=datetime.UTC)  # 1 July in London (BST)
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    marked = AssignmentFactory(school_class=school_class, prompt=prompt, title="Hotline <i>essay</i>")
    day = datetime.timedelta(days=1)
    AssignmentFactory(school_class=school_class, prompt=prompt, title="Détente", due_at=due, opens_at=due - day)
    give_mark(hand_in(marked, pupil), teacher, 2, 3)  # 5/10 released
    client.force_login(head)
    html = client.get(reverse("classroom:department_overview")).content.decode()
    assert "<b>10X</b>" not in html and "<i>essay</i>" not in html
    assert '<td>&lt;b&gt;10X&lt;/b&gt; &amp; co</td><th scope="row">Hotline &lt;i&gt;essay&lt;/i&gt;</th>' in html
    assert "<td>1 Jul 2026</td><td>1</td><td>0</td><td>0</td><td>0</td><td>–</td>" in html  # one pupil expected
    assert '50.0% <span class="small text-body-secondary">(1 pupil)</span>' in html
    title = "Hotline &lt;i&gt;essay&lt;/i&gt;"
    assert f'<li>{title}: 50.0% <span class="small text-body-secondary">(1 of 1 pupil)</span></li>' in html
    assert '<li>Détente: <span class="small text-body-secondary">no released marks (1 pupil)</span></li>' in html


@pytest.mark.django_db
def test_overview_with_nothing_yet(client, head):
    client.force_login(head)
    html = client.get(reverse("classroom:department_overview")).content.decode()
    assert "No standardisation set up yet." in html and "No moderation samples drawn yet." in html


@pytest.mark.django_db
def test_results_by_question_page_links_to_the_overview(client, head):
    client.force_login(head)
    html = client.get(reverse("classroom:department_progress")).content.decode()
    assert reverse("classroom:department_overview") in html


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 3])
def test_overview_query_budget_does_not_grow(client, head, django_assert_num_queries, size):
    department_data(head, size)
    for school_class in progress.SchoolClass.objects.all():
        school_class.teachers.add(TeacherFactory())
    client.force_login(head)
    # session, user; classes, their teachers, figures per assignment, figures per class,
    # standardisations, their agreed and trial marks, markers' names, moderation samples
    with django_assert_num_queries(10):
        response = client.get(reverse("classroom:department_overview"))
        assert response.status_code == 200
    assert len(response.context["overview"].classes) == size

"""CompiledQuery runs a queryset's SQL compiled once, with each run's own values bound."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from classroom.compiled import CompiledQuery
from classroom.models import Assignment, Submission
from crisis.models import Unit
from tests.factories import AssignmentFactory, UnitFactory

DAY = timedelta(days=1)


def _assignments(class_ids: list[int], due_before, prompt: int | None):
    queryset = Assignment.objects.filter(school_class_id__in=class_ids, due_at__lt=due_before)
    if prompt is not None:
        queryset = queryset.filter(prompt_id=prompt)
    return (
        queryset.annotate(n=Count("submissions", filter=Q(submissions__state__in=Submission.MARKABLE_STATES)))
        .order_by("pk")
        .values("pk", "title", "n")
    )


@pytest.mark.django_db
def test_each_run_binds_its_own_values(marking_assignment, essay, other_class):
    compiled = CompiledQuery(_assignments)
    later, earlier = timezone.now() + timedelta(days=400), timezone.now() - timedelta(days=400)
    prompt = marking_assignment.prompt_id
    cases = [
        {"class_ids": [marking_assignment.school_class_id], "due_before": later, "prompt": None},
        {"class_ids": [marking_assignment.school_class_id], "due_before": earlier, "prompt": None},
        {"class_ids": [other_class.pk], "due_before": later, "prompt": None},
        {"class_ids": [other_class.pk, marking_assignment.school_class_id], "due_before": later, "prompt": None},
        {"class_ids": [marking_assignment.school_class_id], "due_before": later, "prompt": prompt},
        {"class_ids": [marking_assignment.school_class_id], "due_before": later, "prompt": -1},
        {"class_ids": [], "due_before": later, "prompt": None},
    ]
    for _ in range(2):  # compiled on the first round, reused on the second
        for values in cases:
            assert compiled.rows(**values) == list(_assignments(**values))
    assert compiled.rows(**cases[0]) == [{"pk": marking_assignment.pk, "title": marking_assignment.title, "n": 1}]
    assert compiled.rows(**cases[1]) == []


@pytest.mark.django_db
def test_objects_come_back_as_model_instances(marking_assignment):
    compiled = CompiledQuery(lambda pk: Assignment.objects.filter(pk=pk))
    assert compiled.objects(pk=marking_assignment.pk) == [marking_assignment]
    assert compiled.objects(pk=-5) == []


def _unit(pk: int):
    return Unit.objects.filter(pk=pk)


@pytest.mark.django_db
def test_values_come_back_converted_as_the_orm_converts_them():
    """Each column goes through its field's conversion from the database (a JSON column's text
    decoded, say), found once when compiled and applied on every run."""
    unit = UnitFactory(organiser_selection={"kept": [1, 2]})
    rows, objects = CompiledQuery(lambda pk: _unit(pk).values("pk", "organiser_selection")), CompiledQuery(_unit)
    for _ in range(2):  # compiled on the first run, reused on the second
        if connection.vendor == "postgresql":
            assert rows._compiled({"pk": unit.pk}).compiler is not None
        assert rows.rows(pk=unit.pk) == [{"pk": unit.pk, "organiser_selection": {"kept": [1, 2]}}]
        assert objects.objects(pk=unit.pk)[0].organiser_selection == {"kept": [1, 2]}


def _with_class_and_prompt(pk: int):
    return (
        Assignment.objects.filter(pk=pk)
        .select_related("school_class", "prompt__mark_scheme")
        .annotate(essays=Count("submissions"))
        .defer("instructions")
    )


@pytest.mark.django_db
def test_objects_carry_select_related_objects_annotations_and_deferred_fields(
    marking_assignment, essay, django_assert_num_queries
):
    compiled = CompiledQuery(_with_class_and_prompt)
    for _ in range(2):  # compiled on the first run, reused on the second
        [found] = compiled.objects(pk=marking_assignment.pk)
        if connection.vendor == "postgresql":
            assert compiled._compiled({"pk": marking_assignment.pk}).compiler is not None
        [expected] = _with_class_and_prompt(marking_assignment.pk)
        with django_assert_num_queries(0):
            assert (found.pk, found.title, found.essays) == (expected.pk, expected.title, 1)
            assert found.school_class == marking_assignment.school_class
            assert found.school_class.name == marking_assignment.school_class.name
            assert found.prompt.mark_scheme.name == marking_assignment.prompt.mark_scheme.name
        assert found.get_deferred_fields() == {"instructions"}
        assert found.instructions == marking_assignment.instructions  # loaded when asked for, as usual


@pytest.mark.django_db
def test_a_build_may_not_prefetch(marking_assignment):
    compiled = CompiledQuery(lambda pk: Assignment.objects.filter(pk=pk).prefetch_related("submissions"))
    if connection.vendor == "postgresql":
        with pytest.raises(TypeError, match="prefetch_related"):
            compiled.objects(pk=marking_assignment.pk)


def _due_within_a_week(class_id: int, now):
    # A value changed before it reaches the SQL: the stand-in never appears there as given.
    return Assignment.objects.filter(school_class_id=class_id, due_at__lt=now + timedelta(days=7)).values("pk")


def _due_by_now_and_before(class_id: int, now):
    # `now` reaches the SQL both as given and changed: binding only the first would be wrong.
    return Assignment.objects.filter(
        school_class_id=class_id, opens_at__lte=now, due_at__lt=now + timedelta(days=7)
    ).values("pk")


def _due_before_the_clock(class_id: int):
    # The time is read inside the build: compiled once, it would be frozen.
    return Assignment.objects.filter(school_class_id=class_id, due_at__lt=timezone.now()).values("pk")


def _due_last(class_id: int):
    # A query run while building: its answer would be frozen into the SQL.
    last = Assignment.objects.order_by("-due_at").values_list("due_at", flat=True).first()
    return Assignment.objects.filter(school_class_id=class_id, due_at__gte=last).values("pk")


@pytest.mark.django_db
def test_the_clock_read_inside_the_build_is_not_frozen(marking_assignment, monkeypatch):
    compiled = CompiledQuery(_due_before_the_clock)
    class_id = marking_assignment.school_class_id
    clock = {"at": marking_assignment.due_at - DAY, "ticks": 0}

    def now():  # a clock that moves on between reads, as the real one does
        clock["ticks"] += 1
        return clock["at"] + timedelta(microseconds=clock["ticks"])

    monkeypatch.setattr(timezone, "now", now)
    assert compiled.rows(class_id=class_id) == []  # not yet due
    assert compiled._compiled({"class_id": class_id}).compiler is None
    clock["at"] = marking_assignment.due_at + DAY
    assert compiled.rows(class_id=class_id) == [{"pk": marking_assignment.pk}]  # due now: the clock is read again


def _due_by_the_start_of_the_day(class_id: int, now):
    # `now` reaches the SQL as given, and rounded down to its day.
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return Assignment.objects.filter(school_class_id=class_id, opens_at__lte=now, due_at__lt=day).values("pk")


def _open_or_due_by_term(class_id: int, now):
    # A branch on the value: which rule applies depends on the month.
    if now.month >= 9:
        return Assignment.objects.filter(school_class_id=class_id, opens_at__lte=now).values("pk")
    return Assignment.objects.filter(school_class_id=class_id, due_at__lte=now).values("pk")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "build", [_due_within_a_week, _due_by_now_and_before, _due_by_the_start_of_the_day, _open_or_due_by_term]
)
def test_a_build_that_changes_rounds_or_branches_on_a_value_is_not_compiled(build, marking_assignment):
    compiled = CompiledQuery(build)
    class_id = marking_assignment.school_class_id
    assert compiled._compiled({"class_id": class_id, "now": timezone.now()}).compiler is None
    due = marking_assignment.due_at
    for now in (due - DAY, due + DAY, due - 400 * DAY, due - DAY):
        assert compiled.rows(class_id=class_id, now=now) == list(build(class_id=class_id, now=now))
    assert {"pk": marking_assignment.pk} in compiled.rows(class_id=class_id, now=due + DAY) + compiled.rows(
        class_id=class_id, now=due - DAY
    )


@pytest.mark.django_db
@pytest.mark.parametrize("value", [True, "10", 1.5, [1, True], timezone.now().date()])
def test_a_value_no_stand_in_can_replace_is_refused(value, marking_assignment):
    compiled = CompiledQuery(lambda pk: Assignment.objects.filter(pk=pk))
    with pytest.raises(TypeError, match="only ids, lists of ids, datetimes and None"):
        compiled.rows(pk=value)


@pytest.mark.django_db
def test_a_query_run_while_building_is_not_frozen_into_the_sql(marking_assignment):
    compiled = CompiledQuery(_due_last)
    class_id = marking_assignment.school_class_id
    assert compiled.rows(class_id=class_id) == [{"pk": marking_assignment.pk}]
    assert compiled._compiled({"class_id": class_id}).compiler is None
    later = AssignmentFactory(school_class=marking_assignment.school_class, due_at=marking_assignment.due_at + DAY)
    assert compiled.rows(class_id=class_id) == [{"pk": later.pk}]


@pytest.mark.django_db
def test_the_shipped_queries_compile_on_postgresql(marking_assignment, teacher):
    """Each CompiledQuery the app uses is compiled (not run as built) where it can be."""
    from classroom import department, home, lookups, models, permissions, progress, signin
    from classroom.views import assignments as assignment_views
    from classroom.views import marking as marking_views
    from crisis import models as content_models

    if connection.vendor != "postgresql":
        pytest.skip("SQLite adapts datetimes itself: those shapes are run as built")
    class_id, now = marking_assignment.school_class_id, timezone.now()
    shapes = [
        (progress._attention_compiled, {"class_id": class_id, "now": now}),
        (progress._counted_compiled, {"class_id": class_id, "now": now}),
        (progress._latest_two_compiled, {"class_id": class_id, "now": now}),
        (progress._criterion_marks_compiled, {"pair": [1, 2], "class_id": class_id, "now": now}),
        (progress._strand_ratings_compiled, {"pair": [1], "class_id": class_id, "now": now}),
        (department._untried_required_compiled, {"prompt": 1, "original": None, "marker": teacher.pk}),
        (department._untried_required_compiled, {"prompt": 1, "original": 2, "marker": teacher.pk}),
        (home._figures_compiled, {"class_ids": [class_id, class_id + 1], "now": now}),
        (home._to_do_compiled, {"waiting": [1], "class_ids": [class_id], "now": now, "scripts": [1], "responses": []}),
        (permissions._writer_essay, {"student": 1, "assignment": marking_assignment.pk, "now": now}),
        (home._pupil_assignments_compiled, {"student": 1, "now": now}),
        (progress._overview_classes_compiled, {"now": now}),
        (progress._overview_assignments_compiled, {"class_ids": [class_id], "now": now}),
        (progress._overview_figures_compiled, {"class_ids": [class_id, class_id + 1], "now": now}),
        (permissions._pupil_assignment, {"student": 1, "assignment": marking_assignment.pk, "now": now}),
        (lookups._prompt_sources_compiled, {"prompt": 1}),
        (lookups._own_essay_compiled, {"assignment": 1, "student": 2}),
        (lookups._arrangement_compiled, {"student": 1}),
        (lookups._extension_compiled, {"assignment": 1, "student": 2}),
        (lookups._exemplar_shares_compiled, {"assignment": 1}),
        (lookups._lesson_compiled, {"lesson": 1}),
        (lookups._key_terms_compiled, {"lesson": 1}),
        (lookups._timeline_compiled, {"lesson": 1}),
        (lookups._lesson_sources_compiled, {"lesson": 1}),
        (content_models._check_questions, {"lesson": 1}),
        (permissions._pupil_mark, {"student": 1, "assignment": marking_assignment.pk, "now": now}),
        (models._mark_results, {"mark": 1}),
        (lookups._annotations_compiled, {"mark": 1}),
        (lookups._strand_ticks_compiled, {"mark": 1}),
        (permissions._timed_unbegun, {"student": 1}),
        (permissions._taught_assignment, {"teacher": 1, "assignment": 2}),
        (marking_views._queue_by_number, {"assignment": 1}),
        (marking_views._queue_by_name, {"assignment": 1}),
        (marking_views._siblings_by_number, {"assignment": 1}),
        (marking_views._siblings_by_name, {"assignment": 1}),
        (permissions._marked_by_teacher, {"teacher": 1, "submission": 2}),
        (permissions._peer_candidates, {"student": 1}),
        (permissions._pupil_classes, {"student": 1}),
        (signin._user_by_id, {"pk": 1}),
        (progress._progress_marks, {"student": 1, "now": now, "teacher": None}),
        (progress._progress_marks, {"student": 1, "now": now, "teacher": teacher.pk}),
        (progress._progress_criterion_marks, {"student": 1, "now": now, "teacher": None}),
        (progress._progress_criterion_marks, {"student": 1, "now": now, "teacher": teacher.pk}),
        (progress._progress_ticks, {"student": 1, "now": now, "teacher": None}),
        (progress._progress_ticks, {"student": 1, "now": now, "teacher": teacher.pk}),
        (progress._progress_knowledge, {"student": 1}),
        (permissions._taught_class, {"teacher": 1, "school_class": class_id}),
        (permissions._taught_class, {"teacher": None, "school_class": class_id}),
        (permissions._taught_student, {"teacher": 1, "student": 2}),
        (permissions._taught_student, {"teacher": None, "student": 2}),
        (assignment_views._current_list, {"class_id": class_id, "now": now}),
        (assignment_views._archived_list, {"class_id": class_id, "now": now}),
        (progress._class_assignments, {"school_class": class_id}),
        (progress._markbook_cells, {"school_class": class_id}),
        (progress._scheme_maxima_compiled, {"scheme_ids": [1, 2]}),
    ]
    for query, values in shapes:
        assert query._compiled(values).compiler is not None, query.build.__name__


_ORDER = ["pk"]


def _in_order(class_id: int):
    return Assignment.objects.filter(school_class_id=class_id).order_by(*_ORDER).values("pk")


@pytest.mark.django_db
def test_forget_all_drops_sql_compiled_from_a_definition_since_changed(marking_assignment, monkeypatch):
    from classroom.compiled import forget_all

    later = AssignmentFactory(school_class=marking_assignment.school_class)
    compiled = CompiledQuery(_in_order)
    class_id = marking_assignment.school_class_id
    assert [r["pk"] for r in compiled.rows(class_id=class_id)] == [marking_assignment.pk, later.pk]
    monkeypatch.setattr(f"{__name__}._ORDER", ["-pk"])  # the definition changes, as a test may change one
    assert [r["pk"] for r in compiled.rows(class_id=class_id)] == [marking_assignment.pk, later.pk]  # compiled
    forget_all()
    assert [r["pk"] for r in compiled.rows(class_id=class_id)] == [later.pk, marking_assignment.pk]


@pytest.mark.django_db
def test_a_query_compiled_with_prepare_false_is_never_kept_prepared(marking_assignment):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's prepared statements")

    def prepared(table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{table}%"])
            return cursor.fetchone()[0]

    from classroom.models import Extension, SchoolClass

    unprepared = CompiledQuery(lambda pk: SchoolClass.objects.filter(pk=pk).values("pk"), prepare=False)
    kept = CompiledQuery(lambda pk: Extension.objects.filter(assignment_id=pk).values("pk"))
    for _ in range(7):  # more than the threshold of 5
        assert unprepared.rows(pk=marking_assignment.school_class_id) == [{"pk": marking_assignment.school_class_id}]
        assert kept.rows(pk=marking_assignment.pk) == []
    assert prepared("classroom_schoolclass") == 0
    assert prepared("classroom_extension") == 1
    driver = connection.connection
    assert driver.prepare_threshold == 5  # put back

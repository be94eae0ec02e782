"""The submission status has one home (classroom/status.py): its Python rule and its SQL twin
give the same answer for every stored state, late flag, due date, extension, release setting,
exemption and joining date (a pupil who joined after their due date is not "missing")."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from classroom import progress
from classroom.models import Assignment, Enrolment, Exemption, Extension, Submission
from classroom.status import (
    KEYS,
    STATUSES,
    State,
    Status,
    due_passed,
    feedback_date_passed,
    feedback_visible,
    feedback_visible_q,
    status_key,
)
from tests.factories import AssignmentFactory, SchoolClassFactory, StudentFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
HOUR = dt.timedelta(hours=1)
STATES = [None, *State.values]
RELEASES = [  # (mode, release date)
    (Assignment.FeedbackRelease.MANUAL, None),
    (Assignment.FeedbackRelease.AT_DATE, NOW - HOUR),
    (Assignment.FeedbackRelease.AT_DATE, NOW + HOUR),
]
EXTENSIONS = [None, NOW - 2 * HOUR, NOW + 2 * HOUR]  # none, its own due date passed, not yet
# Joined the class long ago, or an hour ago: after every due date that has passed (the
# assignment's and the extension's), before those still to come.
JOINED = [NOW - dt.timedelta(days=10), NOW - HOUR]
EXEMPT = [False, True]


@pytest.fixture
def every_combination(teacher):
    """One class; an assignment per (release setting, due date passed or not); a student per
    (stored state, late flag, extension, joining date, exemption) with that submission in
    every assignment."""
    school_class = SchoolClassFactory(teachers=[teacher])
    assignments = []
    for (release, release_at), past in itertools.product(RELEASES, [True, False]):
        due = NOW - 3 * HOUR if past else NOW + 3 * HOUR
        assignments.append(
            AssignmentFactory(
                school_class=school_class,
                opens_at=NOW - dt.timedelta(days=2),
                due_at=due,
                feedback_release=release,
                feedback_release_at=release_at,
            )
        )
    expected = {}
    for state, is_late, extension, joined, exempt in itertools.product(
        STATES, [False, True], EXTENSIONS, JOINED, EXEMPT
    ):
        student = StudentFactory()
        Enrolment.objects.create(school_class=school_class, student=student, joined_at=joined)
        for assignment in assignments:
            if extension is not None:
                Extension.objects.create(assignment=assignment, student=student, due_at=extension)
            if exempt:
                Exemption.objects.create(assignment=assignment, student=student)
            if state is not None:
                handed_in = state not in (State.NOT_STARTED, State.DRAFT)
                Submission.objects.create(
                    assignment=assignment,
                    student=student,
                    state=state,
                    is_late=is_late,
                    text="Some words.",
                    submitted_at=NOW - 4 * HOUR if handed_in else None,
                )
            due = extension or assignment.due_at
            date_passed = feedback_date_passed(assignment.feedback_release, assignment.feedback_release_at, NOW)
            passed = due_passed(due, joined, NOW)
            expected[student.pk, assignment.pk] = status_key(state, is_late, passed, date_passed, exempt)
    return school_class, expected


def test_python_and_sql_agree_for_every_state_late_flag_due_date_and_release(every_combination):
    school_class, expected = every_combination
    book = progress.markbook(school_class, now=NOW)
    from_sql = {
        (row.student_id, column.assignment_id): cell.kind
        for row in book.rows
        for column, cell in zip(book.columns, row.cells, strict=True)
    }
    students = len(STATES) * 2 * len(EXTENSIONS) * len(JOINED) * len(EXEMPT)
    assert len(from_sql) == len(expected) == students * len(RELEASES) * 2
    disagreements = {key: (expected[key], from_sql[key]) for key in expected if expected[key] != from_sql[key]}
    assert disagreements == {}
    # Every status is reached, so the comparison covers the whole table.
    assert set(expected.values()) == set(KEYS)


def test_a_submissions_own_status_is_the_same_rule(every_combination):
    _, expected = every_combination
    for submission in Submission.objects.select_related("assignment", "student"):
        assert submission.status(now=NOW).key == expected[submission.student_id, submission.assignment_id]


def test_feedback_visibility_python_and_sql_agree(every_combination):
    _, expected = every_combination
    visible_in_sql = set(
        Submission.objects.filter(feedback_visible_q("", "assignment__", NOW)).values_list(
            "student_id", "assignment_id"
        )
    )
    visible_in_python = set()
    for submission in Submission.objects.select_related("assignment"):
        assignment = submission.assignment
        date_passed = feedback_date_passed(assignment.feedback_release, assignment.feedback_release_at, NOW)
        if feedback_visible(submission.state, date_passed):
            visible_in_python.add((submission.student_id, submission.assignment_id))
    assert visible_in_sql == visible_in_python
    assert visible_in_python == {key for key, value in expected.items() if value == "released"}


def test_every_status_has_words_for_teachers_and_students_and_a_symbol():
    assert set(STATUSES) == set(KEYS)
    for key in KEYS:
        status = Status(key)
        assert status.teacher_words and status.student_words and status.symbol
    # Until feedback is visible the student learns nothing of the mark.
    assert "mark" not in Status("marked").student_words.lower().replace("marking", "")


def test_late_work_keeps_its_flag_through_marking_in_the_teachers_words():
    assert Status.of(State.MARKED, True).teacher_words == "Marked, not released (submitted late)"
    assert Status.of(State.SUBMITTED, True).key == "late"
    assert Status.of(State.MARKED, True).student_words == "Submitted late — your teacher is marking it"


def test_an_unknown_state_is_an_error_not_a_guess():
    with pytest.raises(ValueError, match="Unknown submission state"):
        status_key("lost", False, False, False)


def test_an_exempt_pupil_is_never_missing_and_a_late_joiner_is_not_missing():
    passed = NOW - HOUR
    assert status_key(None, False, due_passed(passed, None, NOW), False) == "missing"
    assert status_key(None, False, due_passed(passed, None, NOW), False, exempt=True) == "exempt"
    assert status_key(State.DRAFT, False, True, False, exempt=True) == "exempt"
    # Work handed in stays what it is: an exemption never hides an essay to mark.
    assert status_key(State.SUBMITTED, True, True, False, exempt=True) == "late"
    assert status_key(State.RETURNED, False, True, False, exempt=True) == "returned"
    # Joined after the due date: not missing; joined before it (or unknown): missing.
    assert not due_passed(passed, NOW - HOUR / 2, NOW)
    assert due_passed(passed, NOW - 2 * HOUR, NOW)
    assert due_passed(passed, passed, NOW)
    assert not due_passed(NOW + HOUR, NOW - 2 * HOUR, NOW)

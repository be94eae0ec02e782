"""The submission lifecycle: every change of state goes through one guard, the database refuses
states and anchors that make no sense, deleting a pupil never deletes their work, every
autosave endpoint speaks the same JSON, and no page view writes to the database."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from classroom.models import Annotation, DirtResponse, Mark, MarkError, Submission, SubmissionError
from crisis.models import KnowledgeCheckAttempt
from tests.factories import AssignmentFactory, LessonFactory, StudentFactory, SubmissionFactory
from tests.helpers import mark_fully, mark_post, mark_revision
from tests.test_submission_races import _in_threads, needs_postgres

pytestmark = pytest.mark.django_db


# --- one guard for every transition --------------------------------------------------------------


def test_a_mark_cannot_complete_or_release_an_essay_being_redrafted(cast, essay):
    """The review's probe: a draft mark, return for redraft, the pupil saves, then complete and release."""
    mark_fully(essay, cast["teacher"], complete=False)
    essay.return_for_redraft(by=cast["teacher"])
    essay.save_draft(essay.text + " A better paragraph.", essay.revision)
    mark = Mark.objects.get(submission=essay)
    with pytest.raises(MarkError):
        mark.complete(by=cast["teacher"])
    with pytest.raises(MarkError):
        mark.release(by=cast["teacher"])
    essay.refresh_from_db()
    assert essay.state == Submission.State.RETURNED and essay.is_editable
    assert Mark.objects.get(pk=mark.pk).completed_at is None


def test_release_all_leaves_an_essay_being_redrafted_alone(cast, essay, marking_assignment, student):
    other = SubmissionFactory(assignment=marking_assignment, text="Another essay, handed in.", submitted=True)
    mark_fully(other, cast["teacher"])
    mark_fully(essay, cast["teacher"])
    # A redraft with a complete mark left over (e.g. data from before the guards).
    Submission.objects.filter(pk=essay.pk).update(state=Submission.State.RETURNED)
    assert Mark.release_all_complete(marking_assignment, by=cast["teacher"]) == 1
    essay.refresh_from_db()
    assert essay.state == Submission.State.RETURNED and essay.mark.released_at is None
    assert Submission.objects.get(pk=other.pk).state == Submission.State.RELEASED


def test_marked_work_cannot_be_returned_and_released_work_cannot_be_completed_again(cast, essay):
    mark = mark_fully(essay, cast["teacher"])
    with pytest.raises(SubmissionError):
        essay.return_for_redraft(by=cast["teacher"])
    mark.release(by=cast["teacher"])
    with pytest.raises(MarkError):
        mark.complete(by=cast["teacher"])
    assert Submission.objects.get(pk=essay.pk).state == Submission.State.RELEASED


def test_a_redraft_stays_returned_until_handed_in_again(cast, essay):
    essay.return_for_redraft(by=cast["teacher"])
    essay.save_draft("A redraft.", essay.revision)
    assert essay.state == Submission.State.RETURNED
    essay.submit(by=essay.student)
    assert essay.state == Submission.State.SUBMITTED


def test_the_lifecycle_table_is_exactly_the_specified_edges():
    S = Submission.State
    assert {
        (S.NOT_STARTED, S.DRAFT),
        (S.NOT_STARTED, S.SUBMITTED),
        (S.DRAFT, S.SUBMITTED),
        (S.RETURNED, S.SUBMITTED),
        (S.SUBMITTED, S.RETURNED),
        (S.SUBMITTED, S.MARKED),
        (S.MARKED, S.RELEASED),
        (S.RELEASED, S.MARKED),
    } == Submission.TRANSITIONS


def test_a_move_off_the_table_is_refused_and_changes_nothing(cast, essay):
    mark_fully(essay, cast["teacher"]).release(by=cast["teacher"])
    locked = Submission.objects.get(pk=essay.pk)
    with pytest.raises(SubmissionError):
        locked._move(Submission.State.RETURNED, SubmissionError("no"))
    assert Submission.objects.get(pk=essay.pk).state == Submission.State.RELEASED


def test_complete_refuses_an_essay_in_any_state_but_submitted_or_marked(cast, essay):
    mark = mark_fully(essay, cast["teacher"], complete=False)
    # Released by the old unguarded code without the mark saying so: complete must not un-release it.
    Submission.objects.filter(pk=essay.pk).update(state=Submission.State.RELEASED)
    with pytest.raises(MarkError):
        mark.complete(by=cast["teacher"])
    assert Submission.objects.get(pk=essay.pk).state == Submission.State.RELEASED


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_return_for_redraft_racing_complete_and_release_never_locks_a_redraft(cast, essay):
    mark = mark_fully(essay, cast["teacher"], complete=False)

    def complete_and_release():
        Mark.objects.get(pk=mark.pk).complete(by=cast["teacher"]).release(by=cast["teacher"])

    def give_back():
        Submission.objects.get(pk=essay.pk).return_for_redraft(by=cast["teacher"])

    results = _in_threads(complete_and_release, give_back)
    essay.refresh_from_db()
    mark.refresh_from_db()
    if essay.state == Submission.State.RETURNED:
        assert isinstance(results[0], MarkError) and mark.released_at is None and essay.is_editable
    else:
        assert essay.state == Submission.State.RELEASED and mark.released_at is not None
        assert isinstance(results[1], SubmissionError)


# --- the database refuses what makes no sense ----------------------------------------------------


def test_the_database_refuses_an_unknown_state(essay):
    with pytest.raises(IntegrityError), transaction.atomic():
        Submission.objects.filter(pk=essay.pk).update(state="lost")


def test_the_database_refuses_handed_in_work_without_a_time(essay):
    with pytest.raises(IntegrityError), transaction.atomic():
        Submission.objects.filter(pk=essay.pk).update(submitted_at=None)


@pytest.mark.parametrize("start,end", [(None, 5), (5, None), (5, 5), (7, 3)])
def test_the_database_refuses_a_half_or_backwards_anchor(cast, essay, start, end):
    mark = mark_fully(essay, cast["teacher"], complete=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        Annotation.objects.create(mark=mark, number=1, start=start, end=end, comment="x")


def test_a_general_comment_and_a_proper_anchor_are_accepted(cast, essay):
    mark = mark_fully(essay, cast["teacher"], complete=False)
    Annotation.objects.create(mark=mark, number=1, start=None, end=None, comment="General")
    Annotation.objects.create(mark=mark, number=2, start=0, end=3, comment="Anchored")
    assert mark.annotations.count() == 2


# --- deleting a pupil never deletes their coursework ------------------------------------------


def test_deleting_a_pupil_with_coursework_is_refused(cast, essay):
    mark_fully(essay, cast["teacher"]).release(by=cast["teacher"])
    with pytest.raises(ProtectedError):
        essay.student.delete()
    assert Submission.objects.filter(pk=essay.pk).exists() and Mark.objects.filter(submission=essay).exists()


def test_deleting_a_pupil_with_knowledge_check_answers_is_refused(student):
    attempt = KnowledgeCheckAttempt.objects.create(
        student=student, lesson=LessonFactory(), score=1, total=4, answers={}, submitted_at=timezone.now()
    )
    with pytest.raises(ProtectedError):
        student.delete()
    assert type(attempt).objects.filter(pk=attempt.pk).exists()


# --- one JSON shape on every autosave endpoint --------------------------------------------------


@pytest.fixture
def endpoints(cast, essay, marking_assignment, school_class):
    """(who, url, valid POST data without base_revision) for the three autosaves."""
    mark_fully(essay, cast["teacher"]).release(by=cast["teacher"])
    writer = StudentFactory()
    school_class.enrol(writer)
    mark_data = mark_post(essay, {})
    del mark_data["base_revision"]
    return {
        "essay": (writer, reverse("classroom:autosave", args=[marking_assignment.pk]), {"text": "Words."}),
        "dirt": (
            cast["student"],
            reverse("classroom:dirt_autosave", args=[marking_assignment.pk]),
            {"text": "I will."},
        ),
        "mark": (cast["teacher"], reverse("classroom:mark_autosave", args=[essay.pk]), mark_data),
    }


@pytest.mark.parametrize("which", ["essay", "dirt", "mark"])
def test_a_save_without_a_base_revision_is_refused_not_last_writer_wins(client, endpoints, which):
    user, url, data = endpoints[which]
    client.force_login(user)
    response = client.post(url, data)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid" and body["error"] and "base_revision" in body["errors"]


@pytest.mark.parametrize("which", ["essay", "dirt"])
def test_saved_and_conflict_answers_have_the_same_shape(client, endpoints, which):
    user, url, data = endpoints[which]
    client.force_login(user)
    saved = client.post(url, {**data, "base_revision": 0})
    assert saved.status_code == 200
    assert {"status", "revision", "saved_at", "saved_at_display"} <= set(saved.json())
    assert saved.json()["status"] == "saved" and saved.json()["revision"] == 1
    stale = client.post(url, {**data, "base_revision": 0})
    assert stale.status_code == 409
    assert set(stale.json()) == {"status", "revision", "editable", "text", "error"}
    assert stale.json()["status"] == "conflict" and stale.json()["editable"] is True


def test_a_released_mark_answers_conflict_not_editable(client, endpoints, essay):
    user, url, data = endpoints["mark"]
    client.force_login(user)
    response = client.post(url, {**data, "base_revision": mark_revision(essay)})
    assert response.status_code == 409
    assert response.json()["editable"] is False and "withdraw the release" in response.json()["error"]


def test_mark_autosave_saves_what_is_valid_and_flags_the_rest(client, cast, essay):
    client.force_login(cast["teacher"])
    data = mark_post(essay, {"AO1": (1, 9), "AO2": (1, 2)}, www="Keep this.")
    response = client.post(reverse("classroom:mark_autosave", args=[essay.pk]), data)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "saved" and list(body["invalid"]) == [next(k for k in data if k.startswith("marks-"))]
    mark = Mark.objects.get(submission=essay)
    assert mark.www == "Keep this." and mark.total == 2


# --- no page view writes to the database --------------------------------------------------------


WRITES = ("INSERT", "UPDATE", "DELETE")
# Reading a pupil's work is itself recorded (classroom/privacy.py's access log): that row is
# the record of the read, not a change to the work, so it is the one write a GET may make.
ACCESS_LOG = 'INSERT INTO "classroom_accesslogentry"'


def _changes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(WRITES) and not q["sql"].lstrip().startswith(ACCESS_LOG)
    ]


def _writes_on_get(client, user, url) -> list[str]:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return _changes(queries)


def _get_without_writes(client, user, url) -> str:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    assert not _changes(queries)
    return response.content.decode()


def test_marking_pages_write_nothing_on_get_even_under_anonymous_marking(client, cast, essay, marking_assignment):
    type(marking_assignment).objects.filter(pk=marking_assignment.pk).update(anonymous_marking=True)
    essay.refresh_from_db()
    assert essay.candidate_number is not None  # given when it was handed in
    teacher = cast["teacher"]
    assert _writes_on_get(client, teacher, reverse("classroom:marking_queue", args=[marking_assignment.pk])) == []
    assert _writes_on_get(client, teacher, reverse("classroom:mark_submission", args=[essay.pk])) == []


def test_feedback_and_writing_pages_write_nothing_on_get(client, cast, essay, marking_assignment):
    mark_fully(essay, cast["teacher"]).release(by=cast["teacher"])
    student = cast["student"]
    assert _writes_on_get(client, student, reverse("classroom:feedback", args=[marking_assignment.pk])) == []
    assert not DirtResponse.objects.exists()  # made by the first save, not by reading
    assert _writes_on_get(client, student, reverse("classroom:write", args=[marking_assignment.pk])) == []


@pytest.mark.parametrize("timed", [False, True])
def test_opening_a_new_essay_or_its_submit_page_writes_nothing(client, cast, school_class, timed):
    assignment = AssignmentFactory(school_class=school_class, time_limit_minutes=45 if timed else None)
    student = cast["student"]
    html = _get_without_writes(client, student, reverse("classroom:write", args=[assignment.pk]))
    assert ('name="start"' in html) is timed  # a timed essay's clock starts on "Start", a POST
    client.force_login(student)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("classroom:submit", args=[assignment.pk]))
    assert response.status_code == 302  # nothing to hand in yet: back to the writing page
    assert not [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]
    assert not Submission.objects.exists()

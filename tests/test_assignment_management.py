"""Assignments a teacher can manage (issue 13, item 3): change one after it opens (pupils see
that it changed; what may not change stays), delete one nobody has started, archive one with
work, set one for several classes at once, exempt a pupil (and a pupil who joins after the
due date is not "Missing")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from classroom import home, progress
from classroom.models import Assignment, AssignmentChange, Enrolment, Exemption, Submission
from tests.factories import (
    AssignmentFactory,
    EssayPromptFactory,
    SchoolClassFactory,
    StudentFactory,
    SubmissionFactory,
)
from tests.helpers import mark_fully

pytestmark = pytest.mark.django_db


def _form_time(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def assignment(school_class):
    return AssignmentFactory(school_class=school_class, title="How far did it improve diplomacy?")


def _edit_data(assignment: Assignment, **changes) -> dict:
    data = {
        "prompt": assignment.prompt_id,
        "title": assignment.title,
        "instructions": assignment.instructions,
        "due_at": _form_time(assignment.due_at),
        "late_cutoff": "",
        "time_limit_minutes": assignment.time_limit_minutes or "",
        "feedback_release": assignment.feedback_release,
        "feedback_release_at": "",
        "model_answers": assignment.model_answers,
    }
    data.update(changes)
    return data


# --- Access: every new page, every actor ------------------------------------------------

PAGES = [
    ("classroom:assignment_exceptions", "get"),
    ("classroom:assignment_exemptions", "get"),
    ("classroom:assignment_delete", "get"),
    ("classroom:assignment_delete", "post"),
    ("classroom:assignment_archive", "get"),
    ("classroom:assignment_archive", "post"),
    ("classroom:assignment_restore", "post"),
]
EXPECTED = {"teacher": {200, 302}, "head": {200, 302}, "other_teacher": {404}, "student": {403}, "outsider": {403}}


@pytest.mark.parametrize(("url_name", "method"), PAGES)
@pytest.mark.parametrize("who", list(EXPECTED))
def test_managing_an_assignment_access_matrix(client, cast, assignment, url_name, method, who):
    client.force_login(cast[who])
    response = getattr(client, method)(reverse(url_name, args=[assignment.pk]))
    assert response.status_code in EXPECTED[who]
    if who not in ("teacher", "head"):
        assert Assignment.objects.filter(pk=assignment.pk, archived_at__isnull=True).exists()


@pytest.mark.parametrize(("url_name", "method"), PAGES)
def test_managing_pages_send_anonymous_visitors_to_log_in(client, assignment, url_name, method):
    response = getattr(client, method)(reverse(url_name, args=[assignment.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert Assignment.objects.filter(pk=assignment.pk, archived_at__isnull=True).exists()


def test_restoring_is_post_only_and_archiving_asks_first(client, cast, assignment):
    client.force_login(cast["teacher"])
    assert client.get(reverse("classroom:assignment_restore", args=[assignment.pk])).status_code == 405
    # Archiving: a GET is the confirmation page (tests/test_issue13_followups.py), never the change.
    assert client.get(reverse("classroom:assignment_archive", args=[assignment.pk])).status_code == 200
    assignment.refresh_from_db()
    assert not assignment.is_archived


# --- Changing it after it opens -------------------------------------------------------------


def test_title_and_instructions_change_after_opening_and_pupils_see_it(client, cast, assignment):
    SubmissionFactory(assignment=assignment, student=cast["student"])  # someone has started
    client.force_login(cast["teacher"])
    url = reverse("classroom:assignment_edit", args=[assignment.pk])
    data = _edit_data(assignment, title="Diplomacy after Cuba", instructions="Use **two** sources.")
    response = client.post(url, data)
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.title == "Diplomacy after Cuba"
    assert "<strong>two</strong>" in assignment.instructions_html
    assert assignment.updated_by == cast["teacher"] and assignment.updated_at is not None
    record = AssignmentChange.objects.get()
    assert (record.changed_by, record.fields) == (cast["teacher"], "title, instructions")
    # The pupil sees that it changed, when and by whom.
    client.force_login(cast["student"])
    page = client.get(reverse("classroom:write", args=[assignment.pk])).content.decode()
    assert "Updated on" in page and "by Tess Teacher: title, instructions." in page
    # The teacher's page keeps the record.
    client.force_login(cast["teacher"])
    page = client.get(reverse("classroom:assignment_detail", args=[assignment.pk])).content.decode()
    assert 'id="change-history"' in page and "title, instructions" in page


def test_saving_the_form_unchanged_records_nothing(client, cast, assignment):
    client.force_login(cast["teacher"])
    url = reverse("classroom:assignment_edit", args=[assignment.pk])
    assert client.post(url, _edit_data(assignment)).status_code == 302
    assert not AssignmentChange.objects.exists()
    assignment.refresh_from_db()
    assert assignment.updated_at is None
    client.force_login(cast["student"])
    assert "Updated on" not in client.get(reverse("classroom:write", args=[assignment.pk])).content.decode()


def test_the_question_changes_after_opening_only_while_nobody_has_started(client, cast, assignment):
    other = EssayPromptFactory()
    client.force_login(cast["teacher"])
    url = reverse("classroom:assignment_edit", args=[assignment.pk])
    assert client.post(url, _edit_data(assignment, prompt=other.pk)).status_code == 302
    assignment.refresh_from_db()
    assert assignment.prompt == other
    # Once a pupil has started, the question (and its mark scheme) stays: the field is shown
    # disabled with the reason, and a posted value is ignored.
    SubmissionFactory(assignment=assignment, student=cast["student"])
    page = client.get(url).content.decode()
    assert "Pupils have started, so the question and its mark scheme stay as they are." in page
    third = EssayPromptFactory()
    client.post(url, _edit_data(assignment, prompt=third.pk, title="New title"))
    assignment.refresh_from_db()
    assert assignment.prompt == other and assignment.title == "New title"


def test_what_may_not_change_after_opening_is_refused_by_the_model_too(cast, assignment):
    SubmissionFactory(assignment=assignment, student=cast["student"])
    with pytest.raises(Exception) as refused:
        assignment.save_edit({"prompt": EssayPromptFactory(), "time_limit_minutes": 30}, by=cast["teacher"])
    assert set(refused.value.message_dict) == {"prompt", "time_limit_minutes"}  # type: ignore[attr-defined]
    with pytest.raises(Exception) as refused:
        assignment.save_edit({"anonymous_marking": True, "opens_at": timezone.now()}, by=cast["teacher"])
    assert set(refused.value.message_dict) == {"anonymous_marking", "opens_at"}  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="can only move later"):
        assignment.save_edit({"due_at": assignment.due_at - dt.timedelta(hours=1)}, by=cast["teacher"])
    fresh = Assignment.objects.get(pk=assignment.pk)
    assert (fresh.time_limit_minutes, fresh.anonymous_marking, fresh.due_at) == (None, False, assignment.due_at)
    assert not AssignmentChange.objects.exists()


def test_a_marked_essay_is_never_rewritten(client, cast, marking_assignment, student):
    """Marks exist: the question and mark scheme stay; once feedback was released at its date,
    the release setting stays too (pupils may have read it)."""
    submission = SubmissionFactory(assignment=marking_assignment, student=student, submitted=True)
    mark_fully(submission, cast["teacher"])
    marking_assignment.feedback_release = Assignment.FeedbackRelease.AT_DATE
    marking_assignment.feedback_release_at = timezone.now() - dt.timedelta(minutes=5)
    marking_assignment.save()
    locked = marking_assignment.locked_fields()
    assert {"prompt", "feedback_release", "feedback_release_at"} <= set(locked)
    client.force_login(cast["teacher"])
    url = reverse("classroom:assignment_edit", args=[marking_assignment.pk])
    data = _edit_data(marking_assignment, prompt=EssayPromptFactory().pk, feedback_release="manual")
    client.post(url, data)
    marking_assignment.refresh_from_db()
    assert marking_assignment.feedback_release == Assignment.FeedbackRelease.AT_DATE
    submission.refresh_from_db()
    assert submission.status().key == "released"


def test_a_bad_edit_explains_itself_and_changes_nothing(client, cast, assignment):
    client.force_login(cast["teacher"])
    url = reverse("classroom:assignment_edit", args=[assignment.pk])
    data = _edit_data(assignment, title="Changed", late_cutoff=_form_time(assignment.due_at - dt.timedelta(hours=2)))
    response = client.post(url, data)
    assert response.status_code == 200
    assert "The late cut-off cannot be before the due date." in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.title != "Changed" and not AssignmentChange.objects.exists()


# --- Deleting and archiving ----------------------------------------------------------------


def test_an_assignment_nobody_started_is_deleted_after_confirming(client, cast, assignment, school_class):
    assignment.grant_extension(cast["student"], assignment.due_at + dt.timedelta(days=1), None, by=cast["teacher"])
    client.force_login(cast["teacher"])
    url = reverse("classroom:assignment_delete", args=[assignment.pk])
    page = client.get(url).content.decode()
    assert "Delete “How far did it improve diplomacy?”?" in page
    assert Assignment.objects.filter(pk=assignment.pk).exists()  # a page view deletes nothing
    response = client.post(url)
    assert response.status_code == 302
    assert response.url == reverse("classroom:assignment_list", args=[school_class.pk])
    assert not Assignment.objects.filter(pk=assignment.pk).exists()


def test_an_assignment_with_work_cannot_be_deleted_and_says_why(client, cast, assignment):
    SubmissionFactory(assignment=assignment, student=cast["student"])
    client.force_login(cast["teacher"])
    url = reverse("classroom:assignment_delete", args=[assignment.pk])
    response = client.get(url)
    assert response.status_code == 409
    assert "Pupils have started this assignment" in response.content.decode()
    response = client.post(url, follow=True)
    assert "cannot be deleted: archive it instead" in response.content.decode()
    assert Assignment.objects.filter(pk=assignment.pk).exists() and Submission.objects.count() == 1


def test_archiving_takes_it_out_of_lists_keeps_it_readable_and_restores(client, cast, assignment, school_class):
    SubmissionFactory(assignment=assignment, student=cast["student"])
    client.force_login(cast["teacher"])
    assert client.post(reverse("classroom:assignment_archive", args=[assignment.pk])).status_code == 302
    assignment.refresh_from_db()
    assert assignment.is_archived and assignment.archived_by == cast["teacher"]
    list_url = reverse("classroom:assignment_list", args=[school_class.pk])
    response = client.get(list_url)
    assert list(response.context["assignments"]) == [] and "Archived assignments (1)" in response.content.decode()
    assert list(client.get(list_url + "?archived=1").context["assignments"]) == [assignment]
    detail = client.get(reverse("classroom:assignment_detail", args=[assignment.pk])).content.decode()
    assert 'id="archived-note"' in detail
    # The pupil: off their to-do, still readable.
    open_rows, closed_rows = home.student_assignments(cast["student"])
    assert assignment not in [row.assignment for row in open_rows]
    assert assignment in [row.assignment for row in closed_rows]
    client.force_login(cast["student"])
    assert client.get(reverse("classroom:write", args=[assignment.pk])).status_code == 200
    client.force_login(cast["teacher"])
    client.post(reverse("classroom:assignment_restore", args=[assignment.pk]))
    assignment.refresh_from_db()
    assert not assignment.is_archived
    assert list(client.get(list_url).context["assignments"]) == [assignment]
    assert assignment in [row.assignment for row in home.student_assignments(cast["student"])[0]]


# --- Setting it for several classes ---------------------------------------------------------


def _create_data(prompt, **changes) -> dict:
    now = timezone.now()
    data = {
        "classes_shown": "True",
        "prompt": prompt.pk,
        "title": "Cuba essay",
        "opens_at": _form_time(now),
        "due_at": _form_time(now + dt.timedelta(days=7)),
        "late_cutoff": "",
        "time_limit_minutes": "",
        "feedback_release": "manual",
        "feedback_release_at": "",
        "model_answers": "hidden",
    }
    data.update(changes)
    return data


def test_one_assignment_is_set_for_several_classes_at_once(client, cast, school_class):
    second = SchoolClassFactory(name="10K History", teachers=[cast["teacher"]])
    prompt = EssayPromptFactory()
    client.force_login(cast["teacher"])
    url = reverse("classroom:assignment_create", args=[school_class.pk])
    page = client.get(url).content.decode()
    assert "10K History" in page and "11E History" not in page  # only the teacher's own classes
    response = client.post(url, _create_data(prompt, classes=[school_class.pk, second.pk]), follow=True)
    made = Assignment.objects.order_by("school_class__name")
    assert [a.school_class for a in made] == [school_class, second]
    assert {(a.title, a.prompt_id, a.created_by_id) for a in made} == {("Cuba essay", prompt.pk, cast["teacher"].pk)}
    assert "is set for 2 classes: 10H History, 10K History" in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("classroom:assignment_detail", args=[made[0].pk])


def test_setting_it_for_a_class_the_teacher_does_not_teach_is_refused(client, cast, school_class, other_class):
    client.force_login(cast["teacher"])
    url = reverse("classroom:assignment_create", args=[school_class.pk])
    response = client.post(url, _create_data(EssayPromptFactory(), classes=[school_class.pk, other_class.pk]))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = client.post(url, _create_data(EssayPromptFactory()))  # the boxes shown, none ticked
    assert response.status_code == 200 and "Choose at least one class." in response.content.decode()
    assert not Assignment.objects.exists()


# --- Exemptions and late joiners ----------------------------------------------------------


@pytest.fixture
def overdue(school_class):
    """Due an hour ago; the class's pupil joined long before."""
    now = timezone.now()
    Enrolment.objects.filter(school_class=school_class).update(joined_at=now - dt.timedelta(days=30))
    return AssignmentFactory(
        school_class=school_class, opens_at=now - dt.timedelta(days=3), due_at=now - dt.timedelta(hours=1)
    )


def _statuses(client, assignment) -> dict[str, str]:
    response = client.get(reverse("classroom:assignment_detail", args=[assignment.pk]))
    return {row.student.username: row.status for row in response.context["rows"]}


def _markbook(school_class) -> dict[int, str]:
    book = progress.markbook(school_class)
    return {row.student_id: row.cells[0].kind for row in book.rows}


def test_an_exempt_pupil_is_never_missing_and_leaves_the_counts(client, cast, school_class, overdue):
    student = cast["student"]
    client.force_login(cast["teacher"])
    assert _statuses(client, overdue)[student.username] == "missing"
    url = reverse("classroom:assignment_exemptions", args=[overdue.pk])
    assert client.post(url, {"student": student.pk}).status_code == 302
    assert Exemption.objects.get().granted_by == cast["teacher"]
    response = client.get(reverse("classroom:assignment_detail", args=[overdue.pk]))
    assert {row.student.username: row.status for row in response.context["rows"]}[student.username] == "exempt"
    assert response.context["expected"] == 0
    assert "0 pupils expected to hand it in (1 exempt, not counted)" in response.content.decode()
    assert _markbook(school_class)[student.pk] == "exempt"
    list_page = client.get(reverse("classroom:assignment_list", args=[school_class.pk])).content.decode()
    assert "0 of 0" in list_page and "1 exempt" in list_page
    # The pupil: not on their to-do, told they are exempt.
    open_rows, closed_rows = home.student_assignments(student)
    assert [row.status for row in closed_rows if row.assignment == overdue] == ["exempt"]
    # Taken back: missing again.
    client.post(url, {"remove": str(student.pk)})
    assert _statuses(client, overdue)[student.username] == "missing"


def test_only_a_pupil_of_the_class_can_be_exempted(client, cast, overdue):
    client.force_login(cast["teacher"])
    url = reverse("classroom:assignment_exemptions", args=[overdue.pk])
    response = client.post(url, {"student": cast["outsider"].pk})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    client.post(url, {"remove": "not-a-number"})
    assert not Exemption.objects.exists()


def test_exempt_work_already_handed_in_stays_to_mark(client, cast, overdue):
    SubmissionFactory(assignment=overdue, student=cast["student"], submitted=True)
    overdue.exempt(cast["student"], by=cast["teacher"])
    client.force_login(cast["teacher"])
    assert _statuses(client, overdue)[cast["student"].username] == "late"


def test_a_pupil_who_joins_after_the_due_date_is_not_missing(client, cast, school_class, overdue):
    newcomer = StudentFactory(username="nina.new")
    school_class.enrol(newcomer)  # joins now, after the due date
    client.force_login(cast["teacher"])
    statuses = _statuses(client, overdue)
    assert statuses == {cast["student"].username: "missing", "nina.new": "not_started"}
    assert _markbook(school_class)[newcomer.pk] == "not_started"
    open_rows, _ = home.student_assignments(newcomer)
    assert [row.status for row in open_rows if row.assignment == overdue] == ["not_started"]
    # Their own status, as the writing page reads it, once they start.
    submission = Submission.start(overdue, newcomer)
    assert submission.status().key == "not_started"


# --- Query budgets: constant with the number of assignments, pupils and exemptions -----------


@pytest.mark.parametrize("size", [3, 30])
def test_assignment_list_budget_with_archived_and_exempt(client, cast, school_class, size, django_assert_num_queries):
    for student in StudentFactory.create_batch(size):
        school_class.enrol(student)
    pupils = list(school_class.active_students())
    for index in range(size // 3 + 1):
        assignment = AssignmentFactory(school_class=school_class)
        for pupil in pupils[::3]:
            Exemption.objects.create(assignment=assignment, student=pupil)
        if index % 2:
            assignment.archive(by=cast["teacher"])
    client.force_login(cast["teacher"])
    for query in ("", "?archived=1"):
        # session, user, class, assignments with counts, exemptions and the other list's size, pupils
        with django_assert_num_queries(5):
            response = client.get(reverse("classroom:assignment_list", args=[school_class.pk]) + query)
        assert response.status_code == 200


@pytest.mark.parametrize("size", [3, 30])
def test_assignment_page_budget_with_exemptions_and_changes(
    client, cast, school_class, size, django_assert_num_queries
):
    assignment = AssignmentFactory(school_class=school_class)
    for student in StudentFactory.create_batch(size):
        school_class.enrol(student)
        assignment.exempt(student, by=cast["teacher"])
    for n in range(size // 3 + 1):
        assignment.save_edit({"title": f"Version {n}"}, by=cast["teacher"])
    client.force_login(cast["teacher"])
    # session, user, assignment, submissions, extensions, pupils (with joining date and
    # exemption), the record of changes
    with django_assert_num_queries(7):
        assert client.get(reverse("classroom:assignment_detail", args=[assignment.pk])).status_code == 200


def test_a_cut_off_added_after_opening_cannot_lie_in_the_past(school_class):
    """Review: going from no cut-off to one already past would shut late writers out at once."""
    from tests.factories import AssignmentFactory

    now = timezone.now()
    assignment = AssignmentFactory(
        school_class=school_class,
        opens_at=now - dt.timedelta(days=3),
        due_at=now - dt.timedelta(days=1),
        late_cutoff=None,
    )
    refused = assignment.edit_refusals({"late_cutoff": now - dt.timedelta(hours=1)})
    assert "must be in the future" in refused["late_cutoff"]
    assert "late_cutoff" not in assignment.edit_refusals({"late_cutoff": now + dt.timedelta(days=1)})

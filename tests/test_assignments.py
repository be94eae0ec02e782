"""Setting assignments, extensions, the teacher's view of the work and the student home."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from classroom.models import Assignment, Extension, Submission, SubmissionRevision, effective_deadlines
from classroom.templatetags.assignment_tags import due_in_words
from tests.factories import (
    AssignmentFactory,
    EssayPromptFactory,
    StudentFactory,
    SubmissionFactory,
)
from tests.helpers import mark_fully

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def assignment(school_class):
    return AssignmentFactory(school_class=school_class, title="How far did it improve diplomacy?")


@pytest.fixture
def submission(assignment, student):
    return SubmissionFactory(assignment=assignment, student=student, submitted=True)


def _local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


def _form_time(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


# --- Access ---------------------------------------------------------------------------

TEACHER_PAGES = [
    ("classroom:assignment_list", "class"),
    ("classroom:assignment_create", "class"),
    ("classroom:assignment_detail", "assignment"),
    ("classroom:assignment_edit", "assignment"),
    ("classroom:assignment_extensions", "assignment"),
    ("classroom:submission_detail", "submission"),
    ("classroom:submission_return", "submission"),
]
EXPECTED = {"teacher": 200, "head": 200, "other_teacher": 404, "student": 403, "outsider": 403}


@pytest.mark.parametrize(("url_name", "kind"), TEACHER_PAGES)
@pytest.mark.parametrize("who", list(EXPECTED))
def test_teacher_pages_access_matrix(client, cast, school_class, assignment, submission, url_name, kind, who):
    pk = {"class": school_class.pk, "assignment": assignment.pk, "submission": submission.pk}[kind]
    client.force_login(cast[who])
    assert client.get(reverse(url_name, args=[pk])).status_code == EXPECTED[who]


@pytest.mark.parametrize(("url_name", "kind"), TEACHER_PAGES)
def test_teacher_pages_send_anonymous_visitors_to_log_in(client, school_class, assignment, submission, url_name, kind):
    pk = {"class": school_class.pk, "assignment": assignment.pk, "submission": submission.pk}[kind]
    response = client.get(reverse(url_name, args=[pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_other_teacher_cannot_return_work_by_post(client, cast, submission):
    client.force_login(cast["other_teacher"])
    assert client.post(reverse("classroom:submission_return", args=[submission.pk])).status_code == 404
    submission.refresh_from_db()
    assert submission.state == Submission.State.SUBMITTED


def test_visible_to_matches_detail_rules(cast, assignment, other_class):
    other = AssignmentFactory(school_class=other_class)
    future = AssignmentFactory(school_class=assignment.school_class, opens_at=timezone.now() + dt.timedelta(days=1))
    assert set(Assignment.objects.visible_to(cast["teacher"])) == {assignment, future}
    assert set(Assignment.objects.visible_to(cast["head"])) == {assignment, future, other}
    # Students see only their own classes' assignments, and only once they open.
    assert list(Assignment.objects.visible_to(cast["student"])) == [assignment]
    assert list(Assignment.objects.visible_to(cast["outsider"])) == [other]


# --- Setting an assignment ------------------------------------------------------------


def _assignment_form(prompt, **changes) -> dict:
    now = timezone.now()
    data = {
        "prompt": prompt.pk,
        "title": "Cuba essay",
        "instructions": "",
        "opens_at": _form_time(now + dt.timedelta(hours=1)),
        "due_at": _form_time(now + dt.timedelta(days=7)),
        "late_cutoff": "",
        "time_limit_minutes": "",
        "feedback_release": "manual",
        "feedback_release_at": "",
    }
    data.update(changes)
    return data


def test_teacher_sets_an_assignment_for_their_class(client, cast, school_class):
    prompt = EssayPromptFactory()
    client.force_login(cast["teacher"])
    response = client.post(
        reverse("classroom:assignment_create", args=[school_class.pk]), _assignment_form(prompt, title="")
    )
    assignment = Assignment.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("classroom:assignment_detail", args=[assignment.pk])
    assert assignment.school_class == school_class
    assert assignment.created_by == cast["teacher"]
    assert assignment.title == prompt.question  # an empty title takes the question


def test_assignment_form_explains_bad_dates_and_saves_nothing(client, cast, school_class):
    prompt = EssayPromptFactory()
    now = timezone.now()
    client.force_login(cast["teacher"])
    data = _assignment_form(
        prompt,
        opens_at=_form_time(now + dt.timedelta(days=2)),
        due_at=_form_time(now + dt.timedelta(days=1)),
    )
    response = client.post(reverse("classroom:assignment_create", args=[school_class.pk]), data)
    assert response.status_code == 200
    assert "The due date must be after the assignment opens." in response.content.decode()
    data = _assignment_form(prompt, late_cutoff=_form_time(now + dt.timedelta(days=3)))
    response = client.post(reverse("classroom:assignment_create", args=[school_class.pk]), data)
    assert "The late cut-off cannot be before the due date." in response.content.decode()
    assert not Assignment.objects.exists()


def test_teacher_can_choose_shipped_prompts_and_their_own_copies_only(client, cast, school_class):
    shipped = EssayPromptFactory()
    mine = EssayPromptFactory(owner=cast["teacher"])
    theirs = EssayPromptFactory(owner=cast["other_teacher"])
    client.force_login(cast["teacher"])
    response = client.get(reverse("classroom:assignment_create", args=[school_class.pk]))
    choices = set(response.context["form"].fields["prompt"].queryset)
    assert choices == {shipped, mine}
    response = client.post(reverse("classroom:assignment_create", args=[school_class.pk]), _assignment_form(theirs))
    assert response.status_code == 200
    assert not Assignment.objects.exists()


def test_everything_can_be_edited_before_the_assignment_opens(client, cast, school_class):
    assignment = AssignmentFactory(school_class=school_class, opens_at=timezone.now() + dt.timedelta(days=1))
    other_prompt = EssayPromptFactory()
    client.force_login(cast["teacher"])
    data = _assignment_form(other_prompt, title="Changed", time_limit_minutes="45")
    response = client.post(reverse("classroom:assignment_edit", args=[assignment.pk]), data)
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert (assignment.title, assignment.prompt, assignment.time_limit_minutes) == ("Changed", other_prompt, 45)


def test_after_opening_the_deadlines_move_only_later_and_the_title_still_changes(client, cast, assignment):
    """Issue 13 changed this rule: after opening the title changes too (pupils see that it
    did); the deadlines still move only later. tests/test_assignment_management.py has the rest."""
    client.force_login(cast["teacher"])
    url = reverse("classroom:assignment_edit", args=[assignment.pk])
    page = client.get(url).content.decode()
    assert "The due date and late cut-off can only move later" in page
    earlier = assignment.due_at - dt.timedelta(days=1)
    response = client.post(url, {"due_at": _form_time(earlier), "late_cutoff": "", "title": "Not saved"})
    assert "the due date can only move later" in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.title != "Not saved"
    later = (assignment.due_at + dt.timedelta(days=2)).replace(second=0, microsecond=0)
    response = client.post(url, {"due_at": _form_time(later), "late_cutoff": "", "title": "Renamed"})
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert (assignment.due_at, assignment.title) == (later, "Renamed")


def test_extension_is_granted_replaced_and_removed(client, cast, assignment):
    student = cast["student"]
    url = reverse("classroom:assignment_extensions", args=[assignment.pk])
    client.force_login(cast["teacher"])
    first = (assignment.due_at + dt.timedelta(days=2)).replace(second=0, microsecond=0)
    client.post(url, {"student": student.pk, "due_at": _form_time(first), "late_cutoff": ""})
    assert Extension.objects.get().due_at == first
    second = first + dt.timedelta(days=1)
    client.post(url, {"student": student.pk, "due_at": _form_time(second), "late_cutoff": ""})
    assert Extension.objects.get().due_at == second  # one per student: replaced
    client.post(url, {"remove": str(student.pk)})
    assert not Extension.objects.exists()


def test_extension_for_a_student_outside_the_class_is_refused(client, cast, assignment):
    client.force_login(cast["teacher"])
    due = _form_time(assignment.due_at + dt.timedelta(days=2))
    response = client.post(
        reverse("classroom:assignment_extensions", args=[assignment.pk]),
        {"student": cast["outsider"].pk, "due_at": due, "late_cutoff": ""},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Extension.objects.exists()


def test_nonsense_extension_removal_changes_nothing(client, cast, assignment):
    assignment.grant_extension(cast["student"], assignment.due_at + dt.timedelta(days=1), None, by=cast["teacher"])
    client.force_login(cast["teacher"])
    response = client.post(reverse("classroom:assignment_extensions", args=[assignment.pk]), {"remove": "abc"})
    assert response.status_code == 302
    assert Extension.objects.count() == 1


# --- Deadlines: the SQL annotation agrees with the Python rule -------------------------


@pytest.mark.parametrize(
    ("cutoff_days", "ext_due_days", "ext_cutoff_days"),
    [(None, None, None), (2, None, None), (None, 3, None), (2, 3, None), (5, 3, None), (2, 3, 4), (None, 3, 6)],
)
def test_effective_cutoff_in_sql_matches_python(cast, assignment, cutoff_days, ext_due_days, ext_cutoff_days):
    def days(n):
        return None if n is None else assignment.due_at + dt.timedelta(days=n)

    assignment.late_cutoff = days(cutoff_days)
    assignment.save()
    if ext_due_days is not None:
        assignment.grant_extension(cast["student"], days(ext_due_days), days(ext_cutoff_days), by=cast["teacher"])
    due, cutoff = assignment.deadlines_for(cast["student"])
    annotated = Assignment.objects.with_status_for(cast["student"]).get(pk=assignment.pk)
    assert annotated.my_cutoff == cutoff
    assert (annotated.ext_due_at or annotated.due_at) == due


def test_extension_never_makes_the_cut_off_earlier():
    due = _local(2026, 11, 20, 15, 30)
    cutoff = _local(2026, 11, 27, 15, 30)
    assert effective_deadlines(due, cutoff, _local(2026, 11, 22, 9, 0)) == (_local(2026, 11, 22, 9, 0), cutoff)
    later = _local(2026, 12, 1, 9, 0)
    assert effective_deadlines(due, cutoff, later) == (later, later)
    assert effective_deadlines(due, None, later) == (later, None)


def test_open_for_lists_assignments_before_the_students_cut_off(cast, assignment):
    closed = AssignmentFactory(
        school_class=assignment.school_class,
        opens_at=timezone.now() - dt.timedelta(days=9),
        due_at=timezone.now() - dt.timedelta(days=3),
        late_cutoff=timezone.now() - dt.timedelta(days=1),
    )
    assert list(Assignment.objects.open_for(cast["student"])) == [assignment]
    closed.grant_extension(cast["student"], timezone.now() + dt.timedelta(days=1), None, by=cast["teacher"])
    assert set(Assignment.objects.open_for(cast["student"])) == {assignment, closed}


# --- The teacher's assignment page -----------------------------------------------------


def test_assignment_page_shows_each_students_state_and_word_count(client, cast, school_class, assignment):
    drafting = StudentFactory(first_name="Dora", last_name="Drafter")
    late = StudentFactory(first_name="Larry", last_name="Late")
    idle = StudentFactory(first_name="Nina", last_name="Nothing")
    for s in (drafting, late, idle):
        school_class.enrol(s)
    SubmissionFactory(assignment=assignment, student=drafting, text="one two three")
    SubmissionFactory(assignment=assignment, student=cast["student"], text="four words in time", submitted=True)
    late_submission = SubmissionFactory(assignment=assignment, student=late, text="five words handed in late")
    late_submission.submit(by=late, at=assignment.due_at + dt.timedelta(hours=1))
    client.force_login(cast["teacher"])
    response = client.get(reverse("classroom:assignment_detail", args=[assignment.pk]))
    rows = {row.student.last_name: row for row in response.context["rows"]}
    assert {name: row.status for name, row in rows.items()} == {
        "Drafter": "draft",
        "Student": "submitted",
        "Late": "late",
        "Nothing": "not_started",
    }
    assert rows["Drafter"].submission.word_count == 3
    assert response.context["counts"] == {"draft": 1, "submitted": 1, "late": 1, "not_started": 1}
    html = response.content.decode()
    assert "Late, to mark" in html
    assert reverse("classroom:submission_return", args=[rows["Student"].submission.pk]) in html


def test_removed_students_work_stays_on_the_assignment_page(client, cast, school_class, submission):
    school_class.enrolments.get(student=cast["student"]).remove()
    client.force_login(cast["teacher"])
    response = client.get(reverse("classroom:assignment_detail", args=[submission.assignment_id]))
    assert [row.student for row in response.context["rows"]] == [cast["student"]]


def test_teacher_reads_the_essay_with_paragraphs_and_history(client, cast, assignment, student):
    submission = Submission.start(assignment, student)
    submission.save_draft("First paragraph.\n\nSecond <b>paragraph</b>.", base_revision=0)
    submission.submit(by=student)
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:submission_detail", args=[submission.pk])).content.decode()
    assert '<p><span class="seg" data-start="0">First paragraph.</span></p>' in html  # as on the marking page
    assert "Second &lt;b&gt;paragraph&lt;/b&gt;." in html  # escaped, never rendered
    assert "Submitted, 4 words" in html
    assert submission.text_sha256 in html


def test_return_for_redraft_keeps_history_and_lets_the_student_resubmit(client, cast, submission):
    student = cast["student"]
    client.force_login(cast["teacher"])
    confirm = client.get(reverse("classroom:submission_return", args=[submission.pk]))
    assert "Return Sam Student" in confirm.content.decode()
    response = client.post(reverse("classroom:submission_return", args=[submission.pk]))
    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.state == Submission.State.RETURNED
    assert submission.returned_by == cast["teacher"]
    submission.save_draft(submission.text + " Improved.", base_revision=submission.revision)
    submission.submit(by=student)
    reasons = list(submission.revisions.values_list("reason", flat=True))
    assert reasons[:2] == [SubmissionRevision.Reason.SUBMIT, SubmissionRevision.Reason.RETURN]
    assert reasons[-1] == SubmissionRevision.Reason.SUBMIT
    assert submission.revisions.filter(reason=SubmissionRevision.Reason.SUBMIT).count() == 2
    assert submission.text.endswith("Improved.")


def test_returning_unsubmitted_work_is_refused_with_a_message(client, cast, assignment, student):
    draft = SubmissionFactory(assignment=assignment, student=student)
    client.force_login(cast["teacher"])
    response = client.post(reverse("classroom:submission_return", args=[draft.pk]), follow=True)
    assert "Only submitted work can be returned for redraft." in response.content.decode()
    draft.refresh_from_db()
    assert draft.state == Submission.State.DRAFT


def test_teacher_home_links_each_class_to_its_assignments(client, cast, school_class):
    client.force_login(cast["teacher"])
    html = client.get(reverse("home")).content.decode()
    assert reverse("classroom:assignment_list", args=[school_class.pk]) in html


def test_class_assignment_list_counts_drafting_submitted_and_late(client, cast, school_class, assignment, submission):
    client.force_login(cast["teacher"])
    response = client.get(reverse("classroom:assignment_list", args=[school_class.pk]))
    listed = list(response.context["assignments"])
    assert listed == [assignment]
    assert (listed[0].drafting, listed[0].submitted, listed[0].late) == (0, 1, 0)


# --- The student home --------------------------------------------------------------------


def test_student_home_lists_open_and_closed_assignments_with_status(client, cast, school_class, assignment):
    closed = AssignmentFactory(
        school_class=school_class,
        title="Last term's essay",
        opens_at=timezone.now() - dt.timedelta(days=20),
        due_at=timezone.now() - dt.timedelta(days=10),
        late_cutoff=timezone.now() - dt.timedelta(days=9),
    )
    AssignmentFactory(school_class=school_class, title="Not open yet", opens_at=timezone.now() + dt.timedelta(days=1))
    AssignmentFactory(title="Another class's essay")
    SubmissionFactory(assignment=assignment, student=cast["student"], text="Some words here")
    client.force_login(cast["student"])
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert [row.assignment for row in response.context["open_assignments"]] == [assignment]
    assert [row.assignment for row in response.context["closed_assignments"]] == [closed]
    assert "Drafting, 3 words" in html
    assert "due in 7 days" in html
    assert "Not open yet" not in html
    assert "Another class's essay" not in html


def test_overdue_assignment_without_cut_off_stays_open_and_says_overdue(client, cast, school_class):
    AssignmentFactory(
        school_class=school_class,
        opens_at=timezone.now() - dt.timedelta(days=3),
        due_at=timezone.now() - dt.timedelta(hours=3, minutes=5),
    )
    client.force_login(cast["student"])
    html = client.get(reverse("home")).content.decode()
    assert "overdue by 3 hours" in html


@pytest.mark.parametrize(
    ("now", "due", "words"),
    [
        (_local(2026, 11, 23, 10, 0), _local(2026, 11, 25, 9, 0), "due in 2 days"),
        (_local(2026, 11, 23, 10, 0), _local(2026, 11, 24, 15, 30), "due tomorrow at 15:30"),
        (_local(2026, 11, 23, 10, 0), _local(2026, 11, 23, 23, 59), "due today at 23:59"),
        (_local(2026, 11, 23, 10, 0), _local(2026, 11, 23, 10, 25), "due in 25 minutes"),
        (_local(2026, 11, 23, 10, 0), _local(2026, 11, 23, 7, 0), "overdue by 3 hours"),
        (_local(2026, 11, 23, 10, 0), _local(2026, 11, 20, 9, 0), "overdue by 3 days"),
        (_local(2026, 11, 23, 10, 0), _local(2026, 12, 25, 9, 0), "due on 25 December"),
        # 23:30 on the Saturday before the clocks go back: "tomorrow" is still Sunday in London.
        (_local(2026, 10, 24, 23, 30), _local(2026, 10, 25, 23, 59), "due tomorrow at 23:59"),
    ],
)
def test_due_dates_read_in_words_in_the_school_time_zone(now, due, words):
    assert due_in_words(due, now) == words


# --- Query budgets -------------------------------------------------------------------------


@pytest.mark.parametrize("students", [5, 50])
def test_teacher_assignment_page_query_budget(
    client, cast, school_class, assignment, django_assert_num_queries, students
):
    for index, student in enumerate(StudentFactory.create_batch(students)):
        school_class.enrol(student)
        if index % 2:
            SubmissionFactory(assignment=assignment, student=student, submitted=index % 4 == 1)
    assignment.grant_extension(cast["student"], assignment.due_at + dt.timedelta(days=1), None, by=cast["teacher"])
    client.force_login(cast["teacher"])
    # session, user, assignment+class+prompt, submissions, extensions, students
    with django_assert_num_queries(6):
        assert client.get(reverse("classroom:assignment_detail", args=[assignment.pk])).status_code == 200


@pytest.mark.parametrize("students", [5, 50])
def test_class_assignment_list_query_budget(client, cast, school_class, django_assert_num_queries, students):
    for student in StudentFactory.create_batch(students):
        school_class.enrol(student)
    for _ in range(3):
        assignment = AssignmentFactory(school_class=school_class)
        for student in school_class.active_students()[:students:3]:
            SubmissionFactory(assignment=assignment, student=student)
    client.force_login(cast["teacher"])
    # session, user, class, assignments with counts, student count
    with django_assert_num_queries(5):
        assert client.get(reverse("classroom:assignment_list", args=[school_class.pk])).status_code == 200


@pytest.mark.parametrize("students", [5, 50])
def test_student_home_query_budget_with_assignments(client, cast, school_class, django_assert_num_queries, students):
    for student in StudentFactory.create_batch(students):
        school_class.enrol(student)
    for index in range(students // 5):
        assignment = AssignmentFactory(school_class=school_class)
        if index % 2:
            SubmissionFactory(assignment=assignment, student=cast["student"], submitted=True)
    client.force_login(cast["student"])
    # session, user, classes, assignments with this student's status, peer judging open to them
    with django_assert_num_queries(5):
        assert client.get(reverse("home")).status_code == 200


def test_another_class_is_not_listed_on_a_class_assignment_list(client, cast, school_class, other_class):
    AssignmentFactory(school_class=other_class, title="Theirs")
    client.force_login(cast["head"])
    response = client.get(reverse("classroom:assignment_list", args=[school_class.pk]))
    assert "Theirs" not in response.content.decode()


# --- Marked and released work on the teacher's assignment page -----------------------------


def _hand_in(assignment, student, late=False):
    submission = SubmissionFactory(assignment=assignment, student=student, text="Words for the marker to read")
    return submission.submit(by=student, at=assignment.due_at + dt.timedelta(hours=1) if late else None)


def _summary(html: str) -> str:
    return " ".join(re.search(r'<p id="state-summary">(.*?)</p>', html, re.S).group(1).split())


def test_assignment_page_counts_marked_and_released_work_and_still_flags_late(
    client, cast, school_class, marking_assignment
):
    students = {name: StudentFactory(last_name=name) for name in ("Marker", "Latemark", "Released", "Waiting")}
    for student in students.values():
        school_class.enrol(student)
    mark_fully(_hand_in(marking_assignment, students["Marker"]), cast["teacher"])
    mark_fully(_hand_in(marking_assignment, students["Latemark"], late=True), cast["teacher"])
    released = mark_fully(_hand_in(marking_assignment, students["Released"], late=True), cast["teacher"])
    released.release(by=cast["teacher"])
    _hand_in(marking_assignment, students["Waiting"])
    client.force_login(cast["teacher"])
    response = client.get(reverse("classroom:assignment_detail", args=[marking_assignment.pk]))
    rows = {row.student.last_name: (row.status, row.status_words) for row in response.context["rows"]}
    assert rows == {
        "Marker": ("marked", "Marked, not released"),
        "Latemark": ("marked", "Marked, not released (submitted late)"),
        "Released": ("released", "Released (submitted late)"),
        "Waiting": ("submitted", "To mark"),
        "Student": ("not_started", "Not started"),
    }
    assert response.context["counts"] == {"marked": 2, "released": 1, "submitted": 1, "not_started": 1}
    assert _summary(response.content.decode()) == (
        "Released: 1 · Marked, not released: 2 · To mark: 1 · Late, to mark: 0 · Returned for redraft: 0 · "
        "Missing: 0 · Draft: 0 · Not started: 1"
    )


def test_assignment_page_counts_marked_work_as_released_once_the_feedback_date_passes(
    client, cast, marking_assignment, essay
):
    mark_fully(essay, cast["teacher"])
    marking_assignment.feedback_release = Assignment.FeedbackRelease.AT_DATE
    marking_assignment.feedback_release_at = timezone.now() + dt.timedelta(days=1)
    marking_assignment.save(update_fields=["feedback_release", "feedback_release_at"])
    client.force_login(cast["teacher"])
    url = reverse("classroom:assignment_detail", args=[marking_assignment.pk])
    assert client.get(url).context["counts"] == {"marked": 1}
    marking_assignment.feedback_release_at = timezone.now() - dt.timedelta(minutes=1)
    marking_assignment.save(update_fields=["feedback_release_at"])
    response = client.get(url)
    assert response.context["counts"] == {"released": 1}
    assert "Released: 1" in _summary(response.content.decode())


def test_teacher_reads_marked_late_work_labelled_as_on_the_assignment_page(client, cast, marking_assignment, student):
    submission = _hand_in(marking_assignment, student, late=True)
    mark_fully(submission, cast["teacher"])
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:submission_detail", args=[submission.pk])).content.decode()
    assert "<strong>Marked, not released (submitted late)</strong>" in html
    assert "The submitted essay" in html and "The essay so far" not in html


@pytest.mark.parametrize("students", [5, 50])
def test_teacher_assignment_page_query_budget_with_marked_and_released_work(
    client, cast, school_class, marking_assignment, django_assert_num_queries, students
):
    for index, student in enumerate(StudentFactory.create_batch(students)):
        school_class.enrol(student)
        if index % 3 == 0:
            continue
        mark = mark_fully(_hand_in(marking_assignment, student, late=index % 2 == 0), cast["teacher"])
        if index % 3 == 2:
            mark.release(by=cast["teacher"])
    client.force_login(cast["teacher"])
    # session, user, assignment+class+prompt, submissions, extensions, students
    with django_assert_num_queries(6):
        response = client.get(reverse("classroom:assignment_detail", args=[marking_assignment.pk]))
    assert response.context["counts"]["marked"] and response.context["counts"]["released"]

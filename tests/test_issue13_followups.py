"""Issue 13 follow-ups: archiving closes an assignment to pupils (its work still to mark stays on
the teacher's to-do), the pupil's home flags an assignment that changed since they last worked
on it, and one home for ideas that had two (per-pupil exceptions, the marking order, "my
classes", a mark scheme's bands, an unused form)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from classroom import forms as classroom_forms
from classroom import home, permissions
from classroom.models import (
    ARCHIVED_REFUSAL,
    CUTOFF_REFUSAL,
    Exemption,
    Extension,
    Submission,
    SubmissionClosed,
    SubmissionError,
    SubmissionRevision,
)
from crisis.content.loader import CONTENT_DIR, load_unit, read_unit
from crisis.models import EssayPrompt, answer_bands
from tests.factories import (
    AssignmentFactory,
    EssayPromptFactory,
    StudentFactory,
    marking_scheme,
)
from tests.helpers import draft, give_mark, hand_in

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
UNIT_DIR = CONTENT_DIR / "cuban_missile_crisis"


def _html(response) -> str:
    return " ".join(response.content.decode().split())


@pytest.fixture
def assignment(school_class):
    return AssignmentFactory(school_class=school_class, title="How far did it improve diplomacy?")


@pytest.fixture
def archived_draft(assignment, student, teacher):
    """The pupil's draft on an assignment their teacher has since archived."""
    submission = draft(assignment, student, "My first paragraph on the Hotline.")
    assignment.archive(by=teacher)
    submission.refresh_from_db()
    return submission


def _unchanged(submission: Submission) -> None:
    before = (submission.text, submission.revision, submission.state, submission.updated_at)
    revisions = SubmissionRevision.objects.filter(submission=submission).count()
    fresh = Submission.objects.get(pk=submission.pk)
    assert (fresh.text, fresh.revision, fresh.state, fresh.updated_at) == before
    assert SubmissionRevision.objects.filter(submission=submission).count() == revisions


# --- 1. Archiving closes an assignment to its pupils ----------------------------------------


def test_the_writing_page_of_an_archived_assignment_shows_the_text_read_only(client, student, archived_draft):
    client.force_login(student)
    response = client.get(reverse("classroom:write", args=[archived_draft.assignment_id]))
    html = _html(response)
    assert response.status_code == 200
    assert ARCHIVED_REFUSAL in html
    assert 'id="kept-essay"' in html and "My first paragraph on the Hotline." in html
    assert 'id="essay-form"' not in html and "data-autosave-url" not in html and "Submit…" not in html


def test_autosave_on_an_archived_assignment_is_refused_and_changes_nothing(client, student, archived_draft):
    client.force_login(student)
    url = reverse("classroom:autosave", args=[archived_draft.assignment_id])
    response = client.post(url, {"text": "Overwritten?", "base_revision": archived_draft.revision})
    assert response.status_code == 409
    body = json.loads(response.content)
    # Not editable: static/js/autosave.js stops saving, keeps the text on the device and shows the words.
    assert (body["status"], body["editable"], body["closed"]) == ("conflict", False, ARCHIVED_REFUSAL)
    _unchanged(archived_draft)


def test_saving_on_the_writing_page_is_refused_and_the_sent_text_is_shown_to_copy(client, student, archived_draft):
    client.force_login(student)
    url = reverse("classroom:write", args=[archived_draft.assignment_id])
    response = client.post(url, {"text": "Words typed just now.", "base_revision": archived_draft.revision})
    html = _html(response)
    assert response.status_code == 409
    assert ARCHIVED_REFUSAL in html and 'id="unsaved-box"' in html and "Words typed just now." in html
    _unchanged(archived_draft)


def test_handing_in_on_an_archived_assignment_is_refused(client, student, archived_draft):
    client.force_login(student)
    url = reverse("classroom:submit", args=[archived_draft.assignment_id])
    page = client.get(url)
    assert ARCHIVED_REFUSAL in _html(page) and re.search(r'<button type="submit"[^>]*disabled', page.content.decode())
    response = client.post(url, follow=True)
    assert ARCHIVED_REFUSAL in _html(response)
    _unchanged(archived_draft)
    with pytest.raises(SubmissionClosed, match="archived"):
        archived_draft.submit(by=student)
    assert Submission.objects.get(pk=archived_draft.pk).state == Submission.State.DRAFT


def test_a_pupil_who_never_started_cannot_start_on_an_archived_assignment(client, student, teacher, assignment):
    assignment.time_limit_minutes = 30
    assignment.save(update_fields=["time_limit_minutes"])
    assignment.archive(by=teacher)
    client.force_login(student)
    write = reverse("classroom:write", args=[assignment.pk])
    assert client.post(write, {"start": "1"}).status_code == 409
    assert client.post(write, {"text": "Hello", "base_revision": 0}).status_code == 409
    autosave = client.post(reverse("classroom:autosave", args=[assignment.pk]), {"text": "Hi", "base_revision": 0})
    assert autosave.status_code == 409
    client.post(reverse("classroom:submit", args=[assignment.pk]))
    assert not Submission.objects.exists()  # nothing was made
    assert ARCHIVED_REFUSAL in _html(client.get(write))


def test_restoring_reopens_it(client, student, teacher, archived_draft):
    assignment = archived_draft.assignment
    assignment.restore()
    client.force_login(student)
    response = client.post(
        reverse("classroom:autosave", args=[assignment.pk]),
        {"text": "My first paragraph, and a second.", "base_revision": archived_draft.revision},
    )
    assert response.status_code == 200
    assert 'id="essay-form"' in client.get(reverse("classroom:write", args=[assignment.pk])).content.decode()
    client.post(reverse("classroom:submit", args=[assignment.pk]))
    assert Submission.objects.get(pk=archived_draft.pk).state == Submission.State.SUBMITTED


def test_one_rule_refuses_work_archived_and_after_the_cut_off(school_class, student, teacher):
    """Submission.work_refusal: archiving refuses saving and handing in; the cut-off only
    handing in (a draft is still saved), unless the teacher returned the essay."""
    now = timezone.now()
    assignment = AssignmentFactory(
        school_class=school_class, opens_at=now - 5 * DAY, due_at=now - 2 * DAY, late_cutoff=now - DAY
    )
    essay = draft(assignment, student)
    assert essay.work_refusal() is None
    assert str(essay.work_refusal(hand_in=True)) == CUTOFF_REFUSAL
    with pytest.raises(SubmissionError, match="deadline for late work"):
        essay.submit(by=student)
    assignment.archive(by=teacher)
    essay.refresh_from_db()
    for hand_in_too in (False, True):
        refusal = essay.work_refusal(hand_in=hand_in_too)
        assert isinstance(refusal, SubmissionClosed) and str(refusal) == ARCHIVED_REFUSAL


def test_work_handed_in_cannot_be_returned_for_redraft_while_archived(client, teacher, student, assignment):
    essay = hand_in(assignment, student)
    assignment.archive(by=teacher)
    client.force_login(teacher)
    response = client.post(reverse("classroom:submission_return", args=[essay.pk]), follow=True)
    assert "restore it first" in _html(response)
    assert Submission.objects.get(pk=essay.pk).state == Submission.State.SUBMITTED


def test_the_archive_page_says_what_is_unfinished_before_archiving(client, teacher, school_class, student):
    assignment = AssignmentFactory(school_class=school_class, prompt=EssayPromptFactory(mark_scheme=marking_scheme()))
    pupils = [student, *StudentFactory.create_batch(5)]
    for pupil in pupils[1:]:
        school_class.enrol(pupil)
    drafting, returned, to_mark, to_release, released, left = pupils
    draft(assignment, drafting)
    hand_in(assignment, returned).return_for_redraft(by=teacher)
    hand_in(assignment, to_mark)
    give_mark(hand_in(assignment, to_release), teacher, 2, 3, release=False)
    give_mark(hand_in(assignment, released), teacher, 2, 3)
    draft(assignment, left)
    school_class.enrolments.get(student=left).remove()  # has left the class: no longer writes here
    client.force_login(teacher)
    url = reverse("classroom:assignment_archive", args=[assignment.pk])
    html = _html(client.get(url))
    assert assignment.unfinished_work() == {"drafting": 2, "to_mark": 1, "to_release": 1}
    assert "<strong>2 pupils</strong> have started and not handed in" in html
    assert "<strong>1 script</strong> handed in and not yet marked: it stays on your to-do" in html
    assert "<strong>1 mark</strong> not yet released to pupils" in html
    assignment.refresh_from_db()
    assert not assignment.is_archived  # a page view archives nothing
    client.post(url)
    assignment.refresh_from_db()
    assert assignment.is_archived
    # Archived already: the page goes back to the assignment.
    assert client.get(url).url == reverse("classroom:assignment_detail", args=[assignment.pk])


def test_the_archive_page_says_none_when_nothing_is_unfinished(client, teacher, assignment):
    client.force_login(teacher)
    html = _html(client.get(reverse("classroom:assignment_archive", args=[assignment.pk])))
    assert "<strong>0 pupils</strong> have started and not handed in." in html
    assert "<strong>0 scripts</strong> handed in and not yet marked." in html


def test_an_archived_assignments_missing_work_leaves_the_to_do(teacher, school_class, student):
    now = timezone.now()
    overdue = AssignmentFactory(school_class=school_class, opens_at=now - 9 * DAY, due_at=now - DAY)
    school_class.enrolments.update(joined_at=now - 30 * DAY)
    figures = {item.pk: item for item in home.assignment_figures([school_class.pk], now)}
    assert figures[overdue.pk].missing == 1
    overdue.archive(by=teacher)
    item = {item.pk: item for item in home.assignment_figures([school_class.pk], now)}[overdue.pk]
    assert (item.missing, item.archived, item.needs_action) == (0, True, False)
    assert overdue.pk not in [i.pk for c in home.teacher_home(teacher).classes for i in c.assignments]


def test_the_pupil_home_says_an_archived_assignment_takes_no_more_work(client, student, archived_draft):
    client.force_login(student)
    assert "archived by your teacher: it takes no more work" in _html(client.get(reverse("home")))


# --- 2. The pupil's home flags an assignment changed since they last worked on it --------------


def _flag(client, pupil, assignment) -> str | None:
    client.force_login(pupil)
    html = _html(client.get(reverse("home")))
    found = re.search(rf'<span class="d-block small mt-1" data-changed="{assignment.pk}">(.*?)</span> ?</div>', html)
    return found.group(1) if found else None


def test_a_change_after_the_pupils_last_save_is_flagged_until_they_work_on_it(client, teacher, student, assignment):
    essay = draft(assignment, student)
    assert _flag(client, student, assignment) is None
    assignment.save_edit({"instructions": "Use **two** sources."}, by=teacher)
    changed = timezone.localtime(assignment.updated_at)
    flag = _flag(client, student, assignment)
    assert flag is not None
    assert f"Changed {changed.day} {changed:%b}" in flag
    assert "Instructions — read what changed before you carry on." in flag
    essay.save_draft("A first paragraph, with two sources.", essay.revision)  # they worked on it since
    assert _flag(client, student, assignment) is None


def test_a_pupil_who_has_not_started_is_told_of_a_change(client, teacher, student, assignment):
    assignment.save_edit({"title": "Diplomacy after Cuba"}, by=teacher)
    flag = _flag(client, student, assignment)
    assert flag is not None and "Title — read what changed before you start." in flag


def test_a_change_before_the_pupil_last_worked_is_not_flagged(client, teacher, student, assignment):
    assignment.save_edit({"title": "Diplomacy after Cuba"}, by=teacher)
    draft(assignment, student)
    assert _flag(client, student, assignment) is None


def test_handed_in_work_is_not_flagged(client, teacher, student, assignment):
    hand_in(assignment, student)
    assignment.save_edit({"title": "Diplomacy after Cuba"}, by=teacher)
    assert _flag(client, student, assignment) is None


def test_a_sealed_timed_essay_is_flagged_without_saying_what_changed(client, teacher, student, assignment):
    assignment.time_limit_minutes = 30
    assignment.save(update_fields=["time_limit_minutes"])
    assignment.save_edit({"instructions": "Secret hints."}, by=teacher)
    flag = _flag(client, student, assignment)
    assert flag is not None and "Instructions" not in flag and "Read what changed before you start." in flag


@pytest.mark.parametrize("size", [2, 12])
def test_pupil_home_budget_with_changed_assignments(
    client, teacher, student, school_class, size, django_assert_num_queries
):
    for index in range(size):
        assignment = AssignmentFactory(school_class=school_class)
        if index % 2:
            draft(assignment, student)
        assignment.save_edit({"title": f"Changed {index}"}, by=teacher)
    client.force_login(student)
    # session, user, classes, assignments with this student's status and the last change's words,
    # peer judging open to them
    with django_assert_num_queries(5):
        response = client.get(reverse("home"))
    assert len(re.findall(r"data-changed=", response.content.decode())) == size


# --- 4a. One page for each pupil's exception (own due date, or exempt) -------------------------


def test_extensions_and_exemptions_are_one_page(client, teacher, student, school_class, assignment):
    other = StudentFactory(first_name="Ava", last_name="Adams")
    school_class.enrol(other)
    client.force_login(teacher)
    page_url = reverse("classroom:assignment_exceptions", args=[assignment.pk])
    for name in ("assignment_exceptions", "assignment_extensions", "assignment_exemptions"):
        response = client.get(reverse(f"classroom:{name}", args=[assignment.pk]))
        assert response.status_code == 200
        assert [t.name for t in response.templates][0] == "classroom/assignments/exceptions.html"
    later = timezone.localtime(assignment.due_at + 2 * DAY).strftime("%Y-%m-%dT%H:%M")
    extend = reverse("classroom:assignment_extensions", args=[assignment.pk])
    response = client.post(extend, {"student": student.pk, "due_at": later, "late_cutoff": ""})
    assert response.url == page_url
    response = client.post(reverse("classroom:assignment_exemptions", args=[assignment.pk]), {"student": other.pk})
    assert response.url == page_url
    html = _html(client.get(page_url))
    assert f'data-extension="{student.pk}"' in html and f'data-exemption="{other.pk}"' in html
    assert html.count('id="extension-student"') == 1 and html.count('id="exemption-student"') == 1
    # "remove" means the kind of the address it is posted to.
    client.post(extend, {"remove": str(other.pk)})
    assert Exemption.objects.filter(student=other).exists()
    client.post(extend, {"remove": str(student.pk)})
    assert not Extension.objects.exists()
    # The page itself takes no POST: each kind has its own address.
    assert client.post(page_url, {"remove": str(other.pk)}).status_code == 405
    assert Exemption.objects.filter(student=other).exists()


def test_the_assignment_page_links_to_the_one_exceptions_page(client, teacher, assignment):
    client.force_login(teacher)
    html = client.get(reverse("classroom:assignment_detail", args=[assignment.pk])).content.decode()
    assert reverse("classroom:assignment_exceptions", args=[assignment.pk]) in html
    assert reverse("classroom:assignment_extensions", args=[assignment.pk]) not in html


# --- 4b. One marking order for the queue and the to-do's "next script" -------------------------


def test_the_to_do_follows_the_one_marking_order(client, monkeypatch, teacher, school_class):
    assignment = AssignmentFactory(school_class=school_class, prompt=EssayPromptFactory(mark_scheme=marking_scheme()))
    abe, zoe = StudentFactory(last_name="Adams"), StudentFactory(last_name="Zed")
    for pupil in (abe, zoe):
        school_class.enrol(pupil)
    essays = {pupil: hand_in(assignment, pupil) for pupil in (abe, zoe)}
    # Change the one definition (by name, Z to A): the queue and the to-do both follow it.
    monkeypatch.setattr(Submission, "marking_order", staticmethod(lambda by_number: ["-student__last_name", "-pk"]))
    client.force_login(teacher)
    queue = client.get(reverse("classroom:marking_queue", args=[assignment.pk]))
    first_in_queue = queue.context["rows"][0].submission
    assert first_in_queue == essays[zoe]
    assert home.teacher_home(teacher).next_script.next_script == essays[zoe].pk


# --- 4c. "My classes" is decided in permissions.py ----------------------------------------------


def test_home_classes_say_which_are_the_users_own(cast, school_class, other_class):
    head = cast["head"]
    school_class.add_teacher(head)
    mine = {c.pk: c.mine for c in permissions.home_classes_for(head)}
    assert mine == {school_class.pk: 1, other_class.pk: 0}
    assert {c.pk: c.mine for c in permissions.home_classes_for(cast["teacher"])} == {school_class.pk: 1}


# --- 4d. A mark scheme's bands: one rule for the loader and the saved scheme -------------------


def test_the_loader_and_the_saved_schemes_read_the_same_bands():
    data = read_unit(UNIT_DIR)
    load_unit(UNIT_DIR)
    checked = 0
    for prompt in data.prompts:
        from_files = answer_bands(
            (c["is_spag"], [(lv["number"], lv["min_marks"], lv["max_marks"]) for lv in c["levels"]])
            for c in prompt["mark_scheme"]["criteria"]
        )
        saved = EssayPrompt.objects.get(slug=prompt["slug"], owner__isnull=True).mark_scheme
        assert from_files == saved.answer_bands()
        checked += 1
    assert checked


def test_answer_bands_reads_content_criteria_and_the_spag_top_mark():
    bands, spag = answer_bands([(False, [(1, 1, 2), (2, 3, 4)]), (True, [(1, 1, 2), (2, 3, 4)]), (False, [(1, 0, 6)])])
    assert (bands, spag) == ([{1: (1, 2), 2: (3, 4)}, {1: (0, 6)}], 4)
    assert answer_bands([(False, [(1, 1, 2)])]) == ([{1: (1, 2)}], None)


# --- 4e. The unused DeadlinesForm is gone ----------------------------------------------------


def test_the_unused_deadlines_form_is_gone():
    assert not hasattr(classroom_forms, "DeadlinesForm")

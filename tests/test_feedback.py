"""The student's feedback page and their DIRT response."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from classroom.models import DirtResponse, Mark, Submission
from tests.factories import SubmissionFactory
from tests.helpers import mark_fully

pytestmark = pytest.mark.django_db


@pytest.fixture
def released(cast, essay):
    mark = mark_fully(essay, cast["teacher"])
    quote = "teleprinter link"
    start = essay.text.index(quote)
    mark.add_annotation(cast["teacher"], "Good: <b>precise</b> term.", start=start, end=start + len(quote), quote=quote)
    mark.add_annotation(cast["teacher"], "Plan your paragraphs.")
    mark.release(by=cast["teacher"])
    return mark


def feedback_url(essay):
    return reverse("classroom:feedback", args=[essay.assignment_id])


@pytest.mark.parametrize(
    "who,status", [("student", 200), ("outsider", 404), ("teacher", 403), ("other_teacher", 403), ("head", 403)]
)
def test_feedback_page_access_matrix(client, cast, essay, released, who, status):
    client.force_login(cast[who])
    assert client.get(feedback_url(essay)).status_code == status


def test_anonymous_visitors_are_sent_to_log_in(client, essay, released):
    response = client.get(feedback_url(essay))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("complete", [False, True])
def test_students_never_see_unreleased_marks(client, cast, essay, complete):
    mark_fully(essay, cast["teacher"], complete=complete)
    client.force_login(cast["student"])
    assert client.get(feedback_url(essay)).status_code == 404
    assert (
        client.post(
            reverse("classroom:dirt_autosave", args=[essay.assignment_id]), {"text": "x", "base_revision": 0}
        ).status_code
        == 404
    )


def test_another_students_feedback_is_not_found(client, cast, essay, released, other_class):
    client.force_login(cast["outsider"])
    assert client.get(feedback_url(essay)).status_code == 404


def test_the_student_sees_comments_levels_descriptors_total_and_feedback(client, cast, essay, released):
    client.force_login(cast["student"])
    html = client.get(feedback_url(essay)).content.decode()
    assert "7 out of 10" in html and "3 out of 4" in html  # total and SPaG
    assert "Level 2</strong>: 4 out of 4" in html and "AO1 level 2 descriptor" in html
    assert "Good: &lt;b&gt;precise&lt;/b&gt; term." in html and "Plan your paragraphs." in html
    assert '<mark class="annotation-mark" data-notes="1">' in html
    assert "Rewrite paragraph 2" in html  # the improvement task
    assert "Indicative content" not in html and "Appears to mention" not in html


def test_the_page_reports_it_was_seen_once_and_reading_alone_writes_nothing(client, cast, essay, released):
    client.force_login(cast["student"])
    seen_url = reverse("classroom:feedback_seen", args=[essay.assignment_id])
    html = client.get(feedback_url(essay)).content.decode()
    assert f'action="{seen_url}"' in html  # static/js/seen.js posts this form as the page loads
    released.refresh_from_db()
    assert released.seen_at is None
    assert client.post(seen_url).status_code == 204
    released.refresh_from_db()
    first = released.seen_at
    assert first is not None
    assert client.post(seen_url).status_code == 204
    released.refresh_from_db()
    assert released.seen_at == first
    assert f'action="{seen_url}"' not in client.get(feedback_url(essay)).content.decode()


def test_only_the_student_can_report_their_feedback_seen(client, cast, essay, released):
    seen_url = reverse("classroom:feedback_seen", args=[essay.assignment_id])
    for actor, status in (("teacher", 403), ("outsider", 404), ("head", 403)):
        client.force_login(cast[actor])
        assert client.post(seen_url).status_code == status
    client.logout()
    assert client.post(seen_url).status_code == 302
    released.refresh_from_db()
    assert released.seen_at is None


def test_feedback_released_at_a_date_is_visible_only_after_it(client, cast, essay):
    assignment = essay.assignment
    assignment.feedback_release = "at_date"
    assignment.feedback_release_at = timezone.now() + datetime.timedelta(days=1)
    assignment.save(update_fields=["feedback_release", "feedback_release_at"])
    mark = mark_fully(essay, cast["teacher"])
    client.force_login(cast["student"])
    assert client.get(feedback_url(essay)).status_code == 404
    assignment.feedback_release_at = timezone.now() - datetime.timedelta(minutes=1)
    assignment.save(update_fields=["feedback_release_at"])
    assert client.get(feedback_url(essay)).status_code == 200
    client.post(reverse("classroom:feedback_seen", args=[essay.assignment_id]))
    mark.refresh_from_db()
    essay.refresh_from_db()
    assert mark.released_at is not None and mark.seen_at is not None
    assert essay.state == Submission.State.RELEASED


def test_student_home_links_released_work_to_its_feedback(client, cast, essay, released):
    client.force_login(cast["student"])
    html = client.get(reverse("home")).content.decode()
    assert feedback_url(essay) in html and "read your feedback" in html


def test_student_home_shows_marked_but_unreleased_work_as_submitted(client, cast, essay):
    mark_fully(essay, cast["teacher"])
    client.force_login(cast["student"])
    html = client.get(reverse("home")).content.decode()
    assert feedback_url(essay) not in html


# --- DIRT --------------------------------------------------------------------------------------


def test_dirt_autosave_then_conflict_then_submit_once(client, cast, essay, released):
    client.force_login(cast["student"])
    url = reverse("classroom:dirt_autosave", args=[essay.assignment_id])
    first = client.post(url, {"text": "I will add dates.", "base_revision": 0})
    assert first.status_code == 200 and first.json()["revision"] == 1
    stale = client.post(url, {"text": "Another tab", "base_revision": 0})
    assert stale.status_code == 409 and stale.json()["text"] == "I will add dates."
    save = reverse("classroom:dirt_save", args=[essay.assignment_id])
    client.post(save, {"text": "I will add dates: 20 June 1963.", "base_revision": 1, "action": "submit"})
    response = DirtResponse.objects.get(mark=released)
    assert response.is_submitted and response.text == "I will add dates: 20 June 1963."
    late = client.post(url, {"text": "Changed after submit", "base_revision": response.revision})
    assert late.status_code == 409 and late.json()["editable"] is False
    again = client.post(save, {"text": "Changed again", "base_revision": response.revision, "action": "submit"})
    assert again.status_code == 409
    response.refresh_from_db()
    assert response.text == "I will add dates: 20 June 1963."
    html = client.get(feedback_url(essay)).content.decode()
    assert 'id="dirt-form"' not in html and "20 June 1963." in html


def test_an_empty_response_cannot_be_submitted(client, cast, essay, released):
    client.force_login(cast["student"])
    response = client.post(
        reverse("classroom:dirt_save", args=[essay.assignment_id]),
        {"text": "  ", "base_revision": 0, "action": "submit"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Write your response" in html
    assert not DirtResponse.objects.filter(submitted_at__isnull=False).exists()
    # The blank text was saved, so the page builds on that revision: typing next is no conflict.
    saved = DirtResponse.objects.get()
    assert f'name="base_revision" value="{saved.revision}"' in html and "data-autosave-unsaved" not in html


def test_teacher_sees_the_response_in_the_queue_and_acknowledges_it(client, cast, essay, released):
    dirt = DirtResponse.for_mark(released)
    dirt.save_text("My response", 0)
    dirt.submit()
    client.force_login(cast["teacher"])
    queue = client.get(reverse("classroom:marking_queue", args=[essay.assignment_id]) + "?show=dirt").content.decode()
    assert 'Responses to acknowledge <span class="badge text-bg-light">1</span>' in queue
    page = client.get(reverse("classroom:mark_submission", args=[essay.pk])).content.decode()
    assert "My response" in page
    client.post(reverse("classroom:dirt_acknowledge", args=[essay.pk]), {"from": "queue"})
    dirt.refresh_from_db()
    assert dirt.acknowledged_at is not None and dirt.acknowledged_by == cast["teacher"]


def test_an_unsubmitted_response_cannot_be_acknowledged(client, cast, essay, released):
    DirtResponse.for_mark(released).save_text("Half done", 0)
    client.force_login(cast["teacher"])
    client.post(reverse("classroom:dirt_acknowledge", args=[essay.pk]))
    assert DirtResponse.objects.get().acknowledged_at is None


@pytest.mark.parametrize("comments", [2, 40])
def test_student_feedback_query_budget(client, cast, essay, released, django_assert_num_queries, comments):
    for n in range(comments - 2):
        released.annotations.create(number=10 + n, comment=f"Extra {n}")
    client.force_login(cast["student"])
    client.post(reverse("classroom:feedback_seen", args=[essay.assignment_id]))  # as seen.js does
    # session, user, mark, criterion marks (+ criteria, levels), strand ticks, annotations,
    # DIRT response
    with django_assert_num_queries(7):
        client.get(feedback_url(essay))


def test_a_redrafted_and_resubmitted_essay_keeps_its_draft_mark(cast, essay):
    mark = mark_fully(essay, cast["teacher"], complete=False)
    essay.return_for_redraft(by=cast["teacher"])
    essay.save_draft(essay.text + " More.", essay.revision)
    essay.submit(by=cast["student"])
    assert Mark.objects.get(pk=mark.pk).total == 7
    assert SubmissionFactory._meta.model.objects.get(pk=essay.pk).state == Submission.State.SUBMITTED


# --- The same status words on the home list and the writing page -----------------------------

_STATUS = re.compile(r'<(?:span|strong|a) class="[^"]*\bstatus status-(\w+)"[^>]*>(.*?)</(?:span|strong|a)>', re.S)


def _status_words(html: str) -> list[tuple[str, str]]:
    """(key, words) of each status label on a page, without the word count the home list adds."""
    return [(key, re.sub(r", \d+ words?$", "", " ".join(text.split()))) for key, text in _STATUS.findall(html)]


@pytest.mark.parametrize(
    ("state", "key", "words"),
    [
        ("submitted", "submitted", "Submitted"),
        ("late", "late", "Submitted late"),
        ("returned", "returned", "Returned for redraft"),
        ("marked", "marked", "Submitted — your teacher is marking it"),
        ("marked_late", "marked", "Submitted late — your teacher is marking it"),
        ("released", "released", "Marked — read your feedback"),
        ("released_late", "released", "Marked — read your feedback"),
    ],
)
def test_student_reads_the_same_status_on_the_home_list_and_the_writing_page(
    client, cast, marking_assignment, student, state, key, words
):
    essay = SubmissionFactory(assignment=marking_assignment, student=student, text="Five words for the marker")
    late = state.endswith("_late") or state == "late"
    essay.submit(by=student, at=marking_assignment.due_at + datetime.timedelta(minutes=5) if late else None)
    if state == "returned":
        essay.return_for_redraft(by=cast["teacher"])
    if state.startswith(("marked", "released")):
        mark = mark_fully(essay, cast["teacher"])
        if state.startswith("released"):
            mark.release(by=cast["teacher"])
    client.force_login(student)
    home = client.get(reverse("home")).content.decode()
    writing = client.get(reverse("classroom:write", args=[marking_assignment.pk])).content.decode()
    assert _status_words(home) == [(key, words)]
    assert _status_words(writing) == [(key, words)]
    linked = feedback_url(essay) in home, feedback_url(essay) in writing
    assert linked == ((True, True) if key == "released" else (False, False))


def test_marked_work_on_the_home_list_shows_no_word_count_after_its_label(client, cast, essay):
    mark_fully(essay, cast["teacher"])
    client.force_login(cast["student"])
    html = client.get(reverse("home")).content.decode()
    assert re.search(r"Submitted — your teacher is marking it</span>", html)

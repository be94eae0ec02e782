"""Marking: access, levels and marks, anonymous marking, anchored comments, release, budgets."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from classroom.essay import essay_with_notes, render_essay
from classroom.models import Annotation, Mark, MarkError, Submission
from tests.factories import StudentFactory, SubmissionFactory
from tests.helpers import FULL, criteria, level, mark_fully, mark_post

pytestmark = pytest.mark.django_db


# --- access -------------------------------------------------------------------------------


def _url(name, essay):
    if name in ("marking_queue", "reveal_names"):
        return reverse(f"classroom:{name}", args=[essay.assignment_id])
    if name == "comment_bank":
        return reverse("classroom:comment_bank")
    return reverse(f"classroom:{name}", args=[essay.pk])


PAGES = ["marking_queue", "reveal_names", "mark_submission", "mark_return", "comment_bank"]


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize(
    "who,status", [("teacher", 200), ("head", 200), ("student", 403), ("outsider", 403), ("other_teacher", 404)]
)
def test_marking_pages_access_matrix(client, cast, essay, name, who, status):
    if name == "comment_bank" and who == "other_teacher":
        status = 200  # every teacher has their own bank
    client.force_login(cast[who])
    assert client.get(_url(name, essay)).status_code == status


@pytest.mark.parametrize("name", PAGES)
def test_marking_pages_send_anonymous_visitors_to_log_in(client, essay, name):
    response = client.get(_url(name, essay))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


POSTS = [
    "mark_submission",
    "mark_autosave",
    "annotation_add",
    "mark_release",
    "mark_withdraw",
    "mark_return",
    "dirt_acknowledge",
    "release_all",
    "reveal_names",
]


@pytest.mark.parametrize("name", POSTS)
@pytest.mark.parametrize("who,status", [("other_teacher", 404), ("student", 403), ("outsider", 403)])
def test_marking_actions_are_refused_to_others_and_change_nothing(client, cast, essay, name, who, status):
    mark = mark_fully(essay, cast["teacher"])
    url = reverse(
        f"classroom:{name}", args=[essay.assignment_id if name in ("release_all", "reveal_names") else essay.pk]
    )
    client.force_login(cast[who])
    data = mark_post(essay, FULL) | {"comment": "Hacked", "confirm": "yes"}
    assert client.post(url, data).status_code == status
    mark.refresh_from_db()
    essay.refresh_from_db()
    assert mark.released_at is None and mark.www == "Good" and not mark.annotations.exists()
    assert essay.state == Submission.State.MARKED
    assert essay.assignment.names_revealed_at is None


# --- levels and marks ---------------------------------------------------------------------


def test_teacher_saves_levels_and_marks_and_the_server_totals_them(client, cast, essay):
    client.force_login(cast["teacher"])
    response = client.post(reverse("classroom:mark_submission", args=[essay.pk]), mark_post(essay, FULL, total="99"))
    assert response.status_code == 302
    mark = Mark.objects.get(submission=essay)
    assert (mark.total, mark.spag) == (4 + 3, 3)
    assert not mark.is_complete and mark.completed_at is None
    assert {cm.criterion.code: cm.marks for cm in mark.criterion_marks.select_related("criterion")} == {
        "AO1": 4,
        "AO2": 3,
        "SPAG": 3,
    }
    page = client.get(reverse("classroom:mark_submission", args=[essay.pk])).content.decode()
    assert 'id="mark-total" form="mark-form">7</output> / 10' in page


@pytest.mark.parametrize(
    "scores,message",
    [
        ({"AO1": (1, 3)}, "level 1 allows 1–2 marks, not 3"),  # out of the level's band
        ({"AO2": (2, 7)}, "Ensure this value is less than or equal to 6"),  # above the criterion
        ({"SPAG": (1, 4)}, "level 1 allows 1–2 marks, not 4"),
        ({"AO1": (0, 2)}, "with no rewardable material the mark is 0"),
        ({"AO1": (None, 2)}, "choose the level first"),
    ],
)
def test_an_out_of_band_mark_is_flagged_and_everything_else_saved(client, cast, essay, scores, message):
    client.force_login(cast["teacher"])
    valid = "AO1" if "AO1" not in scores else "AO2"
    data = mark_post(essay, {**scores, valid: (1, 1)})
    response = client.post(reverse("classroom:mark_submission", args=[essay.pk]), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and "Saved, except" in html
    mark = Mark.objects.get(submission=essay)
    saved = {cm.criterion.code for cm in mark.criterion_marks.select_related("criterion")}
    assert saved == {valid}  # the valid one is kept, the flagged one is not
    assert mark.www == "Clear argument."  # the feedback text is not lost with it
    # What the marker typed stays in the form, on the new revision, to be corrected.
    code, (_, typed) = next(iter(scores.items()))
    pk = criteria(essay)[code].pk
    assert re.search(rf'name="marks-{pk}" id="marks-{pk}"[^>]* value="{typed}"', html)
    assert f'name="base_revision" value="{mark.revision}"' in html


def test_when_nothing_was_saved_the_page_keeps_its_base_so_a_newer_version_still_conflicts(client, cast, essay):
    mark_fully(essay, cast["teacher"], complete=False)  # revision 1, saved elsewhere
    client.force_login(cast["teacher"])
    data = mark_post(essay, {"AO1": (1, 1)}, base_revision=0, www="x" * 10_001)  # too long: nothing saved
    response = client.post(reverse("classroom:mark_submission", args=[essay.pk]), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'name="base_revision" value="0"' in html and "data-autosave-unsaved" in html
    assert Mark.objects.get(submission=essay).revision == 1


def test_an_out_of_band_mark_never_undoes_the_saved_one(client, cast, essay):
    mark_fully(essay, cast["teacher"], complete=False)
    client.force_login(cast["teacher"])
    data = mark_post(essay, {"AO1": (1, 9)}, www="Changed")
    response = client.post(reverse("classroom:mark_submission", args=[essay.pk]), data)
    assert response.status_code == 400
    mark = Mark.objects.get(submission=essay)
    assert mark.www == "Changed"
    assert {cm.criterion.code: cm.marks for cm in mark.criterion_marks.select_related("criterion")}["AO1"] == 4


def test_a_level_from_another_criterion_is_refused(client, cast, essay):
    client.force_login(cast["teacher"])
    by_code = criteria(essay)
    data = mark_post(essay, {"AO1": (1, 1)})
    data[f"level-{by_code['AO1'].pk}"] = str(level(by_code["AO2"], 1).pk)  # forged: AO2's level under AO1
    response = client.post(reverse("classroom:mark_submission", args=[essay.pk]), data)
    assert response.status_code == 400
    assert "not one of the available choices" in response.content.decode()
    assert not Mark.objects.get(submission=essay).criterion_marks.exists()


def test_record_mark_itself_refuses_forged_scores(cast, essay):
    by_code = criteria(essay)
    with pytest.raises(MarkError, match="not one of this criterion's levels"):
        essay.record_mark(cast["teacher"], {by_code["AO1"].pk: (level(by_code["AO2"], 2).pk, 4)}, base_revision=0)
    with pytest.raises(MarkError, match="allows 3–4 marks, not 2"):
        essay.record_mark(cast["teacher"], {by_code["AO1"].pk: (level(by_code["AO1"], 2).pk, 2)}, base_revision=0)
    with pytest.raises(MarkError, match="do not belong"):
        essay.record_mark(cast["teacher"], {999999: (None, 0)}, base_revision=0)
    assert not Mark.objects.filter(submission=essay).exists()


def test_a_single_mark_band_needs_no_mark_typed(client, cast, essay):
    """A level whose band is one mark gives that mark (so a JS-off marker can just pick the level)."""
    scheme = essay.assignment.prompt.mark_scheme
    ao1 = scheme.criteria.get(code="AO1")
    ao1.levels.filter(number=1).update(max_marks=1)
    ao1.levels.filter(number=2).update(min_marks=2)
    client.force_login(cast["teacher"])
    client.post(reverse("classroom:mark_submission", args=[essay.pk]), mark_post(essay, {"AO1": (1, None)}))
    assert Mark.objects.get(submission=essay).total == 1


def test_mark_complete_needs_every_criterion_and_marks_the_submission(client, cast, essay):
    client.force_login(cast["teacher"])
    url = reverse("classroom:mark_submission", args=[essay.pk])
    response = client.post(url, mark_post(essay, {"AO1": (1, 2)}, action="complete"), follow=True)
    assert "Give a level and a mark for AO2, SPAG" in response.content.decode()
    essay.refresh_from_db()
    assert essay.state == Submission.State.SUBMITTED
    client.post(url, mark_post(essay, FULL, action="complete"))
    essay.refresh_from_db()
    assert essay.state == Submission.State.MARKED
    assert essay.mark.is_complete and essay.mark.completed_at is not None


def test_autosave_returns_the_new_revision_and_refuses_a_stale_one(client, cast, essay):
    client.force_login(cast["teacher"])
    url = reverse("classroom:mark_autosave", args=[essay.pk])
    first = client.post(url, mark_post(essay, {"AO1": (1, 1)}, base_revision=0))
    assert first.status_code == 200 and first.json()["revision"] == 1 and first.json()["total"] == 1
    stale = client.post(url, mark_post(essay, {"AO1": (2, 4)}, base_revision=0))
    assert stale.status_code == 409 and stale.json()["revision"] == 1
    assert Mark.objects.get(submission=essay).total == 1


def test_save_then_next_goes_to_the_next_essay_in_queue_order(client, cast, essay, school_class):
    later = StudentFactory(last_name="Zed", first_name="Zara")
    school_class.enrol(later)
    second = SubmissionFactory(assignment=essay.assignment, student=later, text="Another essay.", submitted=True)
    client.force_login(cast["teacher"])
    response = client.post(reverse("classroom:mark_submission", args=[essay.pk]), mark_post(essay, FULL, action="next"))
    assert response["Location"] == reverse("classroom:mark_submission", args=[second.pk])
    assert Mark.objects.get(submission=essay).total == 7


def test_unsubmitted_work_cannot_be_marked(client, cast, marking_assignment, student):
    draft = SubmissionFactory(assignment=marking_assignment, student=student, text="Half an essay")
    client.force_login(cast["teacher"])
    response = client.post(reverse("classroom:mark_submission", args=[draft.pk]), mark_post(draft, FULL))
    assert response.status_code == 400
    assert "Only submitted work can be marked" in response.content.decode()
    assert not Mark.objects.exists()


def test_return_for_redraft_from_the_marking_page(client, cast, essay):
    client.force_login(cast["teacher"])
    response = client.post(reverse("classroom:mark_return", args=[essay.pk]))
    assert response.status_code == 302
    essay.refresh_from_db()
    assert essay.state == Submission.State.RETURNED


def test_completed_work_cannot_be_returned_for_redraft(client, cast, essay):
    mark_fully(essay, cast["teacher"])
    client.force_login(cast["teacher"])
    client.post(reverse("classroom:mark_return", args=[essay.pk]))
    essay.refresh_from_db()
    assert essay.state == Submission.State.MARKED


# --- release --------------------------------------------------------------------------------


def test_release_and_withdraw_before_the_student_opens_it(client, cast, essay):
    mark = mark_fully(essay, cast["teacher"])
    client.force_login(cast["teacher"])
    client.post(reverse("classroom:mark_release", args=[essay.pk]))
    mark.refresh_from_db()
    essay.refresh_from_db()
    assert mark.released_at is not None and essay.state == Submission.State.RELEASED
    client.post(reverse("classroom:mark_withdraw", args=[essay.pk]))
    mark.refresh_from_db()
    essay.refresh_from_db()
    assert mark.released_at is None and essay.state == Submission.State.MARKED


def test_withdraw_is_refused_once_the_student_has_read_the_feedback(client, cast, essay):
    mark = mark_fully(essay, cast["teacher"])
    mark.release(by=cast["teacher"])
    client.force_login(cast["student"])
    assert client.get(reverse("classroom:feedback", args=[essay.assignment_id])).status_code == 200
    client.post(reverse("classroom:feedback_seen", args=[essay.assignment_id]))  # as static/js/seen.js does
    client.force_login(cast["teacher"])
    response = client.post(reverse("classroom:mark_withdraw", args=[essay.pk]), follow=True)
    assert "already read this feedback" in response.content.decode()
    mark.refresh_from_db()
    assert mark.released_at is not None


def test_a_draft_mark_cannot_be_released(cast, essay):
    mark = mark_fully(essay, cast["teacher"], complete=False)
    with pytest.raises(MarkError):
        mark.release(by=cast["teacher"])
    assert Mark.objects.get(pk=mark.pk).released_at is None


def test_released_marks_cannot_be_changed(client, cast, essay):
    mark = mark_fully(essay, cast["teacher"])
    mark.release(by=cast["teacher"])
    client.force_login(cast["teacher"])
    response = client.post(reverse("classroom:mark_submission", args=[essay.pk]), mark_post(essay, {"AO1": (1, 1)}))
    assert response.status_code == 409
    assert "withdraw the release" in response.content.decode()
    assert Mark.objects.get(pk=mark.pk).total == 7


def test_release_all_releases_only_complete_marks(client, cast, essay, school_class):
    mark_fully(essay, cast["teacher"])
    other = StudentFactory()
    school_class.enrol(other)
    draft_essay = SubmissionFactory(assignment=essay.assignment, student=other, text="Draft marked.", submitted=True)
    draft_mark = mark_fully(draft_essay, cast["teacher"], complete=False)
    client.force_login(cast["teacher"])
    response = client.post(reverse("classroom:release_all", args=[essay.assignment_id]), follow=True)
    assert "Released 1 mark to students" in response.content.decode()
    assert Mark.objects.get(submission=essay).released_at is not None
    draft_mark.refresh_from_db()
    assert draft_mark.released_at is None


# --- anonymous marking ----------------------------------------------------------------------


@pytest.fixture
def anonymous_essays(essay, school_class):
    assignment = essay.assignment
    assignment.anonymous_marking = True
    assignment.save(update_fields=["anonymous_marking"])
    other = StudentFactory(username="quinn.quill", first_name="Quinn", last_name="Quill")
    school_class.enrol(other)
    second = SubmissionFactory(assignment=assignment, student=other, text="Second essay.", submitted=True)
    return essay, second


NAMES = ["Sam", "Student", "sam.student", "Quinn", "Quill", "quinn.quill"]


def test_anonymous_marking_shows_no_names_anywhere_in_marking(client, cast, anonymous_essays):
    essay, second = anonymous_essays
    mark_fully(essay, cast["teacher"], complete=False)
    client.force_login(cast["teacher"])
    pages = [
        reverse("classroom:marking_queue", args=[essay.assignment_id]),
        reverse("classroom:mark_submission", args=[essay.pk]),  # has a "next" link to the second
        reverse("classroom:mark_submission", args=[second.pk]),  # has a "previous" link
        reverse("classroom:mark_return", args=[essay.pk]),
        reverse("classroom:reveal_names", args=[essay.assignment_id]),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        for name in NAMES:
            assert name not in html, (url, name)
    essay.refresh_from_db()
    second.refresh_from_db()
    queue = client.get(pages[0]).content.decode()
    assert f"Candidate {essay.candidate_number:04d}" in queue
    assert f"Candidate {second.candidate_number:04d}" in queue


def test_candidate_numbers_are_four_digits_unique_and_stable(client, cast, anonymous_essays):
    essay, second = anonymous_essays
    client.force_login(cast["teacher"])
    client.get(reverse("classroom:marking_queue", args=[essay.assignment_id]))
    numbers = dict(Submission.objects.values_list("pk", "candidate_number"))
    assert len(set(numbers.values())) == 2 and all(1000 <= n <= 9999 for n in numbers.values())
    client.get(reverse("classroom:marking_queue", args=[essay.assignment_id]))
    assert dict(Submission.objects.values_list("pk", "candidate_number")) == numbers


def test_revealing_names_needs_confirmation_and_then_shows_them(client, cast, anonymous_essays):
    essay, _ = anonymous_essays
    client.force_login(cast["teacher"])
    url = reverse("classroom:reveal_names", args=[essay.assignment_id])
    client.post(url, {})
    essay.assignment.refresh_from_db()
    assert essay.assignment.names_revealed_at is None
    client.post(url, {"confirm": "yes"})
    essay.assignment.refresh_from_db()
    assert essay.assignment.names_revealed_at is not None
    html = client.get(reverse("classroom:marking_queue", args=[essay.assignment_id])).content.decode()
    assert "Sam Student" in html and "Quinn Quill" in html


# --- anchored comments ------------------------------------------------------------------------


def _anchor(essay, quote):
    start = essay.text.index(quote)
    return {"start": start, "end": start + len(quote), "quote": quote}


def test_an_anchored_comment_is_stored_with_offsets_and_shown_as_a_numbered_highlight(client, cast, essay):
    client.force_login(cast["teacher"])
    data = {"comment": "Give the exact date."} | _anchor(essay, "June 1963")
    client.post(reverse("classroom:annotation_add", args=[essay.pk]), data)
    annotation = Annotation.objects.get()
    assert essay.text[annotation.start : annotation.end] == "June 1963" == annotation.quote
    html = client.get(reverse("classroom:mark_submission", args=[essay.pk])).content.decode()
    assert '<mark class="annotation-mark" data-notes="1">' in html
    assert f'<span class="seg" data-start="{annotation.start}">June 1963</span></mark>' in html
    assert 'aria-label="Comment 1"' in html and 'id="note-1"' in html
    assert "Give the exact date." in html


def test_a_comment_whose_quote_does_not_match_becomes_a_general_comment(client, cast, essay):
    client.force_login(cast["teacher"])
    data = {"comment": "Forged anchor", "start": 0, "end": 5, "quote": "Wrong"}
    client.post(reverse("classroom:annotation_add", args=[essay.pk]), data)
    client.post(
        reverse("classroom:annotation_add", args=[essay.pk]),
        {"comment": "Out of range", "start": 5, "end": 99999, "quote": "x"},
    )
    assert list(Annotation.objects.values_list("start", "end", "quote")) == [(None, None, ""), (None, None, "")]


def test_comments_and_essays_containing_html_render_as_text(client, cast, marking_assignment, student):
    nasty = SubmissionFactory(
        assignment=marking_assignment, student=student, text="<script>alert('essay')</script> and more", submitted=True
    )
    client.force_login(cast["teacher"])
    client.post(
        reverse("classroom:annotation_add", args=[nasty.pk]),
        {"comment": "<script>alert('comment')</script>"} | _anchor(nasty, "<script>"),
    )
    html = client.get(reverse("classroom:mark_submission", args=[nasty.pk])).content.decode()
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(&#x27;comment&#x27;)&lt;/script&gt;" in html
    assert '<span class="seg" data-start="0">&lt;script&gt;</span>' in html
    assert "alert(&#x27;essay&#x27;)&lt;/script&gt; and more" in html


def test_comments_can_be_edited_and_deleted_until_release(client, cast, essay):
    mark = mark_fully(essay, cast["teacher"])
    first = mark.add_annotation(cast["teacher"], "First")
    second = mark.add_annotation(cast["teacher"], "Second")
    client.force_login(cast["teacher"])
    client.post(reverse("classroom:annotation_edit", args=[first.pk]), {"comment": "First, changed"})
    client.post(reverse("classroom:annotation_delete", args=[second.pk]))
    assert list(mark.annotations.values_list("comment", flat=True)) == ["First, changed"]
    mark.release(by=cast["teacher"])
    client.post(reverse("classroom:annotation_edit", args=[first.pk]), {"comment": "After release"})
    client.post(reverse("classroom:annotation_delete", args=[first.pk]))
    client.post(reverse("classroom:annotation_add", args=[essay.pk]), {"comment": "New after release"})
    assert list(mark.annotations.values_list("comment", flat=True)) == ["First, changed"]


def test_a_comment_added_for_marking_js_answers_json(client, cast, essay):
    """marking.js adds a comment still in the box before "Mark complete"; it needs to know it worked."""
    client.force_login(cast["teacher"])
    url = reverse("classroom:annotation_add", args=[essay.pk])
    response = client.post(url, {"comment": "Typed, not yet added"}, headers={"Accept": "application/json"})
    assert (response.status_code, response.json()) == (200, {"status": "added", "number": 1})
    response = client.post(url, {"comment": " "}, headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.json()["status"] == "invalid"
    assert list(Annotation.objects.values_list("comment", flat=True)) == ["Typed, not yet added"]


def test_a_comment_whose_passage_changed_in_a_redraft_shows_as_a_general_comment(cast, essay):
    mark = Mark.for_submission(essay, cast["teacher"])
    quote = "teleprinter link"
    start = essay.text.index(quote)
    mark.add_annotation(cast["teacher"], "Good detail", start=start, end=start + len(quote), quote=quote)
    essay.text = "A different essay altogether, written again after a redraft."
    html, notes = essay_with_notes(essay, list(mark.annotations.all()))
    assert [note.anchored for note in notes] == [False]
    assert "annotation-mark" not in html


def test_render_essay_keeps_paragraphs_and_line_breaks_and_offsets():
    text = "First line\r\nsecond line\r\n\r\nNew paragraph"
    second = text.index("second")
    html = render_essay(text, [(1, 6, second + 6)], [])
    assert html.count("<p>") == 2 and "<br>" in html
    assert '<span class="seg" data-start="0">First </span>' in html
    assert '<span class="seg" data-start="6">line</span>' in html
    assert f'<span class="seg" data-start="{second}">second</span>' in html
    assert f'<span class="seg" data-start="{second + 6}"> line</span>' in html
    # The comment spans the line break: highlighted on both lines, one note reference at its end.
    assert html.count('data-notes="1"') == 2 and html.count('id="ref-1"') == 1


# --- indicative content -------------------------------------------------------------------------


def test_indicative_panel_shows_hits_and_misses_and_highlights_passages(client, cast, essay):
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:mark_submission", args=[essay.pk])).content.decode()
    assert "Appears to mention: hotline, teleprinter" in html
    assert "Not found" in html  # the arms race point
    start = essay.text.index("Hotline")
    assert f'<span class="indicative-hit"><span class="seg" data-start="{start}">Hotline</span></span>' in html


@pytest.mark.parametrize(
    "text,found,missing",
    [
        ("The arms race went on: more ICBMs and an ICBM gap.", ["arms race, ICBM"], ["hotline"]),
        ("A HOTLINE was agreed. Hotlines came later.", ["hotline"], ["arms race"]),
        ("Nothing relevant here: a hot line of washing.", [], ["hotline", "arms race"]),
    ],
)
def test_indicative_hints_on_sample_essays(client, cast, marking_assignment, student, text, found, missing):
    submission = SubmissionFactory(assignment=marking_assignment, student=student, text=text, submitted=True)
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:mark_submission", args=[submission.pk])).content.decode()
    for terms in found:
        assert f"Appears to mention: {terms}" in html
    assert html.count("Not found") == 2 - len(found)
    for term in missing:
        assert f"Appears to mention: {term}" not in html


# --- query budgets ----------------------------------------------------------------------------------


def _class_of(essay, school_class, size):
    for _ in range(size - 1):
        pupil = StudentFactory()
        school_class.enrol(pupil)
        submission = SubmissionFactory(assignment=essay.assignment, student=pupil, text="An essay.", submitted=True)
        mark_fully(submission, essay.assignment.school_class.teachers.get(), complete=False)


@pytest.mark.parametrize("size", [5, 50])
@pytest.mark.parametrize("anonymous", [False, True])
def test_marking_queue_query_budget(client, cast, essay, school_class, django_assert_num_queries, size, anonymous):
    essay.assignment.anonymous_marking = anonymous
    essay.assignment.save(update_fields=["anonymous_marking"])
    _class_of(essay, school_class, size)
    client.force_login(cast["teacher"])
    url = reverse("classroom:marking_queue", args=[essay.assignment_id])
    # Numbers were given as each essay was handed in: the first view is as cheap as any other.
    # session, user, assignment, standardisation due (classroom.department.standardisation_due),
    # submissions with students, marks and responses
    with django_assert_num_queries(5):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("size", [5, 50])
def test_marking_page_query_budget(client, cast, essay, school_class, django_assert_num_queries, size):
    _class_of(essay, school_class, size)
    mark = mark_fully(essay, cast["teacher"], complete=False)
    mark.add_annotation(cast["teacher"], "A comment")
    client.force_login(cast["teacher"])
    url = reverse("classroom:mark_submission", args=[essay.pk])
    # session, user, submission, standardisation due, criteria, levels, mark, criterion marks,
    # strand ticks, annotations, sources, indicative points, neighbours, comment bank,
    # the writing record's events (its summary line), the access log's row
    with django_assert_num_queries(16):
        assert client.get(url).status_code == 200


def test_every_handed_in_essay_has_its_number_before_any_marking_page_opens(client, cast, anonymous_essays):
    essay, second = anonymous_essays
    essay.refresh_from_db()
    second.refresh_from_db()
    assert essay.candidate_number is not None and second.candidate_number is not None
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:mark_submission", args=[essay.pk])).content.decode()
    assert "number not yet given" not in html
    neighbour = "next" if essay.candidate_number < second.candidate_number else "previous"
    assert f"then {neighbour} (Candidate {second.candidate_number:04d})" in html
    assert not any(name in html for name in NAMES)


def test_the_assignment_page_links_to_the_queue_and_to_each_submitted_essay(client, cast, essay):
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:assignment_detail", args=[essay.assignment_id])).content.decode()
    assert reverse("classroom:marking_queue", args=[essay.assignment_id]) in html
    assert reverse("classroom:mark_submission", args=[essay.pk]) in html


def test_under_anonymous_marking_the_assignment_page_sends_markers_to_the_queue(client, cast, anonymous_essays):
    essay, _ = anonymous_essays
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:assignment_detail", args=[essay.assignment_id])).content.decode()
    assert reverse("classroom:marking_queue", args=[essay.assignment_id]) in html
    assert reverse("classroom:mark_submission", args=[essay.pk]) not in html


def test_queue_counts_and_filters_by_marking_state(client, cast, essay, school_class):
    others = []
    for n in range(3):
        pupil = StudentFactory(first_name=f"Pupil{n}", last_name="Queue")
        school_class.enrol(pupil)
        others.append(SubmissionFactory(assignment=essay.assignment, student=pupil, text="Essay.", submitted=True))
    mark_fully(others[0], cast["teacher"], complete=False)
    mark_fully(others[1], cast["teacher"])
    mark_fully(others[2], cast["teacher"]).release(by=cast["teacher"])
    client.force_login(cast["teacher"])
    url = reverse("classroom:marking_queue", args=[essay.assignment_id])
    html = client.get(url).content.decode()
    for label in ["To mark", "In progress", "Marked, not released", "Released"]:
        assert f'{label} <span class="badge text-bg-light">1</span>' in html
    shown = client.get(url + "?show=marked").content.decode()
    assert others[1].student.display_name in shown and essay.student.display_name not in shown


def test_marking_page_for_a_draft_explains_it_cannot_be_marked_yet(client, teacher, marking_assignment, student):
    draft = SubmissionFactory(assignment=marking_assignment, student=student)
    client.force_login(teacher)
    html = client.get(reverse("classroom:mark_submission", args=[draft.pk])).content.decode()
    assert "Not ready to mark (draft): an essay can be marked once it has been submitted." in html

"""The marking workspace's JSON endpoints (issue 13): comments added, changed and deleted
without a page load; "Mark complete" and release answered in place; every actor; bad input
refused with nothing changed; query budgets that do not grow with the number of comments.
Also: the teacher's own bank entry over the starter one, "Save, then next" to the next
script that needs marking, and indicative-content hints off until asked for."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from classroom.comment_bank import usable_entries
from classroom.models import Annotation, CommentBankEntry, Mark
from tests.factories import StudentFactory, SubmissionFactory
from tests.helpers import FULL, mark_fully, mark_post

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}


def add_url(essay) -> str:
    return reverse("classroom:annotation_add_json", args=[essay.pk])


def comment_on(essay, teacher, text="A comment", quote="teleprinter link") -> Annotation:
    start = essay.text.index(quote)
    mark = Mark.for_submission(essay, teacher)
    return mark.add_annotation(teacher, text, start=start, end=start + len(quote), quote=quote)


# --- adding, changing, deleting ------------------------------------------------------------------


def test_adding_a_comment_answers_the_note_and_the_redrawn_essay_and_notes(client, cast, essay):
    client.force_login(cast["teacher"])
    quote = "teleprinter link"
    start = essay.text.index(quote)
    response = client.post(
        add_url(essay), {"comment": "Precise.", "start": start, "end": start + len(quote), "quote": quote}
    )
    data = response.json()
    assert response.status_code == 200 and data["status"] == "added"
    assert data["note"] == {
        "pk": Annotation.objects.get().pk,
        "number": 1,
        "comment": "Precise.",
        "quote": quote,
        "anchored": True,
    }
    assert '<mark class="annotation-mark" data-notes="1">' in data["essay_html"]
    assert 'id="note-1"' in data["notes_html"] and "Precise." in data["notes_html"]
    assert 'name="csrfmiddlewaretoken"' in data["notes_html"]  # the re-drawn edit forms still post
    assert data["message"] == "Comment 1 added." and data["count"] == 1
    # No "Comment 1 added." waiting for the next page load: it was said in place.
    assert "Comment 1 added." not in client.get(reverse("classroom:mark_submission", args=[essay.pk])).text


def test_a_selection_that_does_not_match_is_added_as_a_general_comment_and_said_so(client, cast, essay):
    client.force_login(cast["teacher"])
    data = client.post(add_url(essay), {"comment": "Hm", "start": 0, "end": 5, "quote": "nope!"}).json()
    assert data["note"]["anchored"] is False and "general comment" in data["message"]


def test_a_code_expands_to_the_teachers_own_entry_not_the_starter_one(client, cast, essay):
    CommentBankEntry.objects.create(code="prov", text="Starter text.")
    own = CommentBankEntry.objects.create(owner=cast["teacher"], code="prov", text="My own text.")
    client.force_login(cast["teacher"])
    data = client.post(add_url(essay), {"comment": "#prov"}).json()
    annotation = Annotation.objects.get()
    assert (data["note"]["comment"], annotation.bank_entry) == ("My own text.", own)


def test_changing_and_deleting_a_comment_answer_the_redrawn_notes(client, cast, essay):
    first = comment_on(essay, cast["teacher"], "First")
    comment_on(essay, cast["teacher"], "Second", quote="Hotline")
    client.force_login(cast["teacher"])
    response = client.post(reverse("classroom:annotation_edit_json", args=[first.pk]), {"comment": "First, changed"})
    data = response.json()
    assert response.status_code == 200 and data["status"] == "changed"
    assert data["note"]["comment"] == "First, changed" and "First, changed" in data["notes_html"]
    response = client.post(reverse("classroom:annotation_delete_json", args=[first.pk]))
    data = response.json()
    assert response.status_code == 200 and data["status"] == "deleted" and data["count"] == 1
    assert data["note"] is None and 'id="note-1"' not in data["notes_html"] and 'id="note-2"' in data["notes_html"]
    assert list(Annotation.objects.values_list("comment", flat=True)) == ["Second"]


# --- bad input: 400, nothing changed ---------------------------------------------------------------


@pytest.mark.parametrize(
    "post",
    [
        {"comment": "   "},
        {},
        {"comment": "x" * 5_001},
        {"comment": "Fine", "start": "-1", "end": "3", "quote": "The"},
        {"comment": "Fine", "start": "abc"},
    ],
)
def test_a_bad_comment_is_refused_with_a_message_and_nothing_added(client, cast, essay, post):
    client.force_login(cast["teacher"])
    response = client.post(add_url(essay), post)
    assert response.status_code == 400
    assert response.json()["status"] == "invalid" and response.json()["error"]
    assert not Annotation.objects.exists() and not Mark.objects.exists()


@pytest.mark.parametrize("post", [{"comment": "  "}, {}, {"comment": "y" * 5_001}])
def test_a_bad_change_is_refused_and_the_comment_is_unchanged(client, cast, essay, post):
    annotation = comment_on(essay, cast["teacher"], "Kept")
    client.force_login(cast["teacher"])
    response = client.post(reverse("classroom:annotation_edit_json", args=[annotation.pk]), post)
    assert response.status_code == 400 and response.json()["error"]
    assert Annotation.objects.get().comment == "Kept"


def test_after_release_adding_changing_and_deleting_are_refused_and_change_nothing(client, cast, essay):
    annotation = comment_on(essay, cast["teacher"], "Kept")
    mark = mark_fully(essay, cast["teacher"])
    mark.release(by=cast["teacher"])
    client.force_login(cast["teacher"])
    for url, post in [
        (add_url(essay), {"comment": "New"}),
        (reverse("classroom:annotation_edit_json", args=[annotation.pk]), {"comment": "Changed"}),
        (reverse("classroom:annotation_delete_json", args=[annotation.pk]), {}),
    ]:
        response = client.post(url, post)
        assert response.status_code == 400 and response.json()["status"] == "invalid", url
    assert list(Annotation.objects.values_list("comment", flat=True)) == ["Kept"]


def test_the_json_addresses_take_only_post(client, cast, essay):
    annotation = comment_on(essay, cast["teacher"])
    client.force_login(cast["teacher"])
    for url in (
        add_url(essay),
        reverse("classroom:annotation_edit_json", args=[annotation.pk]),
        reverse("classroom:annotation_delete_json", args=[annotation.pk]),
    ):
        assert client.get(url).status_code == 405


# --- every actor ----------------------------------------------------------------------------------------

ACTORS = [("teacher", 200), ("head", 200), ("other_teacher", 404), ("student", 403), ("outsider", 403), (None, 302)]


@pytest.mark.parametrize("actor,status", ACTORS)
def test_adding_by_every_actor(client, cast, essay, actor, status):
    if actor:
        client.force_login(cast[actor])
    response = client.post(add_url(essay), {"comment": "Hello"})
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("login"))
    assert Annotation.objects.count() == (1 if status == 200 else 0)


@pytest.mark.parametrize("actor,status", ACTORS)
def test_changing_by_every_actor(client, cast, essay, actor, status):
    annotation = comment_on(essay, cast["teacher"], "Original")
    if actor:
        client.force_login(cast[actor])
    response = client.post(reverse("classroom:annotation_edit_json", args=[annotation.pk]), {"comment": "Changed"})
    assert response.status_code == status
    assert Annotation.objects.get().comment == ("Changed" if status == 200 else "Original")


@pytest.mark.parametrize("actor,status", ACTORS)
def test_deleting_by_every_actor(client, cast, essay, actor, status):
    annotation = comment_on(essay, cast["teacher"])
    if actor:
        client.force_login(cast[actor])
    response = client.post(reverse("classroom:annotation_delete_json", args=[annotation.pk]))
    assert response.status_code == status
    assert Annotation.objects.exists() is (status != 200)


@pytest.mark.parametrize("actor,status", ACTORS)
def test_release_answered_in_place_by_every_actor(client, cast, essay, actor, status):
    mark_fully(essay, cast["teacher"])
    if actor:
        client.force_login(cast[actor])
    response = client.post(reverse("classroom:mark_release", args=[essay.pk]), headers=JSON)
    assert response.status_code == status
    assert Mark.objects.get().is_released is (status == 200)
    if status == 200:
        data = response.json()
        assert data["editable"] is False and "Released" in data["header_html"]


def test_mark_complete_answered_in_place_with_the_new_revision(client, cast, essay):
    client.force_login(cast["teacher"])
    url = reverse("classroom:mark_submission", args=[essay.pk])
    response = client.post(url, mark_post(essay, FULL, action="complete"), headers=JSON)
    data = response.json()
    mark = Mark.objects.get()
    assert response.status_code == 200 and mark.is_complete
    assert data["revision"] == mark.revision and "Marked, not released" in data["header_html"]
    assert "Release to the student" in data["header_html"]


def test_mark_complete_without_every_level_is_refused_in_place(client, cast, essay):
    client.force_login(cast["teacher"])
    url = reverse("classroom:mark_submission", args=[essay.pk])
    post = mark_post(essay, {"AO1": FULL["AO1"]}, action="complete")
    response = client.post(url, post, headers=JSON)
    assert response.status_code == 400 and "Give a level and a mark" in response.json()["error"]
    mark = Mark.objects.get()
    assert not mark.is_complete
    # What was given was saved first: the answer carries the revision the page goes on from,
    # so its next autosave is not taken for another marker's change.
    assert response.json()["revision"] == mark.revision
    again = mark_post(essay, {"AO1": FULL["AO1"]}) | {"base_revision": str(mark.revision)}
    assert client.post(url, again, headers=JSON).status_code == 200


def test_release_before_the_mark_is_complete_is_refused_in_place(client, cast, essay):
    mark_fully(essay, cast["teacher"], complete=False)
    client.force_login(cast["teacher"])
    response = client.post(reverse("classroom:mark_release", args=[essay.pk]), headers=JSON)
    assert response.status_code == 400 and response.json()["status"] == "invalid"
    assert not Mark.objects.get().is_released


# --- query budgets: the same at two sizes ------------------------------------------------------------------


def _queries(client, method: str, url: str, data=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, data or {})
    assert response.status_code == 200, response.content[:300]
    return len(captured)


@pytest.mark.parametrize("route", ["add", "edit", "delete"])
def test_comment_endpoints_query_budget_does_not_grow_with_the_comments(client, cast, essay, route):
    teacher = cast["teacher"]
    client.force_login(teacher)
    counts = []
    for size in (1, 12):
        Annotation.objects.all().delete()
        notes = [comment_on(essay, teacher, f"Comment {n}") for n in range(size)]
        url = {
            "add": add_url(essay),
            "edit": reverse("classroom:annotation_edit_json", args=[notes[0].pk]),
            "delete": reverse("classroom:annotation_delete_json", args=[notes[0].pk]),
        }[route]
        counts.append(_queries(client, "post", url, {"comment": "Budget"}))
    # The same at both sizes (the most, adding: session, user, submission, the bank twice,
    # the mark found or made and locked, number, insert, then comments, mark and points).
    assert counts[0] == counts[1] <= 20, counts


def test_marking_page_query_budget_does_not_grow_with_comments_or_bank(client, cast, essay):
    teacher = cast["teacher"]
    client.force_login(teacher)
    url = reverse("classroom:mark_submission", args=[essay.pk])
    counts = []
    for size in (1, 15):
        for n in range(size):
            comment_on(essay, teacher, f"Comment {n}")
            CommentBankEntry.objects.get_or_create(owner=teacher, code=f"c{n}", defaults={"text": f"Bank {n}"})
        counts.append(_queries(client, "get", url))
    assert counts[0] == counts[1], counts


# --- the comment bank on the page: one entry per code, the teacher's own first ----------------------------


def test_the_page_offers_the_teachers_own_prov_not_the_starter_one(client, cast, essay):
    starter = CommentBankEntry.objects.create(code="prov", text="Starter provenance.")
    own = CommentBankEntry.objects.create(owner=cast["teacher"], code="PROV", text="My provenance.")
    other = CommentBankEntry.objects.create(code="date", text="Give the date.")
    assert usable_entries(CommentBankEntry.objects.for_teacher(cast["teacher"])) == [other, own]
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:mark_submission", args=[essay.pk])).text
    codes = json.loads(html.split('<script id="bank-codes" type="application/json">')[1].split("</script>")[0])
    assert codes == {"prov": "My provenance.", "date": "Give the date."}
    assert "Starter provenance." not in html and starter.pk
    # Another teacher still gets the starter one.
    client.force_login(cast["other_teacher"])
    assert "Starter provenance." in client.get(reverse("classroom:comment_bank")).text


# --- "Save, then next": the next script that needs marking ------------------------------------------------------


def test_save_then_next_skips_scripts_already_marked_and_wraps_round(client, cast, essay, marking_assignment):
    school_class = marking_assignment.school_class
    pupils = [
        StudentFactory(first_name=f, last_name=last)
        for f, last in [("Al", "Adams"), ("Tom", "Taylor"), ("Wes", "Wood")]
    ]
    for pupil in pupils:
        school_class.enrol(pupil)
    adams, taylor, wood = (
        SubmissionFactory(assignment=marking_assignment, student=pupil, text="An essay.", submitted=True)
        for pupil in pupils
    )
    mark_fully(taylor, cast["teacher"])  # complete: does not need marking
    client.force_login(cast["teacher"])
    # Queue order: Adams, Student (Sam, `essay`), Taylor, Wood.
    response = client.post(reverse("classroom:mark_submission", args=[essay.pk]), mark_post(essay, FULL, action="next"))
    assert response["Location"] == reverse("classroom:mark_submission", args=[wood.pk])
    # From the last script, round to the first one still waiting.
    response = client.post(reverse("classroom:mark_submission", args=[wood.pk]), mark_post(wood, FULL, action="next"))
    assert response["Location"] == reverse("classroom:mark_submission", args=[adams.pk])
    assert "Save, then next (Wes Wood)" in client.get(reverse("classroom:mark_submission", args=[essay.pk])).text


# --- indicative content: off until asked for, whole phrases -------------------------------------------------------


def test_indicative_hints_are_off_until_asked_for(client, cast, essay):
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:mark_submission", args=[essay.pk])).text
    assert 'id="essay"' in html and "show-hits" not in html.split('id="essay"')[0].rsplit("<div", 1)[1]
    assert '<details id="indicative-details">' in html  # closed: no "open"


def test_a_key_phrase_never_highlights_its_single_words(client, cast, marking_assignment, student):
    from tests.factories import IndicativePointFactory

    IndicativePointFactory(
        prompt=marking_assignment.prompt, text="Both sources", key_terms="both sources, will not invade Cuba"
    )
    text = "Both leaders spoke of Cuba. Using both sources, we see the US will not invade Cuba."
    submission = SubmissionFactory(assignment=marking_assignment, student=student, text=text, submitted=True)
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:mark_submission", args=[submission.pk])).text
    essay_html = html.split('id="essay"')[1].split("</div>")[0]
    hits = essay_html.count('<span class="indicative-hit">')
    assert hits == 2
    assert '<span class="seg" data-start="0">Both leaders spoke of Cuba. Using </span>' in essay_html

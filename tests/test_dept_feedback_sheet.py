"""The whole-class feedback sheet (issue 14): counted from an assignment's complete marks,
printable on one A4 page, projectable, and naming no pupil anywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from classroom.models import CommentBankEntry, FeedbackSheet
from tests.factories import StudentFactory
from tests.helpers import give_mark, hand_in

pytestmark = pytest.mark.django_db

FIRST = ["Xanthe", "Ignatius", "Florian", "Wilhelmina", "Ottoline", "Barnaby", "Clemency"]
LAST = ["Quenby", "Ravensworth", "Tiptree", "Ashdown", "Fairweather", "Mottram", "Pennick"]


def _pupils(school_class, size):
    pupils = []
    for i in range(size):
        pupil = StudentFactory(first_name=FIRST[i % len(FIRST)], last_name=LAST[i % len(LAST)])
        school_class.enrol(pupil)
        pupils.append(pupil)
    return pupils


def _mark_class(assignment, teacher, size):
    """`size` pupils, every one handed in and marked complete: pupil i mentions the Hotline;
    the even ones the arms race too. AO1 level 2 (3 marks) for the even ones, level 1 (2) for
    the odd ones; AO2 always level 1 (3). Each gets #prov, the even ones #date as well; the
    improvement tasks name the pupil (the sheet must not)."""
    prov = CommentBankEntry.objects.create(code="prov", text="BANK-PROV: use the provenance.")
    date = CommentBankEntry.objects.create(code="date", text="BANK-DATE: give the date.")
    pupils = _pupils(assignment.school_class, size)
    for i, pupil in enumerate(pupils):
        text = f"{pupil.first_name} {pupil.last_name} writes: the Hotline was set up in 1963."
        if i % 2 == 0:
            text += " The arms race went on."
        submission = hand_in(assignment, pupil, text=text)
        task = f"{pupil.first_name}, rewrite paragraph two." if i % 3 else "Add a date to each point."
        mark = give_mark(submission, teacher, 3 if i % 2 == 0 else 2, 3, release=False, improvement_task=task)
        mark.add_annotation(teacher, prov.text, bank_entry=prov)
        mark.add_annotation(teacher, f"Well done {pupil.first_name}.")
        if i % 2 == 0:
            mark.add_annotation(teacher, date.text, bank_entry=date)
    return pupils


def _sheet(client, user, assignment, **params):
    client.force_login(user)
    return client.get(reverse("classroom:feedback_sheet", args=[assignment.pk]), params)


def test_the_sheet_counts_levels_points_comments_and_tasks(client, cast, marking_assignment):
    teacher = cast["teacher"]
    _mark_class(marking_assignment, teacher, 6)
    # Not counted: handed in but not marked, and marked but not complete.
    hand_in(marking_assignment, cast["student"], text="The arms race. The Hotline.")
    html = _sheet(client, teacher, marking_assignment).content.decode()
    assert "From 6 marked essays" in html
    levels = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html[html.index('id="levels-heading"') :]))
    assert "AO1 Skill AO1 (n = 6) Level 1: 3 · Level 2: 3" in levels
    assert "AO2 Skill AO2 (n = 6) Level 1: 6 · Level 2: 0" in levels
    points = re.findall(r"<tr><td>(.*?)</td><td[^>]*>(\d+ of \d+)</td></tr>", html)
    # In the marking page's order (by side, then the points' order)
    assert points == [("The arms race went on.", "3 of 6"), ("The Hotline was a teleprinter link.", "6 of 6")]
    comments = html[html.index('id="comments-heading"') : html.index('id="misconceptions-heading"')]
    assert comments.index("BANK-PROV") < comments.index("BANK-DATE")
    assert "used 6 times, on 6 essays" in comments and "used 3 times, on 3 essays" in comments
    tasks = html[html.index('id="dirt-heading"') :]
    assert '[name], rewrite paragraph two. <span class="text-body-secondary">(4 essays)' in tasks
    assert 'Add a date to each point. <span class="text-body-secondary">(2 essays)' in tasks


def test_an_assignment_with_nothing_marked_shows_empty_figures(client, cast, marking_assignment):
    html = _sheet(client, cast["teacher"], marking_assignment).content.decode()
    assert "From 0 marked essays: the figures appear as marks are completed." in html
    assert "0 of 0" in html and "No improvement tasks set yet." in html


def test_no_level_is_counted_when_a_criterion_got_none(client, cast, marking_assignment):
    submission = hand_in(marking_assignment, cast["student"])
    give_mark(submission, cast["teacher"], 0, 3, release=False)
    levels = _sheet(client, cast["teacher"], marking_assignment).content.decode()
    assert re.search(r"No level: <strong>1</strong> · Level 1: <strong>0</strong>", levels)


@pytest.mark.parametrize("view", ["projector", "sheet"])
def test_no_pupil_is_named_anywhere_on_the_sheet(client, cast, marking_assignment, view):
    teacher = cast["teacher"]
    pupils = _mark_class(marking_assignment, teacher, 7)
    FeedbackSheet.objects.create(
        assignment=marking_assignment,
        misconceptions="Xanthe thought the Hotline was a telephone.\nThe arms race stopped in 1963.",
        exemplar_paragraph="As Quenby wrote, the Hotline was a teleprinter link.",
    )
    response = _sheet(client, teacher, marking_assignment, **({"view": "projector"} if view == "projector" else {}))
    html = response.content.decode()
    if view == "projector":
        # The teacher's own words stay, without their form.
        assert "feedback-sheet-projector" in html and 'name="misconceptions"' not in html
        for name in {p.first_name for p in pupils} | {p.last_name for p in pupils} | {"Sam", "Student"}:
            assert not re.search(rf"\b{name}\b", html, re.I), name
    else:
        # Only the form holds the teacher's words as typed (the printed sheet has them without names).
        article = html[html.index('<article class="feedback-sheet"') : html.index("</article>")]
        for name in {p.first_name for p in pupils} | {p.last_name for p in pupils}:
            assert not re.search(rf"\b{name}\b", article, re.I), name
    assert "[name] thought the Hotline was a telephone." in html
    assert "As [name] wrote, the Hotline was a teleprinter link." in html


def test_the_teacher_writes_misconceptions_and_an_exemplar_paragraph(client, cast, marking_assignment):
    client.force_login(cast["teacher"])
    url = reverse("classroom:feedback_sheet", args=[marking_assignment.pk])
    response = client.post(
        url, {"misconceptions": "It was a telephone.\n\nKennedy bombed Cuba.", "exemplar_paragraph": "A"}
    )
    assert response.status_code == 302
    sheet = FeedbackSheet.objects.get()
    assert sheet.updated_by == cast["teacher"] and sheet.exemplar_paragraph == "A"
    html = client.get(url).content.decode()
    assert "<li>It was a telephone.</li><li>Kennedy bombed Cuba.</li>" in html


def test_words_naming_a_pupil_of_the_class_are_refused(client, cast, marking_assignment):
    client.force_login(cast["teacher"])
    url = reverse("classroom:feedback_sheet", args=[marking_assignment.pk])
    response = client.post(url, {"misconceptions": "", "exemplar_paragraph": "Sam's paragraph was best."})
    assert response.status_code == 400
    assert "The exemplar paragraph names Sam" in response.content.decode()
    too_long = client.post(url, {"misconceptions": "x" * 1_201, "exemplar_paragraph": ""})
    assert too_long.status_code == 400 and "Not saved" in too_long.content.decode()
    assert not FeedbackSheet.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("student", 403), ("outsider", 403), ("other_teacher", 404), ("teacher", 200), ("head", 200)],
)
def test_who_may_read_and_write_the_sheet(client, cast, marking_assignment, who, status):
    if who != "anonymous":
        client.force_login(cast[who])
    url = reverse("classroom:feedback_sheet", args=[marking_assignment.pk])
    for params in ({}, {"view": "projector"}):
        response = client.get(url, params)
        assert response.status_code == status
        if status == 302:
            assert response["Location"].startswith(reverse("login"))
    response = client.post(url, {"misconceptions": "CHANGED", "exemplar_paragraph": ""})
    assert response.status_code == (302 if status == 200 else status)
    assert FeedbackSheet.objects.filter(misconceptions="CHANGED").exists() is (status == 200)


def test_the_marking_queue_links_to_the_sheet(client, cast, marking_assignment):
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:marking_queue", args=[marking_assignment.pk])).content.decode()
    assert reverse("classroom:feedback_sheet", args=[marking_assignment.pk]) in html


@pytest.mark.parametrize("size", [2, 14])
def test_sheet_query_budget(client, cast, marking_assignment, django_assert_num_queries, size):
    _mark_class(marking_assignment, cast["teacher"], size)
    FeedbackSheet.objects.create(assignment=marking_assignment, misconceptions="One.")
    client.force_login(cast["teacher"])
    # session, user, assignment with class and prompt; the marks' tasks and essays, the roster's
    # names, the criteria, their levels, the level counts, the bank comments, the indicative
    # points, the teacher's words
    with django_assert_num_queries(11):
        assert client.get(reverse("classroom:feedback_sheet", args=[marking_assignment.pk])).status_code == 200


def test_the_print_stylesheet_puts_the_sheet_on_an_a4_page_without_the_navigation():
    css = (Path(settings.BASE_DIR) / "static" / "css" / "app.css").read_text()
    assert re.search(r"@page feedback-sheet \{\s*size: A4;", css)
    prints = css.split("@media print")[1:]
    assert any(".feedback-sheet {\n    page: feedback-sheet;" in block for block in prints)
    assert re.search(r"@media print \{\s*header,\s*footer,", css)  # the navigation is not printed

"""Marking in a real browser: a comment on selected text, levels and marks, complete and
release; then the student reads the feedback and answers it (DIRT)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from classroom.models import Annotation, DirtResponse, Mark
from tests.conftest import PASSWORD
from tests.e2e import autosave_checks as checks
from tests.e2e.a11y import axe_check
from tests.e2e.conftest import log_in, select_text
from tests.factories import SubmissionFactory

pytestmark = pytest.mark.django_db(transaction=True)

ESSAY = "The crisis led to the Hotline in June 1963.\n\nIt was a teleprinter link, not a telephone."
QUOTE = "teleprinter link"


@pytest.fixture
def submitted(marking_assignment, student):
    return SubmissionFactory(assignment=marking_assignment, student=student, text=ESSAY, submitted=True)


def test_teacher_marks_and_releases_then_the_student_reads_and_responds(page, live_server, submitted, context):
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(f"{live_server.url}/classroom/assignments/{submitted.assignment_id}/marking/")
    assert axe_check(page)["blocking"] == []
    page.get_by_role("link", name="Sam Student").click()
    expect(page.get_by_role("heading", name="Marking: Sam Student")).to_be_visible()
    assert axe_check(page)["blocking"] == []
    # Indicative-content hints are off until asked for (issue 13).
    expect(page.get_by_text("Appears to mention: hotline, teleprinter")).to_be_hidden()
    page.get_by_text("Show indicative content and hints").click()
    expect(page.get_by_text("Appears to mention: hotline, teleprinter")).to_be_visible()

    # A comment anchored to selected text.
    select_text(page, QUOTE)
    page.get_by_role("button", name="Comment on the selection").click()
    expect(page.get_by_text(f"On the passage: “{QUOTE}”")).to_be_visible()
    page.get_by_label("Comment", exact=True).fill("Precise: it was not a telephone.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.get_by_role("link", name="Comment 1")).to_be_visible()
    annotation = Annotation.objects.get()
    assert (annotation.start, annotation.quote) == (ESSAY.index(QUOTE), QUOTE)

    # Levels, then marks inside the band; the total adds up as the teacher goes.
    page.get_by_role("radio", name="Level 2 (3–4 marks)").first.check()  # AO1
    expect(page.get_by_label("AO1 mark")).to_have_value("3")
    page.get_by_label("AO1 mark").fill("4")
    page.locator("fieldset.criterion").nth(1).get_by_role("radio", name="Level 1 (1–3 marks)").check()
    page.get_by_label("AO2 mark").fill("2")
    page.locator("fieldset.criterion").nth(2).get_by_role("radio", name="Level 2 (3–4 marks)").check()
    expect(page.locator("#mark-total")).to_have_text("6")
    page.get_by_label("Even better if").fill("Use the provenance of Source B.")
    page.get_by_label("Improvement task (optional)").fill("Rewrite your second paragraph.")
    expect(page.get_by_role("status").filter(has_text=re.compile(r"Saved \d\d:\d\d"))).to_be_visible()
    page.get_by_role("button", name="Mark complete").click()
    expect(page.get_by_text("Marked, not released")).to_be_visible()
    page.get_by_role("button", name="Release to the student").click()
    expect(page.get_by_role("button", name="Withdraw release")).to_be_visible()
    mark = Mark.objects.get()
    assert (mark.total, mark.spag, mark.is_released) == (6, 3, True)
    assert page.js_errors == []

    # The student reads the feedback and answers it.
    context.clear_cookies()
    log_in(page, live_server, "sam.student", PASSWORD)
    page.get_by_role("link", name="Marked — read your feedback").click()
    expect(page.get_by_text("6 out of 10")).to_be_visible()
    expect(page.get_by_text("Precise: it was not a telephone.")).to_be_visible()
    expect(page.locator("mark.annotation-mark")).to_have_text(QUOTE)
    expect(page.get_by_text("Rewrite your second paragraph.")).to_be_visible()
    assert axe_check(page)["blocking"] == []
    page.get_by_role("textbox", name="Your response").fill("I rewrote it using the date 20 June 1963.")
    expect(page.get_by_role("status").filter(has_text=re.compile(r"Saved \d\d:\d\d"))).to_be_visible()
    page.get_by_role("button", name="Submit response").click()
    expect(page.get_by_text("Your response has been sent to your teacher.")).to_be_visible()
    expect(page.get_by_role("button", name="Submit response")).to_have_count(0)
    assert DirtResponse.objects.get().is_submitted
    assert page.js_errors == []


# --- The shared autosave (static/js/autosave.js), checked on the mark form -----------------


@pytest.fixture
def mark_editor(live_server, submitted):
    return checks.Editor(
        url=f"{live_server.url}/classroom/submissions/{submitted.pk}/mark/",
        field="Even better if",
        field_name="ebi",
        status="#mark-save-status",
        endpoint="**" + reverse("classroom:mark_autosave", args=[submitted.pk]),
        storage_prefix="marking:",
        saved_value=lambda: Mark.objects.filter(submission=submitted).values_list("ebi", flat=True).first() or "",
    )


def _open_marking(page, live_server, mark_editor):
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(mark_editor.url)
    expect(page.get_by_role("heading", name="Marking: Sam Student")).to_be_visible()


def test_mark_survives_offline_and_server_errors_and_saves_by_itself(page, context, live_server, mark_editor):
    _open_marking(page, live_server, mark_editor)
    checks.offline_then_server_errors_then_recovery(page, context, mark_editor)


def test_mark_typed_just_before_the_tab_is_closed_is_saved(page, context, live_server, mark_editor):
    _open_marking(page, live_server, mark_editor)
    checks.closing_the_page_saves(page, context, mark_editor)


def test_mark_closed_offline_is_put_back_and_saved_on_the_next_visit(page, context, live_server, mark_editor):
    _open_marking(page, live_server, mark_editor)
    page.get_by_role("radio", name="Level 2 (3–4 marks)").first.check()  # AO1, saved before going offline
    expect(page.locator(mark_editor.status)).to_have_text(checks.SAVED)
    again = checks.closed_offline_comes_back_next_visit(page, context, mark_editor)
    expect(again.get_by_role("radio", name="Level 2 (3–4 marks)").first).to_be_checked()


@pytest.mark.parametrize("how", ["login redirect", "401", "403"])
def test_mark_says_the_session_ended_only_when_it_did(page, context, live_server, mark_editor, how):
    _open_marking(page, live_server, mark_editor)
    checks.session_ended(page, context, mark_editor, how)


def _mark_every_criterion(page):
    page.get_by_role("radio", name="Level 2 (3–4 marks)").first.check()  # AO1
    page.locator("fieldset.criterion").nth(1).get_by_role("radio", name="Level 1 (1–3 marks)").check()
    page.get_by_label("AO2 mark").fill("2")
    page.locator("fieldset.criterion").nth(2).get_by_role("radio", name="Level 2 (3–4 marks)").check()


def test_a_comment_typed_but_not_added_is_added_by_mark_complete(page, live_server, mark_editor, submitted):
    _open_marking(page, live_server, mark_editor)
    _mark_every_criterion(page)
    page.get_by_label("Comment", exact=True).fill("Typed, never added with its button.")
    page.get_by_role("button", name="Mark complete").click()
    expect(page.get_by_text("Marked, not released")).to_be_visible()
    expect(page.locator(".note-text")).to_have_text(["Typed, never added with its button."])
    expect(page.get_by_label("Comment", exact=True)).to_have_value("")
    assert list(Annotation.objects.values_list("comment", flat=True)) == ["Typed, never added with its button."]
    assert Mark.objects.get().is_complete


def test_a_comment_that_cannot_be_added_stops_mark_complete_and_stays_in_the_box(
    page, live_server, mark_editor, submitted
):
    _open_marking(page, live_server, mark_editor)
    _mark_every_criterion(page)
    box = page.get_by_label("Comment", exact=True)
    box.fill("Typed while the server was failing.")
    page.route(
        "**" + reverse("classroom:annotation_add_json", args=[submitted.pk]),
        lambda route: route.fulfill(status=502, body="Bad gateway"),
    )
    page.get_by_role("button", name="Mark complete").click()
    expect(page.get_by_role("alert").filter(has_text="Your comment was not added")).to_be_visible()
    expect(box).to_have_value("Typed while the server was failing.")
    expect(page.get_by_text("Marked, not released")).to_have_count(0)
    assert not Annotation.objects.exists()


def test_a_mark_outside_its_band_is_shown_beside_it_and_the_rest_is_saved(page, live_server, mark_editor, submitted):
    _open_marking(page, live_server, mark_editor)
    page.locator("fieldset.criterion").nth(1).get_by_role("radio", name="Level 1 (1–3 marks)").check()
    page.get_by_label("AO2 mark").fill("6")
    page.get_by_label("Even better if").fill("Use the provenance of Source B.")
    page.get_by_label("Even better if").blur()
    expect(page.locator(mark_editor.status)).to_have_text(re.compile(r"^Saved \d\d:\d\d — 1 field was not saved"))
    expect(page.get_by_label("AO2 mark")).to_have_value("6")  # the marker's value stays
    expect(page.get_by_label("AO2 mark")).to_have_attribute("aria-invalid", "true")
    assert Mark.objects.get().ebi == "Use the provenance of Source B."
    page.get_by_label("AO2 mark").fill("3")
    page.get_by_label("AO2 mark").blur()
    expect(page.locator(mark_editor.status)).to_have_text(checks.SAVED)
    expect(page.get_by_label("AO2 mark")).not_to_have_attribute("aria-invalid", "true")

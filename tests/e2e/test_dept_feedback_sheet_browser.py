"""The whole-class feedback sheet in a real browser: a full class's sheet prints on one A4 page,
and the projector view fills the screen with the sheet alone."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from classroom.forms import MAX_SHEET_CHARS
from classroom.models import CommentBankEntry, FeedbackSheet
from tests.conftest import PASSWORD
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import log_in
from tests.factories import IndicativePointFactory, StudentFactory
from tests.helpers import give_mark, hand_in

pytestmark = pytest.mark.django_db(transaction=True)

A4_POINTS = (595, 842)  # width, height in PDF points (A4 is 210 × 297 mm)


@pytest.fixture
def full_class(cast, school_class, marking_assignment):
    """30 pupils marked, the question's points as many and as long as the shipped questions'
    (13), long comments and improvement tasks (the sheet shortens them), the teacher's words at
    their limit."""
    teacher = cast["teacher"]
    prompt = marking_assignment.prompt
    for n in range(11):
        IndicativePointFactory(
            prompt=prompt,
            text=f"Point {n}: the Partial Test Ban Treaty of August 1963 banned tests in the atmosphere, "
            "under water and in space, but not underground.",
            key_terms=f"treaty{n}, test ban",
        )
    bank = [
        CommentBankEntry.objects.create(
            code=f"c{n}",
            text=f"Comment {n}: explain how this source's provenance affects its usefulness for the question. " * 6,
        )
        for n in range(8)
    ]
    for i in range(30):
        pupil = StudentFactory(first_name=f"Pupil{i}", last_name="Testcase")
        school_class.enrol(pupil)
        submission = hand_in(marking_assignment, pupil, text="The Hotline and the test ban. " * 20)
        task = f"Task {i % 8}: rewrite paragraph two so that it explains the consequence, not only the event. " * 5
        mark = give_mark(submission, teacher, 1 + i % 4, 1 + i % 6, release=False, improvement_task=task)
        for entry in bank[: 1 + i % 8]:
            mark.add_annotation(teacher, entry.text, bank_entry=entry)
    line = "Misconception {}: the Hotline was a red telephone; it was a teleprinter link from 1963."
    sentence = "The crisis led to the Hotline, a teleprinter link set up in June 1963. "
    FeedbackSheet.objects.create(
        assignment=marking_assignment,
        misconceptions="\n".join(line.format(n) for n in range(30))[:MAX_SHEET_CHARS],
        exemplar_paragraph=(sentence * 30)[:MAX_SHEET_CHARS],
    )
    return marking_assignment


def test_a_full_class_s_sheet_prints_on_one_a4_page(page, live_server, full_class):
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(live_server.url + reverse("classroom:feedback_sheet", args=[full_class.pk]))
    expect(page.get_by_role("heading", name=re.compile("Whole-class feedback"), level=1)).to_be_visible()
    expect(page.get_by_text("From 30 marked essays")).to_be_visible()
    assert_accessible(page, "feedback sheet")
    pdf = page.pdf(prefer_css_page_size=True)
    pages = re.findall(rb"/Type\s*/Page[^s]", pdf)
    assert len(pages) == 1
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert box and (round(float(box.group(1))), round(float(box.group(2)))) == A4_POINTS
    page.emulate_media(media="print")
    expect(page.locator("header")).to_be_hidden()
    expect(page.get_by_role("button", name="Save the sheet")).to_be_hidden()
    assert page.js_errors == []


def test_the_projector_view_shows_the_sheet_alone_in_large_type(page, live_server, full_class):
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(live_server.url + reverse("classroom:feedback_sheet", args=[full_class.pk]) + "?view=projector")
    expect(page.locator("header")).to_be_hidden()
    body = page.locator("article.feedback-sheet")
    size = float(body.evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))
    assert size >= 24
    assert "Pupil" not in page.content() and "Testcase" not in page.content()
    assert_accessible(page, "feedback sheet, projector view")
    assert page.js_errors == []

"""Marking in a real browser: a comment on selected text, levels and marks, complete and
release; then the student reads the feedback and answers it (DIRT)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from classroom.models import Annotation, DirtResponse, Mark
from tests.conftest import PASSWORD
from tests.e2e.a11y import axe_check
from tests.e2e.conftest import log_in
from tests.factories import SubmissionFactory

pytestmark = pytest.mark.django_db(transaction=True)

ESSAY = "The crisis led to the Hotline in June 1963.\n\nIt was a teleprinter link, not a telephone."
QUOTE = "teleprinter link"

# Select `quote` as a reader would, even when highlights split it over several runs of text.
SELECT = """quote => {
  const nodes = Array.from(document.querySelectorAll('#essay .seg')).map(s => s.firstChild);
  const whole = nodes.map(n => n.data).join('');
  let at = whole.indexOf(quote);
  const end = at + quote.length;
  const point = offset => {
    for (const node of nodes) {
      if (offset <= node.data.length) return [node, offset];
      offset -= node.data.length;
    }
  };
  const range = document.createRange();
  range.setStart(...point(at));
  range.setEnd(...point(end));
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}"""


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
    expect(page.get_by_text("Appears to mention: hotline, teleprinter")).to_be_visible()

    # A comment anchored to selected text.
    page.evaluate(SELECT, QUOTE)
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
    expect(page.get_by_text("Complete, not released")).to_be_visible()
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

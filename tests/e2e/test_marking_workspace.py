"""The marking workspace (issue 13) in a real browser: one ~800-word essay marked from start
to release with no page load after the first, the comment tool and the mark panel in view at
1366×768, axe clean, usable at 390 px; and a half-typed comment that survives "Save, then
next" and a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from classroom.models import Annotation, CommentBankEntry, Mark
from tests.conftest import PASSWORD
from tests.e2e.a11y import axe_check
from tests.e2e.conftest import log_in
from tests.factories import StudentFactory, SubmissionFactory
from tests.helpers import mark_fully

pytestmark = pytest.mark.django_db(transaction=True)

PARAGRAPH = (
    "The Cuban Missile Crisis of October 1962 brought the superpowers closer to nuclear war than at any other "
    "time. Both Kennedy and Khrushchev had to find a way back from the brink without losing face. Historians "
    "still argue about how far the crisis changed the relationship between Washington and Moscow. "
)
QUOTES = [
    "the Hotline was agreed on 20 June 1963",
    "a teleprinter link and not a red telephone",
    "the arms race went on for another decade",
]
ESSAY = "\n\n".join(
    [
        PARAGRAPH * 4 + "After the crisis the Hotline was agreed on 20 June 1963, so that leaders could talk.",
        PARAGRAPH * 4 + "It was a teleprinter link and not a red telephone, whatever the films show.",
        PARAGRAPH * 4 + "Yet the arms race went on for another decade, so relations only partly improved.",
        PARAGRAPH * 4 + "In conclusion, the crisis improved communication more than it ended rivalry.",
    ]
)
OWN_BANK_TEXT = "My own words: weigh the provenance before you trust the content."

# Where the text `quote` is on screen, for a real mouse selection.
TEXT_POSITION = """(root, quote) => {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  let whole = "";
  while (walker.nextNode()) { nodes.push([walker.currentNode, whole.length]); whole += walker.currentNode.data; }
  const at = whole.indexOf(quote);
  if (at < 0) return null;
  const rectOf = offset => {
    for (const [node, start] of nodes) {
      if (offset < start + node.data.length) {
        const range = document.createRange();
        range.setStart(node, offset - start);
        range.setEnd(node, offset - start + 1);
        return range.getBoundingClientRect();
      }
    }
  };
  const first = rectOf(at), last = rectOf(at + quote.length - 1);
  return {x1: first.left + 1, y1: first.top + first.height / 2, x2: last.right - 1, y2: last.top + last.height / 2};
}"""

IN_VIEWPORT = """el => {
  const r = el.getBoundingClientRect();
  return r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth && r.height > 0;
}"""


def select_text(page, quote: str) -> None:
    essay = page.locator("#essay")
    essay.get_by_text(re.compile(re.escape(quote[:20]))).first.scroll_into_view_if_needed()
    spot = essay.evaluate(TEXT_POSITION, quote)
    assert spot, f"“{quote}” is not in the essay"
    page.mouse.move(spot["x1"], spot["y1"])
    page.mouse.down()
    page.mouse.move(spot["x2"], spot["y2"], steps=8)
    page.mouse.up()


def count_page_loads(page) -> list[str]:
    """Every navigation of the main frame from now on (a full page load, or a jump in its history)."""
    loads: list[str] = []
    page.on("framenavigated", lambda frame: loads.append(frame.url) if frame == page.main_frame else None)
    return loads


@pytest.fixture
def desk(browser):
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London", viewport={"width": 1366, "height": 768})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.js_errors = errors
    yield page
    context.set_offline(True)
    context.close()


def test_one_essay_marked_and_released_with_no_page_load_after_the_first(
    desk, live_server, marking_assignment, student, teacher
):
    page = desk
    submission = SubmissionFactory(assignment=marking_assignment, student=student, text=ESSAY, submitted=True)
    assert 750 <= len(ESSAY.split()) <= 900
    CommentBankEntry.objects.create(code="prov", text="Use the provenance.", criterion_code="AO3")
    CommentBankEntry.objects.create(owner=teacher, code="prov", text=OWN_BANK_TEXT, criterion_code="AO3")
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(f"{live_server.url}/classroom/submissions/{submission.pk}/mark/")
    expect(page.get_by_role("heading", name="Marking: Sam Student")).to_be_visible()
    loads = count_page_loads(page)
    page.evaluate("window.sameDocument = true")

    # At 1366×768 the comment tool and the mark panel are on screen without scrolling…
    comment_box = page.get_by_label("Comment", exact=True)
    mark_heading = page.get_by_role("heading", name="Mark", exact=True)
    assert comment_box.evaluate(IN_VIEWPORT) and mark_heading.evaluate(IN_VIEWPORT)
    assert page.get_by_role("radio", name="Level 1 (1–2 marks)").first.evaluate(IN_VIEWPORT)
    # …the indicative-content hints are off until asked for…
    assert page.locator("#essay.show-hits").count() == 0
    # …and they stay in view while the essay scrolls.
    page.mouse.move(300, 500)
    page.mouse.wheel(0, 4000)
    page.wait_for_timeout(300)
    assert page.evaluate("window.scrollY") > 500
    assert comment_box.evaluate(IN_VIEWPORT) and mark_heading.evaluate(IN_VIEWPORT)
    assert axe_check(page)["counts"] == {}, axe_check(page)

    # Comment 1: select a passage, then the "Comment" button at the selection.
    select_text(page, QUOTES[0])
    toolbar_button = page.get_by_role("button", name="Comment on the selection")
    expect(toolbar_button).to_be_visible()
    assert toolbar_button.evaluate(IN_VIEWPORT)
    toolbar_button.click()
    expect(page.get_by_text(f"On the passage: “{QUOTES[0]}”")).to_be_visible()
    comment_box.fill("Precise date: well used.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("#note-1 .note-text")).to_have_text("Precise date: well used.")
    expect(page.get_by_role("link", name="Comment 1")).to_be_visible()

    # Comment 2: select, then press C.
    select_text(page, QUOTES[1])
    page.keyboard.press("c")
    expect(comment_box).to_be_focused()
    expect(page.get_by_text(f"On the passage: “{QUOTES[1]}”")).to_be_visible()
    comment_box.fill("A misconception corrected.")
    comment_box.press("Tab")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("#note-2 .note-text")).to_have_text("A misconception corrected.")

    # Comment 3, from the bank: "#" and words, the teacher's own #prov over the starter one.
    select_text(page, QUOTES[2])
    page.keyboard.press("c")
    comment_box.press_sequentially("#weigh prov")
    options = page.get_by_role("listbox", name="Comments from the bank").get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text(OWN_BANK_TEXT)
    comment_box.press("Enter")
    expect(comment_box).to_have_value(OWN_BANK_TEXT)
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("#note-3 .note-text")).to_have_text(OWN_BANK_TEXT)

    # Change comment 2, then put it back: in place too.
    page.get_by_text("Edit or delete comment 2").click()
    page.get_by_role("textbox", name="Comment 2", exact=True).fill("A misconception corrected: well done.")
    page.get_by_role("button", name="Save comment 2").click()
    expect(page.locator("#note-2 .note-text")).to_have_text("A misconception corrected: well done.")

    # A level and a mark for every part, with the keyboard for the first.
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("2")  # AO1 (the first part without a level): Level 2
    ao1 = page.get_by_role("group", name=re.compile("^AO1:"))
    expect(ao1.get_by_role("radio", name="Level 2 (3–4 marks)")).to_be_checked()
    page.get_by_label("AO1 mark").fill("4")
    page.get_by_role("group", name=re.compile("^AO2:")).get_by_role("radio", name="Level 1 (1–3 marks)").check()
    page.get_by_label("AO2 mark").fill("2")
    page.get_by_role("group", name=re.compile("^SPAG:")).get_by_role("radio", name="Level 2 (3–4 marks)").check()
    expect(page.locator("#mark-total")).to_have_text("6")
    page.keyboard.press("Escape")
    page.keyboard.press("w")
    expect(page.get_by_label("What went well")).to_be_focused()
    page.keyboard.type("Clear chronology and precise dates.")
    page.get_by_label("Even better if").fill("Weigh the limits of the Hotline.")
    expect(page.locator("#mark-save-status")).to_have_text(re.compile(r"^Saved \d\d:\d\d$"))

    page.get_by_role("button", name="Mark complete").click()
    expect(page.locator("#mark-state")).to_have_text("Marked, not released")
    page.get_by_role("button", name="Release to the student").click()
    expect(page.locator("#mark-state")).to_have_text(re.compile("^Released"))
    expect(page.get_by_role("button", name="Withdraw release")).to_be_visible()
    expect(page.get_by_role("button", name="Add comment")).to_be_hidden()

    mark = Mark.objects.get(submission=submission)
    assert (mark.total, mark.spag, mark.is_released) == (6, 3, True)
    assert (mark.www, mark.ebi) == ("Clear chronology and precise dates.", "Weigh the limits of the Hotline.")
    annotations = list(Annotation.objects.filter(mark=mark).order_by("number"))
    assert [a.quote for a in annotations] == QUOTES
    assert [ESSAY[a.start : a.end] for a in annotations] == QUOTES
    assert annotations[2].comment == OWN_BANK_TEXT

    # No page load after the first: no navigation, the same document, one navigation entry.
    assert loads == []
    assert page.evaluate("window.sameDocument === true")
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    report = axe_check(page)  # at rest: not "Withdraw release" mid-hover under the pointer
    assert report["counts"] == {}, report
    assert page.js_errors == []

    # At 390 px wide the panels stack and nothing needs sideways scrolling.
    page.set_viewport_size({"width": 390, "height": 844})
    essay_box = page.locator("#essay").bounding_box()
    comments_box = page.locator("#comments-panel").bounding_box()
    mark_box = page.locator("#mark-panel").bounding_box()
    assert essay_box["y"] + essay_box["height"] <= comments_box["y"] <= mark_box["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_check(page)["counts"] == {}, axe_check(page)


def test_a_half_typed_comment_survives_a_reload_and_save_then_next(
    page, live_server, marking_assignment, student, teacher
):
    mine = SubmissionFactory(assignment=marking_assignment, student=student, text=ESSAY, submitted=True)
    school_class = marking_assignment.school_class
    marked, waiting = (
        StudentFactory(first_name="Tom", last_name="Taylor"),
        StudentFactory(first_name="Wes", last_name="Wood"),
    )
    for pupil in (marked, waiting):
        school_class.enrol(pupil)
    done = SubmissionFactory(assignment=marking_assignment, student=marked, text="Marked already.", submitted=True)
    mark_fully(done, teacher)
    SubmissionFactory(assignment=marking_assignment, student=waiting, text="Still to mark.", submitted=True)
    url = f"{live_server.url}/classroom/submissions/{mine.pk}/mark/"
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(url)

    select_text(page, QUOTES[1])
    page.keyboard.press("c")
    box = page.get_by_label("Comment", exact=True)
    box.press_sequentially("Half-typed: the films get this wr")
    page.reload()
    expect(box).to_have_value("Half-typed: the films get this wr")
    expect(page.get_by_text(f"On the passage: “{QUOTES[1]}”")).to_be_visible()
    assert not Annotation.objects.exists()

    # "Save, then next" adds it first (anchored where it was), then opens the next script
    # that needs marking: Wes Wood, not Tom Taylor, whose mark is complete.
    page.get_by_role("button", name=re.compile("^Save, then next")).click()
    expect(page.get_by_role("heading", name="Marking: Wes Wood")).to_be_visible()
    annotation = Annotation.objects.get()
    assert (annotation.comment, annotation.quote) == ("Half-typed: the films get this wr", QUOTES[1])
    assert annotation.mark.submission_id == mine.pk
    page.goto(url)
    expect(page.locator("#note-1 .note-text")).to_have_text("Half-typed: the films get this wr")
    expect(box).to_have_value("")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('comment:'))") == []
    assert page.js_errors == []


def test_a_change_typed_into_a_comment_survives_other_comments_a_reload_and_save_then_next(
    page, live_server, marking_assignment, student, teacher
):
    """Editing comment 1 and, before saving it, adding comment 2 re-draws the notes: the
    change stays in its box, survives a reload (kept on the device) and is saved by "Save,
    then next" before the page moves on."""
    mine = SubmissionFactory(assignment=marking_assignment, student=student, text=ESSAY, submitted=True)
    other = StudentFactory(first_name="Wes", last_name="Wood")
    marking_assignment.school_class.enrol(other)
    SubmissionFactory(assignment=marking_assignment, student=other, text="Still to mark.", submitted=True)
    url = f"{live_server.url}/classroom/submissions/{mine.pk}/mark/"
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(url)
    box = page.get_by_label("Comment", exact=True)
    box.fill("First thought.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("#note-1 .note-text")).to_have_text("First thought.")

    page.get_by_text("Edit or delete comment 1").click()
    edit = page.get_by_label("Comment 1", exact=True)
    edit.fill("First thought, better put.")
    box.fill("Second thought.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("#note-2 .note-text")).to_have_text("Second thought.")
    expect(page.get_by_label("Comment 1", exact=True)).to_have_value("First thought, better put.")

    page.reload()
    expect(page.get_by_label("Comment 1", exact=True)).to_have_value("First thought, better put.")
    assert Annotation.objects.get(number=1).comment == "First thought."

    page.get_by_role("button", name=re.compile("^Save, then next")).click()
    expect(page.get_by_role("heading", name="Marking: Wes Wood")).to_be_visible()
    assert Annotation.objects.get(number=1).comment == "First thought, better put."
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('comment-edit:'))") == []
    assert page.js_errors == []

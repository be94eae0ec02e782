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
from tests.e2e.conftest import log_in, select_text
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

IN_VIEWPORT = """el => {
  const r = el.getBoundingClientRect();
  return r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth && r.height > 0;
}"""


# An indicative-content hint is drawn (app.css shows them only while their panel is open).
HINT_SHOWN = "el => getComputedStyle(el).backgroundColor !== 'rgba(0, 0, 0, 0)'"

# Each note beside the essay and where its passage starts: {number, top, bottom, left, mark}.
NOTE_PLACES = """() => Array.from(document.querySelectorAll('#notes .note')).map(note => {
  const box = note.getBoundingClientRect();
  const mark = document.querySelector(`#essay mark.annotation-mark[data-notes~="${note.dataset.number}"]`);
  return {number: Number(note.dataset.number), top: box.top, bottom: box.bottom, left: box.left,
          position: getComputedStyle(note).position, mark: mark ? mark.getBoundingClientRect().top : null};
})"""


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
    assert not page.locator("#essay .indicative-hit").first.evaluate(HINT_SHOWN)
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


# --- Notes beside their passages, navigation after release, hints without JavaScript, kept
# --- comments after release, the C key -----------------------------------------------------


def comment_on(submission, teacher, text: str, quote: str | None = None) -> Annotation:
    mark = Mark.for_submission(submission, teacher)
    if quote is None:
        return mark.add_annotation(teacher, text)
    start = submission.text.index(quote)
    return mark.add_annotation(teacher, text, start=start, end=start + len(quote), quote=quote)


def placed_beside(page, numbers: list[int]) -> dict[int, dict]:
    """The notes' places once marking.js has placed them: each anchored note starts level with
    its passage (within 3 px) or, where that would overlap the note above it, just below that
    note; no two overlap."""
    problems: list[str] = []
    for _ in range(50):
        places = page.evaluate(NOTE_PLACES)
        problems = []
        if sorted(place["number"] for place in places) != sorted(numbers):
            problems.append(f"notes {[place['number'] for place in places]}, expected {numbers}")
        above = None
        for place in sorted(places, key=lambda place: place["top"]):
            if place["position"] != "absolute":
                problems.append(f"note {place['number']} is not placed ({place['position']})")
            if above and place["top"] < above["bottom"]:
                problems.append(f"note {place['number']} overlaps note {above['number']}")
            if place["mark"] is not None and abs(place["top"] - place["mark"]) > 3:
                pushed = above and place["top"] > place["mark"] and place["top"] - above["bottom"] <= 12
                if not pushed:
                    problems.append(f"note {place['number']} at {place['top']:.0f}, its passage at {place['mark']:.0f}")
            above = place
        if not problems:
            return {place["number"]: place for place in places}
        page.wait_for_timeout(100)
    raise AssertionError("; ".join(problems))


def test_notes_sit_beside_their_passages_without_overlapping_and_stack_when_narrow(
    desk, live_server, marking_assignment, student, teacher
):
    page = desk
    submission = SubmissionFactory(assignment=marking_assignment, student=student, text=ESSAY, submitted=True)
    for number, quote in enumerate(QUOTES, start=1):
        comment_on(submission, teacher, f"Comment {number}: a point worth making about this passage.", quote)
    comment_on(submission, teacher, "Comment 4: on the words just after the first passage.", "so that leaders could")
    log_in(page, live_server, "ms.teacher", PASSWORD)
    response = page.goto(f"{live_server.url}/classroom/submissions/{submission.pk}/mark/")
    # Notes are placed through the CSSOM, which a style-src without 'unsafe-inline' allows.
    policy = response.headers["content-security-policy"]
    assert "style-src 'self'" in policy and "unsafe-inline" not in policy

    places = placed_beside(page, [1, 2, 3, 4])
    for number in (1, 2, 3):  # passages far apart: each note level with its passage
        assert abs(places[number]["top"] - places[number]["mark"]) <= 3, places[number]
    assert places[4]["top"] >= places[1]["bottom"] > places[4]["mark"]  # pushed below note 1
    essay = page.locator("#essay").bounding_box()
    assert all(place["left"] >= essay["x"] + essay["width"] for place in places.values())

    # Scrolled, re-drawn after a delete and an add, a note opened for editing, a narrower window.
    page.mouse.move(300, 500)
    page.mouse.wheel(0, 1500)
    placed_beside(page, [1, 2, 3, 4])
    page.get_by_text("Edit or delete comment 4").click()
    page.get_by_role("button", name="Delete comment 4").click()
    expect(page.locator("#note-4")).to_have_count(0)
    placed_beside(page, [1, 2, 3])
    select_text(page, "whatever the films show")
    page.keyboard.press("c")
    page.get_by_label("Comment", exact=True).fill("Comment 4 again: just after comment 2's passage.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("#notes .note")).to_have_count(4)
    places = placed_beside(page, [1, 2, 3, 4])
    assert places[4]["top"] >= places[2]["bottom"]
    page.locator("#note-2 summary").click()  # the edit box makes note 2 taller: the note after it moves down
    expect(page.get_by_role("textbox", name="Comment 2", exact=True)).to_be_visible()
    taller = placed_beside(page, [1, 2, 3, 4])
    assert taller[2]["bottom"] - taller[2]["top"] > places[2]["bottom"] - places[2]["top"]
    assert taller[4]["top"] >= taller[2]["bottom"]
    page.set_viewport_size({"width": 1100, "height": 768})
    placed_beside(page, [1, 2, 3, 4])
    page.set_viewport_size({"width": 1366, "height": 768})
    placed_beside(page, [1, 2, 3, 4])
    assert axe_check(page)["counts"] == {}, axe_check(page)

    # The box for a new comment stays at the foot of the column, over the notes: a note that
    # gets focus there is scrolled clear of it.
    summary = page.locator("#note-3 summary")
    below_cover = "([el, cover]) => el.getBoundingClientRect().bottom <= cover.getBoundingClientRect().top"
    cover_top = page.locator("#comment-compose").bounding_box()["y"]
    page.evaluate("dy => window.scrollBy(0, dy)", page.locator("#note-3").bounding_box()["y"] - cover_top - 10)
    assert not page.evaluate(below_cover, [summary.element_handle(), page.locator("#comment-compose").element_handle()])
    summary.focus()
    assert page.evaluate(below_cover, [summary.element_handle(), page.locator("#comment-compose").element_handle()])

    # At 390 px the notes are an ordinary list again, one after another.
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#note-1")).to_have_css("position", "static")
    narrow = sorted(page.evaluate(NOTE_PLACES), key=lambda place: place["number"])
    assert all(place["position"] == "static" for place in narrow)
    assert all(a["bottom"] <= b["top"] for a, b in zip(narrow, narrow[1:], strict=False))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_check(page)["counts"] == {}, axe_check(page)
    assert page.js_errors == []


def test_after_release_the_previous_and_next_scripts_are_still_links(
    page, live_server, marking_assignment, student, teacher
):
    school_class = marking_assignment.school_class
    before = StudentFactory(first_name="Amy", last_name="Able")
    after = StudentFactory(first_name="Wes", last_name="Wood")
    for pupil in (before, after):
        school_class.enrol(pupil)
    earlier = SubmissionFactory(assignment=marking_assignment, student=before, text="First.", submitted=True)
    later = SubmissionFactory(assignment=marking_assignment, student=after, text="Last.", submitted=True)
    mine = SubmissionFactory(assignment=marking_assignment, student=student, text=ESSAY, submitted=True)
    mark_fully(mine, teacher)
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(f"{live_server.url}/classroom/submissions/{mine.pk}/mark/")
    expect(page.get_by_role("button", name="Save, then next (Wes Wood) →")).to_be_visible()

    page.get_by_role("button", name="Release to the student").click()
    expect(page.locator("#mark-state")).to_have_text(re.compile("^Released"))
    expect(page.get_by_role("button", name=re.compile("^(← )?Save, then"))).to_have_count(0)
    previous = page.get_by_role("link", name="← Previous (Amy Able)")
    following = page.get_by_role("link", name="Next (Wes Wood) →")
    expect(previous).to_have_attribute("href", f"/classroom/submissions/{earlier.pk}/mark/")
    expect(following).to_have_attribute("href", f"/classroom/submissions/{later.pk}/mark/")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("n")  # the shortcut follows the link
    expect(page.get_by_role("heading", name="Marking: Wes Wood")).to_be_visible()
    assert page.js_errors == []


def test_without_javascript_hints_show_only_when_asked_and_notes_are_a_plain_list(
    browser, live_server, marking_assignment, student, teacher
):
    submission = SubmissionFactory(assignment=marking_assignment, student=student, text=ESSAY, submitted=True)
    for quote in QUOTES[:2]:
        comment_on(submission, teacher, f"On “{quote}”.", quote)
    context = browser.new_context(java_script_enabled=False, locale="en-GB", viewport={"width": 1366, "height": 768})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        log_in(page, live_server, "ms.teacher", PASSWORD)
        page.goto(f"{live_server.url}/classroom/submissions/{submission.pk}/mark/")
        hints = page.locator("#essay .indicative-hit")
        phrase = hints.filter(has_text=re.compile("^arms race$"))  # a whole phrase, not "arms" alone
        expect(phrase).to_have_count(1)
        assert not phrase.evaluate(HINT_SHOWN)
        page.get_by_text("Show indicative content and hints").click()
        expect(page.get_by_text("Appears to mention: hotline, teleprinter")).to_be_visible()
        assert phrase.evaluate(HINT_SHOWN)
        assert all(hints.nth(n).evaluate(HINT_SHOWN) for n in range(hints.count()))
        page.get_by_text("Show indicative content and hints").click()
        assert not phrase.evaluate(HINT_SHOWN)

        places = sorted(page.evaluate(NOTE_PLACES), key=lambda place: place["number"])
        assert [place["number"] for place in places] == [1, 2]
        assert all(place["position"] == "static" for place in places)
        assert places[0]["bottom"] <= places[1]["top"]
    finally:
        context.close()


def test_a_comment_kept_on_the_device_after_release_can_be_copied_or_discarded(
    desk, live_server, marking_assignment, student, teacher
):
    page = desk
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    submission = SubmissionFactory(assignment=marking_assignment, student=student, text=ESSAY, submitted=True)
    comment_on(submission, teacher, "Saved comment.", QUOTES[0])
    mark_fully(submission, teacher)
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(f"{live_server.url}/classroom/submissions/{submission.pk}/mark/")
    page.get_by_label("Comment", exact=True).fill("Typed but never added.")
    page.get_by_text("Edit or delete comment 1").click()
    page.get_by_role("textbox", name="Comment 1", exact=True).fill("Changed but never saved.")

    # Released: the boxes go, what was typed in them is shown read-only, to copy or discard.
    page.get_by_role("button", name="Release to the student").click()
    expect(page.locator("#mark-state")).to_have_text(re.compile("^Released"))
    typed = page.get_by_role("textbox", name="A comment you typed but did not add")
    changed = page.get_by_role("textbox", name="Your change to comment 1, not saved")
    expect(typed).to_have_value("Typed but never added.")
    expect(typed).not_to_be_editable()
    expect(changed).to_have_value("Changed but never saved.")
    assert axe_check(page)["counts"] == {}, axe_check(page)
    page.get_by_role("button", name="Copy the comment you typed").click()
    expect(page.locator("#kept-drafts [role=status]")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == "Typed but never added."
    page.get_by_role("button", name="Discard the comment you typed").click()
    expect(typed).to_have_count(0)
    keys = "Object.keys(localStorage).filter(k => k.startsWith(%r)).length"
    assert page.evaluate(keys % "comment:") == 0

    # The change to comment 1 is still kept, after a reload too, until it is discarded.
    page.reload()
    expect(changed).to_have_value("Changed but never saved.")
    expect(typed).to_have_count(0)
    page.get_by_role("button", name="Discard your change to comment 1").click()
    expect(changed).to_have_count(0)
    assert page.evaluate(keys % "comment-edit:") == 0
    page.reload()
    expect(page.locator("#note-1 .note-text")).to_have_text("Saved comment.")
    expect(page.locator("#kept-drafts")).to_have_count(0)
    assert page.js_errors == []


def test_a_comment_kept_on_a_script_returned_for_redraft_is_kept_not_offered_to_discard(
    desk, live_server, marking_assignment, student, teacher
):
    page = desk
    submission = SubmissionFactory(assignment=marking_assignment, student=student, text=ESSAY, submitted=True)
    log_in(page, live_server, "ms.teacher", PASSWORD)
    url = f"{live_server.url}/classroom/submissions/{submission.pk}/mark/"
    page.goto(url)
    page.get_by_label("Comment", exact=True).fill("Typed before it went back.")
    key = f"comment:{teacher.pk}:{submission.pk}"
    assert page.evaluate("k => localStorage.getItem(k) !== null", key)

    # Returned for redraft: no Save button, yet nothing is released, so the typed comment is
    # not "no longer" anything: it stays on this device for when the essay comes back.
    submission.return_for_redraft(teacher)
    page.reload()
    expect(page.get_by_text("Not ready to mark")).to_be_visible()
    expect(page.locator("#kept-drafts")).to_have_count(0)
    expect(page.get_by_text("can no longer be added")).to_have_count(0)
    expect(page.locator("#essay-help")).to_have_text("Comments can be added once the essay has been submitted.")
    assert page.evaluate("k => JSON.parse(localStorage.getItem(k)).fields.comment", key) == "Typed before it went back."
    assert page.js_errors == []


def test_after_release_in_place_the_mark_form_is_neither_saved_nor_kept(
    desk, live_server, marking_assignment, student, teacher
):
    page = desk
    after = StudentFactory(first_name="Wes", last_name="Wood")
    marking_assignment.school_class.enrol(after)
    later = SubmissionFactory(assignment=marking_assignment, student=after, text="Last.", submitted=True)
    mine = SubmissionFactory(assignment=marking_assignment, student=student, text=ESSAY, submitted=True)
    mark_fully(mine, teacher)
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(f"{live_server.url}/classroom/submissions/{mine.pk}/mark/")
    page.get_by_role("button", name="Release to the student").click()
    expect(page.locator("#mark-state")).to_have_text(re.compile("^Released"))
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    marking_keys = "Object.keys(localStorage).filter(k => k.startsWith('marking:'))"
    status = page.locator("#mark-save-status")

    # Leaving the locked form, the tab hidden and shown again: nothing is sent or kept.
    following = page.get_by_role("link", name="Next (Wes Wood) →")
    following.focus()
    page.locator("body").click(position={"x": 5, "y": 5})
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_timeout(500)
    assert posts == []
    assert page.evaluate(marking_keys) == []
    expect(status).not_to_contain_text("kept")

    # Nor on the way to the next script.
    following.click()
    expect(page.get_by_role("heading", name="Marking: Wes Wood")).to_be_visible()
    assert page.url.endswith(f"/classroom/submissions/{later.pk}/mark/")
    assert page.evaluate(marking_keys) == []
    assert Mark.objects.get(submission=mine).is_released
    assert page.js_errors == []


def test_c_comments_on_the_current_selection_only(desk, live_server, marking_assignment, student):
    page = desk
    submission = SubmissionFactory(assignment=marking_assignment, student=student, text=ESSAY, submitted=True)
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(f"{live_server.url}/classroom/submissions/{submission.pk}/mark/")
    anchor = page.locator("#comment-anchor")
    box = page.get_by_label("Comment", exact=True)
    general = "General comment (not tied to a passage)."
    nothing = "Select words in the essay first, then press C."

    # The selection was cleared by a click: C has nothing to comment on, and says so.
    select_text(page, QUOTES[0])
    expect(page.get_by_role("button", name="Comment on the selection")).to_be_visible()
    page.locator("#essay").click(position={"x": 8, "y": 8})
    page.keyboard.press("c")
    expect(page.locator("#comment-status")).to_have_text(nothing)
    expect(anchor).to_have_text(general)
    expect(box).not_to_be_focused()

    # The selection moved out of the essay (to the page's heading): not a passage either.
    select_text(page, QUOTES[1])
    select_text(page, "Sam Student", region=page.get_by_role("heading", name="Marking: Sam Student"))
    page.keyboard.press("c")
    expect(anchor).to_have_text(general)
    expect(box).not_to_be_focused()

    # The selection now in the essay is the one commented on.
    select_text(page, QUOTES[0])
    select_text(page, QUOTES[2])
    page.keyboard.press("c")
    expect(anchor).to_have_text(f"On the passage: “{QUOTES[2]}”")
    expect(box).to_be_focused()
    assert page.js_errors == []


def test_bank_suggestions_opened_just_after_coming_back_to_the_box_stay_open(
    desk, live_server, marking_assignment, student, teacher
):
    """Leaving the comment box closes its suggestions a moment later; coming back and typing
    "#…" within that moment must not have the new list closed under the marker's Enter."""
    page = desk
    submission = SubmissionFactory(assignment=marking_assignment, student=student, text=ESSAY, submitted=True)
    CommentBankEntry.objects.create(owner=teacher, code="prov", text=OWN_BANK_TEXT, criterion_code="AO3")
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(f"{live_server.url}/classroom/submissions/{submission.pk}/mark/")
    comment_box = page.get_by_label("Comment", exact=True)
    comment_box.focus()
    # Out and straight back, then the list opens within the 150 ms the blur waits.
    page.evaluate(
        """() => {
            const box = document.getElementById("comment-text");
            box.blur();
            box.focus();
            box.value = "#prov";
            box.setSelectionRange(5, 5);
            box.dispatchEvent(new Event("input", { bubbles: true }));
        }"""
    )
    options = page.get_by_role("listbox", name="Comments from the bank").get_by_role("option")
    expect(options).to_have_count(1)
    page.wait_for_timeout(300)  # past the blur's 150 ms
    expect(options).to_have_count(1)
    comment_box.press("Enter")
    expect(comment_box).to_have_value(OWN_BANK_TEXT)

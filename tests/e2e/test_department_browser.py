"""The department (issue 14) in a real browser, the judged journey from end to end: standardise
→ mark → sample → blind second mark → agree → release → whole-class sheet.

The head agrees the mark of a script copied from another class's essay on the question; the
class teacher is sent to mark it blind before their marking queue opens, sees how close they
came, then marks three essays on the marking page; a sample is drawn and second-marked blind by
a teacher from outside the class; the head agrees the mark, which becomes the pupil's; the
marks are released and the whole-class feedback sheet counts the agreed levels."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from classroom.models import Mark, MarkChange, ReviewMark
from tests.conftest import PASSWORD
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import log_in
from tests.factories import AssignmentFactory, StudentFactory, SubmissionFactory
from tests.helpers import mark_fully

pytestmark = pytest.mark.django_db(transaction=True)

# Levels and marks per criterion of the test scheme (tests.factories.marking_scheme: AO1 /4,
# AO2 /6, SPaG /4 apart): {code: (level number, marks)}.
AGREED_STANDARD = {"AO1": (2, 4), "AO2": (1, 3), "SPAG": (2, 3)}  # 7
TRIAL = {"AO1": (2, 3), "AO2": (2, 5), "SPAG": (2, 3)}  # 8: +1, AO2 one level up: within ±2 / ±1
FIRST = {
    "Sam Student": {"AO1": (2, 4), "AO2": (2, 6), "SPAG": (2, 4)},  # 10: the top of the class
    "Amy Able": {"AO1": (1, 2), "AO2": (1, 3), "SPAG": (1, 2)},  # 5
    "Ben Brown": {"AO1": (2, 3), "AO2": (1, 2), "SPAG": (2, 3)},  # 5
}
SECOND = {"AO1": (2, 3), "AO2": (1, 3), "SPAG": (2, 3)}  # 6: four below the first, beyond ±2
AGREED = {"AO1": (2, 4), "AO2": (1, 3), "SPAG": (2, 4)}  # 7: AO2 down a level

RATIONALE = "RATIONALE: secure knowledge of the Hotline; the judgement on diplomacy is not sustained."
FIRST_WWW = "FIRST-WWW: precise dates throughout."
FIRST_COMMENT = "FIRST-COMMENT: the teleprinter detail is well used."
SECOND_NOTE = "Second marker: the judgement is asserted, not argued."
REASON = "Agreed: AO2 stays at level 1, the judgement is not sustained."
SAM_ESSAY = (
    "After the crisis the Hotline was agreed on 20 June 1963 so that the leaders could talk at once.\n\n"
    "It was a teleprinter link and not a red telephone, whatever the films show.\n\n"
    "Yet the arms race went on, and both sides built more ICBMs in the years that followed."
)
SCRIPT_TEXT = "The crisis frightened both leaders. The Hotline followed in 1963, a teleprinter link."
PUPIL_NAMES = ["Sam", "Student", "Amy", "Able", "Ben", "Brown"]


def sign_in_as(page, live_server, username: str) -> None:
    """Log out whoever was in, then log `username` in."""
    page.context.clear_cookies()
    log_in(page, live_server, username, PASSWORD)


def give_scores(page, scores: dict[str, tuple[int, int]]) -> None:
    """Choose a level and type the marks for each criterion (templates/classroom/marking/_criteria.html)."""
    for code, (number, marks) in scores.items():
        group = page.get_by_role("group", name=re.compile(f"^{code}:"))
        group.get_by_role("radio", name=re.compile(rf"^Level {number} \(")).check()
        group.get_by_label(f"{code} mark", exact=True).fill(str(marks))


def no_violations(page, label: str) -> None:
    """axe finds nothing on the page, whatever its impact."""
    report = assert_accessible(page, label)
    assert report["counts"] == {}, f"{label}: {report['found']}"


def names_in(html: str, names: list[str]) -> list[str]:
    return [name for name in names if re.search(rf"\b{re.escape(name)}\b", html)]


@pytest.fixture
def department(cast, school_class, other_class, marking_assignment, student):
    """The class's essays on the question, handed in and unmarked, and an earlier essay on it from
    another class (marked there), for the head to standardise on."""
    amy = StudentFactory(username="amy.able", first_name="Amy", last_name="Able")
    ben = StudentFactory(username="ben.brown", first_name="Ben", last_name="Brown")
    for pupil in (amy, ben):
        school_class.enrol(pupil)
    essays = {
        "Sam Student": SubmissionFactory(
            assignment=marking_assignment, student=student, text=SAM_ESSAY, submitted=True
        ),
        "Amy Able": SubmissionFactory(
            assignment=marking_assignment,
            student=amy,
            text="The Hotline was set up in 1963. The arms race went on.",
            submitted=True,
        ),
        "Ben Brown": SubmissionFactory(
            assignment=marking_assignment,
            student=ben,
            text="Relations improved because of the Hotline, a teleprinter link.",
            submitted=True,
        ),
    }
    mock = AssignmentFactory(school_class=other_class, prompt=marking_assignment.prompt, title="Mock essay")
    source = SubmissionFactory(assignment=mock, student=cast["outsider"], text=SCRIPT_TEXT, submitted=True)
    mark_fully(source, cast["other_teacher"])
    return {"assignment": marking_assignment, "essays": essays}


def test_standardise_mark_sample_second_mark_agree_release_and_the_class_sheet(page, live_server, department):
    assignment = department["assignment"]
    sam_essay = department["essays"]["Sam Student"]
    url = live_server.url
    queue_url = url + reverse("classroom:marking_queue", args=[assignment.pk])

    # 1. The head sets up a standardisation on the question, picks the other class's essay as
    # Script A and sets its agreed mark and rationale.
    sign_in_as(page, live_server, "head.of.dept")
    page.goto(url + reverse("classroom:standardisation_list"))
    page.get_by_role("link", name="New standardisation").click()
    page.get_by_label("Essay question").select_option(str(assignment.prompt_id))
    page.get_by_label("Title").fill("Autumn standardisation")
    page.get_by_role("button", name="Set it up").click()
    expect(page.get_by_role("heading", name="Add a script", level=1)).to_be_visible()
    page.get_by_label("Assignment").select_option(label="11E History: Mock essay")
    page.get_by_role("button", name="Show its essays").click()
    page.get_by_role("button", name="Add as a script").click()
    expect(page.get_by_role("heading", name="Script A", level=1)).to_be_visible()
    give_scores(page, AGREED_STANDARD)
    page.get_by_label(re.compile("Rationale: why")).fill(RATIONALE)
    page.get_by_role("button", name="Save the agreed mark").click()
    expect(page.get_by_text("The agreed mark of Script A is saved.")).to_be_visible()
    expect(page.get_by_text("Agreed mark: 7 out of 10.")).to_be_visible()

    # 2. The class teacher opening the marking queue is sent to standardise first…
    sign_in_as(page, live_server, "ms.teacher")
    page.goto(queue_url)
    expect(page.get_by_role("alert")).to_contain_text("Before you mark work on this question")
    expect(page.get_by_role("heading", name="Autumn standardisation", level=1)).to_be_visible()
    page.get_by_role("link", name="Mark it").click()
    # …marks the script blind: no agreed mark, rationale, pupil or class on the page…
    expect(page.get_by_role("heading", name="Script A", level=1)).to_be_visible()
    expect(page.get_by_text(SCRIPT_TEXT)).to_be_visible()
    html = page.content()
    assert RATIONALE not in html and "7 out of 10" not in html
    assert names_in(html, ["Olly", "Outsider", "11E", "Mock essay", "Otto"]) == []
    no_violations(page, "standardisation trial")
    give_scores(page, TRIAL)
    page.get_by_role("button", name="Save my mark").click()
    # …then sees the agreed mark, the rationale and their difference.
    expect(page.get_by_role("heading", name="How close you came")).to_be_visible()
    comparison = page.get_by_role("table", name="Your mark beside the agreed mark")
    expect(comparison.get_by_role("row", name=re.compile("^AO2"))).to_contain_text("Level 2, 5 marks")
    expect(comparison.get_by_role("row", name=re.compile("^AO2"))).to_contain_text("Level 1, 3 marks")
    expect(comparison.get_by_role("row", name=re.compile("^Total"))).to_contain_text("+1 on the total")
    expect(page.get_by_text("Within tolerance", exact=True)).to_be_visible()
    expect(page.get_by_text(RATIONALE)).to_be_visible()
    page.get_by_role("link", name="See all your scripts").click()
    expect(page.get_by_text(re.compile("You have marked every script"))).to_be_visible()

    # Now the queue opens, and the teacher marks the class's three essays on the marking page.
    for name, scores in FIRST.items():
        page.goto(queue_url)
        expect(page.get_by_role("heading", name="Marking: How far essay", level=1)).to_be_visible()
        page.get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("heading", name=f"Marking: {name}")).to_be_visible()
        if name == "Sam Student":
            page.get_by_label("Comment", exact=True).fill(FIRST_COMMENT)
            page.get_by_role("button", name="Add comment").click()
            expect(page.locator("#note-1 .note-text")).to_have_text(FIRST_COMMENT)
            page.get_by_label("What went well").fill(FIRST_WWW)
        give_scores(page, scores)
        page.get_by_label(re.compile("Improvement task")).fill("Weigh the limits of the Hotline.")
        page.get_by_role("button", name="Mark complete").click()
        expect(page.locator("#mark-state")).to_have_text("Marked, not released")
    marks = Mark.objects.filter(submission__assignment=assignment, completed_at__isnull=False)
    assert sorted(marks.values_list("total", flat=True)) == [5, 5, 10]

    # 3. The teacher draws a sample (the top script) and names a teacher from outside the class.
    page.goto(queue_url)
    page.get_by_role("link", name="Second marking and moderation").click()
    page.get_by_label("Scripts per marker").fill("1")
    page.get_by_label("Extra scripts at random, per marker").fill("0")
    page.get_by_label(re.compile("Second marker for Tess Teacher")).select_option(label="Otto Other")
    page.get_by_role("button", name="Draw the sample").click()
    expect(page.get_by_text("Sample drawn: 1 script.", exact=False)).to_be_visible()
    expect(page.get_by_role("heading", name="Moderation: How far essay", level=1)).to_be_visible()

    # The second marker opens the script: the essay, but nothing of the first mark, its
    # comments, the first marker or the pupil — not in the HTML either.
    sign_in_as(page, live_server, "mr.other")
    page.goto(url + reverse("classroom:moderation_home"))
    page.get_by_role("link", name="Script 1", exact=True).click()
    expect(page.get_by_role("heading", name="Second marking: Script 1", level=1)).to_be_visible()
    expect(page.get_by_text("It was a teleprinter link and not a red telephone")).to_be_visible()
    html = page.content()
    for secret in (FIRST_WWW, FIRST_COMMENT, "Weigh the limits", "10 out of 10", "10 / 10", "sam.student"):
        assert secret not in html, secret
    assert names_in(html, [*PUPIL_NAMES, "Tess", "Tess Teacher", "ms.teacher", "10H"]) == []
    no_violations(page, "blind second mark")
    give_scores(page, SECOND)
    page.get_by_label("Note for the moderator (optional)").fill(SECOND_NOTE)
    page.get_by_role("button", name="Save the second mark").click()
    expect(page.get_by_text("Second mark saved for Script 1: 6 out of 10.")).to_be_visible()

    # 4. The head (moderator) sees the first and second marks side by side and agrees the mark.
    sign_in_as(page, live_server, "head.of.dept")
    page.goto(url + reverse("classroom:moderation_home"))
    page.get_by_role("link", name="How far essay").click()
    row = page.get_by_role("row", name=re.compile("^Script 1"))
    for cell in ("Tess Teacher", "10 / 10", "Otto Other", "6 / 10", "-4", "Beyond tolerance"):
        expect(row).to_contain_text(cell)
    no_violations(page, "moderation sample")
    page.get_by_role("link", name="Agree the mark of Script 1").click()
    marks_table = page.get_by_role("table", name="The first, second and agreed mark of each skill")
    expect(marks_table.get_by_role("row", name=re.compile("^AO2")).get_by_role("cell")).to_have_text(
        ["Level 2, 6", "Level 1, 3"]
    )
    expect(page.get_by_text(SECOND_NOTE)).to_be_visible()
    no_violations(page, "moderation: agreeing a mark")
    give_scores(page, AGREED)
    page.get_by_label(re.compile("Reason for the agreed mark")).fill(REASON)
    page.get_by_role("button", name="Save the agreed mark").click()
    expect(
        page.get_by_text("Script 1: agreed mark 7 out of 10 saved; the pupil's mark changed on AO2.")
    ).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("^Script 1"))).to_contain_text("7 / 10")
    mark = Mark.objects.get(submission=sam_essay)
    assert (mark.total, mark.is_released) == (7, False)
    change = MarkChange.objects.get(mark=mark)
    assert (change.marks_before, change.marks_after, change.reason) == (6, 3, REASON)
    assert ReviewMark.objects.get(kind=ReviewMark.Kind.SECOND).total == 6

    # 5. The class teacher releases the marks; the pupil's feedback shows the agreed mark.
    sign_in_as(page, live_server, "ms.teacher")
    page.goto(queue_url)
    page.get_by_role("button", name="Release all complete marks (3)").click()
    expect(page.get_by_text("Released 3 marks to students.")).to_be_visible()
    sign_in_as(page, live_server, "sam.student")
    page.goto(url + reverse("classroom:feedback", args=[assignment.pk]))
    expect(page.get_by_text("Your mark: 7 out of 10")).to_be_visible()
    assert SECOND_NOTE not in page.content() and "6 out of 10" not in page.content()

    # 6. The whole-class sheet counts the agreed levels; its projector view names no pupil.
    sign_in_as(page, live_server, "ms.teacher")
    page.goto(queue_url)
    page.get_by_role("link", name="Whole-class feedback sheet").click()
    expect(page.get_by_role("heading", name="Whole-class feedback: How far essay", level=1)).to_be_visible()
    expect(page.get_by_text("From 3 marked essays")).to_be_visible()
    spread = page.locator(".sheet-levels > div")
    expect(spread.filter(has_text="AO1").locator("dd")).to_have_text("Level 1: 1 · Level 2: 2")
    expect(spread.filter(has_text="AO2").locator("dd")).to_have_text("Level 1: 3 · Level 2: 0")
    expect(spread.filter(has_text="SPAG").locator("dd")).to_have_text("Level 1: 1 · Level 2: 2")
    no_violations(page, "whole-class feedback sheet")
    page.get_by_role("link", name="Projector view").click()
    expect(page).to_have_url(re.compile(r"\?view=projector$"))
    expect(page.get_by_text("From 3 marked essays")).to_be_visible()
    assert names_in(page.content(), PUPIL_NAMES) == []
    assert page.js_errors == []

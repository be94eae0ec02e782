"""The whole mission in a real browser, against the app served the production way.

One test walks the story a department lives through: a teacher makes a class and a new
student joins it; the teacher sets the "How far…" essay; the student reads, writes beside
the sources, loses the connection mid-essay and gets every word back, submits; the teacher
marks it and releases the feedback; the student answers the improvement task; the mark is
in the markbook and in the downloaded CSV. axe-core checks every page on the way, for both
roles, and the test prints the counts.

The server is gunicorn with DEBUG off on a fresh database (tests/e2e/server.py); this test
does not use pytest-django's test database. Elements are found by role, label and text,
as assistive technology finds them.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections import Counter
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.a11y import axe_check
from tests.e2e.conftest import select_text
from tests.e2e.server import ProductionServer, production_site  # noqa: F401 - the fixture

TEACHER = ("ms.khan", "cuba-1962")  # the demo teacher seed_demo creates
QUESTION = (
    "'The Cuban Missile Crisis improved relations between the USA and the Soviet Union in the years "
    "1962–1972.' How far do you agree with this statement? Explain your answer."
)
CLASS_NAME = "11C History"
NEW_STUDENT = ("Priya", "Shah")
NEW_PASSWORD = "thaw-hotline-1963"
LESSON = "From crisis to agreement: diplomatic consequences, 1962–1972"
SOURCE = "Source G: Memorandum of Understanding on a Direct Communications Link"

ONLINE_PART = (
    "The Cuban Missile Crisis improved US–Soviet diplomacy to a large extent, because both leaders "
    "learned how close they had come to nuclear war. The letters between Kennedy and Khrushchev in "
    "October 1962 show that private messages could settle what public threats could not.\n\n"
    "The clearest change was the Hotline. On 20 June 1963 the two governments agreed a direct "
    "communications link, a teleprinter line between Washington and Moscow, so that a future crisis "
    "would not depend on slow letters and radio broadcasts. It was first used in earnest during the "
    "Six-Day War in 1967.\n\n"
    "The Partial Test Ban Treaty of 5 August 1963 followed, the first treaty to limit nuclear "
    "testing, and the Non-Proliferation Treaty was signed in 1968."
)
# Typed while the connection is down, after the online part.
OFFLINE_PART = (
    "\n\nHowever, the rivalry went on: the arms race continued, and the two sides backed opposite "
    "sides in Vietnam. Overall, diplomacy improved in how crises were managed, not in trust."
)
ESSAY = ONLINE_PART + OFFLINE_PART
QUOTE = "a teleprinter line between Washington and Moscow"
ANCHORED_COMMENT = "Precise and correct: it was a teleprinter link, not a red telephone."
WWW = "A clear judgement in the first paragraph, and precise dates for the Hotline and the test ban."
EBI = "Use the provenance of the sources, not only their content."
TASK = "Rewrite your third paragraph using Source B's provenance."
DIRT = "Source B was a private letter, so Khrushchev could offer a deal he could not make in public."
# The level that best fits the whole answer, and a mark inside its band (AQA's 16: Level 3 is
# 9–12); SPaG "intermediate" (Level 2, 2–3 marks).
MARKS = [("AO1+AO2", 3, 11)]
SPAG = (2, 3)


class AccessibilityLog:
    """axe results for every page visited, per role; blocking problems gathered, not thrown
    one at a time, so one run shows them all."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, dict]] = []
        self.blocking: list[str] = []

    def check(self, page: Page, role: str, label: str) -> None:
        report = axe_check(page)
        self.rows.append((role, label, report["counts"]))
        self.blocking += [f"{role}, {label}: {problem}" for problem in report["blocking"]]

    def table(self) -> str:
        impacts = ["critical", "serious", "moderate", "minor"]
        width = max(len(f"{role}: {label}") for role, label, _ in self.rows)
        lines = [f"{'page':<{width}}  " + "  ".join(f"{impact:>8}" for impact in impacts)]
        totals: Counter[str] = Counter()
        for role, label, counts in self.rows:
            totals.update(counts)
            cells = "  ".join(f"{counts.get(impact, 0):>8}" for impact in impacts)
            lines.append(f"{role + ': ' + label:<{width}}  {cells}")
        lines.append(
            f"{'all ' + str(len(self.rows)) + ' pages':<{width}}  "
            + "  ".join(f"{totals.get(impact, 0):>8}" for impact in impacts)
        )
        return "\n".join(lines)


def _new_context(browser) -> BrowserContext:
    context = browser.new_context(
        locale="en-GB", timezone_id="Europe/London", viewport={"width": 1400, "height": 900}, accept_downloads=True
    )
    context.set_default_timeout(15_000)
    errors: list[str] = []
    context.on("weberror", lambda error: errors.append(str(error.error)))
    context.js_errors = errors
    return context


def _log_in(page: Page, site: ProductionServer, username: str, password: str) -> None:
    page.goto(f"{site.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def _save_status(page: Page):
    return page.get_by_role("status").filter(has_text=re.compile(r"^(Saved|Saving|Offline|Not saved|Already)"))


def test_a_class_from_first_login_to_the_markbook_export(browser, production_site: ProductionServer):  # noqa: F811
    site = production_site
    started = time.monotonic()
    axe = AccessibilityLog()
    teachers, students = _new_context(browser), _new_context(browser)
    try:
        _walk_the_journey(site, teachers, students, axe)
    finally:
        if axe.rows:
            print(f"\naxe-core, WCAG 2.0/2.1/2.2 A and AA, per page (database: {site.database})")
            print(axe.table())
        print(f"journey took {time.monotonic() - started:.1f}s")
        teachers.close()
        students.close()
    assert axe.blocking == [], "\n".join(axe.blocking)
    assert teachers.js_errors == [] and students.js_errors == []


def _walk_the_journey(site: ProductionServer, teachers: BrowserContext, students: BrowserContext, axe) -> None:
    given, family = NEW_STUDENT
    teacher, student = teachers.new_page(), students.new_page()

    # --- The teacher logs in and makes a class; its join code is on the class page. -------
    teacher.goto(f"{site.url}/accounts/login/")
    axe.check(teacher, "anonymous", "log in")
    # axe really runs under the production CSP: a field stripped of its label is caught.
    teacher.get_by_label("Username").evaluate("field => field.labels[0].remove()")
    assert any(problem.startswith("critical: label") for problem in axe_check(teacher)["blocking"])
    _log_in(teacher, site, *TEACHER)
    expect(teacher.get_by_role("heading", name="To do", level=1)).to_be_visible()
    axe.check(teacher, "teacher", "home")
    teacher.get_by_role("link", name="New class").click()
    axe.check(teacher, "teacher", "new class")
    teacher.get_by_label("Class name").fill(CLASS_NAME)
    teacher.get_by_label("Year group").fill("11")
    teacher.get_by_role("button", name="Create class").click()
    expect(teacher.get_by_role("heading", name=CLASS_NAME, level=1)).to_be_visible()
    axe.check(teacher, "teacher", "class page with join code")
    code = teacher.get_by_role("region", name="Join code").get_by_text(re.compile(r"^[A-Z0-9]{8}$")).inner_text()

    # --- A new student account, made by the teacher, with a one-time code. --------------
    # The account is made in the teacher's existing class (as a school's roster would);
    # the student then joins the new class with its code.
    teacher.get_by_role("link", name="My classes").first.click()
    teacher.get_by_role("link", name="10H History", exact=True).click()
    axe.check(teacher, "teacher", "class page with 25 students")
    teacher.get_by_role("link", name="Add a student").click()
    axe.check(teacher, "teacher", "add a student")
    teacher.get_by_label("Given name").fill(given)
    teacher.get_by_label("Family name").fill(family)
    teacher.get_by_role("button", name="Create account").click()
    codes = teacher.get_by_role("table", name="Usernames and one-time codes")
    row = codes.get_by_role("row", name=re.compile(f"{given} {family}"))
    username, one_time_code = (text.strip() for text in row.get_by_role("cell").all_inner_texts()[1:3])
    assert username == f"{given}.{family}".lower()
    axe.check(teacher, "teacher", "one-time codes")

    # --- The student logs in with the code, must choose a password, then joins. ----------
    _log_in(student, site, username, one_time_code)
    expect(student.get_by_role("heading", name="Choose your password", level=1)).to_be_visible()
    axe.check(student, "student", "forced password change")
    expect(student.get_by_label("Old password")).to_have_count(0)  # the code was just typed to log in
    student.get_by_label(re.compile(r"^\s*New password\W*$")).fill(NEW_PASSWORD)
    student.get_by_label("Type the new password again").fill(NEW_PASSWORD)
    student.get_by_role("button", name="Save my password").click()
    expect(student.get_by_role("heading", name="My work", level=1)).to_be_visible()
    axe.check(student, "student", "home")
    student.get_by_label("Join code").fill(code.lower())
    student.get_by_role("button", name="Join class").click()
    expect(student.get_by_role("status").filter(has_text=f"You have joined {CLASS_NAME}")).to_be_visible()
    expect(student.get_by_role("region", name="My classes").get_by_text(CLASS_NAME)).to_be_visible()
    axe.check(student, "student", "home after joining")

    # --- The teacher sets the "How far…" essay, due in three days. -----------------------
    teacher.get_by_role("link", name="My classes").first.click()
    teacher.get_by_role("link", name=f"Assignments for {CLASS_NAME}").click()
    axe.check(teacher, "teacher", "assignments (none yet)")
    teacher.get_by_role("link", name="Set an assignment").click()
    axe.check(teacher, "teacher", "set an assignment")
    teacher.get_by_label("Essay question").select_option(label=QUESTION)
    due = (timezone.localtime() + timedelta(days=3)).replace(hour=15, minute=30)
    teacher.get_by_label("Due at").fill(due.strftime("%Y-%m-%dT%H:%M"))
    teacher.get_by_role("button", name="Set the assignment").click()
    expect(teacher.get_by_role("status").filter(has_text=f"is set for {CLASS_NAME}")).to_be_visible()
    expect(teacher.get_by_role("heading", name=QUESTION, level=1)).to_be_visible()
    axe.check(teacher, "teacher", "assignment page (set)")
    assignment_url = teacher.url

    # --- The student reads a lesson and a source. ----------------------------------------
    student.get_by_role("navigation", name="Main").get_by_role("link", name="Unit").click()
    axe.check(student, "student", "unit")
    student.get_by_role("link", name=LESSON).click()
    expect(student.get_by_role("heading", name=LESSON, level=1)).to_be_visible()
    axe.check(student, "student", "lesson")
    student.get_by_role("navigation", name="Main").get_by_role("link", name="Unit").click()
    student.get_by_role("link", name=re.compile(re.escape(SOURCE))).click()
    expect(student.get_by_role("heading", name=re.compile("Direct Communications Link"), level=1)).to_be_visible()
    axe.check(student, "student", "source")

    # --- ...opens the assignment and writes beside the sources. --------------------------
    student.get_by_role("navigation", name="Main").get_by_role("link", name="My work").click()
    listed = student.get_by_role("region", name="Assignments").get_by_role("listitem").filter(has_text=QUESTION)
    expect(listed).to_contain_text("Not started")
    axe.check(student, "student", "home with the essay set")
    student.get_by_role("link", name=QUESTION).click()
    expect(student.get_by_role("heading", name=QUESTION, level=1)).to_be_visible()
    expect(student.get_by_role("heading", name=re.compile("^Source E"))).to_be_visible()
    box = student.get_by_label("Your essay")
    axe.check(student, "student", "writing, empty")
    box.fill(ONLINE_PART)
    expect(_save_status(student)).to_have_text(re.compile(r"Saved \d\d:\d\d"))

    # The connection drops mid-essay; the student keeps typing, then the tab is closed.
    students.set_offline(True)
    box.press("Control+End")
    box.press_sequentially(OFFLINE_PART)
    box.blur()
    expect(_save_status(student)).to_have_text("Not saved yet — retrying")
    axe.check(student, "student", "writing, offline")
    student.close()
    # Back online, the student opens the essay again: every word is there, and is saved.
    students.set_offline(False)
    student = students.new_page()
    student.goto(f"{site.url}/")
    student.get_by_role("link", name=QUESTION).click()
    box = student.get_by_label("Your essay")
    expect(box).to_have_value(ESSAY)
    # (From the device, or from the closing tab's last save if Chromium delivered it late.)
    expect(_save_status(student)).to_have_text(re.compile(r"Saved \d\d:\d\d"))
    # Once saved, the copy on the device is let go; a reload gets the server's text.
    assert student.evaluate("() => Object.keys(localStorage).filter(key => key.startsWith('essay:'))") == []
    student.reload()
    expect(box).to_have_value(ESSAY)

    # ...and submits through the confirmation.
    student.get_by_role("button", name="Submit…").click()
    expect(student.get_by_role("heading", name="Submit your essay?", level=1)).to_be_visible()
    axe.check(student, "student", "submit confirmation")
    student.get_by_role("button", name="Submit essay").click()
    expect(student.get_by_role("status").filter(has_text="Your essay has been submitted at")).to_be_visible()
    expect(student.get_by_label("Your essay")).to_have_count(0)
    axe.check(student, "student", "writing, submitted")

    # --- The teacher marks it. ----------------------------------------------------------
    teacher.goto(assignment_url)
    expect(
        teacher.get_by_text(f"{family}, {given}").or_(teacher.get_by_text(f"{given} {family}")).first
    ).to_be_visible()
    axe.check(teacher, "teacher", "assignment page (one submitted)")
    teacher.get_by_role("link", name="Marking", exact=True).click()
    expect(teacher.get_by_role("heading", name=f"Marking: {QUESTION}", level=1)).to_be_visible()
    axe.check(teacher, "teacher", "marking queue")
    teacher.get_by_role("link", name=f"{given} {family}").click()
    expect(teacher.get_by_role("heading", name=f"Marking: {given} {family}", level=1)).to_be_visible()
    axe.check(teacher, "teacher", "marking page, unmarked")

    # A comment anchored to text the teacher selects with the mouse.
    essay = teacher.get_by_role("region", name="The essay")
    expect(essay).to_contain_text(OFFLINE_PART.strip()[-60:])  # the words typed offline reached the server
    select_text(teacher, QUOTE, essay)
    teacher.get_by_role("button", name="Comment on the selection").click()
    expect(teacher.get_by_text(f"On the passage: “{QUOTE}”")).to_be_visible()
    teacher.get_by_label("Comment", exact=True).fill(ANCHORED_COMMENT)
    teacher.get_by_role("button", name="Add comment").click()
    expect(teacher.get_by_role("link", name="Comment 1")).to_be_visible()
    comments = teacher.get_by_role("region", name="Comments")
    expect(comments.get_by_text(f"on “{QUOTE}”")).to_be_visible()

    # A comment from the bank, by typing its short code.
    bank_text = (
        teacher.get_by_role("region", name="Comment bank")
        .get_by_role("listitem")
        .filter(has_text="#prov")
        .get_by_text(re.compile("^Use the provenance"))
        .inner_text()
    )
    teacher.get_by_label("Comment", exact=True).press_sequentially("#prov ")
    expect(teacher.get_by_label("Comment", exact=True)).to_have_value(f"{bank_text} ")
    teacher.get_by_role("button", name="Add comment").click()
    expect(comments.get_by_role("paragraph").filter(has_text=bank_text)).to_be_visible()

    # Levels by best fit, marks inside each band; the total adds up as the teacher goes.
    for criterion, level, mark in MARKS:
        group = teacher.get_by_role("group", name=re.compile(f"^{re.escape(criterion)}:"))
        group.get_by_role("radio", name=re.compile(f"^Level {level} ")).check()
        group.get_by_label(f"{criterion} mark").fill(str(mark))
    spag = teacher.get_by_role("group", name=re.compile("^SPaG:", re.IGNORECASE))
    spag.get_by_role("radio", name=re.compile(f"^Level {SPAG[0]} ")).check()
    spag.get_by_role("spinbutton").fill(str(SPAG[1]))
    expected_total = sum(mark for _, _, mark in MARKS)
    expect(teacher.get_by_text(re.compile(r"^Total: \d+ / \d+"))).to_have_text(
        re.compile(f"^Total: {expected_total} /")
    )
    teacher.get_by_label("What went well").fill(WWW)
    teacher.get_by_label("Even better if").fill(EBI)
    teacher.get_by_label("Improvement task (optional)").fill(TASK)
    expect(teacher.get_by_role("status").filter(has_text=re.compile(r"Saved \d\d:\d\d"))).to_be_visible()
    axe.check(teacher, "teacher", "marking page, with comments and levels")
    teacher.get_by_role("button", name="Mark complete").click()
    expect(teacher.get_by_text("Marked, not released")).to_be_visible()
    teacher.get_by_role("button", name="Release to the student").click()
    expect(teacher.get_by_role("button", name="Withdraw release")).to_be_visible()
    axe.check(teacher, "teacher", "marking page, released")
    content_max = int(re.search(r"/ (\d+)", teacher.get_by_text(re.compile(r"^Total:")).inner_text()).group(1))

    # --- The student reads the feedback and answers the improvement task (DIRT). ---------
    student.get_by_role("navigation", name="Main").get_by_role("link", name="My work").click()
    axe.check(student, "student", "home with feedback ready")
    student.get_by_role("link", name="Marked — read your feedback").click()
    expect(student.get_by_role("heading", name=f"Feedback: {QUESTION}", level=1)).to_be_visible()
    expect(student.get_by_text(f"{expected_total} out of {content_max}", exact=True)).to_be_visible()
    expect(student.get_by_text(ANCHORED_COMMENT)).to_be_visible()
    expect(student.get_by_text(bank_text)).to_be_visible()
    expect(student.get_by_text(TASK)).to_be_visible()
    axe.check(student, "student", "feedback")
    student.get_by_role("textbox", name="Your response").fill(DIRT)
    expect(student.get_by_role("status").filter(has_text=re.compile(r"Saved \d\d:\d\d"))).to_be_visible()
    student.get_by_role("button", name="Submit response").click()
    expect(student.get_by_text("Your response has been sent to your teacher.")).to_be_visible()
    expect(student.get_by_text(DIRT)).to_be_visible()
    axe.check(student, "student", "feedback, response sent")

    # --- The teacher sees the mark in the markbook, and in the CSV. ----------------------
    teacher.get_by_role("link", name="My classes").first.click()
    teacher.get_by_role("link", name=f"Markbook for {CLASS_NAME}").click()
    expect(teacher.get_by_role("heading", name=f"Markbook: {CLASS_NAME}", level=1)).to_be_visible()
    table = teacher.get_by_role("table", name=re.compile(f"Marks for {CLASS_NAME}"))
    row = table.get_by_role("row", name=re.compile(f"{family}, {given}"))
    expect(row.get_by_text(f"{expected_total}/{content_max}")).to_be_visible()
    axe.check(teacher, "teacher", "markbook")
    teacher.get_by_label("Long: one row per student per assignment").check()
    with teacher.expect_download() as download_info:
        teacher.get_by_role("button", name="Download").click()
    download = download_info.value
    text = download.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    mine = [r for r in rows if (r["family name"], r["given name"]) == (family, given)]
    assert len(mine) == 1, rows
    assert mine[0]["assignment"] == QUESTION
    assert int(mine[0]["mark"]) == expected_total
    assert int(mine[0]["max"]) == content_max
    assert mine[0]["level"].startswith("AO1+AO2 L3")

    # The student's progress, opened from the markbook.
    teacher.get_by_role("link", name=f"{family}, {given}").click()
    expect(teacher.get_by_role("heading", name=f"Progress: {given} {family}", level=1)).to_be_visible()
    axe.check(teacher, "teacher", "student progress")

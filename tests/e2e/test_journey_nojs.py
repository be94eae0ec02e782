"""The student's write-and-submit path with JavaScript switched off, on the production-way
server: every step is an ordinary form POST, under DEBUG off and the strict CSP."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from classroom.models import count_words
from tests.e2e.server import ProductionServer, production_site  # noqa: F401 - the fixture

TEACHER = ("ms.khan", "cuba-1962")
STUDENT = ("oliver.smith", "cuba-1962", "Oliver Smith")  # a demo pupil in 10H History
TITLE = "Written without JavaScript"
ESSAY = (
    "Without JavaScript the essay still saves. The Hotline of 20 June 1963 was a teleprinter link,\n\n"
    "and the Partial Test Ban Treaty followed on 5 August 1963."
)
WORDS = count_words(ESSAY)


def _page(browser: Browser, *, javascript: bool) -> Page:
    context = browser.new_context(
        java_script_enabled=javascript,
        locale="en-GB",
        timezone_id="Europe/London",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(15_000)
    return context.new_page()


def _log_in(page: Page, site: ProductionServer, username: str, password: str) -> None:
    page.goto(f"{site.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("My")


def test_student_saves_and_submits_an_essay_with_javascript_off(browser, production_site: ProductionServer):  # noqa: F811
    site = production_site
    teacher = _page(browser, javascript=False)
    student = _page(browser, javascript=False)
    try:
        # The teacher sets the essay (that form needs no JavaScript either).
        _log_in(teacher, site, *TEACHER)
        teacher.get_by_role("link", name="Assignments for 10H History").click()
        teacher.get_by_role("link", name="Set an assignment").click()
        teacher.get_by_label("Title").fill(TITLE)
        teacher.get_by_role("button", name="Set the assignment").click()
        expect(teacher.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
        assignment_url = teacher.url

        username, password, name = STUDENT
        _log_in(student, site, username, password)
        student.get_by_role("link", name=TITLE).click()
        box = student.get_by_label("Your essay")
        expect(box).to_be_editable()
        box.fill(ESSAY)
        student.get_by_role("button", name="Save draft").click()
        expect(student.get_by_role("status").filter(has_text=re.compile(r"Draft saved at \d\d:\d\d"))).to_be_visible()
        expect(student.get_by_label("Your essay")).to_have_value(ESSAY)
        expect(student.get_by_text(f"{WORDS} words")).to_be_visible()

        student.get_by_role("button", name="Submit…").click()
        expect(student.get_by_role("heading", name="Submit your essay?", level=1)).to_be_visible()
        expect(student.get_by_text(f"{WORDS} words")).to_be_visible()
        student.get_by_role("button", name="Submit essay").click()
        expect(student.get_by_role("status").filter(has_text="Your essay has been submitted at")).to_be_visible()
        expect(student.get_by_label("Your essay")).to_have_count(0)
        expect(student.get_by_text("Without JavaScript the essay still saves.")).to_be_visible()

        # The teacher's assignment page shows the essay handed in.
        teacher.goto(assignment_url)
        cells = teacher.get_by_role("row", name=re.compile(name)).get_by_role("cell")
        expect(cells.nth(0)).to_have_text("To mark")  # the state column: handed in, not yet marked
        expect(cells.nth(1)).to_have_text(str(WORDS))  # the words column
    finally:
        teacher.context.close()
        student.context.close()

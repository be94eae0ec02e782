"""The writing-process record in a real browser: typing, a paste from outside the page and a
quotation copied from the sources pane reach the record as lengths and origins, the pasted
words are stored nowhere but in the essay, and the record page's replay ends on the essay
exactly, works from the keyboard and passes axe. The server side: tests/test_writing_process.py."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from playwright.sync_api import expect

from classroom.models import Submission, WritingEvent
from tests.conftest import PASSWORD
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import log_in, select_text
from tests.factories import AssignmentFactory, EssayPromptFactory, SourceFactory, link_sources

QUOTE = "We will not prematurely or unnecessarily risk the costs of worldwide nuclear war"
OUTSIDE = ("Zebrafish-marker pasted from somewhere else entirely. " * 10)[:400]


@pytest.fixture
def assignment(school_class):
    prompt = EssayPromptFactory(question="How far did the crisis improve diplomacy?")
    source = SourceFactory(label="A", title="Kennedy's address", excerpt=f"{QUOTE}, he said on 22 October.")
    link_sources(prompt, [source])
    return AssignmentFactory(school_class=school_class, prompt=prompt, title="Diplomacy essay")


def _tables_holding(text: str) -> set[str]:
    found = set()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (names from the database itself)
            if any(text in str(value) for row in cursor.fetchall() for value in row):
                found.add(table)
    return found


def test_pastes_reach_the_record_by_length_and_origin_and_their_words_only_the_essay(page, live_server, assignment):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    log_in(page, live_server, "sam.student", PASSWORD)
    page.goto(f"{live_server.url}/classroom/assignments/{assignment.pk}/write/")
    expect(page.get_by_text("What is recorded while you write")).to_be_visible()
    box = page.get_by_label("Your essay")
    box.click()
    box.press_sequentially("Kennedy chose a blockade. ", delay=20)
    # A paste from outside the page (the clipboard filled by another program).
    page.evaluate("text => navigator.clipboard.writeText(text)", OUTSIDE)
    box.press("Control+V")
    # A quotation copied from the sources pane, then pasted.
    select_text(page, QUOTE, page.locator("#pane-sources"))
    page.keyboard.press("Control+C")
    box.click()
    box.press("End")
    box.press("Control+V")
    box.press_sequentially(" he said.", delay=20)
    expect(page.get_by_role("status").filter(has_text=re.compile(r"Saved \d\d:\d\d"))).to_be_visible()
    expected = f"Kennedy chose a blockade. {OUTSIDE}{QUOTE} he said."
    expect(box).to_have_value(expected)
    page.wait_for_function(
        "expected => document.querySelector('#save-status').textContent.startsWith('Saved')", arg=expected
    )
    submission = Submission.objects.get(assignment=assignment)
    for _ in range(50):
        submission.refresh_from_db()
        if submission.text == expected and WritingEvent.objects.filter(kind="paste").count() == 2:
            break
        page.wait_for_timeout(200)
    assert submission.text == expected
    pastes = list(WritingEvent.objects.filter(kind="paste").order_by("at"))
    assert [(p.length, p.origin, p.position) for p in pastes] == [
        (400, "", len("Kennedy chose a blockade. ")),
        (len(QUOTE), "sources", len("Kennedy chose a blockade. ") + 400),
    ]
    # The pasted words are in the essay (and its saved versions), nowhere else.
    assert _tables_holding("Zebrafish-marker") <= {"classroom_submission", "classroom_submissionrevision"}
    assert "classroom_submission" in _tables_holding("Zebrafish-marker")

    page.reload()  # the link is there once the essay has been saved
    page.get_by_role("link", name="your writing record").click()
    summary = page.locator("#writing-summary")
    expect(summary).to_contain_text("2 pastes, the largest 400 characters (1 quoted from the sources)")
    timeline = page.locator(".timeline-table")
    expect(timeline).to_contain_text("400 characters")
    expect(timeline).to_contain_text("Paste: quoted from the sources")
    # The replay ends on the essay exactly, and steps from the keyboard.
    assert page.locator("#replay-text").text_content() == submission.text
    slider = page.get_by_role("slider", name="Version")
    # The controls are hidden until the deferred script has run; a key pressed before that is lost.
    expect(slider).to_be_visible()
    slider.focus()
    slider.press("Home")
    expect(page.locator("#replay-position")).to_contain_text("Version 1 of")
    slider.press("End")
    assert page.locator("#replay-text").text_content() == submission.text
    page.get_by_role("button", name="Step back").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Play").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    expect(page.get_by_role("button", name="Play")).to_be_visible(timeout=15_000)  # stops at the end
    assert page.locator("#replay-text").text_content() == submission.text
    assert_accessible(page, "writing record")
    page.get_by_role("link", name="Version to print").click()
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    assert_accessible(page, "writing record to print")
    assert page.js_errors == []

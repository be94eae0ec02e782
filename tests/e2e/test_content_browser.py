"""The unit in a real browser: a student takes a knowledge check; a teacher copies and edits a prompt."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from crisis.content.loader import CONTENT_DIR, load_unit
from crisis.models import EssayPrompt, KnowledgeCheckAttempt, Lesson
from tests.conftest import PASSWORD
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def unit(db):
    load_unit(CONTENT_DIR / "cuban_missile_crisis")


def test_student_answers_the_knowledge_check_and_sees_score_and_explanations(page, live_server, school_class, unit):
    lesson = Lesson.objects.shipped().get(slug="thirteen-days")
    questions = lesson.check_questions()  # its own, then review questions from earlier lessons
    log_in(page, live_server, "sam.student", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Unit").click()
    page.get_by_role("link", name=lesson.title).click()
    expect(page.get_by_role("heading", name=lesson.title, level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Glossary")).to_be_visible()
    assert_accessible(page, "lesson (student)")

    # Every answer right except the first.
    for index, question in enumerate(questions):
        choice = (question.answer + 1) % len(question.choices) if index == 0 else question.answer
        group = page.get_by_role("group", name=question.question)
        group.get_by_role("radio", name=question.choices[choice], exact=True).check()
    page.get_by_role("button", name="Check my answers").click()

    expect(page.get_by_text(f"You scored {len(questions) - 1} out of {len(questions)}.")).to_be_visible()
    expect(page.get_by_text("Your result has been saved.")).to_be_visible()
    expect(page.get_by_text(questions[0].explanation)).to_be_visible()
    expect(page.get_by_text(f"The right answer: {questions[0].choices[questions[0].answer]}.")).to_be_visible()
    attempt = KnowledgeCheckAttempt.objects.get()
    assert (attempt.score, attempt.total) == (len(questions) - 1, len(questions))
    assert page.js_errors == []


def test_teacher_makes_a_copy_of_a_prompt_and_edits_its_question(page, live_server, school_class, unit):
    original = EssayPrompt.objects.shipped().get(slug="crisis-improved-relations")
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(f"{live_server.url}/learn/prompts/{original.pk}/")
    expect(page.get_by_role("heading", name="Indicative content (teachers only)")).to_be_visible()
    assert_accessible(page, "prompt (teacher)")
    page.get_by_role("button", name="Make my copy").click()

    expect(page.get_by_role("heading", name="Edit essay question", level=1)).to_be_visible()
    expect(page.get_by_text("This is your own copy")).to_be_visible()
    assert_accessible(page, "prompt edit")
    page.get_by_role("textbox", name=re.compile(r"^Question")).fill(
        "How far did the Hotline change US–Soviet relations?"
    )
    page.get_by_role("button", name="Save essay question").click()

    expect(page.get_by_role("heading", name=re.compile("How far did the Hotline change"), level=1)).to_be_visible()
    expect(page.get_by_text("Your copy")).to_be_visible()
    copy = EssayPrompt.objects.get(copied_from=original)
    assert copy.question == "How far did the Hotline change US–Soviet relations?"
    original.refresh_from_db()
    assert original.question.startswith("'The Cuban Missile Crisis improved relations")
    assert page.js_errors == []

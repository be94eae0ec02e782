"""A class from creation to its first student joining, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.factories import StudentFactory, TeacherFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_teacher_creates_a_class_and_a_student_joins_it_with_the_code(browser, live_server):
    TeacherFactory(username="ms.khan", first_name="Amira", last_name="Khan")
    StudentFactory(username="amelia.brown", first_name="Amelia", last_name="Brown")

    teacher_context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    teacher_context.set_default_timeout(10_000)
    teacher = teacher_context.new_page()
    teacher_errors: list[str] = []
    teacher.on("pageerror", lambda exc: teacher_errors.append(str(exc)))
    log_in(teacher, live_server, "ms.khan", PASSWORD)
    teacher.get_by_role("link", name="New class").click()
    teacher.get_by_label("Class name").fill("9R History")
    teacher.get_by_label("Year group").fill("9")
    teacher.get_by_role("button", name="Create class").click()
    expect(teacher.get_by_role("heading", name="9R History", level=1)).to_be_visible()
    code = teacher.locator(".join-code-board").inner_text().strip()
    assert len(code) == 8
    teacher_context.close()
    assert teacher_errors == []

    student_context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    student_context.set_default_timeout(10_000)
    student = student_context.new_page()
    student_errors: list[str] = []
    student.on("pageerror", lambda exc: student_errors.append(str(exc)))
    log_in(student, live_server, "amelia.brown", PASSWORD)
    classes = student.get_by_role("region", name="My classes")
    expect(classes.get_by_text("9R History")).to_have_count(0)
    student.get_by_label("Join code").fill(f"{code[:4].lower()} {code[4:].lower()}")
    student.get_by_role("button", name="Join class").click()
    expect(student.get_by_role("status").filter(has_text="You have joined 9R History")).to_be_visible()
    expect(classes.get_by_text("9R History")).to_be_visible()
    student_context.close()
    assert student_errors == []


def test_wrong_code_is_explained_next_to_the_field(page, live_server, school_class):
    log_in(page, live_server, "sam.student", PASSWORD)
    page.get_by_label("Join code").fill("nope-2345")
    page.get_by_role("button", name="Join class").click()
    expect(page.get_by_role("heading", name="Join a class", level=1)).to_be_visible()
    expect(page.get_by_text("No class has the code “nope-2345”")).to_be_visible()
    assert page.js_errors == []

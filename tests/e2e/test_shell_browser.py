"""The page shell in a real browser: login, role-aware navigation, no CSP violations."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_student_logs_in_and_sees_their_work_with_no_script_errors(page, live_server, school_class):
    log_in(page, live_server, "sam.student", PASSWORD)
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="My work")).to_be_visible()
    # Bootstrap's dropdown works (its script loaded under the CSP) and logs out.
    page.get_by_role("button", name="Sam Student").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert page.js_errors == []


def test_teacher_sees_their_classes_and_join_code(page, live_server, school_class):
    log_in(page, live_server, "ms.teacher", PASSWORD)
    expect(page.get_by_role("heading", name="To do", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="My classes", level=2)).to_be_visible()
    expect(page.get_by_text(school_class.join_code)).to_be_visible()
    assert page.js_errors == []


def test_skip_link_is_first_in_tab_order(page, live_server, school_class):
    log_in(page, live_server, "sam.student", PASSWORD)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Skip to main content"

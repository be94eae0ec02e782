"""The markbook and a student's progress in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import log_in
from tests.helpers import build_class

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def known(school_class, teacher, student):
    return build_class(school_class, teacher, student)


def row_names(page) -> list[str]:
    table = page.get_by_role("table", name=re.compile("Marks for 10H History"))
    return [name.strip() for name in table.locator("tbody th").all_inner_texts()]


def test_markbook_renders_and_sorts_without_javascript_help(page, live_server, known):
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.get_by_role("link", name="Markbook for 10H History").click()
    expect(page.get_by_role("heading", name="Markbook: 10H History", level=1)).to_be_visible()
    table = page.get_by_role("table", name=re.compile("Marks for 10H History"))
    expect(table.get_by_role("columnheader", name=re.compile("^A1"))).to_be_visible()
    expect(table.get_by_role("link", name="8/10 80%")).to_be_visible()
    expect(table.get_by_text("Missing").first).to_be_visible()
    assert row_names(page) == ["Able, Amy", "Brown, Ben", "Cole, Cat", "Student, Sam"]

    page.get_by_label("Sort students by").select_option("average")
    page.get_by_role("button", name="Sort").click()
    expect(page).to_have_url(re.compile(r"sort=average"))
    assert row_names(page) == ["Able, Amy", "Student, Sam", "Brown, Ben", "Cole, Cat"]
    assert_accessible(page, "markbook")
    assert page.js_errors == []


def test_student_progress_chart_and_table_show_the_same_numbers(page, live_server, known):
    log_in(page, live_server, "sam.student", PASSWORD)
    page.get_by_role("link", name="My progress").click()
    expect(page.get_by_role("heading", name="My progress", level=1)).to_be_visible()
    chart = page.get_by_role("img", name=re.compile("Marks per criterion"))
    expect(chart).to_be_visible()

    chart_values = {}
    for series in chart.locator("g.chart-series").all():
        code = series.get_attribute("data-series")
        chart_values[code] = [
            float(v)
            for v in series.locator(".series-marker").evaluate_all("els => els.map(e => e.getAttribute('data-value'))")
        ]
    table = page.get_by_role("table", name=re.compile("Marks per criterion for each essay"))
    table_values = {}
    for code in chart_values:
        cells = table.locator(f'td[data-code="{code}"] .point-percent').all_inner_texts()
        table_values[code] = [float(v) for v in cells]
    assert chart_values == table_values
    assert chart_values["AO1"] == [100.0, 75.0]
    assert chart_values["AO2"] == [66.7, 50.0]
    expect(page.get_by_text("Rewrite paragraph two.")).to_be_visible()
    assert_accessible(page, "student progress")
    assert page.js_errors == []


def test_teacher_opens_a_students_progress_from_the_markbook(page, live_server, known):
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(f"{live_server.url}/classroom/classes/{known['a1'].school_class_id}/markbook/")
    page.get_by_role("link", name="Student, Sam").click()
    expect(page.get_by_role("heading", name="Progress: Sam Student", level=1)).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Marks per criterion"))).to_be_visible()
    page.goto(f"{live_server.url}/classroom/classes/{known['a1'].school_class_id}/overview/")
    expect(page.get_by_role("heading", name="Pupils needing attention")).to_be_visible()
    assert_accessible(page, "class overview")
    assert page.js_errors == []


def test_head_compares_classes_on_one_question(page, live_server, known, head):
    log_in(page, live_server, "head.of.dept", PASSWORD)
    page.get_by_role("link", name="Department", exact=True).click()
    progress_table = page.get_by_role("table", name=re.compile("Marking progress of"))
    expect(progress_table.first.get_by_role("rowheader").first).to_be_visible()
    assert_accessible(page, "department overview")
    page.get_by_role("link", name="Results by essay question").click()
    page.get_by_label("Essay question").select_option(str(known["prompt"].pk))
    page.get_by_role("button", name="Show").click()
    table = page.get_by_role("table", name=re.compile("Mean mark per skill"))
    expect(table.get_by_role("rowheader", name="10H History")).to_be_visible()
    assert_accessible(page, "department results")
    assert page.js_errors == []

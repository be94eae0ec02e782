"""Keyboard only: the writing and marking pages can be used without a mouse, and the
markbook never says anything by colour alone.

The Tab walks start at the top of the page and record every stop. At each stop the
focused element must show a visible focus indicator (an outline or a box-shadow, read
from getComputedStyle); the order must follow the page (skip link, then the main
navigation, then the main content in reading order); Tab must leave the page at the end
(no trap) and Shift+Tab must walk the same stops back.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from classroom.models import Submission
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.factories import AssignmentFactory, EssayPromptFactory, SourceFactory, link_sources
from tests.helpers import build_class

pytestmark = pytest.mark.django_db(transaction=True)

MAX_STOPS = 200

# Describe the focused element and stamp it with its place in the walk, so that elements
# found afterwards by role and label can say where in the Tab order they came.
FOCUS_STOP = """index => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  if (el.dataset.tabStop !== undefined) return {again: Number(el.dataset.tabStop)};
  el.dataset.tabStop = String(index);
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = Boolean(style.boxShadow) && style.boxShadow !== "none";
  const area = el.closest("header, main, footer");
  const label = el.getAttribute("aria-label") || (el.labels && el.labels.length ? el.labels[0].textContent : "");
  return {
    index: index,
    what: el.tagName.toLowerCase() + (el.type ? "[" + el.type + "]" : ""),
    name: (label || el.textContent || el.value || "").replace(/\\s+/g, " ").trim().slice(0, 50),
    area: area ? area.tagName.toLowerCase() : "none",
    focusShown: outline || shadow,
  };
}"""

CURRENT_STOP = """() => {
  const el = document.activeElement;
  return el && el.dataset && el.dataset.tabStop !== undefined ? Number(el.dataset.tabStop) : null;
}"""


def tab_through(page: Page) -> list[dict]:
    """Tab from the top of the page until focus leaves it; return the stops in order."""
    page.evaluate("() => { if (document.activeElement) document.activeElement.blur(); window.scrollTo(0, 0); }")
    stops: list[dict] = []
    for _ in range(MAX_STOPS):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUS_STOP, len(stops))
        if stop is None or "again" in stop:  # out of the page, or round to the start again
            return stops
        stops.append(stop)
    pytest.fail(f"Tab never left the page after {MAX_STOPS} stops: a keyboard trap? Last: {stops[-3:]}")


def shift_tab_back(page: Page, count: int) -> list[int | None]:
    """From beyond the last stop, Shift+Tab `count` times; return the stops reached."""
    reached = []
    for _ in range(count):
        page.keyboard.press("Shift+Tab")
        reached.append(page.evaluate(CURRENT_STOP))
    return reached


def stop_of(locator: Locator) -> int:
    value = locator.get_attribute("data-tab-stop")
    assert value is not None, f"{locator} is never reached with Tab"
    return int(value)


def assert_walkable(page: Page, stops: list[dict]) -> None:
    """Focus always shown; header before main; footer holds nothing after main; Shift+Tab retraces."""
    hidden = [stop for stop in stops if not stop["focusShown"]]
    assert hidden == [], f"focus is not visible on: {hidden}"
    areas = [stop["area"] for stop in stops]
    assert areas[0] == "none" and stops[0]["name"] == "Skip to main content"
    first_main = areas.index("main")
    assert set(areas[1:first_main]) == {"header"}, areas
    assert set(areas[first_main:]) <= {"main", "footer"}, areas
    back = shift_tab_back(page, len(stops))
    assert back == list(range(len(stops) - 1, -1, -1)), f"Shift+Tab went {back}"


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until `target` has focus (from wherever focus is now)."""
    for _ in range(MAX_STOPS):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    pytest.fail(f"Tab never reached {target}")


@pytest.fixture
def writing_assignment(school_class):
    prompt = EssayPromptFactory(question="How far did the crisis improve diplomacy?", word_min=300, word_max=600)
    link_sources(prompt, [SourceFactory(label="A", title="Kennedy's address"), SourceFactory(label="B")])
    return AssignmentFactory(school_class=school_class, prompt=prompt, title="Diplomacy essay")


def test_writing_page_in_tab_order_with_focus_always_shown_and_no_trap(page, live_server, writing_assignment):
    log_in(page, live_server, "sam.student", PASSWORD)
    page.goto(f"{live_server.url}/classroom/assignments/{writing_assignment.pk}/write/")
    stops = tab_through(page)
    assert_walkable(page, stops)

    nav = page.get_by_role("navigation", name="Main")
    order = [
        page.get_by_role("link", name="Skip to main content"),
        nav.get_by_role("link", name="Crisis Classroom"),
        nav.get_by_role("link", name="My work"),
        nav.get_by_role("link", name="Unit"),
        nav.get_by_role("link", name="My progress"),
        nav.get_by_role("button", name=re.compile("Sam Student")),
        page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="My work"),
        page.get_by_label("Your essay"),
        page.get_by_role("button", name="Save draft"),
        page.get_by_role("button", name="Submit…"),
        page.get_by_role("region", name="Sources"),  # beside the essay, after it in reading order
    ]
    places = [stop_of(locator) for locator in order]
    assert places == sorted(places), places
    assert places[0] == 0


def test_skip_link_then_typing_an_essay_with_the_keyboard_alone(page, live_server, writing_assignment):
    log_in(page, live_server, "sam.student", PASSWORD)
    page.goto(f"{live_server.url}/classroom/assignments/{writing_assignment.pk}/write/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # shown when focused
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    # Straight into the page's content, past the navigation.
    expect(page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="My work")).to_be_focused()
    box = page.get_by_label("Your essay")
    tab_to(page, box)
    page.keyboard.type("Typed without a mouse: the Hotline, 1963.")
    expect(box).to_have_value("Typed without a mouse: the Hotline, 1963.")
    page.keyboard.press("Tab")  # leaving the box saves
    expect(page.get_by_role("button", name="Save draft")).to_be_focused()
    expect(page.get_by_role("status").filter(has_text=re.compile(r"^Saved \d\d:\d\d"))).to_be_visible()
    assert Submission.objects.get().text == "Typed without a mouse: the Hotline, 1963."


def test_marking_page_in_tab_order_with_focus_always_shown_and_no_trap(page, live_server, essay):
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(f"{live_server.url}/classroom/submissions/{essay.pk}/mark/")
    expect(page.get_by_role("heading", name="Marking: Sam Student", level=1)).to_be_visible()
    stops = tab_through(page)
    assert_walkable(page, stops)

    ao1, ao2 = (page.get_by_role("group", name=re.compile(f"^{code}:")) for code in ("AO1", "AO2"))
    order = [
        page.get_by_role("link", name="Skip to main content"),
        page.get_by_role("navigation", name="Main").get_by_role("link", name="My classes"),
        page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Marking"),
        page.get_by_label("Comment", exact=True),  # the essay column first…
        page.get_by_role("button", name="Add comment"),
        page.get_by_label("Show comments for"),
        ao1.get_by_role("radio").first,  # …then the mark column
        page.get_by_label("AO1 mark"),
        ao2.get_by_role("radio").first,
        page.get_by_label("AO2 mark"),
        page.get_by_label("What went well"),
        page.get_by_label("Even better if"),
        page.get_by_role("button", name="Save draft"),
        page.get_by_role("button", name="Mark complete"),
    ]
    places = [stop_of(locator) for locator in order]
    assert places == sorted(places), places


def test_levels_and_marks_are_chosen_with_arrow_keys_space_and_typing(page, live_server, essay):
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(f"{live_server.url}/classroom/submissions/{essay.pk}/mark/")
    ao1 = page.get_by_role("group", name=re.compile("^AO1:"))
    ao2 = page.get_by_role("group", name=re.compile("^AO2:"))
    total = page.get_by_text(re.compile(r"^Total:"))

    # Tab lands on the group's first radio; arrow keys move the choice through the levels.
    tab_to(page, ao1.get_by_role("radio").first)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    level_2 = ao1.get_by_role("radio", name="Level 2 (3–4 marks)")
    expect(level_2).to_be_focused()
    expect(level_2).to_be_checked()
    expect(page.get_by_label("AO1 mark")).to_have_value("3")  # the band's lowest mark to start
    page.keyboard.press("Tab")
    expect(page.get_by_label("AO1 mark")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("4")
    expect(total).to_have_text(re.compile(r"^Total: 4 /"))

    # Space chooses the focused level.
    page.keyboard.press("Tab")
    first = ao2.get_by_role("radio").first
    expect(first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(ao2.get_by_role("radio", name="Level 1 (1–3 marks)")).to_be_checked()
    page.keyboard.press("ArrowUp")
    expect(first).to_be_checked()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    expect(ao2.get_by_role("radio", name="Level 1 (1–3 marks)")).to_be_checked()
    expect(total).to_have_text(re.compile(r"^Total: 5 /"))
    expect(page.get_by_role("status").filter(has_text=re.compile(r"Saved \d\d:\d\d"))).to_be_visible()


# Each markbook cell's text as a screen reader gets it (without aria-hidden icons), and its colour.
CELL_TEXT_AND_COLOUR = """cell => {
  const copy = cell.cloneNode(true);
  copy.querySelectorAll('[aria-hidden="true"]').forEach(el => el.remove());
  return [copy.textContent.replace(/\\s+/g, " ").trim(), getComputedStyle(cell).backgroundColor];
}"""


def test_markbook_states_are_told_in_words_not_only_colour(page, live_server, school_class, teacher, student):
    build_class(school_class, teacher, student)
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(f"{live_server.url}/classroom/classes/{school_class.pk}/markbook/")
    key = page.get_by_role("list", name="Key").get_by_role("listitem")
    states = [item.evaluate(CELL_TEXT_AND_COLOUR)[0] for item in key.all()]
    assert len(states) >= 5, states

    table = page.get_by_role("table", name=re.compile("Marks for 10H History"))
    body_rows = (
        table.get_by_role("row")
        .filter(has=page.get_by_role("rowheader"))
        .filter(has_not=page.get_by_role("rowheader", name=re.compile("^(Average|Handed in|Distribution)")))
    )
    colour_of_state: dict[str, set[str]] = {}
    cells = 0
    for row in body_rows.all():
        for cell in row.get_by_role("cell").all()[1:]:  # after the average column
            text, colour = cell.evaluate(CELL_TEXT_AND_COLOUR)
            words = text.removesuffix(" (late)")
            said = [state for state in sorted(states, key=len, reverse=True) if words.endswith(state)]
            assert said, f"a markbook cell says no state in words: {text!r}"
            colour_of_state.setdefault(said[0], set()).add(colour)
            cells += 1
    assert cells == 4 * 3  # four students, three assignments
    assert len(colour_of_state) >= 4, colour_of_state  # several states on show…
    # …and the words alone tell them apart: one state word, one colour.
    assert all(len(colours) == 1 for colours in colour_of_state.values()), colour_of_state

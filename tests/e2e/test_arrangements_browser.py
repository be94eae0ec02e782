"""Access arrangements in a real browser: a rest break with JavaScript (the text is saved first,
the essay hidden, then back), read aloud with the keyboard, and every reading preference
checked with axe on the pages a pupil and a teacher use."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from classroom.models import AccessArrangement, Submission, User
from tests.conftest import PASSWORD
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import log_in
from tests.factories import AssignmentFactory, EssayPromptFactory, SourceFactory, link_sources

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def timed(school_class, student, teacher):
    prompt = EssayPromptFactory(question="How far did the crisis improve diplomacy?")
    link_sources(prompt, [SourceFactory(label="A", title="Kennedy's address", excerpt="We will not run the risks.")])
    AccessArrangement(student=student, extra_time="25", rest_break_minutes=10, reader=True).save_by(teacher)
    assignment = AssignmentFactory(
        school_class=school_class,
        prompt=prompt,
        title="Mock: diplomacy",
        time_limit_minutes=60,
        spell_check_off=True,
        due_at=timezone.now() + dt.timedelta(days=2),
    )
    Submission.start(assignment, student)
    return assignment


def _write_url(live_server, assignment) -> str:
    return f"{live_server.url}/classroom/assignments/{assignment.pk}/write/"


def test_a_rest_break_saves_the_text_first_hides_the_essay_and_carry_on_brings_it_back(page, live_server, timed):
    log_in(page, live_server, "sam.student", PASSWORD)
    page.goto(_write_url(live_server, timed))
    expect(page.get_by_text("You have 25 % extra time: this essay closes at")).to_be_visible()
    box = page.get_by_label("Your essay")
    assert box.get_attribute("autocorrect") == "off"
    assert box.get_attribute("spellcheck") == "false"
    box.fill("Typed just before the break.")
    page.get_by_role("button", name="Take a rest break").click()
    expect(page.get_by_role("heading", name="You are on a rest break")).to_be_visible()
    expect(page.get_by_label("Your essay")).to_have_count(0)
    submission = Submission.objects.get()
    assert submission.text == "Typed just before the break."
    assert submission.break_started_at is not None
    page.get_by_role("button", name="Carry on writing").click()
    expect(page.get_by_label("Your essay")).to_have_value("Typed just before the break.")
    submission.refresh_from_db()
    assert submission.break_started_at is None
    assert page.js_errors == []


def test_read_aloud_buttons_work_from_the_keyboard(page, live_server, timed):
    # Record what would be spoken (headless Chromium has no voices to hear).
    page.add_init_script(
        "window.__spoken = []; const real = window.speechSynthesis; if (real) {"
        " real.speak = (u) => window.__spoken.push(u.text); real.cancel = () => window.__spoken.push('stop'); }"
    )
    log_in(page, live_server, "sam.student", PASSWORD)
    page.goto(_write_url(live_server, timed))
    page.get_by_label("Your essay").fill("My own words.")
    read_essay = page.get_by_role("button", name="Read aloud your essay")
    expect(read_essay).to_be_visible()
    read_essay.focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Stop reading your essay").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Read aloud the sources").click()
    spoken = page.evaluate("window.__spoken")
    assert "My own words." in spoken
    assert spoken.count("stop") >= 2
    assert any("We will not run the risks." in text for text in spoken)


def test_read_aloud_is_hidden_where_the_browser_cannot_speak(page, live_server, timed):
    page.add_init_script("delete window.speechSynthesis; delete window.SpeechSynthesisUtterance;")
    log_in(page, live_server, "sam.student", PASSWORD)
    page.goto(_write_url(live_server, timed))
    expect(page.get_by_label("Your essay")).to_be_visible()
    expect(page.get_by_role("button", name="Read aloud your essay")).to_be_hidden()


PREFERENCES = [
    {"text_size": "larger"},
    {"line_spacing": "wider"},
    {"readable_font": True},
    *({"tint": tint} for tint in ("cream", "blue", "green", "rose", "yellow")),
    {"text_size": "large", "line_spacing": "wide", "tint": "cream", "readable_font": True},
]


@pytest.mark.parametrize("preference", PREFERENCES, ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()))
def test_every_reading_preference_keeps_the_pages_accessible(page, live_server, timed, school_class, preference):
    User.objects.filter(username__in=["sam.student", "ms.teacher"]).update(**preference)
    log_in(page, live_server, "sam.student", PASSWORD)
    for path in ("/", "/classroom/settings/reading/", f"/classroom/assignments/{timed.pk}/write/"):
        page.goto(f"{live_server.url}{path}")
        report = assert_accessible(page, f"pupil {path} {preference}")
        assert report["counts"] == {}, report["found"]
    page.context.clear_cookies()
    log_in(page, live_server, "ms.teacher", PASSWORD)
    pupil = User.objects.get(username="sam.student")
    for path in (
        f"/classroom/classes/{school_class.pk}/",
        f"/classroom/classes/{school_class.pk}/arrangements/",
        f"/classroom/classes/{school_class.pk}/students/{pupil.pk}/arrangements/",
    ):
        page.goto(f"{live_server.url}{path}")
        report = assert_accessible(page, f"teacher {path} {preference}")
        assert report["counts"] == {}, report["found"]

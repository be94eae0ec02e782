"""The student's response to feedback (DIRT) in a real browser: nothing typed is lost."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from classroom.models import DirtResponse, Mark
from tests.conftest import PASSWORD
from tests.e2e import autosave_checks as checks
from tests.e2e.conftest import log_in
from tests.helpers import mark_fully

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def unseen_feedback_url(live_server, cast, essay):
    mark_fully(essay, cast["teacher"]).release(by=cast["teacher"])
    return live_server.url + reverse("classroom:feedback", args=[essay.assignment_id])


@pytest.fixture
def feedback_url(unseen_feedback_url, essay):
    # Already opened once: these tests are about the response box, and no seen report then
    # races their own reads of the database (SQLite's shared in-memory test database locks
    # a whole table while it is written).
    Mark.objects.filter(submission=essay).update(seen_at=timezone.now())
    return unseen_feedback_url


def test_opening_the_feedback_tells_the_server_it_was_seen(page, live_server, unseen_feedback_url, essay):
    log_in(page, live_server, "sam.student", PASSWORD)
    with page.expect_response(lambda response: response.url.endswith("/feedback/seen/")) as seen:
        page.goto(unseen_feedback_url)
    assert seen.value.status == 204
    assert Mark.objects.get(submission=essay).seen_at is not None


def saved(page):
    return page.get_by_role("status").filter(has_text=re.compile(r"^Saved \d"))


def response_text(essay) -> str:
    return DirtResponse.objects.filter(mark__submission=essay).values_list("text", flat=True).first() or ""


@pytest.fixture
def dirt_editor(feedback_url, essay):
    return checks.Editor(
        url=feedback_url,
        field="Your response",
        field_name="text",
        status="#dirt-status",
        endpoint="**" + reverse("classroom:dirt_autosave", args=[essay.assignment_id]),
        storage_prefix="dirt:",
        saved_value=lambda: response_text(essay),
    )


def test_words_typed_offline_come_back_and_are_saved(context, page, live_server, feedback_url, essay):
    log_in(page, live_server, "sam.student", PASSWORD)
    page.goto(feedback_url)
    box = page.get_by_role("textbox", name="Your response")
    box.fill("Source B is a private letter, so")
    expect(saved(page)).to_be_visible()
    assert response_text(essay) == "Source B is a private letter, so"

    context.set_offline(True)
    box.press("End")
    box.type(" Khrushchev could offer more than in public.")
    page.close()  # the tab is closed while offline
    context.set_offline(False)

    again = context.new_page()
    again.goto(feedback_url)
    full = "Source B is a private letter, so Khrushchev could offer more than in public."
    expect(again.get_by_role("textbox", name="Your response")).to_have_value(full)
    expect(saved(again)).to_be_visible()
    checks.wait_until(lambda: response_text(essay) == full, page=again)


def test_text_kept_on_this_device_survives_a_version_saved_elsewhere(context, page, live_server, feedback_url, essay):
    log_in(page, live_server, "sam.student", PASSWORD)
    page.goto(feedback_url)
    box = page.get_by_role("textbox", name="Your response")
    box.fill("First thoughts.")
    expect(saved(page)).to_be_visible()

    # Another tab saves a different version; this tab's next save is refused (409).
    dirt = DirtResponse.objects.get(mark__submission=essay)
    dirt.save_text("Written in another tab.", dirt.revision)
    mine = "First thoughts, then a second paragraph only this tab has."
    box.fill(mine)
    box.blur()
    expect(page.get_by_role("alert").filter(has_text="Your response was changed in another tab")).to_be_visible()

    # Reloading shows this device's text for the student to check, not the other version,
    # which is there to compare; saving waits for the student's choice.
    page.reload()
    expect(page.get_by_role("textbox", name="Your response")).to_have_value(mine)
    expect(page.get_by_role("status").filter(has_text="It differs from the last saved version")).to_be_visible()
    page.get_by_text("Show the other version").click()
    expect(page.get_by_role("alert").get_by_text("Written in another tab.")).to_be_visible()
    page.get_by_role("button", name="Save", exact=True).click()  # not yet: the choice comes first
    expect(page.get_by_role("button", name="Keep this version")).to_be_focused()
    assert response_text(essay) == "Written in another tab."  # nothing overwritten silently
    page.get_by_role("button", name="Keep this version").click()
    expect(saved(page)).to_be_visible()
    expect(page.get_by_role("textbox", name="Your response")).to_have_value(mine)
    assert response_text(essay) == mine


def test_submitting_an_empty_response_then_typing_saves_without_a_false_conflict(
    page, live_server, feedback_url, essay
):
    """The sequence from the UX review (B1): it used to say "changed in another tab", and the
    text was gone after a reload."""
    log_in(page, live_server, "sam.student", PASSWORD)
    page.goto(feedback_url)
    page.get_by_role("button", name="Submit response").click()
    expect(page.get_by_text("Write your response before you submit it.")).to_be_visible()
    box = page.get_by_role("textbox", name="Your response")
    expect(box).to_have_value("")
    # The page may carry an older revision than the server's (the server's side of B1);
    # the content is the same, so the browser must not call it a conflict.
    dirt = DirtResponse.for_mark(Mark.objects.get(submission=essay))
    dirt.save_text("", dirt.revision)
    box.fill("I would use the provenance of Source B.")
    checks.wait_until(lambda: response_text(essay) == "I would use the provenance of Source B.", page=page)
    expect(saved(page)).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="changed in another tab")).to_have_count(0)
    page.goto(feedback_url)  # opened again
    expect(page.get_by_role("textbox", name="Your response")).to_have_value("I would use the provenance of Source B.")
    expect(page.get_by_role("alert").filter(has_text="changed in another tab")).to_have_count(0)


def test_response_survives_offline_and_server_errors_and_saves_by_itself(page, context, live_server, dirt_editor):
    log_in(page, live_server, "sam.student", PASSWORD)
    page.goto(dirt_editor.url)
    checks.offline_then_server_errors_then_recovery(page, context, dirt_editor)


def test_response_typed_just_before_the_tab_is_closed_is_saved(page, context, live_server, dirt_editor):
    log_in(page, live_server, "sam.student", PASSWORD)
    page.goto(dirt_editor.url)
    checks.closing_the_page_saves(page, context, dirt_editor)


@pytest.mark.parametrize("how", ["login redirect", "401", "403"])
def test_response_says_the_session_ended_only_when_it_did(page, context, live_server, dirt_editor, how):
    log_in(page, live_server, "sam.student", PASSWORD)
    page.goto(dirt_editor.url)
    checks.session_ended(page, context, dirt_editor, how)

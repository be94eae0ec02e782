"""Writing an essay in a real browser: autosave, the local copy, conflicts between tabs, submit."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest
from django.db import IntegrityError, OperationalError
from django.db.transaction import TransactionManagementError
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from classroom.models import Submission, count_words
from tests.conftest import PASSWORD
from tests.e2e import autosave_checks as checks
from tests.e2e.conftest import log_in
from tests.factories import AssignmentFactory, EssayPromptFactory, SourceFactory, link_sources

pytestmark = pytest.mark.django_db(transaction=True)

ESSAY = "The Cuban Missile Crisis led to the Hotline, a teleprinter link, in June 1963."


@pytest.fixture
def assignment(school_class):
    prompt = EssayPromptFactory(question="How far did the crisis improve diplomacy?", word_min=300, word_max=600)
    link_sources(prompt, [SourceFactory(label="A", title="Kennedy's address")])
    return AssignmentFactory(school_class=school_class, prompt=prompt, title="Diplomacy essay")


def _open(page, live_server, assignment):
    log_in(page, live_server, "sam.student", PASSWORD)
    page.goto(f"{live_server.url}/classroom/assignments/{assignment.pk}/write/")
    return page.get_by_label("Your essay")


def _status(page):
    return page.get_by_role("status").filter(has_text=re.compile("Saved|Saving|Offline|Not saved|Already"))


def _stored_text(page, assignment) -> str | None:
    """The unsaved text autosave.js keeps in localStorage for this assignment, if any."""
    # One evaluate: the page may remove its copy between listing the keys and reading one.
    raw = page.evaluate(
        """suffix => {
            const key = Object.keys(window.localStorage).find(k => k.startsWith("essay:") && k.endsWith(suffix));
            return key === undefined ? null : window.localStorage.getItem(key);
        }""",
        f":{assignment.pk}",
    )
    return None if raw is None else json.loads(raw)["fields"]["text"]


def test_typed_essay_is_autosaved_and_back_after_a_reload(page, live_server, assignment):
    box = _open(page, live_server, assignment)
    expect(page.get_by_role("heading", name="Diplomacy essay")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Source A"))).to_be_visible()  # beside the essay
    box.fill(ESSAY)
    expect(page.get_by_text(f"{count_words(ESSAY)} words")).to_be_visible()
    expect(_status(page)).to_have_text(re.compile(r"Saved \d\d:\d\d"))
    assert Submission.objects.get().text == ESSAY
    assert _stored_text(page, assignment) is None  # the local copy goes once the server has it
    page.reload()
    expect(page.get_by_label("Your essay")).to_have_value(ESSAY)
    assert page.js_errors == []


def test_text_typed_offline_is_kept_restored_and_saved_when_back_online(page, context, live_server, assignment):
    box = _open(page, live_server, assignment)
    url = page.url
    context.set_offline(True)
    box.fill(ESSAY)
    box.blur()
    expect(_status(page)).to_have_text("Not saved yet — retrying")
    assert _stored_text(page, assignment) == ESSAY
    assert not Submission.objects.filter(text=ESSAY).exists()
    # The tab is closed mid-sentence. (Chromium may still deliver the closing tab's
    # keepalive save once back online; either way every word must come back.)
    page.close()
    context.set_offline(False)
    again = context.new_page()
    again.goto(url)
    expect(again.get_by_label("Your essay")).to_have_value(ESSAY)
    expect(_status(again)).to_have_text(re.compile(r"Saved \d\d:\d\d"))
    assert Submission.objects.get().text == ESSAY
    assert _stored_text(again, assignment) is None


def test_unsaved_local_copy_is_put_back_and_saved_on_the_next_visit(page, live_server, assignment, student):
    _open(page, live_server, assignment)
    # What an earlier visit left behind when it could not reach the server (in the shape
    # essay.js wrote before autosave.js: the copy is still put back).
    page.evaluate(
        "([key, text]) => window.localStorage.setItem(key, JSON.stringify({text: text, base: 0, at: Date.now()}))",
        [f"essay:{student.pk}:{assignment.pk}", ESSAY],
    )
    page.reload()
    expect(page.get_by_label("Your essay")).to_have_value(ESSAY)
    expect(page.get_by_text("has been put back")).to_be_visible()
    expect(_status(page)).to_have_text(re.compile(r"Saved \d\d:\d\d"))
    assert Submission.objects.get().text == ESSAY
    assert _stored_text(page, assignment) is None


def test_offline_autosave_retries_when_the_connection_returns(page, context, live_server, assignment):
    box = _open(page, live_server, assignment)
    context.set_offline(True)
    box.fill(ESSAY)
    box.blur()
    expect(_status(page)).to_have_text("Not saved yet — retrying")
    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(_status(page)).to_have_text(re.compile(r"Saved \d\d:\d\d"))
    assert Submission.objects.get().text == ESSAY
    page.reload()
    expect(page.get_by_label("Your essay")).to_have_value(ESSAY)


def test_two_tabs_cannot_silently_overwrite_each_other(page, context, live_server, assignment):
    first = _open(page, live_server, assignment)
    other = context.new_page()
    other.goto(page.url)
    second = other.get_by_label("Your essay")
    first.fill("Written in the first tab.")
    expect(_status(page)).to_have_text(re.compile("Saved"))
    second.fill("Written in the second tab.")
    second.blur()
    expect(other.get_by_text("This essay was changed in another tab or device.")).to_be_visible()
    assert Submission.objects.get().text == "Written in the first tab."
    other.get_by_role("button", name="Keep this version").click()
    expect(_status(other)).to_have_text(re.compile("Saved"))
    assert Submission.objects.get().text == "Written in the second tab."
    # The first tab now finds the second tab's text and can take it.
    first.fill("Written in the first tab, again.")
    first.blur()
    page.get_by_role("button", name="Use the other version").click()
    expect(first).to_have_value("Written in the second tab.")
    assert Submission.objects.get().text == "Written in the second tab."


def test_submit_through_the_confirmation_makes_the_essay_read_only(page, live_server, assignment):
    box = _open(page, live_server, assignment)
    box.fill(ESSAY)
    page.get_by_role("button", name="Submit…").click()
    expect(page.get_by_role("heading", name="Submit your essay?")).to_be_visible()
    expect(page.get_by_text(f"{count_words(ESSAY)} words")).to_be_visible()
    page.get_by_role("button", name="Submit essay").click()
    expect(page.get_by_text("Your essay has been submitted at")).to_be_visible()
    expect(page.get_by_label("Your essay")).to_have_count(0)
    submission = Submission.objects.get()
    assert (submission.state, submission.text) == (Submission.State.SUBMITTED, ESSAY)
    assert page.js_errors == []


def test_expired_session_keeps_the_text_on_the_device(page, context, live_server, assignment):
    box = _open(page, live_server, assignment)
    context.clear_cookies()
    box.fill(ESSAY)
    box.blur()
    expect(page.get_by_role("alert").filter(has_text="Your session has ended")).to_be_visible()
    assert _stored_text(page, assignment) == ESSAY


def test_timed_essay_submits_the_saved_text_when_time_runs_out(page, live_server, school_class, student):
    assignment = AssignmentFactory(school_class=school_class, time_limit_minutes=1)
    Submission.start(assignment, student, at=timezone.now() - dt.timedelta(seconds=52))
    box = _open(page, live_server, assignment)
    box.fill("Written against the clock.")
    expect(page.get_by_text("Your essay has been submitted at")).to_be_visible(timeout=20_000)
    submission = Submission.objects.get()
    assert (submission.state, submission.text) == (Submission.State.SUBMITTED, "Written against the clock.")


def test_sources_sit_in_a_tab_on_a_narrow_screen(page, live_server, assignment):
    page.set_viewport_size({"width": 390, "height": 800})
    box = _open(page, live_server, assignment)
    source = page.get_by_role("heading", name=re.compile("Source A"))
    expect(box).to_be_visible()
    expect(source).to_be_hidden()
    page.get_by_role("tab", name=re.compile("Sources")).click()
    expect(source).to_be_visible()
    expect(box).to_be_hidden()
    page.get_by_role("tab", name="Essay").click()
    expect(box).to_be_visible()
    assert page.js_errors == []


def test_writing_and_teacher_pages_have_no_serious_accessibility_violations(page, live_server, assignment, student):
    from tests.e2e.a11y import assert_accessible

    submission = Submission.start(assignment, student)
    submission.save_draft(ESSAY, base_revision=0)
    submission.submit(by=student)
    other = AssignmentFactory(school_class=assignment.school_class, title="Second essay")
    log_in(page, live_server, "sam.student", PASSWORD)
    assert_accessible(page, "student home with assignments")
    page.goto(f"{live_server.url}/classroom/assignments/{other.pk}/write/")
    assert_accessible(page, "writing page")
    page.set_viewport_size({"width": 390, "height": 800})
    assert_accessible(page, "writing page, narrow")
    page.context.clear_cookies()
    log_in(page, live_server, "ms.teacher", PASSWORD)
    for path in (
        f"/classroom/classes/{assignment.school_class_id}/assignments/",
        f"/classroom/assignments/{assignment.pk}/",
        f"/classroom/submissions/{submission.pk}/",
        f"/classroom/classes/{assignment.school_class_id}/assignments/new/",
    ):
        page.goto(f"{live_server.url}{path}")
        assert_accessible(page, path)


def test_stale_tab_after_submitting_elsewhere_is_told_and_made_read_only(page, live_server, assignment, student):
    box = _open(page, live_server, assignment)
    submission = Submission.start(assignment, student)  # opening the page wrote nothing
    submission.save_draft(ESSAY, base_revision=0)
    submission.submit(by=student)  # handed in from another device
    box.fill("A change made in the old tab.")
    box.blur()
    expect(_status(page)).to_have_text(re.compile("Already submitted"))
    expect(box).not_to_be_editable()
    assert _stored_text(page, assignment) == "A change made in the old tab."  # kept, not lost
    assert Submission.objects.get().text == ESSAY


def test_without_javascript_save_draft_and_submit_still_work(browser, live_server, assignment):
    context = browser.new_context(java_script_enabled=False, locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        box = _open(page, live_server, assignment)
        box.fill(ESSAY)
        page.get_by_role("button", name="Save draft").click()
        expect(page.get_by_text("Draft saved at")).to_be_visible()
        assert Submission.objects.get().text == ESSAY
        page.get_by_role("button", name="Submit…").click()
        expect(page.get_by_role("heading", name="Submit your essay?")).to_be_visible()
        page.get_by_role("button", name="Submit essay").click()
        expect(page.get_by_text("Your essay has been submitted at")).to_be_visible()
        assert Submission.objects.get().state == Submission.State.SUBMITTED
    finally:
        context.close()


# --- The shared autosave (static/js/autosave.js), checked on the essay ---------------------


@pytest.fixture
def essay_editor(live_server, assignment, student):
    return checks.Editor(
        url=f"{live_server.url}/classroom/assignments/{assignment.pk}/write/",
        field="Your essay",
        field_name="text",
        status="#save-status",
        endpoint="**" + reverse("classroom:autosave", args=[assignment.pk]),
        storage_prefix="essay:",
        saved_value=lambda: (
            Submission.objects.filter(assignment=assignment, student=student).values_list("text", flat=True).first()
            or ""
        ),
    )


def test_essay_survives_offline_and_server_errors_and_saves_by_itself(
    page, context, live_server, assignment, essay_editor
):
    _open(page, live_server, assignment)
    checks.offline_then_server_errors_then_recovery(page, context, essay_editor)


def test_essay_typed_just_before_the_tab_is_closed_is_saved(page, context, live_server, assignment, essay_editor):
    _open(page, live_server, assignment)
    checks.closing_the_page_saves(page, context, essay_editor)


@pytest.mark.parametrize("how", ["login redirect", "401", "403"])
def test_essay_says_the_session_ended_only_when_it_did(page, context, live_server, assignment, essay_editor, how):
    _open(page, live_server, assignment)
    checks.session_ended(page, context, essay_editor, how)


def _log_out(page):
    page.get_by_role("button", name="Sam Student").click()
    page.get_by_role("button", name="Log out").click()


def _delete_when_free(queryset) -> None:
    """Delete, waiting while the live server's thread is busy with a keepalive save landing
    as the network comes back. On SQLite's in-memory test database the server thread shares
    this thread's connection, so meanwhile a query here meets its lock (OperationalError) or
    its transaction, half done or being rolled back after a 409 (TransactionManagementError);
    or the save's rows land inside this delete's transaction, so its commit finds them pointing
    at the essay just deleted (IntegrityError, and the whole transaction is rolled back). Each
    clears when the save ends. PostgreSQL never waits here."""
    for _ in range(50):
        try:
            queryset.delete()
            return
        except (OperationalError, TransactionManagementError, IntegrityError):
            time.sleep(0.1)
    queryset.delete()


def _essay_copies(page) -> list[str]:
    return [key for key in page.evaluate("() => Object.keys(window.localStorage)") if key.startswith("essay:")]


def test_l1_log_out_saves_the_last_words_then_leaves_nothing_on_the_computer(page, live_server, assignment):
    box = _open(page, live_server, assignment)
    box.fill(ESSAY)
    # Straight to Log out, before the autosave's pause: the words are on this device only.
    _log_out(page)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert Submission.objects.get().text == ESSAY
    assert _essay_copies(page) == []
    assert page.js_errors == []


def test_l1_a_copy_left_by_an_earlier_page_is_saved_and_removed_at_log_out(page, context, live_server, assignment):
    box = _open(page, live_server, assignment)
    context.set_offline(True)
    box.fill(ESSAY)
    box.blur()
    expect(_status(page)).to_have_text("Not saved yet — retrying")
    page.wait_for_function("() => Object.keys(localStorage).some(k => k.startsWith('essay:'))")
    left = page.evaluate("() => Object.entries(localStorage).filter(([k]) => k.startsWith('essay:'))")
    page.goto("about:blank")  # the page closes while offline: its copy stays on the device
    context.set_offline(False)
    _delete_when_free(Submission.objects.filter(text=ESSAY))  # in case the closing page's keepalive landed
    again = context.new_page()
    again.goto(f"{live_server.url}/")
    # The device as the closed page left it (a keepalive that landed as the network came back
    # may have let that page clear its copy; the case under test is the copy left behind).
    again.evaluate("(items) => items.forEach(([k, v]) => localStorage.setItem(k, v))", left)
    assert _essay_copies(again) != []
    _log_out(again)
    expect(again.get_by_role("heading", name="Log in")).to_be_visible()
    assert Submission.objects.get().text == ESSAY
    assert _essay_copies(again) == []


def test_l1_log_out_while_offline_asks_and_keeps_the_words(page, context, live_server, assignment):
    box = _open(page, live_server, assignment)
    context.set_offline(True)
    box.fill(ESSAY)
    questions = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    _log_out(page)
    expect(page.get_by_role("button", name="Sam Student")).to_be_visible()
    page.wait_for_function("() => Object.keys(localStorage).some(k => k.startsWith('essay:'))")
    assert questions and "has not reached the server" in questions[0]
    assert _stored_text(page, assignment) == ESSAY  # still on this device, still logged in
    context.set_offline(False)


def test_words_left_on_the_device_when_the_assignment_is_archived_are_shown_to_copy(
    page, context, live_server, assignment, teacher, student
):
    box = _open(page, live_server, assignment)
    box.fill(ESSAY)
    expect(_status(page)).to_have_text(re.compile(r"Saved \d\d:\d\d"))
    context.set_offline(True)
    box.press_sequentially(" Newer words.")
    box.blur()
    expect(_status(page)).to_have_text("Not saved yet — retrying")
    assignment.archive(by=teacher)
    context.set_offline(False)
    page.reload()  # the page's last save is refused (409 "closed"): the words stay on this device only
    expect(page.get_by_text("Your teacher has archived this assignment")).to_be_visible()
    assert Submission.objects.get().text == ESSAY
    kept = page.get_by_label("Words on this device that did not reach the server before the assignment closed")
    expect(kept).to_have_value(ESSAY + " Newer words.")
    expect(kept).not_to_be_editable()
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    page.get_by_role("button", name="Discard").click()
    expect(page.get_by_text("Removed from this device.")).to_be_visible()
    assert _stored_text(page, assignment) is None
    questions = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    _log_out(page)  # nothing left on the device: no question
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert questions == []
    assert [error for error in page.js_errors if "Failed to load resource" not in error] == []


def test_a_device_copy_matching_the_saved_text_of_an_archived_assignment_is_removed_silently(
    page, live_server, assignment, teacher, student
):
    box = _open(page, live_server, assignment)
    box.fill(ESSAY)
    expect(_status(page)).to_have_text(re.compile(r"Saved \d\d:\d\d"))
    assignment.archive(by=teacher)
    page.goto(f"{live_server.url}/")
    page.evaluate(
        "([key, text]) => window.localStorage.setItem(key, JSON.stringify({fields: {text: text}, base: 1}))",
        [f"essay:{student.pk}:{assignment.pk}", ESSAY + "\n"],
    )
    page.goto(f"{live_server.url}/classroom/assignments/{assignment.pk}/write/")
    expect(page.get_by_text("Your teacher has archived this assignment")).to_be_visible()
    expect(page.locator("#device-copy")).to_be_hidden()
    page.wait_for_function(f"() => window.localStorage.getItem('essay:{student.pk}:{assignment.pk}') === null")
    assert page.js_errors == []

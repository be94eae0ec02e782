"""The checks every autosaving editor (essay, mark, response to feedback) must pass in a real
browser, written once: static/js/autosave.js serves all three, so do its tests.

Each check takes an `Editor`: how to find its text field and status line, the autosave URL
to break, its localStorage prefix and how to read the saved value back from the database.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import OperationalError
from playwright.sync_api import Page, expect

SAVED = re.compile(r"^Saved \d\d:\d\d")
RETRYING = "Not saved yet — retrying"
SESSION_ENDED = "Your session has ended — log in again to save; your text is kept on this device"

# Every text the status line shows, so a test can say what it never showed.
WATCH_STATUS = """selector => {
  const el = document.querySelector(selector);
  window.statusLog = [el.textContent];
  const options = {childList: true, characterData: true, subtree: true};
  new MutationObserver(() => window.statusLog.push(el.textContent)).observe(el, options);
}"""


@dataclass
class Editor:
    url: str
    field: str  # the label of the text field the checks type into
    field_name: str  # its name in the form
    status: str  # CSS selector of the status line (role=status)
    endpoint: str  # glob of the autosave URL
    storage_prefix: str  # e.g. "essay:"
    saved_value: Callable[[], str]  # the field's value in the database

    def box(self, page: Page):
        return page.get_by_role("textbox", name=self.field, exact=True)

    def status_line(self, page: Page):
        return page.locator(self.status)


def stored(page: Page, editor: Editor) -> dict | None:
    """The fields autosave.js keeps in localStorage for this editor, if any."""
    # One evaluate: the page may remove its copy between listing the keys and reading one.
    raw = page.evaluate(
        """prefix => {
            const key = Object.keys(window.localStorage).find(k => k.startsWith(prefix));
            return key === undefined ? null : window.localStorage.getItem(key);
        }""",
        editor.storage_prefix,
    )
    return None if raw is None else json.loads(raw)["fields"]


def wait_until(condition: Callable[[], bool], seconds: float = 15, page: Page | None = None) -> None:
    """Poll `condition`; with `page`, wait through Playwright so its route handlers run meanwhile."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if condition():
                return
        except OperationalError:
            pass  # the in-memory SQLite table is busy with the live server's write: ask again
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(250) if page else time.sleep(0.25)


def offline_then_server_errors_then_recovery(page: Page, context, editor: Editor) -> None:
    """Nothing typed is lost while offline or while the server fails; the status says it is
    retrying (never that the session ended); it saves by itself once the server is back."""
    page.evaluate(WATCH_STATUS, editor.status)
    box, status = editor.box(page), editor.status_line(page)
    box.fill("Typed online.")
    expect(status).to_have_text(SAVED)
    assert editor.saved_value() == "Typed online."

    context.set_offline(True)
    box.press("End")
    box.press_sequentially(" Then offline.")
    box.blur()
    expect(status).to_have_text(RETRYING)
    assert stored(page, editor)[editor.field_name] == "Typed online. Then offline."
    context.set_offline(False)
    expect(status).to_have_text(SAVED, timeout=20_000)
    assert editor.saved_value() == "Typed online. Then offline."

    # A proxy's 502 page, then the application's own 500: still only "retrying".
    answers: list[int] = []

    def failing(route):
        answers.append(502 if len(answers) < 2 else 500)
        if answers[-1] == 502:
            route.fulfill(status=502, content_type="text/html", body="<h1>502 Bad Gateway</h1>")
        else:
            route.fulfill(status=500, content_type="application/json", body='{"error": "server error"}')

    page.route(editor.endpoint, failing)
    box.press("End")
    box.press_sequentially(" Then the server failed.")
    box.blur()
    expect(status).to_have_text(RETRYING)
    wait_until(lambda: len(answers) >= 3, seconds=20, page=page)  # retried with back-off: 502, 502, 500
    expect(status).to_have_text(RETRYING)
    page.unroute(editor.endpoint)
    # No more typing: the next retry saves it.
    expect(status).to_have_text(SAVED, timeout=30_000)
    full = "Typed online. Then offline. Then the server failed."
    assert editor.saved_value() == full
    assert stored(page, editor) is None
    log = page.evaluate("() => window.statusLog")
    assert not [text for text in log if "session" in text.lower()], log


def closing_the_page_saves(page: Page, context, editor: Editor) -> None:
    """Closed a moment after typing (before the idle save): the pagehide save gets there."""
    editor.box(page).fill("Typed just before closing the tab.")
    page.close()
    time.sleep(1)  # reading the database at once could lock the table the save writes to
    wait_until(lambda: editor.saved_value() == "Typed just before closing the tab.", seconds=10)


def closed_offline_comes_back_next_visit(page: Page, context, editor: Editor) -> Page:
    """Closed while offline: the copy on this device is put back and saved on the next visit."""
    context.set_offline(True)
    editor.box(page).fill("Typed offline, then the tab was closed.")
    page.close()
    context.set_offline(False)
    again = context.new_page()
    again.goto(editor.url)
    expect(editor.box(again)).to_have_value("Typed offline, then the tab was closed.")
    # Saved from the copy on this device, or by the closing tab's keepalive save if Chromium
    # delivered it once back online: either way it reaches the server and the copy goes.
    wait_until(lambda: editor.saved_value() == "Typed offline, then the tab was closed.", page=again)
    wait_until(lambda: stored(again, editor) is None, page=again)
    return again


def session_ended(page: Page, context, editor: Editor, how: str) -> None:
    """Only a real 401/403 or a redirect to the login page means the session ended."""
    if how == "login redirect":
        context.clear_cookies(name="sessionid")
    else:
        code = int(how)
        page.route(editor.endpoint, lambda route: route.fulfill(status=code, json={"detail": "not allowed"}))
    editor.box(page).fill("Typed after the session ended.")
    editor.box(page).blur()
    expect(editor.status_line(page)).to_have_text(SESSION_ENDED)
    expect(page.get_by_role("alert").filter(has_text="Your session has ended")).to_be_visible()
    expect(page.get_by_role("link", name="log in again")).to_be_visible()
    assert stored(page, editor)[editor.field_name] == "Typed after the session ended."
    assert editor.saved_value() != "Typed after the session ended."

"""Real-browser tests: Playwright for Python driving the system Chromium.

Chromium comes from the operating system (`apt-get install chromium`); Playwright's own
browser download is not used. Without /usr/bin/chromium these tests are skipped, unless
REQUIRE_BROWSER=1 (as CI sets), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test's thread; the ORM calls the
# tests make from that thread are still ordinary synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    # Closing pages fires their autosaves (pagehide, keepalive). After the test they must not
    # reach the live server while the test database is being flushed: go offline first.
    context.set_offline(True)
    context.close()
    time.sleep(0.3)  # let a request already on its way finish before the database is flushed


@pytest.fixture
def page(context):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.js_errors = errors
    yield page


# Where the text `quote` is drawn inside `root`: its first and last characters' centres.
TEXT_POSITION = """(root, quote) => {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  let whole = "";
  while (walker.nextNode()) { nodes.push([walker.currentNode, whole.length]); whole += walker.currentNode.data; }
  const at = whole.indexOf(quote);
  if (at < 0) return null;
  const rectOf = offset => {
    for (const [node, start] of nodes) {
      if (offset < start + node.data.length) {
        const range = document.createRange();
        range.setStart(node, offset - start);
        range.setEnd(node, offset - start + 1);
        return range.getBoundingClientRect();
      }
    }
  };
  const first = rectOf(at), last = rectOf(at + quote.length - 1);
  return {x1: first.left + 1, y1: first.top + first.height / 2, x2: last.right - 1, y2: last.top + last.height / 2};
}"""


def select_text(page, quote: str, region=None) -> None:
    """Select `quote` in the essay (or in `region`, a locator) as a reader does: scroll it into
    view, then drag the mouse from its first character to its last."""
    region = region if region is not None else page.locator("#essay")
    region.get_by_text(re.compile(re.escape(quote[:20]))).first.scroll_into_view_if_needed()
    spot = region.evaluate(TEXT_POSITION, quote)
    assert spot, f"“{quote}” is not in the essay"
    page.mouse.move(spot["x1"], spot["y1"])
    page.mouse.down()
    page.mouse.move(spot["x2"], spot["y2"], steps=8)
    page.mouse.up()


def log_in(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")

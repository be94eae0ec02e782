"""Accessibility checks with axe-core (vendored from the npm package, tests only).

`axe_check(page)` runs the WCAG 2.0/2.1/2.2 A and AA rules on the current page and
returns the violations grouped by impact. The script is evaluated through the DevTools
protocol, which the page's Content-Security-Policy does not govern, so the app's strict
CSP stays on while it is checked.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

AXE_PATH = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
BLOCKING = {"serious", "critical"}


@cache
def _axe_source() -> str:
    return AXE_PATH.read_text(encoding="utf-8")


def axe_check(page) -> dict:
    """Run axe on the page; return {"counts": {impact: n}, "blocking": [violation summaries]}.

    The page is checked at rest: the pointer is moved off it and transitions are turned off
    (prefers-reduced-motion), so a button that has just appeared under the pointer is not
    measured half-way through its hover colours."""
    page.mouse.move(0, 0)
    page.emulate_media(reduced_motion="reduce")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    counts: Counter[str] = Counter()
    blocking = []
    found = []
    for violation in result["violations"]:
        impact = violation.get("impact") or "unknown"
        counts[impact] += len(violation["nodes"])
        found.append(f"{impact}: {violation['id']} at {[node['target'] for node in violation['nodes'][:5]]}")
        if impact in BLOCKING:
            targets = [node["target"] for node in violation["nodes"][:5]]
            blocking.append(f"{impact}: {violation['id']} — {violation['help']} at {targets}")
    return {"counts": dict(counts), "blocking": blocking, "found": found}


def assert_accessible(page, label: str) -> dict:
    """Fail on any serious or critical violation; print the counts by impact either way."""
    report = axe_check(page)
    print(f"axe {label}: {report['counts'] or 'no violations'}")
    assert not report["blocking"], f"{label}: " + "; ".join(report["blocking"])
    return report

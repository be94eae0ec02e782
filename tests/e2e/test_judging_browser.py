"""Comparative judgement (issue 15) in a real browser: a teacher sets up a session on their
class's essays, judges every pair offered (with the mouse and with the ← and → keys), reads
the rank order and accepts the suggested marks into the markbook; the judging screen's layout
on a laptop, a tablet and a phone; the question and sources one click away; the arrow keys
left alone while a note is being typed; axe on the judging screen and the results; and a
pupil judge who sees no writer's name.

Six pupils hand in essays whose quality is written into them ("Quality level 3."), so the
test knows which script of a pair is the better one, as a judge reading them would."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from classroom import judging
from classroom.models import Judgement, JudgingScript, Mark, MarkChange
from tests.conftest import PASSWORD
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import log_in
from tests.factories import SourceFactory, StudentFactory, link_sources
from tests.helpers import give_mark, hand_in

pytestmark = pytest.mark.django_db(transaction=True)

# The writers, weakest first: the index is the quality written into their essay.
WRITERS = [
    ("Aldous", "Brightwater"),
    ("Bryony", "Castellan"),
    ("Cosmo", "Dunstable"),
    ("Delphine", "Ellesmere"),
    ("Ezra", "Fairweather"),
    ("Farah", "Gildersleeve"),
]
WRITER_NAMES = [part for name in WRITERS for part in name]
# Anchors: the weakest, a middle and the best essay marked, not released (AO1, AO2, SPaG).
ANCHORS = {0: (1, 1, 1), 3: (3, 4, 2), 5: (4, 6, 4)}
# With a target of five every one of the six scripts meets every other once: the fifteen
# choices fix the whole order, so the rank order on the results page can be checked exactly.
TARGET = 5
PAIRS = 15
PARAGRAPH = (
    "The Cuban Missile Crisis of October 1962 brought the superpowers closer to nuclear war than at any "
    "other time. Kennedy and Khrushchev each had to find a way back from the brink without losing face, "
    "and historians still argue about how far the crisis changed the relationship between them. "
)
LAPTOP_AND_TABLETS = [{"width": 1280, "height": 800}, {"width": 768, "height": 1024}, {"width": 1024, "height": 768}]
QUALITY = re.compile(r"Quality level (\d)\.")
NOTE = "The better one weighs the Hotline against the arms race."

# The boxes of the two scripts and their buttons, the page's widths and its scroll position.
PAIR_LAYOUT = """() => {
  const box = el => { const r = el.getBoundingClientRect();
    return {x: r.left, y: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height}; };
  const scripts = Array.from(document.querySelectorAll('.judging-script'));
  const buttons = Array.from(document.querySelectorAll('button[name="choice"]'));
  return {
    scripts: scripts.map(el => ({...box(el), overflowY: getComputedStyle(el).overflowY,
                                 scrollHeight: el.scrollHeight, clientHeight: el.clientHeight})),
    buttons: buttons.map(box),
    innerWidth: window.innerWidth, innerHeight: window.innerHeight,
    scrollWidth: document.documentElement.scrollWidth, scrollY: window.scrollY,
  };
}"""


def essay_text(first: str, last: str, quality: int) -> str:
    """A long essay (so it scrolls on the judging screen) that names its writer, as pupils'
    essays sometimes do, and says how good it is; better essays are longer."""
    opening = f"My name is {first} {last}. Quality level {quality}."
    return "\n\n".join([opening] + [PARAGRAPH * 2] * (4 + quality))


def quality_of(text: str) -> int:
    found = QUALITY.search(text)
    assert found, f"no quality marker in the script: {text[:80]!r}"
    return int(found.group(1))


@pytest.fixture
def essays(school_class, marking_assignment, teacher):
    """Six pupils of the teacher's class hand in essays of rising quality, the question gets two
    sources, and the weakest, a middle and the best essay are marked (not released): the
    anchors. Returns the submissions, weakest first."""
    link_sources(
        marking_assignment.prompt,
        [
            SourceFactory(title="Kennedy to Khrushchev", excerpt="I have read your letter of October 26th."),
            SourceFactory(title="The Hotline agreement", excerpt="Each government shall take the necessary steps."),
        ],
    )
    submissions = []
    for quality, (first, last) in enumerate(WRITERS):
        pupil = StudentFactory(username=f"{first.lower()}.{last.lower()}", first_name=first, last_name=last)
        school_class.enrol(pupil)
        submissions.append(hand_in(marking_assignment, pupil, text=essay_text(first, last, quality)))
    for quality, (ao1, ao2, spag) in ANCHORS.items():
        give_mark(submissions[quality], teacher, ao1, ao2, spag, release=False)
    return submissions


@pytest.fixture
def session(essays, teacher, marking_assignment, other_class):
    """A session on the essays, set up through the model; pupils of 11E (another class) judge too."""
    return judging.create_session(
        teacher, "Year 10 essays", [marking_assignment], target=TARGET, peer_judging=True, judge_classes=[other_class]
    )


def judge_every_pair(session, judge) -> int:
    """Decide every pair the session offers `judge` through the model, the better essay winning."""
    made = 0
    while (pair := judging.pair_for(session, judge)) is not None:
        left, right = (JudgingScript.objects.get(pk=pk).text for pk in (pair.left_id, pair.right_id))
        judging.decide(pair, judge, "left" if quality_of(left) > quality_of(right) else "right")
        made += 1
    return made


def judge_url(live_server, session) -> str:
    return live_server.url + reverse("classroom:judging_judge", args=[session.pk])


def scripts_on_screen(page) -> tuple[str, str]:
    """The texts of the left and the right script as the judge sees them."""
    scripts = page.locator(".judging-script")
    expect(scripts).to_have_count(2)
    return scripts.nth(0).inner_text(), scripts.nth(1).inner_text()


def wait_for_count(page, made: int) -> None:
    """The page after a choice: the judging screen counting `made`, or the end of judging."""
    plural = "" if made == 1 else "s"
    expect(page.locator("main")).to_contain_text(
        re.compile(rf"You have made {made} judgement{plural}\.|thank you for your {made} judgement{plural}\.")
    )


def no_violations(page, label: str) -> None:
    """axe finds nothing on the page, whatever its impact."""
    report = assert_accessible(page, label)
    assert report["counts"] == {}, f"{label}: {report['found']}"


# --- 1. the journey --------------------------------------------------------------------------------


def test_a_teacher_sets_up_judges_reads_the_rank_order_and_accepts_the_suggested_marks(page, live_server, essays):
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(live_server.url + reverse("classroom:judging_create"))
    page.get_by_label("Title").fill("Year 10 essays")
    page.get_by_label("10H History: How far essay").check()
    page.get_by_label("Judgements per script").fill(str(TARGET))
    page.get_by_role("button", name="Set it up").click()
    expect(page.get_by_text("Session set up with 6 scripts.")).to_be_visible()
    expect(page.get_by_role("heading", name="Year 10 essays", level=1)).to_be_visible()

    # Judge every pair offered: the mouse for even-numbered choices, the keys for odd ones; the
    # second choice carries a note (typed, then the button clicked: keys do nothing while typing).
    page.get_by_role("link", name="Judge", exact=True).click()
    for made in range(PAIRS):
        expect(page.get_by_role("heading", name="Which is the better answer?", level=1)).to_be_visible()
        left, right = (quality_of(text) for text in scripts_on_screen(page))
        side = "left" if left > right else "right"
        if made == 1:
            page.get_by_label("A note on this choice").fill(NOTE)
        if made % 2 == 0 or made == 1:
            page.get_by_role("button", name=f"{side.capitalize()} is better").click()
        else:
            page.wait_for_load_state()  # judging.js (deferred) is listening for the keys
            page.keyboard.press("ArrowLeft" if side == "left" else "ArrowRight")
        wait_for_count(page, made + 1)
    expect(page.get_by_text("There are no more pairs for you to judge")).to_be_visible()
    session = judging.JudgingSession.objects.get(title="Year 10 essays")
    decided = list(session.judgements.filter(decided_at__isnull=False).select_related("winner", "left", "right"))
    assert len(decided) == PAIRS, f"{len(decided)} judgements recorded, {PAIRS} made"
    assert all(quality_of(j.winner.text) == max(quality_of(j.left.text), quality_of(j.right.text)) for j in decided)
    assert len({frozenset((j.left_id, j.right_id)) for j in decided}) == PAIRS, "a pair was shown twice"
    assert [j.note for j in decided if j.note] == [NOTE]
    assert not session.judgements.filter(decided_at__isnull=True).exists()

    # The results: the scripts in their true order, best first; the anchors' marks set the scale.
    page.get_by_role("link", name="See the results").click()
    rows = page.locator("table.judging-results tbody tr")
    expect(rows).to_have_count(len(WRITERS))
    headers = rows.locator("th").all_inner_texts()
    ranked = [next(q for q, (first, last) in enumerate(WRITERS) if f"{first} {last}" in th) for th in headers]
    assert ranked == [5, 4, 3, 2, 1, 0], f"rank order by quality: {ranked}"
    expect(page.locator("#anchoring-line")).to_contain_text("3 anchors")

    # The unmarked scripts' suggested marks are ticked, the anchors have no box; the suggestions
    # rise with the rank. Accept the ticked marks.
    suggested: dict[int, int] = {}
    for row, quality in zip(rows.all(), ranked, strict=True):
        box = row.get_by_role("checkbox")
        if quality in ANCHORS:
            expect(box).to_have_count(0)
            expect(row).to_contain_text("An anchor")
            continue
        expect(box).to_be_checked()
        suggested[quality] = int(row.locator("td").nth(6).locator("strong").inner_text())
    assert sorted(suggested) == [1, 2, 4]
    assert suggested[1] <= suggested[2] <= suggested[4], f"suggested marks by quality: {suggested}"
    page.get_by_role("button", name="Accept the ticked marks").click()
    expect(page.get_by_role("status").filter(has_text="Accepted 3 suggested marks into the markbook")).to_contain_text(
        "complete, not yet released to pupils"
    )
    for quality, total in suggested.items():
        mark = Mark.objects.get(submission=essays[quality])
        assert mark.is_complete and not mark.is_released, f"quality {quality}: mark not complete"
        assert mark.total == total, f"quality {quality}: total {mark.total}, suggested {total}"
        assert MarkChange.objects.filter(mark=mark, source=MarkChange.Source.JUDGEMENT).exists()
    for quality in ANCHORS:
        assert not MarkChange.objects.filter(mark__submission=essays[quality]).exists()
    # The page now shows those marks as accepted, with no box to tick again.
    expect(page.locator("table.judging-results").get_by_text("Accepted.", exact=True)).to_have_count(3)
    expect(page.get_by_role("checkbox")).to_have_count(0)
    assert page.js_errors == []


# --- 2. layout -------------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", LAPTOP_AND_TABLETS, ids=["laptop", "tablet-portrait", "tablet-landscape"])
def test_on_a_laptop_or_tablet_the_scripts_sit_side_by_side_and_scroll_on_their_own(
    page, live_server, session, viewport
):
    page.set_viewport_size(viewport)
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(judge_url(live_server, session))
    layout = page.evaluate(PAIR_LAYOUT)
    left, right = layout["scripts"]
    assert left["x"] < right["x"] and left["right"] <= right["x"], f"not side by side: {left} {right}"
    assert abs(left["y"] - right["y"]) < 5, f"not on one row: left at y={left['y']}, right at y={right['y']}"
    assert layout["scrollWidth"] <= layout["innerWidth"], (
        f"the page overflows sideways: {layout['scrollWidth']} > {layout['innerWidth']}"
    )
    for side, script in (("left", left), ("right", right)):
        assert script["overflowY"] in ("auto", "scroll") and script["scrollHeight"] > script["clientHeight"], (
            f"the {side} script does not scroll on its own: {script}"
        )
    # The page scrolled to the pair: both scripts and both buttons in view at once.
    page.locator(".judging-pair").evaluate("pair => window.scrollBy(0, pair.getBoundingClientRect().top - 8)")
    layout = page.evaluate(PAIR_LAYOUT)
    for side, script, button in zip(("left", "right"), layout["scripts"], layout["buttons"], strict=True):
        assert script["y"] >= 0 and button["bottom"] <= layout["innerHeight"], (
            f"the {side} script and its button do not fit in view together at {viewport}: "
            f"script top {script['y']:.0f}, button bottom {button['bottom']:.0f}, viewport {layout['innerHeight']}"
        )

    # The wheel over the left script scrolls it, and neither the right one nor the page.
    scripts = page.locator(".judging-script")
    scripts.nth(0).hover()
    page.mouse.wheel(0, 300)
    expect(scripts.nth(0)).not_to_have_js_property("scrollTop", 0)
    assert scripts.nth(1).evaluate("el => el.scrollTop") == 0
    assert page.evaluate("window.scrollY") == layout["scrollY"]
    assert page.js_errors == []


def test_the_choice_buttons_are_in_view_as_the_page_opens(page, live_server, session):
    log_in(page, live_server, "ms.teacher", PASSWORD)
    for viewport in LAPTOP_AND_TABLETS:
        page.set_viewport_size(viewport)
        page.goto(judge_url(live_server, session))
        layout = page.evaluate(PAIR_LAYOUT)
        for side, button in zip(("left", "right"), layout["buttons"], strict=True):
            assert button["bottom"] <= layout["innerHeight"], (
                f"the {side} button is out of view at {viewport}: its bottom at {button['bottom']:.0f} px"
            )


def test_on_a_phone_the_scripts_stack(page, live_server, session):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(judge_url(live_server, session))
    layout = page.evaluate(PAIR_LAYOUT)
    left, right = layout["scripts"]
    assert right["y"] >= left["bottom"], f"not stacked: left {left}, right {right}"
    assert abs(left["x"] - right["x"]) < 1
    assert layout["scrollWidth"] <= layout["innerWidth"], (
        f"the page overflows sideways: {layout['scrollWidth']} > {layout['innerWidth']}"
    )
    page.get_by_role("button", name="Right is better").scroll_into_view_if_needed()
    expect(page.get_by_role("button", name="Right is better")).to_be_in_viewport()


# --- 3. sources ------------------------------------------------------------------------------------


def test_the_question_and_sources_are_one_click_away(page, live_server, session):
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(judge_url(live_server, session))
    cards = page.locator(".source-card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_be_hidden()
    page.get_by_text("The question and sources", exact=True).click()
    expect(cards.nth(0)).to_be_visible()
    expect(cards.nth(0)).to_contain_text("Kennedy to Khrushchev")
    expect(cards.nth(0)).to_contain_text("I have read your letter of October 26th.")
    expect(cards.nth(1)).to_contain_text("The Hotline agreement")
    no_violations(page, "judging screen, sources open")


# --- 4. keys ---------------------------------------------------------------------------------------


def test_the_arrow_keys_choose_but_not_while_a_note_is_being_typed(page, live_server, session, teacher):
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(judge_url(live_server, session))
    pair = Judgement.objects.get(session=session, judge=teacher, decided_at__isnull=True)
    note = page.get_by_label("A note on this choice")
    note.fill("Both are close")
    note.press("ArrowLeft")
    note.press("ArrowRight")
    page.wait_for_timeout(400)  # time for a submission to have begun, were one sent
    pair.refresh_from_db()
    assert pair.decided_at is None, "an arrow key in the note field chose a script"
    expect(page.locator('input[name="judgement"]')).to_have_value(str(pair.pk))
    expect(note).to_have_value("Both are close")
    # Outside the note field, ← chooses the left script (and the note goes with it).
    page.get_by_role("heading", name="Which is the better answer?").click()
    page.keyboard.press("ArrowLeft")
    wait_for_count(page, 1)
    pair.refresh_from_db()
    assert (pair.winner_id, pair.note) == (pair.left_id, "Both are close")
    assert page.js_errors == []


# --- 5. axe ----------------------------------------------------------------------------------------


def test_the_judging_screen_and_the_results_pass_axe(page, live_server, session, teacher, other_teacher):
    log_in(page, live_server, "ms.teacher", PASSWORD)
    page.goto(judge_url(live_server, session))
    expect(page.get_by_role("heading", name="Which is the better answer?")).to_be_visible()
    no_violations(page, "judging screen")
    # The teacher's pair left waiting, another teacher judges everything: the results have a
    # scale, anchors and suggested marks to tick.
    judge_every_pair(session, other_teacher)
    page.goto(live_server.url + reverse("classroom:judging_results", args=[session.pk]))
    expect(page.get_by_role("button", name="Accept the ticked marks")).to_be_visible()
    no_violations(page, "judging results")
    assert page.js_errors == []


# --- 6. a pupil judge ------------------------------------------------------------------------------


def test_a_pupil_judge_sees_the_pair_with_no_names(page, live_server, session):
    log_in(page, live_server, "olly.outsider", PASSWORD)
    page.goto(judge_url(live_server, session))
    expect(page.get_by_role("heading", name="Which is the better answer?", level=1)).to_be_visible()
    left, right = scripts_on_screen(page)
    assert QUALITY.search(left) and QUALITY.search(right)
    assert "My name is [name] [name]." in left, "the writer's name is not masked in the script"
    text, html = page.locator("body").inner_text(), page.content()
    named = [name for name in WRITER_NAMES if re.search(rf"\b{name}\b", text) or name in html]
    assert named == [], f"the pupil judge is shown writers' names: {named}"
    # No results for a pupil either.
    expect(page.get_by_role("link", name="See the results")).to_have_count(0)
    no_violations(page, "pupil judging screen")
    assert page.js_errors == []

"""Teacher authoring in a real browser (issue 12 item 10): a teacher copies a lesson, a source, an
essay question and a (used) mark scheme, opens each copy's edit page, saves it unchanged, and
every field comes back identical: dates and timeline rows (the browser's date picker only takes
yyyy-mm-dd), line breaks (sent as CRLF), criteria and levels."""

from __future__ import annotations

import pytest
from django.db.models import Count
from playwright.sync_api import expect

from crisis.content.loader import CONTENT_DIR, load_unit
from crisis.models import EssayPrompt, Lesson, MarkScheme, Source
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.factories import AssignmentFactory
from tests.helpers import hand_in, mark_revision
from tests.test_authoring_roundtrip import snapshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def unit(db):
    load_unit(CONTENT_DIR / "cuban_missile_crisis")


def make_my_copy(page, url: str, model, original, button: str = "Make my copy"):
    page.goto(url)
    page.get_by_role("button", name=button).click()
    expect(page.get_by_text("This is your own copy")).to_be_visible()
    return model.objects.filter(copied_from=original).latest("pk")


def save(page, button: str, message: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_text(message)).to_be_visible()


def mark_one_essay(prompt: EssayPrompt, school_class, student, teacher) -> None:
    """An essay set from the question, marked at each criterion's top level: its scheme is now fixed."""
    essay = hand_in(AssignmentFactory(school_class=school_class, prompt=prompt), student)
    scores = {}
    for criterion in prompt.mark_scheme.criteria.prefetch_related("levels"):
        top = max(criterion.levels.all(), key=lambda level: level.number)
        scores[criterion.pk] = (top.pk, top.max_marks)
    essay.record_mark(teacher, scores, base_revision=mark_revision(essay), www="Clear").complete(by=teacher)


def test_teacher_copies_each_kind_of_item_and_saves_it_unchanged(page, live_server, school_class, unit):
    teacher, student = school_class.teachers.get(), school_class.active_students().get()
    log_in(page, live_server, "ms.teacher", PASSWORD)

    # A lesson with the longest timeline: every date arrives in its picker and saves as it was.
    lesson = Lesson.objects.shipped().annotate(n=Count("timeline")).order_by("-n", "order").first()
    copy = make_my_copy(page, f"{live_server.url}/learn/lessons/{lesson.pk}/", Lesson, lesson)
    before = snapshot(copy)
    events = list(copy.timeline.order_by("sort_date", "pk"))
    assert len(events) >= 3
    for index, event in enumerate(events):
        expect(page.locator(f"input[name='timeline-{index}-sort_date']")).to_have_value(event.sort_date.isoformat())
    save(page, "Save lesson", "Lesson saved.")
    assert snapshot(copy) == before

    # A source: its date too.
    source = Source.objects.shipped().order_by("label").first()
    copy = make_my_copy(page, f"{live_server.url}/learn/sources/{source.pk}/", Source, source)
    before = snapshot(copy)
    expect(page.locator("input[name='date']")).to_have_value(source.date.isoformat())
    save(page, "Save source", "Source saved.")
    assert snapshot(copy) == before

    # An essay question, with its own copy of the mark scheme, named apart from the original.
    # One in the board format: a level 0, AO labels, qualification and guidance, model answers.
    prompts = EssayPrompt.objects.shipped().select_related("mark_scheme").order_by("slug")
    prompt = prompts.filter(mark_scheme__criteria__levels__number=0, model_answers__isnull=False).first()
    copy = make_my_copy(page, f"{live_server.url}/learn/prompts/{prompt.pk}/", EssayPrompt, prompt)
    before = snapshot(copy)
    assert before["answers"] and before["scheme"]["scheme"]["qualification"] and before["scheme"]["scheme"]["guidance"]
    assert all(c["assessment_objectives"] and c["levels"][0]["number"] == 0 for c in before["scheme"]["criteria"])
    save(page, "Save essay question", "Essay prompt saved.")
    assert snapshot(copy) == before
    assert copy.mark_scheme.name == f"{prompt.mark_scheme.name} (copy)"

    # Once an essay is marked with that scheme it is fixed: the page offers a copy, which saves
    # unchanged too, criteria and every criterion's levels.
    mark_one_essay(copy, school_class, student, teacher)
    used = copy.mark_scheme
    scheme = make_my_copy(
        page, f"{live_server.url}/learn/mark-schemes/{used.pk}/edit/", MarkScheme, used, "Make an editable copy"
    )
    assert scheme.name == f"{prompt.mark_scheme.name} (copy 2)"
    expect(page.locator("input[name='name']")).to_have_value(scheme.name)
    before = snapshot(scheme)
    assert before["criteria"] and all(criterion["levels"] for criterion in before["criteria"])
    save(page, "Save mark scheme", "Mark scheme saved.")
    for criterion in scheme.criteria.all():
        page.get_by_role("link", name=f"Edit the levels for {criterion.code} {criterion.name}").click()
        save(page, "Save levels", f"Levels for {criterion.code} saved.")
    assert snapshot(scheme) == before
    assert page.js_errors == []

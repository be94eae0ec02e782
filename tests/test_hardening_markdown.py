"""Security review M3: teachers' Markdown could make a page take minutes to render.

A run of 16,000 "[" in a lesson took python-markdown 116 s, on every request. Now the
Markdown is capped in length, rendered once when saved (pages show the stored HTML), and
rendered by a python-markdown that no input makes rescan the text (crisis/markdown.py).
The worst inputs found are in WORST; bench/markdown_bench.py times them at several
lengths, before and after.
"""

from __future__ import annotations

import shutil
import sys
import time
import uuid
from pathlib import Path

import markdown as python_markdown
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from classroom.models import Assignment
from crisis.content.loader import CONTENT_DIR, LoaderError, load_unit
from crisis.markdown import LESSON_TEXT_MAX, SHORT_TEXT_MAX, clean_html, render_html, render_markdown
from crisis.models import EssayPrompt, Lesson, Unit
from tests.factories import AssignmentFactory, EssayPromptFactory, LessonFactory, UnitFactory
from tests.test_content_authoring import post_data

pytestmark = pytest.mark.django_db


def _fill(unit: str, n: int) -> str:
    return (unit * (n // len(unit) + 1))[:n]


def _lines(line, n: int) -> str:
    """Lines line(0), line(1), … up to n characters."""
    out, length, i = [], 0, 0
    while length < n:
        out.append(line(i) + "\n")
        length += len(out[-1])
        i += 1
    return "".join(out)[:n]


# Each makes exactly n characters. The times before this change (python-markdown 3.11 as it
# comes) are in bench/markdown_bench.py; most took minutes at the cap, or never finished.
WORST = {
    "run of [": lambda n: "[" * n,
    "run of ![": lambda n: _fill("![", n),
    "[]( never closed": lambda n: _fill("[](", n),
    "[ then ]( repeats": lambda n: "[" * (n // 2) + _fill("](", n - n // 2),
    "nested [[[…]]]": lambda n: "[" * (n // 2) + "]" * (n - n // 2),
    "[a][ references": lambda n: _fill("[a][", n),
    "link title never closed": lambda n: _fill('[a](b "x) ', n),
    "image <destination never closed": lambda n: _fill("![a](<", n),
    "mixed [![`*_<": lambda n: _fill("[![`*_<", n),
    "<a tags never closed": lambda n: _fill("<a ", n),
    '<a b=" attribute never closed': lambda n: _fill('<a b="', n),
    "<http:// autolinks never closed": lambda n: _fill("<http://", n),
    "run of <": lambda n: "<" * n,
    "tags <a>": lambda n: _fill("<a>", n),
    "emphasis ***a": lambda n: _fill("***a", n),
    "emphasis _a": lambda n: _fill("_a", n),
    "backtick runs `a``a```a": lambda n: "".join("`" * i + "a" for i in range(1, 400))[:n],
    "escaped \\`": lambda n: _fill("\\`", n),
    "escaped \\[": lambda n: _fill("\\[", n),
    "entities &amp;": lambda n: _fill("&amp;", n),
    "quotation nesting > > >": lambda n: _fill("> ", n),
    "list nesting - - - a": lambda n: _fill("- ", n - 1) + "a",
    "list nesting 1. 1. 1. a": lambda n: _fill("1. ", n - 1) + "a",
    "list nesting by indent": lambda n: _lines(lambda i: "    " * i + "- a", n),
    "list items": lambda n: _fill("- a\n", n),
    "table cells `|": lambda n: ("a|b\n-|-\n" + _fill("`|", n))[:n],
    "table rows a|b / -|-": lambda n: _fill("a|b\n-|-\n", n),
    "one-column table, then headings # a|": lambda n: ("|\n" + _fill("# a|\n", n))[:n],
    "code and heading lines": lambda n: _fill("    a\n# h\n", n),
    "wide tables over short rows": lambda n: _fill("|a" * 100 + "\n" + "|-" * 100 + "\n" + "x\n" * 98 + "\n", n),
    "one reference used again and again": lambda n: (
        "[r]: http://example.org/" + "a" * (n // 2) + "\n\n" + _fill("[r]", n)
    )[:n],
    "code spans never closed ```[a][a]\\`": lambda n: _fill("```[a][a]\\`", n),
    "comments in open tags <a><!-- -->": lambda n: ("\n" + _fill('<a href="x">\n<!-- c -->\n', n))[:n],
    "heading lines #": lambda n: _fill("#\n", n),
    "setext headings a / =": lambda n: _fill("a\n=\n", n),
    "rules ***": lambda n: _fill("***\n", n),
    "paragraph and rule a / ***": lambda n: _fill("a\n***\n", n),
    "paragraphs <": lambda n: _fill("<\n\n", n),
}
NESTING = ["quotation nesting > > >", "list nesting - - - a", "list nesting 1. 1. 1. a", "list nesting by indent"]


@pytest.fixture
def shipped(db) -> Unit:
    load_unit(CONTENT_DIR / "cuban_missile_crisis")
    return Unit.objects.shipped().get()


# --- (a) the worst inputs, at the longest allowed length, render in well under a second ------


@pytest.mark.parametrize("name", list(WORST))
def test_m3_the_worst_inputs_at_the_cap_render_in_well_under_a_second(name):
    text = WORST[name](LESSON_TEXT_MAX)
    assert len(text) == LESSON_TEXT_MAX
    started = time.process_time()  # CPU time: what a worker spends, whatever else the machine runs
    html = render_markdown(text)
    assert time.process_time() - started < 1.0
    assert len(html) < 20 * len(text)  # and no page grows with the square of the text either


@pytest.mark.parametrize("name", NESTING)
def test_m3_deep_nesting_renders_within_a_small_stack(name):
    """python-markdown recursed once per list level: "- - - … a" was a RecursionError (a 500)."""
    text = WORST[name](LESSON_TEXT_MAX)
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 150)
    try:
        html = render_markdown(text)
    finally:
        sys.setrecursionlimit(limit)
    assert html.count("<li>") + html.count("<blockquote>") > 0


def test_m3_normal_links_and_text_render_as_before():
    text = (
        '## Sources\n\nRead [the Hotline agreement](https://example.org/hotline "1963") and '
        "[Source A](/learn/sources/1/) [1]. An ![image](x.png) goes; *emphasis* and **strong** stay.\n\n"
        "- a [link](https://example.org/a_(b)) in a list\n\n> a quotation with a [link][ref]\n\n"
        "| Year | Event |\n|------|-------|\n| 1963 | `Hotline` |\n\n[ref]: https://example.org/ref\n"
    )
    plain = python_markdown.markdown(text, extensions=["sane_lists", "tables"], output_format="html")
    assert render_html(text) == clean_html(plain)
    assert '<a href="https://example.org/a_(b)" rel="noopener">link</a>' in render_html(text)


def test_m3_an_unclosed_tag_is_shown_as_text_as_before():
    assert render_html("3 <a 4 and <b 5") == "<p>3 &lt;a 4 and &lt;b 5</p>"


# --- (b) pages show the stored HTML and never render ----------------------------------------


def _refuse_to_render(self, source):
    raise AssertionError("a page rendered Markdown")


@pytest.fixture
def saved_content(db):
    """A unit, a lesson and a question with Markdown no earlier test (or cache) has seen."""
    marker = uuid.uuid4().hex
    unit = UnitFactory(overview=f"The **{marker}** unit.")
    LessonFactory(unit=unit, body=f"A **{marker}** lesson.")
    EssayPromptFactory(unit=unit, instructions=f"Use **{marker}** sources.")
    return marker, unit


def test_m3_unit_lesson_and_question_pages_render_no_markdown(client, student, saved_content, monkeypatch):
    marker, unit = saved_content
    lesson, prompt = unit.lessons.get(), unit.prompts.get()
    monkeypatch.setattr(python_markdown.Markdown, "convert", _refuse_to_render)
    client.force_login(student)
    for url in [
        reverse("content:unit", args=[unit.pk]),
        reverse("content:lesson", args=[lesson.pk]),
        reverse("content:prompt", args=[prompt.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert f"<strong>{marker}</strong>" in response.content.decode(), url


def test_m3_the_writing_page_renders_no_markdown(client, school_class, student, monkeypatch):
    marker = uuid.uuid4().hex
    assignment = AssignmentFactory(school_class=school_class, instructions=f"Plan for **{marker}** minutes.")
    monkeypatch.setattr(python_markdown.Markdown, "convert", _refuse_to_render)
    client.force_login(student)
    response = client.get(reverse("classroom:write", args=[assignment.pk]))
    assert response.status_code == 200
    assert f"<strong>{marker}</strong>" in response.content.decode()


def test_m3_the_lesson_page_shows_the_stored_column(client, student, saved_content):
    _marker, unit = saved_content
    lesson = unit.lessons.get()
    Lesson.objects.filter(pk=lesson.pk).update(body_html="<p>as stored</p>")  # update() skips rendering
    client.force_login(student)
    assert "<p>as stored</p>" in client.get(reverse("content:lesson", args=[lesson.pk])).content.decode()


def test_m3_the_question_page_shows_the_stored_column(client, student, saved_content):
    _marker, unit = saved_content
    prompt = unit.prompts.get()
    EssayPrompt.objects.filter(pk=prompt.pk).update(instructions_html="<p>as stored</p>")
    client.force_login(student)
    assert "<p>as stored</p>" in client.get(reverse("content:prompt", args=[prompt.pk])).content.decode()


# --- (c) over-long Markdown is refused, with a message, and nothing changes ------------------


@pytest.fixture
def own_lesson(shipped, teacher) -> Lesson:
    return Lesson.objects.shipped().get(slug="thirteen-days").make_copy(teacher)


@pytest.fixture
def own_prompt(shipped, teacher) -> EssayPrompt:
    return EssayPrompt.objects.shipped().get(slug="crisis-improved-relations").make_copy(teacher)


def _form(client, url: str) -> dict:
    return post_data(client.get(url).context)


def test_m3_the_lesson_form_refuses_text_over_the_cap(client, teacher, own_lesson):
    url = reverse("content:lesson_edit", args=[own_lesson.pk])
    client.force_login(teacher)
    data = _form(client, url) | {"body": "[" * (LESSON_TEXT_MAX + 1)}
    response = client.post(url, data)
    assert response.status_code == 200
    text = response.content.decode()
    assert f"This text is {LESSON_TEXT_MAX + 1:,} characters long; the most allowed is {LESSON_TEXT_MAX:,}" in text
    assert "nothing has been saved" in text
    stored = Lesson.objects.get(pk=own_lesson.pk)
    assert (stored.body, stored.body_html) == (own_lesson.body, own_lesson.body_html)


def test_m3_the_lesson_form_takes_text_at_the_cap(client, teacher, own_lesson):
    url = reverse("content:lesson_edit", args=[own_lesson.pk])
    client.force_login(teacher)
    body = WORST["run of ["](LESSON_TEXT_MAX)
    response = client.post(url, _form(client, url) | {"body": body})
    assert response.status_code == 302
    assert Lesson.objects.get(pk=own_lesson.pk).body == body


def test_m3_the_preview_refuses_text_over_the_cap_and_renders_nothing(client, teacher, own_lesson, monkeypatch):
    url = reverse("content:lesson_edit", args=[own_lesson.pk])
    client.force_login(teacher)
    data = _form(client, url) | {"body": "[" * (LESSON_TEXT_MAX + 1), "preview": "1"}
    monkeypatch.setattr(python_markdown.Markdown, "convert", _refuse_to_render)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "the most allowed is" in response.content.decode()
    assert "Preview (not saved yet)" not in response.content.decode()


@pytest.mark.parametrize("name", ["run of [", "<a tags never closed", "setext headings a / ="])
def test_m3_the_preview_of_the_worst_text_at_the_cap_is_quick(client, teacher, own_lesson, name):
    url = reverse("content:lesson_edit", args=[own_lesson.pk])
    client.force_login(teacher)
    form = _form(client, url)

    def preview(body: str) -> tuple[float, str]:
        started = time.process_time()
        response = client.post(url, form | {"body": body, "preview": "1"})
        return time.process_time() - started, response.content.decode()

    # What the worst text adds over an ordinary one of the same length: the page's forms
    # (a lesson's key-term and timeline rows) cost the same either way.
    ordinary, _ = preview(_fill("An ordinary sentence of the lesson.\n\n", LESSON_TEXT_MAX))
    worst, html = preview(WORST[name](LESSON_TEXT_MAX))
    assert worst - ordinary < 1.0
    assert "Preview (not saved yet)" in html


def test_m3_the_question_form_refuses_instructions_over_the_cap(client, teacher, own_prompt):
    url = reverse("content:prompt_edit", args=[own_prompt.pk])
    client.force_login(teacher)
    response = client.post(url, _form(client, url) | {"instructions": "x" * (SHORT_TEXT_MAX + 1)})
    assert response.status_code == 200
    assert f"the most allowed is {SHORT_TEXT_MAX:,}" in response.content.decode()
    stored = EssayPrompt.objects.get(pk=own_prompt.pk)
    assert (stored.instructions, stored.instructions_html) == (own_prompt.instructions, own_prompt.instructions_html)


def test_m3_the_assignment_form_refuses_instructions_over_the_cap(client, teacher, school_class):
    prompt = EssayPromptFactory()
    url = reverse("classroom:assignment_create", args=[school_class.pk])
    client.force_login(teacher)
    data = _form(client, url) | {"prompt": prompt.pk, "title": "Essay", "instructions": "[" * (SHORT_TEXT_MAX + 1)}
    response = client.post(url, data)
    assert response.status_code == 200
    assert f"the most allowed is {SHORT_TEXT_MAX:,}" in response.content.decode()
    assert not Assignment.objects.filter(school_class=school_class).exists()


@pytest.mark.parametrize(
    ("factory", "field", "limit"),
    [
        (LessonFactory, "body", LESSON_TEXT_MAX),
        (UnitFactory, "overview", SHORT_TEXT_MAX),
        (EssayPromptFactory, "instructions", SHORT_TEXT_MAX),
        (AssignmentFactory, "instructions", SHORT_TEXT_MAX),
    ],
)
def test_m3_saving_over_long_markdown_any_other_way_is_refused(factory, field, limit):
    obj = factory()
    before = (getattr(obj, field), getattr(obj, f"{field}_html"))
    setattr(obj, field, "[" * (limit + 1))
    with pytest.raises(ValidationError) as refused:
        obj.save()
    assert field in refused.value.message_dict
    obj.refresh_from_db()
    assert (getattr(obj, field), getattr(obj, f"{field}_html")) == before


def test_m3_creating_a_lesson_with_over_long_text_is_refused():
    with pytest.raises(ValidationError):
        LessonFactory(body="[" * (LESSON_TEXT_MAX + 1))
    assert not Lesson.objects.exists()


def test_m3_the_loader_refuses_an_over_long_lesson(db, tmp_path):
    folder = tmp_path / "unit"
    _copy_unit(folder)
    lesson = next((folder / "lessons").glob("*.md"))
    lesson.write_text(lesson.read_text(encoding="utf-8") + "[" * LESSON_TEXT_MAX, encoding="utf-8")
    with pytest.raises(LoaderError) as refused:
        load_unit(folder)
    assert f"lessons/{lesson.name}, body" in str(refused.value)
    assert f"the most allowed is {LESSON_TEXT_MAX}" in str(refused.value)
    assert not Lesson.objects.exists()


def _copy_unit(folder: Path) -> None:
    shutil.copytree(CONTENT_DIR / "cuban_missile_crisis", folder)


# --- (d) the stored HTML is sanitised, and follows the text -----------------------------------

XSS = (
    "<script>alert('s')</script> <img src=x onerror=\"alert('i')\"> "
    "[click](javascript:alert('l')) <a href=\"javascript:alert('a')\" onclick=\"alert('c')\">a</a> "
    '<iframe src="https://evil.example"></iframe> <p style="x" onmouseover="alert(\'m\')">p</p>'
)


def _assert_clean(html: str) -> None:
    lowered = html.lower()
    for bad in ("<script", "alert(", "javascript:", "onerror", "onclick", "onmouseover", "<iframe", "<img", "style="):
        assert bad not in lowered, (bad, html)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda text: LessonFactory(body=text), "body"),
        (lambda text: UnitFactory(overview=text), "overview"),
        (lambda text: EssayPromptFactory(instructions=text), "instructions"),
        (lambda text: AssignmentFactory(instructions=text), "instructions"),
    ],
)
def test_m3_the_stored_html_is_sanitised_and_follows_edits(db, make, field):
    obj = make(XSS + " **kept**")
    obj.refresh_from_db()
    html = getattr(obj, f"{field}_html")
    _assert_clean(html)
    assert "<strong>kept</strong>" in html
    setattr(obj, field, "Now *changed*.")
    obj.save()
    obj.refresh_from_db()
    assert getattr(obj, f"{field}_html") == "<p>Now <em>changed</em>.</p>"


def test_m3_saving_only_other_fields_leaves_the_html(db):
    lesson = LessonFactory(body="**one**")
    lesson.title = "Renamed"
    lesson.save(update_fields=["title"])
    assert Lesson.objects.get(pk=lesson.pk).body_html == "<p><strong>one</strong></p>"
    lesson.body = "**two**"
    lesson.save(update_fields=["body"])  # the HTML goes with its text, even when not asked for
    assert Lesson.objects.get(pk=lesson.pk).body_html == "<p><strong>two</strong></p>"


def test_m3_editing_a_lesson_in_the_form_updates_its_html(client, teacher, own_lesson):
    url = reverse("content:lesson_edit", args=[own_lesson.pk])
    client.force_login(teacher)
    response = client.post(url, _form(client, url) | {"body": "## New\n\n" + XSS})
    assert response.status_code == 302
    html = Lesson.objects.get(pk=own_lesson.pk).body_html
    assert html.startswith("<h2>New</h2>")
    _assert_clean(html)


# --- (e) copies and the loader keep the HTML right --------------------------------------------


def test_m3_the_loader_stores_each_items_html(shipped):
    lessons = list(Lesson.objects.shipped())
    assert len(lessons) == len(list((CONTENT_DIR / "cuban_missile_crisis" / "lessons").glob("*.md")))
    for lesson in lessons:
        assert lesson.body_html == render_html(lesson.body) and "<h2>" in lesson.body_html
    assert shipped.overview_html == render_html(shipped.overview) and shipped.overview_html
    for prompt in EssayPrompt.objects.shipped():
        assert prompt.instructions_html == render_html(prompt.instructions) and prompt.instructions_html


def test_m3_reloading_changed_files_updates_the_html(db, tmp_path):
    folder = tmp_path / "unit"
    _copy_unit(folder)
    load_unit(folder)
    path = folder / "lessons" / "01-thirteen-days.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n## Added by the reload\n", encoding="utf-8")
    load_unit(folder)
    lesson = Lesson.objects.shipped().get(slug="thirteen-days")
    assert lesson.body_html.endswith("<h2>Added by the reload</h2>")
    assert lesson.body_html == render_html(lesson.body)


def test_m3_copies_keep_the_html(shipped, teacher):
    lesson = Lesson.objects.shipped().get(slug="thirteen-days")
    prompt = EssayPrompt.objects.shipped().get(slug="crisis-improved-relations")
    lesson_copy = Lesson.objects.get(pk=lesson.make_copy(teacher).pk)
    prompt_copy = EssayPrompt.objects.get(pk=prompt.make_copy(teacher).pk)
    assert lesson_copy.body_html == lesson.body_html and lesson_copy.body_html
    assert prompt_copy.instructions_html == prompt.instructions_html and prompt_copy.instructions_html

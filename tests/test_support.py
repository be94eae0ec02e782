"""Support for every reader (issue 12, item 9): the inline glossary with pronunciations,
writing help per question type, the source-analysis frame and the unit's knowledge organiser."""

from __future__ import annotations

import datetime
import html
import re
import shutil
import time
from types import SimpleNamespace

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from crisis import writing_frames
from crisis.content.loader import CONTENT_DIR, LoaderError, load_unit, read_unit
from crisis.glossary import MAX_TERMS, mark_terms, pronunciation_html, term_variants
from crisis.markdown import LESSON_TEXT_MAX, render_html
from crisis.models import EssayPrompt, KeyTerm, Lesson, Unit
from tests.factories import (
    AssignmentFactory,
    EssayPromptFactory,
    KeyTermFactory,
    LessonFactory,
    SourceFactory,
    TimelineEventFactory,
    UnitFactory,
    link_sources,
)

UNIT_DIR = CONTENT_DIR / "cuban_missile_crisis"
BUTTON = re.compile(r'<button type="button" class="glossary-term"[^>]*>([^<]*)</button>')


def term(name: str, definition: str = "What it means.", pronunciation: str = "") -> SimpleNamespace:
    return SimpleNamespace(term=name, definition=definition, pronunciation=pronunciation)


def marked(body_html: str, *terms: SimpleNamespace) -> list[str]:
    """The words marked as glossary terms, in order."""
    return BUTTON.findall(mark_terms(body_html, terms))


@pytest.fixture
def shipped(db) -> Unit:
    load_unit(UNIT_DIR)
    return Unit.objects.shipped().get()


# --- the inline glossary ------------------------------------------------------------------------


def test_only_the_first_use_of_each_term_is_marked():
    body = render_html("The quarantine began.\n\nThe quarantine ended; Khrushchev agreed.")
    assert marked(body, term("Quarantine"), term("Khrushchev, Nikita")) == ["quarantine", "Khrushchev"]


def test_terms_are_never_marked_inside_headings_links_code_or_table_headings():
    body = render_html(
        "## The quarantine\n\n[quarantine](https://example.org/quarantine) `quarantine`\n\n"
        "    quarantine in code\n\n| quarantine | x |\n|---|---|\n| a | b |\n\nThen the **quarantine** began."
    )
    page = mark_terms(body, [term("Quarantine")])
    assert BUTTON.findall(page) == ["quarantine"]
    assert "<h2>The quarantine</h2>" in page
    assert '<a href="https://example.org/quarantine" rel="noopener">quarantine</a>' in page
    assert "<strong><button" in page  # emphasis is running text: the first use there is marked


def test_an_attribute_holding_the_term_or_a_bracket_is_left_alone():
    body = '<p><a href="https://example.org/" title="quarantine > blockade">see</a> the quarantine</p>'
    page = mark_terms(body, [term("Quarantine"), term("Blockade")])
    assert 'title="quarantine > blockade"' in page
    assert BUTTON.findall(page) == ["quarantine"]


def test_hostile_terms_definitions_and_text_are_escaped():
    body = render_html("The ploy &lt;img onerror=x&gt; worked. &lt;script&gt;alert(3)&lt;/script&gt;")
    hostile = term("ploy <img onerror=x>", definition="<script>alert(2)</script>", pronunciation="<i>")
    page = mark_terms(body, [hostile, term("script")])
    assert BUTTON.findall(page) == ["ploy &lt;img onerror=x&gt;", "script"]
    assert "<img" not in page and "<script" not in page and "<i>" not in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page and "&lt;i&gt;" in page
    assert "&lt;/script&gt;" in page.rsplit("</span>", 1)[1]  # the text's own brackets stay escaped


def test_capitalised_abbreviations_match_only_in_capitals():
    body = render_html("Some thought it mad. MAD means both sides lose.")
    assert marked(body, term("Mutually assured destruction (MAD)")) == ["MAD"]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("Jupiter missile", "The Jupiter missiles in Turkey.", "Jupiter missiles"),
        ("ICBM", "Soviet ICBMs.", "ICBMs"),
        ("Khrushchev, Nikita", "Nikita Khrushchev's plan.", "Nikita Khrushchev"),
        ("Partial (Limited) Test Ban Treaty", "The Limited Test Ban Treaty of 1963.", "Limited Test Ban Treaty"),
        ("Organization of American States (OAS)", "The OAS backed it.", "OAS"),
        ('"Trollope ploy"', "The so-called Trollope ploy.", "Trollope ploy"),
        ("Bay of Pigs", "The Bay of\nPigs invasion.", "Bay of\nPigs"),
    ],
)
def test_term_forms_found_in_the_text(name, text, expected):
    assert marked(render_html(text), term(name)) == [expected]


def test_term_variants():
    assert term_variants("Khrushchev, Nikita") == ["Nikita Khrushchev", "Khrushchev"]
    assert term_variants("Mutually assured destruction (MAD)") == [
        "Mutually assured destruction (MAD)",
        "Mutually assured destruction",
        "MAD",
    ]


def test_a_word_that_only_contains_the_term_is_not_marked():
    assert marked(render_html("Quarantined ships; the antiquarantine lobby."), term("Quarantine")) == []


def test_the_longest_term_wins_and_is_not_split():
    body = render_html("The Brezhnev Doctrine was named after Brezhnev.")
    assert marked(body, term("Brezhnev, Leonid"), term("Brezhnev Doctrine")) == ["Brezhnev Doctrine", "Brezhnev"]


def test_each_marked_term_opens_its_own_note_with_definition_and_pronunciation():
    page = mark_terms(render_html("Khrushchev and Dobrynin."), [term("Khrushchev", "Soviet leader.", "kroosh-CHOF")])
    assert 'data-bs-toggle="collapse" data-bs-target="#glossary-note-1"' in page
    assert 'aria-expanded="false" aria-controls="glossary-note-1"' in page
    assert '<span class="collapse glossary-note" id="glossary-note-1">' in page
    assert 'kroosh-<strong class="stress">chof</strong>' in page and "Soviet leader." in page
    assert "style=" not in page and "<script" not in page


def test_pronunciation_stress_is_stored_in_small_letters_for_screen_readers():
    assert pronunciation_html("lay-oh-NEED BREZH-nef") == (
        'lay-oh-<strong class="stress">need</strong> <strong class="stress">brezh</strong>-nef'
    )
    assert "&lt;b&gt;" in pronunciation_html("<b>")


def test_unmarked_text_and_html_are_returned_exactly_as_stored():
    body = render_html("## Title\n\nNothing to see & nothing 'quoted' here.\n\n> A quotation.")
    assert mark_terms(body, [term("Quarantine")]) == body
    assert mark_terms(body, []) == body


def test_no_more_than_max_terms_are_marked():
    words = [f"word{n}" for n in range(MAX_TERMS + 20)]
    body = render_html(" ".join(words))
    assert len(marked(body, *(term(w) for w in words))) == MAX_TERMS


def test_marking_stays_fast_at_the_lesson_cap_with_hostile_text_and_terms():
    """The cost is bounded by the text's length times MAX_TERM_TOKENS, whatever the terms."""
    near_misses = [
        "a " * (LESSON_TEXT_MAX // 2),  # every word a possible start of a long shared prefix
        "-" * LESSON_TEXT_MAX,  # every character a token
        "Brezhnev " * (LESSON_TEXT_MAX // 9),
        "&lt;" * (LESSON_TEXT_MAX // 4),
        "*a* " * (LESSON_TEXT_MAX // 4),
        "<em>a " * (LESSON_TEXT_MAX // 6),  # thousands of open elements
    ]
    terms = [term(("a " * 59) + f"z{n}") for n in range(MAX_TERMS // 2)]
    terms += [term(("-" * 118) + f"x{n}") for n in range(MAX_TERMS // 2)]
    terms += [term("Brezhnev Doctrine extra words here"), term("Brezhnev, Leonid")]
    for text in near_misses:
        body = render_html(text[:LESSON_TEXT_MAX])
        started = time.perf_counter()
        page = mark_terms(body, terms)
        elapsed = time.perf_counter() - started
        assert elapsed < 1.0, (text[:20], elapsed)
        assert len(BUTTON.findall(page)) <= MAX_TERMS


def test_lesson_page_marks_key_terms_and_ends_with_a_glossary(client, student, shipped):
    lesson = Lesson.objects.shipped().get(slug="how-it-ended")
    client.force_login(student)
    page = client.get(reverse("content:lesson", args=[lesson.pk])).content.decode()
    article = page.split('aria-label="Lesson text">', 1)[1].split("</article>", 1)[0]
    words = BUTTON.findall(article)
    assert "Anatoly Dobrynin" in words and "Khrushchev" in words
    assert len(words) == len(set(words))  # first use only
    ids = re.findall(r'id="(glossary-note-\d+)"', article)
    assert len(ids) == len(set(ids)) == len(words)
    glossary = page.split('id="glossary"', 1)[1]
    assert "<dt>Dobrynin, Anatoly</dt>" in glossary
    assert '<strong class="stress">brin</strong>' in glossary
    assert "style=" not in page


def test_shipped_lessons_name_their_people_with_pronunciations(shipped):
    people = KeyTerm.objects.filter(lesson__unit=shipped, kind=KeyTerm.Kind.PERSON)
    names = {t.term.split(",")[0] for t in people}
    assert {"Khrushchev", "Dobrynin", "Gromyko", "Kosygin", "Brezhnev", "Dubček", "Mikoyan"} <= names
    for person in people.filter(term__startswith="Khrushchev"):
        assert person.pronunciation == "kroosh-CHOF"
    # Every lesson that names a person in its key terms uses that name in its text.
    for person in people.select_related("lesson"):
        assert person.term.split(",")[0] in person.lesson.body, (person.lesson.slug, person.term)


def test_loader_reads_pronunciation_and_kind_and_refuses_an_unknown_kind(tmp_path, shipped):
    data = read_unit(UNIT_DIR)
    first = next(t for lesson in data.lessons for t in lesson["key_terms"] if t["pronunciation"])
    assert first["kind"] in KeyTerm.Kind.values
    lesson_file = next((UNIT_DIR / "lessons").glob("00-*.md"))
    folder = tmp_path / "unit"
    _copy_unit(folder)
    path = folder / "lessons" / lesson_file.name
    path.write_text(path.read_text(encoding="utf-8").replace("kind: person", "kind: hero", 1), encoding="utf-8")
    with pytest.raises(LoaderError, match="'hero' is not one of: term, person, agreement"):
        read_unit(folder)


# --- writing help and the source-analysis frame -------------------------------------------------


def test_every_question_type_has_writing_help():
    frames = writing_frames.frames()["question_types"]
    assert set(frames) == set(EssayPrompt.QuestionType.values)
    for key, frame in frames.items():
        assert frame["frame"] and all(step["starters"] for step in frame["frame"]), key
    questions = [q["heading"] for q in writing_frames.source_analysis()["questions"]]
    assert questions == ["Nature", "Origin", "Purpose", "Content", "Context", "What can't this tell us?"]


def test_writing_help_file_missing_a_type_is_refused():
    data = yaml.safe_load(writing_frames.FRAMES_FILE.read_text(encoding="utf-8"))
    del data["question_types"]["utility"]
    with pytest.raises(ImproperlyConfigured, match="missing: \\['utility'\\]"):
        writing_frames.parse(data)


@pytest.mark.parametrize("question_type", EssayPrompt.QuestionType.values)
def test_writing_page_shows_the_help_for_its_question_type(client, cast, school_class, question_type):
    prompt = EssayPromptFactory(question_type=question_type)
    link_sources(prompt, [SourceFactory(unit=prompt.unit)])
    assignment = AssignmentFactory(school_class=school_class, prompt=prompt)
    client.force_login(cast["student"])
    page = html.unescape(client.get(reverse("classroom:write", args=[assignment.pk])).content.decode())
    frame = writing_frames.frame_for(question_type)
    assert f"Writing help: {frame['title']}" in page
    assert frame["frame"][0]["starters"][0] in page
    others = [f for key, f in writing_frames.frames()["question_types"].items() if key != question_type]
    assert not any(f"Writing help: {f['title']}<" in page for f in others)
    assert "Analysing a source" in page  # the source-analysis frame beside the sources


@pytest.mark.parametrize("question_type", ["how-far", "source-value"])
def test_prompt_page_shows_the_writing_help(client, student, question_type):
    prompt = EssayPromptFactory(question_type=question_type)
    client.force_login(student)
    page = html.unescape(client.get(reverse("content:prompt", args=[prompt.pk])).content.decode())
    assert f"Writing help: {writing_frames.frame_for(question_type)['title']}" in page


def test_a_timed_essay_not_started_shows_no_help_and_no_source_frame(client, cast, school_class):
    prompt = EssayPromptFactory(question_type="utility")
    link_sources(prompt, [SourceFactory(unit=prompt.unit)])
    assignment = AssignmentFactory(school_class=school_class, prompt=prompt, time_limit_minutes=30)
    client.force_login(cast["student"])
    page = client.get(reverse("classroom:write", args=[assignment.pk])).content.decode()
    assert "Start the timed essay" in page
    assert "Writing help" not in page and "Analysing a source" not in page


def test_source_page_shows_the_source_analysis_frame(client, student):
    source = SourceFactory()
    client.force_login(student)
    page = html.unescape(client.get(reverse("content:source", args=[source.pk])).content.decode())
    for question in writing_frames.source_analysis()["questions"]:
        assert f"<dt>{question['heading']}</dt>" in page
    assert '<details class="support-panel source-frame card mb-3" open>' in page


# --- the knowledge organiser --------------------------------------------------------------------


def test_organiser_lists_dates_people_agreements_terms_and_the_big_question(client, student, shipped):
    client.force_login(student)
    page = html.unescape(client.get(reverse("content:unit_organiser", args=[shipped.pk])).content.decode())
    assert shipped.key_question in page
    dates = re.findall(r'<time datetime="([\d-]+)">', page)
    assert dates == shipped.organiser_selection["key_dates"] and len(dates) == 18
    assert "Khrushchev, Nikita" in page and 'kroosh-<strong class="stress">chof</strong>' in page
    assert page.count("<dt>Khrushchev, Nikita") == 1  # named in many lessons, listed once
    for agreement in ("SALT I", "Outer Space Treaty", "Partial (Limited) Test Ban Treaty"):
        assert f"<dt>{agreement}" in page
    assert "<dt>Quarantine" in page and "<dt>Nationalisation" not in page  # only the chosen terms
    unit_page = client.get(reverse("content:unit", args=[shipped.pk])).content.decode()
    assert reverse("content:unit_organiser", args=[shipped.pk]) in unit_page


def test_organiser_ignores_teachers_copies(client, teacher, shipped):
    copy = Lesson.objects.shipped().get(slug="road-to-detente").make_copy(teacher)
    copy.key_terms.create(term="Copy-only person", definition="Only in a copy.", kind=KeyTerm.Kind.PERSON)
    client.force_login(teacher)
    page = client.get(reverse("content:unit_organiser", args=[shipped.pk])).content.decode()
    assert "Copy-only person" not in page and page.count("<dt>Brezhnev, Leonid") == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("student", 200), ("outsider", 200), ("teacher", 200), ("other_teacher", 200), ("head", 200)],
)
def test_organiser_access_matches_the_unit_page(client, cast, who, status):
    unit = UnitFactory()
    if who != "anonymous":
        client.force_login(cast[who])
    for name in ("content:unit", "content:unit_organiser"):
        response = client.get(reverse(name, args=[unit.pk]))
        assert response.status_code == status, name
        if status == 302:
            assert response["Location"].startswith(reverse("login"))


def test_organiser_of_a_missing_unit_is_404(client, student):
    client.force_login(student)
    assert client.get(reverse("content:unit_organiser", args=[999999])).status_code == 404


def _organiser_unit(size: int) -> Unit:
    unit = UnitFactory(organiser_selection={"key_dates": ["1963-06-20"], "key_terms": []})
    for _ in range(size):
        lesson = LessonFactory(unit=unit)
        for kind in KeyTerm.Kind.values:
            for _ in range(size):
                KeyTermFactory(lesson=lesson, kind=kind, pronunciation="SAY-it")
        for _ in range(size):
            TimelineEventFactory(lesson=lesson)
            TimelineEventFactory(lesson=lesson, sort_date=datetime.date(1962, 10, 22))
    return unit


@pytest.mark.parametrize("size", [1, 4])
def test_organiser_query_budget(client, student, django_assert_num_queries, size):
    unit = _organiser_unit(size)
    client.force_login(student)
    # session, user, unit, key terms, timeline events
    with django_assert_num_queries(5):
        page = client.get(reverse("content:unit_organiser", args=[unit.pk])).content.decode()
    assert page.count("<dt>Term ") == 3 * size * size and page.count("<time ") == 1


def _copy_unit(folder):
    shutil.copytree(UNIT_DIR, folder)


@pytest.mark.parametrize(
    ("organiser", "message"),
    [
        ({"key_dates": ["1962-10-23", "1900-01-01"]}, "1900-01-01 is not the sort_date of any event"),
        ({"key_dates": ["1962-10-22", "1962-10-22"]}, "1962-10-22 is listed twice"),
        ({"key_terms": ["Quarantine", "Not a term"]}, "'Not a term' is not a key term of any lesson"),
        ("19 timeline dates", "19 dates; at most 18 fit on the page"),
    ],
)
def test_loader_checks_the_organiser_file(tmp_path, db, organiser, message):
    folder = tmp_path / "unit"
    _copy_unit(folder)
    if organiser == "19 timeline dates":
        dates = sorted({e["sort_date"] for lesson in read_unit(UNIT_DIR).lessons for e in lesson["timeline"]})
        organiser = {"key_dates": [d.isoformat() for d in dates[:19]]}
    (folder / "organiser.yaml").write_text(yaml.safe_dump(organiser), encoding="utf-8")
    with pytest.raises(LoaderError, match=re.escape(message)):
        read_unit(folder)

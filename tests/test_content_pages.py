"""Reading the unit: who may open each page, what students and teachers see, the knowledge
check, and query budgets that do not grow with the amount of content."""

from __future__ import annotations

import html

import pytest
from django.apps import apps
from django.urls import reverse

from crisis.content.loader import CONTENT_DIR, load_unit
from crisis.models import EssayPrompt, KnowledgeCheckAttempt, Lesson, Source, Unit
from tests.factories import (
    EssayPromptFactory,
    IndicativePointFactory,
    KeyTermFactory,
    KnowledgeQuestionFactory,
    LessonFactory,
    SourceFactory,
    TimelineEventFactory,
    UnitFactory,
    link_sources,
)

READERS = ["teacher", "student", "other_teacher", "outsider", "head"]


@pytest.fixture
def shipped(db) -> Unit:
    load_unit(CONTENT_DIR / "cuban_missile_crisis")
    return Unit.objects.shipped().get()


def read_urls(unit: Unit) -> dict[str, str]:
    lesson = unit.lessons.first()
    return {
        "unit": reverse("content:unit", args=[unit.pk]),
        "lesson": reverse("content:lesson", args=[lesson.pk]),
        "source": reverse("content:source", args=[unit.sources.first().pk]),
        "prompt": reverse("content:prompt", args=[unit.prompts.first().pk]),
    }


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", READERS)
@pytest.mark.parametrize("page", ["unit", "lesson", "source", "prompt"])
def test_everyone_signed_in_can_read_the_unit(client, cast, shipped, who, page):
    client.force_login(cast[who])
    assert client.get(read_urls(shipped)[page]).status_code == 200


@pytest.mark.parametrize("page", ["unit", "lesson", "source", "prompt"])
def test_reading_pages_send_anonymous_visitors_to_log_in(client, shipped, page):
    url = read_urls(shipped)[page]
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["content:unit", "content:lesson", "content:source", "content:prompt"])
def test_missing_content_is_404(client, student, name):
    client.force_login(student)
    assert client.get(reverse(name, args=[999999])).status_code == 404


def test_the_units_list_opens_the_only_unit(client, student, shipped):
    client.force_login(student)
    response = client.get(reverse("content:units"))
    assert response.status_code == 302
    assert response["Location"] == reverse("content:unit", args=[shipped.pk])


def test_the_units_list_lists_several_units(client, student, shipped):
    UnitFactory(title="The Berlin Wall")
    client.force_login(student)
    response = client.get(reverse("content:units"))
    assert response.status_code == 200
    assert "The Berlin Wall" in response.text and shipped.title in html.unescape(response.text)


def test_the_units_list_needs_a_login(client, db):
    assert client.get(reverse("content:units"))["Location"].startswith(reverse("login"))


def test_navigation_links_to_the_unit_for_students_and_teachers(client, cast, shipped):
    for who in ("student", "teacher"):
        client.force_login(cast[who])
        assert f'href="{reverse("content:units")}">Unit</a>' in client.get(reverse("home")).text


# --- what each role sees ------------------------------------------------------------------------


def test_indicative_content_is_absent_from_student_html(client, student, shipped):
    prompt = EssayPrompt.objects.get(slug="crisis-improved-relations")
    point = prompt.indicative_points.first()
    client.force_login(student)
    page = html.unescape(client.get(reverse("content:prompt", args=[prompt.pk])).text)
    # The scheme's guidance may say that indicative content is not prescriptive; the content is not there.
    assert "Indicative content (teachers only)" not in page and "key terms:" not in page
    assert point.text not in page
    # The student-facing mark scheme summary is there: criteria, descriptors and bands.
    level = prompt.mark_scheme.criteria.get(code="AO1+AO2").levels.get(number=4)
    assert "AO1+AO2" in page and level.descriptor in page and "13–16 marks" in page
    assert "assesses AO1, AO2" in page and "Level 0" in page


def test_indicative_content_is_shown_to_teachers(client, teacher, shipped):
    prompt = EssayPrompt.objects.get(slug="crisis-improved-relations")
    client.force_login(teacher)
    page = html.unescape(client.get(reverse("content:prompt", args=[prompt.pk])).text)
    assert "Indicative content" in page
    for point in prompt.indicative_points.all():
        assert point.text in page


def test_prompt_page_lists_its_sources_in_order_with_links(client, student, shipped):
    prompt = EssayPrompt.objects.get(slug="crisis-improved-relations")
    client.force_login(student)
    page = client.get(reverse("content:prompt", args=[prompt.pk])).text
    positions = [page.index(reverse("content:source", args=[s.pk])) for s in prompt.ordered_sources()]
    assert positions == sorted(positions) and len(positions) == 7
    assert "16 marks + 4 marks for spelling" in page and "25 minutes" in page


def test_lesson_page_shows_objectives_glossary_and_timeline(client, student, shipped):
    lesson = Lesson.objects.get(slug="diplomatic-consequences")
    client.force_login(student)
    page = client.get(reverse("content:lesson", args=[lesson.pk])).text
    text = html.unescape(page)
    assert lesson.objective_list[0] in text
    assert '<dl class="glossary">' in page
    assert f"<dt>{lesson.key_terms.first().term}</dt>" in text
    assert '<ol class="timeline' in page
    assert "teleprinter" in text


def test_source_page_shows_provenance_and_the_excerpt_paragraphs_exactly(client, student, shipped):
    source = Source.objects.shipped().get(label="H")
    client.force_login(student)
    page = html.unescape(client.get(reverse("content:source", args=[source.pk])).text)
    for paragraph in source.excerpt_paragraphs:
        assert f"<p>{paragraph}</p>" in page
    for heading in ("Origin", "Purpose", "Audience", "Date", "Author", "Citation", "Licence"):
        assert f"<dt>{heading}</dt>" in page
    assert source.citation in page


def test_students_see_no_authoring_buttons(client, student, shipped):
    client.force_login(student)
    for url in read_urls(shipped).values():
        page = client.get(url).text
        assert "Make my copy" not in page
        assert "New lesson" not in page


def test_teachers_see_make_my_copy_on_shipped_items(client, teacher, shipped):
    client.force_login(teacher)
    urls = read_urls(shipped)
    for page in ("lesson", "source", "prompt"):
        text = client.get(urls[page]).text
        assert "Make my copy" in text
        assert ">Edit</a>" not in text


# --- the knowledge check -------------------------------------------------------------------------


def answers_for(lesson: Lesson, wrong: int = 0) -> dict[str, int]:
    """Right answers to every question in the check (review questions included) except the first `wrong` ones."""
    data = {}
    for index, question in enumerate(lesson.check_questions()):
        right = question.answer
        data[f"q{question.pk}"] = (right + 1) % len(question.choices) if index < wrong else right
    return data


def test_a_student_s_knowledge_check_is_stored_with_the_right_score(client, student, shipped):
    lesson = Lesson.objects.get(slug="how-it-ended")
    total = len(lesson.check_questions())
    client.force_login(student)
    response = client.post(reverse("content:lesson", args=[lesson.pk]), answers_for(lesson, wrong=1))
    attempt = KnowledgeCheckAttempt.objects.get()
    assert (attempt.student, attempt.lesson, attempt.score, attempt.total) == (student, lesson, total - 1, total)
    assert response.status_code == 302
    page = html.unescape(client.get(response["Location"]).text)
    assert f"You scored {total - 1} out of {total}" in page
    assert "Your result has been saved" in page
    first = lesson.questions.first()
    assert first.explanation in page
    assert f"The right answer: {first.choices[first.answer]}" in page


def test_a_teacher_can_try_the_check_without_storing_it(client, teacher, shipped):
    lesson = Lesson.objects.get(slug="limits")
    client.force_login(teacher)
    response = client.post(reverse("content:lesson", args=[lesson.pk]), answers_for(lesson))
    assert response.status_code == 200
    count = len(lesson.check_questions())
    assert f"You scored {count} out of {count}" in response.text
    assert "answers are not saved" in html.unescape(response.text)
    assert not KnowledgeCheckAttempt.objects.exists()


def test_an_unanswered_question_gets_a_clear_message_and_nothing_is_stored(client, student, shipped):
    lesson = Lesson.objects.get(slug="limits")
    data = answers_for(lesson)
    data.pop(next(iter(data)))
    client.force_login(student)
    response = client.post(reverse("content:lesson", args=[lesson.pk]), data)
    assert response.status_code == 200
    assert "Answer every question" in response.text
    assert "Choose an answer to this question." in response.text
    assert not KnowledgeCheckAttempt.objects.exists()


def test_an_answer_out_of_range_is_refused_not_a_500(client, student, shipped):
    lesson = Lesson.objects.get(slug="limits")
    data = answers_for(lesson)
    data[next(iter(data))] = 99
    client.force_login(student)
    response = client.post(reverse("content:lesson", args=[lesson.pk]), data)
    assert response.status_code == 200
    assert not KnowledgeCheckAttempt.objects.exists()


def test_a_student_cannot_open_another_student_s_attempt(client, student, outsider, shipped):
    lesson = Lesson.objects.get(slug="limits")
    attempt = lesson.record_attempt(outsider, {})
    client.force_login(student)
    url = reverse("content:lesson", args=[lesson.pk])
    assert client.get(f"{url}?attempt={attempt.pk}").status_code == 404
    assert client.get(f"{url}?attempt=nonsense").status_code == 404


def test_an_old_attempt_still_shows_after_a_question_loses_a_choice(client, student, shipped):
    lesson = Lesson.objects.get(slug="limits")
    question = lesson.questions.first()
    assert len(question.choices) == 4
    attempt = lesson.record_attempt(student, {question.pk: 3})
    question.choices, question.answer = question.choices[:2], 0
    question.save(update_fields=["choices", "answer"])
    client.force_login(student)
    response = client.get(f"{reverse('content:lesson', args=[lesson.pk])}?attempt={attempt.pk}")
    assert response.status_code == 200
    assert "Not answered." in response.text


def test_teachers_copies_are_listed_on_the_unit_page_for_everyone(client, teacher, student, shipped):
    copy = Lesson.objects.shipped().get(slug="limits").make_copy(teacher)
    copy.title = "Limits (10H version)"
    copy.save(update_fields=["title"])
    client.force_login(student)
    page = client.get(reverse("content:unit", args=[shipped.pk])).text
    assert "Limits (10H version)" in page and "Tess Teacher" in page
    assert client.get(reverse("content:lesson", args=[copy.pk])).status_code == 200


# --- query budgets ---------------------------------------------------------------------------------


def build_unit(size: int) -> Unit:
    unit = UnitFactory()
    sources = [SourceFactory(unit=unit) for _ in range(size)]
    for _ in range(size):
        lesson = LessonFactory(unit=unit)
        lesson.sources.set(sources)
        for _ in range(size):
            KeyTermFactory(lesson=lesson)
            TimelineEventFactory(lesson=lesson)
            KnowledgeQuestionFactory(lesson=lesson)
    for _ in range(size):
        prompt = EssayPromptFactory(unit=unit, mark_scheme__criteria=size)
        link_sources(prompt, sources)
        for side in ("supports", "challenges", "judgement"):
            for _ in range(size):
                IndicativePointFactory(prompt=prompt, side=side)
    return unit


@pytest.mark.parametrize(("who", "queries"), [("student", 7), ("teacher", 6)])
@pytest.mark.parametrize("size", [1, 4])
def test_unit_page_query_budget(client, cast, django_assert_num_queries, who, queries, size):
    unit = build_unit(size)
    client.force_login(cast[who])
    # session, user, unit, lessons+owner, sources+owner, prompts+owner
    # (+ for students, their timed essays not started yet, whose questions stay hidden)
    with django_assert_num_queries(queries):
        assert client.get(reverse("content:unit", args=[unit.pk])).status_code == 200


@pytest.mark.parametrize("who", ["student", "teacher"])
@pytest.mark.parametrize("size", [1, 4])
def test_lesson_page_query_budget(client, cast, django_assert_num_queries, who, size):
    unit = build_unit(size)
    lesson = unit.lessons.first()
    client.force_login(cast[who])
    # session, user, lesson+unit+owner+copied_from, key terms, timeline, questions, sources
    with django_assert_num_queries(7):
        assert client.get(reverse("content:lesson", args=[lesson.pk])).status_code == 200


@pytest.mark.parametrize(("who", "queries"), [("student", 7), ("teacher", 8)])
@pytest.mark.parametrize("size", [1, 4])
def test_prompt_page_query_budget(client, cast, django_assert_num_queries, who, queries, size):
    unit = build_unit(size)
    prompt = unit.prompts.first()
    client.force_login(cast[who])
    # session, user, prompt+unit+owner+copied_from+scheme, source links+sources, criteria, levels
    # (+ indicative points and model answers for teachers; + timed essays not started yet for students)
    with django_assert_num_queries(queries):
        assert client.get(reverse("content:prompt", args=[prompt.pk])).status_code == 200


@pytest.mark.parametrize("size", [1, 4])
def test_source_page_query_budget(client, student, django_assert_num_queries, size):
    unit = build_unit(size)
    url = reverse("content:source", args=[unit.sources.first().pk])
    client.force_login(student)
    # session, user, source+unit+owner+copied_from, the student's timed essays not started yet
    with django_assert_num_queries(4):
        assert client.get(url).status_code == 200


# --- admin ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model", ["unit", "lesson", "source", "essayprompt", "markscheme", "criterion", "knowledgecheckattempt"]
)
def test_admin_lists_and_opens_each_content_model(client, admin_user, shipped, student, model):
    Lesson.objects.first().record_attempt(student, {})
    client.force_login(admin_user)
    assert client.get(reverse(f"admin:crisis_{model}_changelist")).status_code == 200
    obj = apps.get_model("crisis", model).objects.first()
    assert client.get(reverse(f"admin:crisis_{model}_change", args=[obj.pk])).status_code == 200

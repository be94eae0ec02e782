"""The shipped unit, once loaded, teaches what FACTS.md and SOURCES.md say, and is complete."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from crisis.content.loader import CONTENT_DIR, load_unit
from crisis.models import EssayPrompt, KnowledgeQuestion, Lesson, Source, Unit

SOURCES_MD = Path(os.environ.get("CRISIS_SOURCES_MD", "/work/shared/content/SOURCES.md"))


@pytest.fixture
def unit(db) -> Unit:
    load_unit(CONTENT_DIR / "cuban_missile_crisis")
    return Unit.objects.shipped().get(slug="cuban-missile-crisis")


def unit_text(unit: Unit) -> str:
    """Everything a student can read in the unit, as one string."""
    parts = [unit.overview]
    for lesson in unit.lessons.shipped().prefetch_related("key_terms", "timeline", "questions"):
        parts += [lesson.title, lesson.summary, lesson.objectives, lesson.body]
        parts += [f"{t.term} {t.definition}" for t in lesson.key_terms.all()]
        parts += [f"{e.when} {e.event}" for e in lesson.timeline.all()]
        parts += [f"{q.question} {q.explanation}" for q in lesson.questions.all()]
    return "\n".join(parts)


@pytest.mark.parametrize(
    "fact",
    [
        "20 June 1963",
        "teleprinter",
        "5 August 1963",
        "Partial Test Ban Treaty",
        "24 April 1963",
        "3 February 1962",
        "14 October 1964",
        "Non-Proliferation Treaty",
        "5 March 1970",
    ],
)
def test_key_fact_is_taught(unit, fact):
    assert fact in unit_text(unit)


def test_npt_is_taught_as_signed_1968_in_force_1970(unit):
    text = unit_text(unit)
    npt_sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if "Non-Proliferation" in s or "NPT" in s]
    assert any("1968" in s for s in npt_sentences)
    assert any("1970" in s for s in npt_sentences)


def test_the_hotline_is_never_taught_as_a_telephone(unit):
    """Every mention of a "red telephone" is corrected in the same or the next sentence."""
    text = unit_text(unit).lower()
    assert "teleprinter" in text
    sentences = re.split(r"(?<=[.!?])\s+", text)
    for index, sentence in enumerate(sentences):
        if "red telephone" in sentence or "red phone" in sentence:
            nearby = " ".join(sentences[index : index + 2])
            assert any(word in nearby for word in ("not a telephone", "myth")), sentence


def test_the_us_removed_its_own_jupiters(unit):
    explanation = " ".join(
        KnowledgeQuestion.objects.filter(question__icontains="Jupiter").values_list("explanation", flat=True)
    )
    assert "United States" in explanation


def test_there_are_at_least_five_lessons_each_with_objectives_terms_and_a_timeline(unit):
    lessons = list(unit.lessons.shipped())
    assert len(lessons) >= 5
    for lesson in lessons:
        assert lesson.objective_list, lesson.slug
        assert lesson.key_terms.exists(), lesson.slug
        assert lesson.timeline.exists(), lesson.slug


def test_there_are_at_least_fifteen_questions_each_with_a_valid_answer(unit):
    questions = list(KnowledgeQuestion.objects.filter(lesson__unit=unit))
    assert len(questions) >= 15
    for question in questions:
        question.full_clean()


def parse_sources_md(text: str) -> list[tuple[str, list[str]]]:
    """(heading, [excerpts]) for each source in SOURCES.md, in order."""
    sources = []
    for block in re.split(r"^## ", text, flags=re.M)[1:]:
        heading = block.splitlines()[0]
        excerpts = []
        for line in block.splitlines():
            if line.startswith("- Excerpt"):
                excerpts += re.findall(r'"(.+?)"', line.split(":", 1)[1])
        sources.append((heading, excerpts))
    return sources


@pytest.mark.skipif(not SOURCES_MD.exists(), reason=f"{SOURCES_MD} is not on this machine")
def test_the_ten_original_sources_still_quote_sources_md_exactly(unit):
    """Sources A–J keep SOURCES.md's words; the review lengthened some, so each is now a
    passage inside the source's excerpt (tests/test_content_review.py checks the rest)."""
    expected = parse_sources_md(SOURCES_MD.read_text(encoding="utf-8"))
    sources = list(Source.objects.shipped().filter(unit=unit).order_by("label"))
    assert [s.label for s in sources][:10] == list("ABCDEFGHIJ")
    assert len(expected) == 10
    for source, (heading, excerpts) in zip(sources[:10], expected, strict=True):
        assert excerpts, heading
        for excerpt in excerpts:
            assert excerpt in source.excerpt, f"Source {source.label} ({heading}) lacks: {excerpt}"
    for source in sources:
        assert source.citation and source.origin and source.purpose and source.audience and source.licence


def test_eight_prompts_each_with_a_0_band_and_contiguous_levels(unit):
    """Board-style holistic schemes (tests/test_content_prompts.py checks each board's bands)."""
    prompts = list(EssayPrompt.objects.shipped().filter(unit=unit).prefetch_related("mark_scheme__criteria__levels"))
    assert len(prompts) >= 8
    for prompt in prompts:
        for criterion in prompt.mark_scheme.criteria.all():
            levels = sorted(criterion.levels.all(), key=lambda lv: lv.number)
            assert [lv.number for lv in levels] == list(range(len(levels))), prompt.slug
            assert (levels[0].min_marks, levels[0].max_marks) == (0, 0), prompt.slug
            for lower, upper in zip(levels, levels[1:], strict=False):
                assert upper.min_marks == lower.max_marks + 1
        sides = set(prompt.indicative_points.values_list("side", flat=True))
        assert {"supports", "challenges", "judgement"} <= sides, prompt.slug


def test_the_how_far_prompt_has_sources_from_1962_to_1968_16_marks_4_spag_and_25_minutes(unit):
    prompt = EssayPrompt.objects.shipped().get(question__contains="How far do you agree with this statement?")
    assert [s.label for s in prompt.ordered_sources()] == ["E", "G", "I", "K", "L", "M", "J"]
    assert prompt.total_marks == 16
    assert prompt.spag_marks == 4
    assert prompt.suggested_minutes == 25


def test_prompts_on_the_hotline_and_on_detente_exist(unit):
    questions = " ".join(EssayPrompt.objects.shipped().values_list("question", flat=True)).lower()
    assert "hotline" in questions
    assert "détente" in questions


def test_lessons_link_to_their_sources(unit):
    lesson = Lesson.objects.shipped().get(slug="thirteen-days")
    assert lesson.sources.exists()

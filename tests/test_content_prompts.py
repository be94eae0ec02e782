"""The shipped prompts: one per board question form, each with the board's bands and AO labels
(0 band included), indicative content on both sides, and sources from inside the question's
dates (REVIEW §3)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest

from crisis.content.loader import CONTENT_DIR, load_unit, read_unit
from crisis.models import EssayPrompt, MarkScheme

UNIT_DIR = CONTENT_DIR / "cuban_missile_crisis"
AQA_GCSE = "AQA GCSE History (8145), Paper 1 Section B"
EDEXCEL_GCSE = "Pearson Edexcel GCSE (9–1) History (1HI0), Paper 2"
AQA_A_LEVEL = "AQA A-level History (7042), Component 2R"
SPAG_BANDS = [(0, 0, 0), (1, 1, 1), (2, 2, 3), (3, 4, 4)]


@dataclass(frozen=True)
class Form:
    """What a board's question form looks like: its wording, scheme and dates."""

    question_type: str
    wording: tuple[str, str]  # the question starts with the first and ends with the second
    sources: list[str]
    qualification: str
    criteria: dict[str, tuple[str, list[tuple[int, int, int]]]]  # code: (AO labels, bands)
    spag: bool
    dates: tuple[str, datetime.date, datetime.date]  # the question's words for its range, and the range


def d(year: int, month: int, day: int) -> datetime.date:
    return datetime.date(year, month, day)


FORMS = {
    "crisis-improved-relations": Form(
        "how-far",
        (
            "'The Cuban Missile Crisis improved relations",
            "How far do you agree with this statement? Explain your answer.",
        ),
        ["E", "G", "I", "K", "L", "M", "J"],
        AQA_GCSE,
        {"AO1+AO2": ("AO1, AO2", [(0, 0, 0), (1, 1, 4), (2, 5, 8), (3, 9, 12), (4, 13, 16)])},
        True,
        ("in the years 1962–1972", d(1962, 1, 1), d(1972, 12, 31)),
    ),
    "useful-sources-settlement": Form(
        "utility",
        (
            "How useful are Sources B and C to a historian studying",
            "using Sources B and C and your contextual knowledge.",
        ),
        ["B", "C"],
        AQA_GCSE,
        {"AO3": ("AO3", [(0, 0, 0), (1, 1, 3), (2, 4, 6), (3, 7, 9), (4, 10, 12)])},
        False,
        # The settlement: from the first letters of the crisis to the IL-28 deal of 20 November.
        ("how the Cuban Missile Crisis was settled", d(1962, 10, 16), d(1962, 11, 20)),
    ),
    "account-agreements-1963": Form(
        "account",
        ("Write an account of how", "in 1963."),
        ["E", "G", "I"],
        AQA_GCSE,
        {"AO1+AO2": ("AO1, AO2", [(0, 0, 0), (1, 1, 2), (2, 3, 4), (3, 5, 6), (4, 7, 8)])},
        False,
        ("the Cuban Missile Crisis led to new agreements", d(1962, 10, 14), d(1963, 12, 31)),
    ),
    "inference-source-a": Form(
        "inference",
        ("Source A is critical of the Soviet Union. How do you know?", "using Source A and your contextual knowledge."),
        ["A"],
        AQA_GCSE,
        {"AO3": ("AO3", [(0, 0, 0), (1, 1, 2), (2, 3, 4)])},
        False,
        ("Source A", d(1962, 10, 14), d(1962, 11, 20)),
    ),
    "two-consequences": Form(
        "consequences",
        ("Explain two consequences of", "(1962)."),
        ["E", "G", "I"],
        EDEXCEL_GCSE,
        {
            "C1": ("AO1, AO2", [(0, 0, 0), (1, 1, 2), (2, 3, 4)]),
            "C2": ("AO1, AO2", [(0, 0, 0), (1, 1, 2), (2, 3, 4)]),
        },
        False,
        # Consequences of the crisis, within the unit's end date.
        ("consequences of the Cuban Missile Crisis (1962)", d(1962, 10, 14), d(1972, 12, 31)),
    ),
    "importance-hotline": Form(
        "importance",
        ("Explain the importance of the Hotline", "in the years 1963–72."),
        ["G", "K"],
        EDEXCEL_GCSE,
        {"AO1+AO2": ("AO1, AO2", [(0, 0, 0), (1, 1, 2), (2, 3, 5), (3, 6, 8)])},
        False,
        ("in the years 1963–72", d(1963, 1, 1), d(1972, 12, 31)),
    ),
    "detente-assess-view": Form(
        "assess-view",
        ("'The Cuban Missile Crisis was the main reason", "Assess the validity of this view."),
        ["E", "F", "I", "J", "M"],
        AQA_A_LEVEL,
        {"A-level AO1": ("AO1", [(0, 0, 0), (1, 1, 5), (2, 6, 10), (3, 11, 15), (4, 16, 20), (5, 21, 25)])},
        False,
        ("in the years 1962 to 1972", d(1962, 1, 1), d(1972, 12, 31)),
    ),
    "value-sources-settlement": Form(
        "source-value",
        (
            "With reference to these sources and your understanding of the historical context, "
            "assess the value of these three sources to an historian studying",
            "in October 1962.",
        ),
        ["B", "C", "D"],
        AQA_A_LEVEL,
        {"A-level AO2": ("AO2", [(0, 0, 0), (1, 1, 6), (2, 7, 12), (3, 13, 18), (4, 19, 24), (5, 25, 30)])},
        False,
        ("in October 1962", d(1962, 10, 1), d(1962, 10, 31)),
    ),
}


@pytest.fixture(scope="module")
def unit_data():
    return read_unit(UNIT_DIR)


@pytest.fixture(scope="module")
def prompts(unit_data) -> dict[str, dict]:
    return {prompt["slug"]: prompt for prompt in unit_data.prompts}


@pytest.fixture(scope="module")
def source_dates(unit_data) -> dict[str, datetime.date]:
    return {source["label"]: source["date"] for source in unit_data.sources}


def bands(levels: list[dict]) -> list[tuple[int, int, int]]:
    return [(level["number"], level["min_marks"], level["max_marks"]) for level in levels]


def sources_outside(labels: list[str], source_dates: dict, start: datetime.date, end: datetime.date) -> list[str]:
    return [label for label in labels if not start <= source_dates[label] <= end]


def test_the_eight_board_forms_and_only_they_are_shipped(prompts):
    assert set(prompts) == set(FORMS)
    assert {form.question_type for form in FORMS.values()} == set(EssayPrompt.QuestionType.values) - {"other"}


@pytest.mark.parametrize("slug", FORMS)
def test_each_prompt_is_in_its_board_s_wording_with_its_sources(prompts, slug):
    prompt, form = prompts[slug], FORMS[slug]
    assert prompt["question_type"] == form.question_type
    start, end = form.wording
    assert prompt["question"].startswith(start) and prompt["question"].endswith(end), prompt["question"]
    assert prompt["source_labels"] == form.sources


@pytest.mark.parametrize("slug", FORMS)
def test_each_scheme_has_the_board_s_exact_bands_0_band_included_and_ao_labels(prompts, slug):
    scheme, form = prompts[slug]["mark_scheme"], FORMS[slug]
    assert scheme["qualification"].startswith(form.qualification)
    content = [c for c in scheme["criteria"] if not c["is_spag"]]
    assert {c["code"]: (c["assessment_objectives"], bands(c["levels"])) for c in content} == form.criteria
    spag = [c for c in scheme["criteria"] if c["is_spag"]]
    assert [bands(c["levels"]) for c in spag] == ([SPAG_BANDS] if form.spag else [])
    for criterion in scheme["criteria"]:
        assert all(level["descriptor"].strip() for level in criterion["levels"]), criterion["code"]


@pytest.mark.parametrize("slug", FORMS)
def test_each_scheme_gives_best_fit_guidance_and_says_indicative_content_is_not_prescriptive(prompts, slug):
    guidance = prompts[slug]["mark_scheme"]["guidance"]
    assert "Read the whole answer" in guidance
    assert "within the level" in guidance
    assert "not prescriptive" in guidance


@pytest.mark.parametrize("slug", FORMS)
def test_indicative_content_has_both_sides_and_a_judgement(prompts, slug):
    sides = {"supports": 0, "challenges": 0, "judgement": 0}
    for point in prompts[slug]["points"]:
        assert point["text"].strip() and point["key_terms"].strip(), point
        sides[point["side"]] += 1
    assert all(sides.values()), sides
    # Both sides carry weight, not one token point against many.
    assert min(sides["supports"], sides["challenges"]) >= 2


@pytest.mark.parametrize("slug", FORMS)
def test_every_source_falls_inside_the_question_s_dates(prompts, source_dates, slug):
    prompt, (words, start, end) = prompts[slug], FORMS[slug].dates
    assert words in prompt["question"], "the date range below no longer matches the question"
    assert sources_outside(prompt["source_labels"], source_dates, start, end) == []


@pytest.mark.parametrize("slug", [s for s, f in FORMS.items() if f.dates[2].year > f.dates[1].year + 1])
def test_a_question_that_runs_for_years_has_sources_from_after_its_first_year(prompts, source_dates, slug):
    """The review's finding: a 1962–1972 question whose sources all date from October 1962."""
    start = FORMS[slug].dates[1]
    assert any(source_dates[label].year > start.year for label in prompts[slug]["source_labels"])


def test_the_date_check_catches_a_source_from_outside_the_range(source_dates):
    _, start, end = FORMS["account-agreements-1963"].dates
    assert sources_outside(["E", "M", "K"], source_dates, start, end) == ["M", "K"]


def test_scheme_names_are_distinct(prompts):
    names = [prompt["mark_scheme"]["name"] for prompt in prompts.values()]
    assert len(set(names)) == len(names) == len(FORMS)


@pytest.mark.parametrize(
    "wrong",
    [
        "secretly removed",  # REVIEW #4: the removal was public, its link to Cuba secret
        "satellite circuits in 1971",  # #8: agreed in 1971, in service later
        "first agreement signed after the crisis",  # #18
        "first US–Soviet agreement to limit nuclear weapons",  # #17
        "Further agreements followed: the Outer Space Treaty (1967), the friendlier Glassboro",  # #19
        "1,487",  # #16: source-dependent, so not taught as one figure
        "to a large extent",  # §3c: no preferred verdict as a key term
        "AO4",  # §3b: no GCSE judgement strand labelled AO4
    ],
)
def test_the_review_s_wrong_wording_has_left_the_prompts(wrong):
    assert wrong not in (UNIT_DIR / "prompts.yaml").read_text(encoding="utf-8")


@pytest.mark.django_db
def test_the_loaded_prompts_keep_their_type_bands_and_distinct_scheme_names():
    load_unit(UNIT_DIR)
    loaded = {p.slug: p for p in EssayPrompt.objects.shipped().prefetch_related("mark_scheme__criteria__levels")}
    assert set(loaded) == set(FORMS)
    for slug, form in FORMS.items():
        prompt = loaded[slug]
        assert prompt.question_type == form.question_type
        criteria = {c.code: c for c in prompt.mark_scheme.content_criteria()}
        assert set(criteria) == set(form.criteria)
        for code, (labels, expected) in form.criteria.items():
            levels = sorted(criteria[code].levels.all(), key=lambda level: level.number)
            assert criteria[code].assessment_objectives == labels
            assert [(lv.number, lv.min_marks, lv.max_marks) for lv in levels] == expected
        assert prompt.total_marks == sum(expected[-1][2] for _, expected in form.criteria.values())
        assert prompt.spag_marks == (4 if form.spag else 0)
    names = list(MarkScheme.objects.shipped().values_list("name", flat=True))
    assert len(set(names)) == len(names)

"""Load a unit from its data files (format: FORMAT.md) into the shipped content rows.

Two steps, so bad data never half-loads:

1. `read_unit(folder)` parses and checks every file and returns plain data, or raises
   `LoaderError` listing every problem with the file and field it is in.
2. `load_unit(folder)` writes that data in one transaction. Shipped rows (`owner` null)
   are matched by slug, label, code, number or position (knowledge-check questions by their
   wording and choices) and updated in place, so ids, students' attempts and marks that
   point at them survive; shipped children that disappeared from the files are deleted
   (a question pupils answered is kept, retired). Rows with an owner (teachers' own items and
   copies) are never read or written.

`comment_bank.yaml` is not loaded here (the comment bank belongs to the marking area).
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import models, transaction
from django.db.models import ProtectedError, RestrictedError

from crisis.markdown import MarkdownLengthValidator
from crisis.models import (
    Criterion,
    EssayPrompt,
    IndicativePoint,
    KeyTerm,
    KnowledgeCheckAttempt,
    KnowledgeQuestion,
    Lesson,
    Level,
    MarkScheme,
    ModelAnswer,
    PromptSource,
    SchemeInUse,
    Source,
    TimelineEvent,
    Unit,
    answer_bands,
    model_answer_problems,
    validate_bands,
)

CONTENT_DIR = Path(__file__).resolve().parent
SPAG_CODE = "SPAG"
INDICATIVE_SIDES = [side.value for side in IndicativePoint.Side]
MARK_SCHEME_KEYS = ("name", "qualification", "guidance", "criteria", "spag")


class LoaderError(Exception):
    """The unit's files have problems; nothing was written. `errors` names file and field."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


def unit_folders(root: Path = CONTENT_DIR) -> list[Path]:
    """Every folder under crisis/content/ that holds a unit.yaml, by name."""
    return sorted(path.parent for path in root.glob("*/unit.yaml"))


# --- reading and checking ----------------------------------------------------------------


@dataclass
class UnitData:
    folder: Path
    unit: dict[str, Any]
    lessons: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    prompts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return self.unit["slug"]


def _max_length(model: type[models.Model], name: str) -> int | None:
    """A field's `max_length`, or the length cap of a Markdown field."""
    field = model._meta.get_field(name)
    caps = [v.limit for v in getattr(field, "validators", []) if isinstance(v, MarkdownLengthValidator)]
    return getattr(field, "max_length", None) or min(caps, default=None)


class _Checker:
    """Collects every problem instead of stopping at the first, so one run shows them all."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def mapping(self, value: Any, where: str) -> dict:
        if not isinstance(value, dict):
            self.error(where, "expected a mapping of field: value")
            return {}
        return value

    def items(self, value: Any, where: str, *, required: bool = False) -> list:
        if value is None:
            if required:
                self.error(where, "is missing")
            return []
        if not isinstance(value, list):
            self.error(where, "expected a list")
            return []
        return value

    def text(
        self,
        item: dict,
        key: str,
        where: str,
        *,
        required: bool = True,
        model: type[models.Model] | None = None,
        field_name: str | None = None,
    ) -> str:
        value = item.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(f"{where}, {key}", "is missing or empty")
            return ""
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.error(f"{where}, {key}", "expected text")
            return ""
        value = str(value)
        limit = _max_length(model, field_name or key) if model else None
        if limit and len(value) > limit:
            self.error(f"{where}, {key}", f"is {len(value)} characters long; the most allowed is {limit}")
        return value

    def slug(self, item: dict, key: str, where: str) -> str:
        value = self.text(item, key, where)
        if value:
            try:
                validate_slug(value)
            except ValidationError:
                self.error(f"{where}, {key}", f"{value!r} is not a slug (letters, digits, hyphens)")
        return value

    def integer(self, item: dict, key: str, where: str, *, default: int | None = None, minimum: int = 0) -> int:
        value = item.get(key, default)
        if value is None:
            self.error(f"{where}, {key}", "is missing")
            return 0
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum or value > 32767:
            self.error(f"{where}, {key}", f"expected a whole number from {minimum}, got {value!r}")
            return 0
        return value

    def boolean(self, item: dict, key: str, where: str, *, default: bool) -> bool:
        value = item.get(key, default)
        if not isinstance(value, bool):
            self.error(f"{where}, {key}", f"expected true or false, got {value!r}")
            return default
        return value

    def date(self, item: dict, key: str, where: str) -> datetime.date | None:
        value = item.get(key)
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                pass
        self.error(f"{where}, {key}", f"expected an ISO date such as 1962-10-22, got {value!r}")
        return None

    def strings(self, item: dict, key: str, where: str, *, required: bool = False) -> list[str]:
        values = self.items(item.get(key), f"{where}, {key}", required=required)
        result = []
        for value in values:
            if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value).strip():
                result.append(str(value).strip())
            else:
                self.error(f"{where}, {key}", f"expected a list of text, found {value!r}")
        return result

    def yaml_file(self, path: Path, *, required: bool = True) -> Any:
        if not path.exists():
            if required:
                self.error(path.name, "file is missing")
            return None
        return self.yaml_text(path.read_text(encoding="utf-8"), path.name)

    def yaml_text(self, text: str, where: str) -> Any:
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc)
            self.error(where, f"not valid YAML{at}: {problem}")
            return None


def _split_front_matter(text: str) -> tuple[str, str] | None:
    text = text.replace("\r\n", "\n")
    if not text.startswith("---\n"):
        return None
    end = text.find("\n---\n", 3)
    if end == -1:
        return None
    return text[4:end], text[end + 5 :].strip("\n")


def _read_sources(check: _Checker, raw: Any) -> list[dict]:
    sources = []
    labels: set[str] = set()
    slugs: set[str] = set()
    kinds = {kind.value for kind in Source.Kind}
    for index, item in enumerate(check.items(raw, "sources.yaml"), start=1):
        where = f"sources.yaml, source {index}"
        item = check.mapping(item, where)
        if not item:
            continue
        label = check.text(item, "label", where, model=Source)
        if label:
            where = f"sources.yaml, source {label}"
            if label in labels:
                check.error(f"{where}, label", f"label {label!r} is used twice")
            labels.add(label)
        slug = check.slug(item, "slug", where)
        if slug in slugs:
            check.error(f"{where}, slug", f"slug {slug!r} is used twice")
        slugs.add(slug)
        kind = check.text(item, "kind", where)
        if kind and kind not in kinds:
            check.error(f"{where}, kind", f"{kind!r} is not one of {', '.join(sorted(kinds))}")
        sources.append(
            {
                "label": label,
                "slug": slug,
                "title": check.text(item, "title", where, model=Source),
                "kind": kind,
                "author": check.text(item, "author", where, model=Source),
                "date": check.date(item, "date", where),
                "date_label": check.text(item, "date_label", where, required=False, model=Source),
                "origin": check.text(item, "origin", where, required=False),
                "purpose": check.text(item, "purpose", where, required=False),
                "audience": check.text(item, "audience", where, required=False),
                # Exactly as written: an excerpt is a quotation, so no whitespace is tidied.
                "excerpt": check.text(item, "excerpt", where),
                "citation": check.text(item, "citation", where),
                "licence": check.text(item, "licence", where, required=False, model=Source),
                "shows": check.text(item, "shows", where, required=False),
                **_read_image(check, item, where, kind),
            }
        )
    return sources


def _read_image(check: _Checker, item: dict, where: str, kind: str) -> dict[str, str]:
    """A source's picture: a file under static/ with a text alternative; a diagram must have one."""
    image = check.text(item, "image", where, required=kind == Source.Kind.DIAGRAM, model=Source)
    image_alt = check.text(item, "image_alt", where, required=bool(image), model=Source)
    if image and (image.startswith("/") or ".." in Path(image).parts or not finders.find(image)):
        check.error(f"{where}, image", f"{image!r} is not a file under static/")
    return {"image": image, "image_alt": image_alt}


def _key_term_kind(check: _Checker, term: dict, where: str) -> str:
    """A key term's `kind` (FORMAT.md): term (the default), person or agreement."""
    kind = term.get("kind", KeyTerm.Kind.TERM)
    if kind not in KeyTerm.Kind.values:
        check.error(f"{where}, kind", f"{kind!r} is not one of: {', '.join(KeyTerm.Kind.values)}")
        return KeyTerm.Kind.TERM
    return kind


# The knowledge organiser is one printed page: a few more dates and it runs onto a second.
ORGANISER_MAX_DATES = 18
ORGANISER_MAX_TERMS = 24


def _read_organiser(check: _Checker, raw: Any, lessons: list[dict]) -> dict[str, list[str]]:
    """organiser.yaml (Unit.organiser_selection): `key_dates`, each the date of an event in a
    lesson's timeline, and `key_terms`, each a key term of a lesson."""
    if raw is None:
        return {}
    raw = check.mapping(raw, "organiser.yaml")
    known_terms = {" ".join(t["term"].split()).casefold() for lesson in lessons for t in lesson["key_terms"]}
    terms = check.strings(raw, "key_terms", "organiser.yaml")
    for term in terms:
        if " ".join(term.split()).casefold() not in known_terms:
            check.error("organiser.yaml, key_terms", f"{term!r} is not a key term of any lesson")
    timeline_dates = {event["sort_date"] for lesson in lessons for event in lesson["timeline"]}
    dates: list[str] = []
    for index, value in enumerate(check.items(raw.get("key_dates"), "organiser.yaml, key_dates"), start=1):
        where = f"organiser.yaml, key_dates[{index}]"
        date = check.date({"date": value}, "date", where)
        if date is None:
            continue
        if date not in timeline_dates:
            check.error(where, f"{date.isoformat()} is not the sort_date of any event in the lessons' timelines")
        elif date.isoformat() in dates:
            check.error(where, f"{date.isoformat()} is listed twice")
        else:
            dates.append(date.isoformat())
    if len(dates) > ORGANISER_MAX_DATES:
        check.error("organiser.yaml, key_dates", f"{len(dates)} dates; at most {ORGANISER_MAX_DATES} fit on the page")
    if len(terms) > ORGANISER_MAX_TERMS:
        check.error("organiser.yaml, key_terms", f"{len(terms)} terms; at most {ORGANISER_MAX_TERMS} fit on the page")
    return {"key_dates": sorted(dates), "key_terms": terms}


def _read_lesson(check: _Checker, path: Path, source_labels: set[str]) -> dict | None:
    where = f"lessons/{path.name}"
    parts = _split_front_matter(path.read_text(encoding="utf-8"))
    if parts is None:
        check.error(where, "must start with YAML front matter between two '---' lines")
        return None
    front_text, body = parts
    front = check.mapping(check.yaml_text(front_text, where), where)
    if not front:
        return None
    if not body.strip():
        check.error(f"{where}, body", "the Markdown body after the front matter is empty")
    body_limit = _max_length(Lesson, "body")
    if body_limit and len(body) > body_limit:
        check.error(f"{where}, body", f"is {len(body)} characters long; the most allowed is {body_limit}")
    objectives = check.strings(front, "objectives", where)
    key_terms = []
    for index, term in enumerate(check.items(front.get("key_terms"), f"{where}, key_terms"), start=1):
        term_where = f"{where}, key_terms[{index}]"
        term = check.mapping(term, term_where)
        key_terms.append(
            {
                "term": check.text(term, "term", term_where, model=KeyTerm),
                "definition": check.text(term, "definition", term_where),
                "pronunciation": check.text(term, "pronunciation", term_where, required=False, model=KeyTerm),
                "kind": _key_term_kind(check, term, term_where),
            }
        )
    timeline = []
    for index, event in enumerate(check.items(front.get("timeline"), f"{where}, timeline"), start=1):
        event_where = f"{where}, timeline[{index}]"
        event = check.mapping(event, event_where)
        timeline.append(
            {
                "sort_date": check.date(event, "sort_date", event_where),
                "when": check.text(event, "when", event_where, model=TimelineEvent),
                "event": check.text(event, "event", event_where),
            }
        )
    # Ordered by date as the page shows them; a stable sort keeps same-day events in file order.
    timeline.sort(key=lambda e: e["sort_date"] or datetime.date.min)
    labels = check.strings(front, "sources", where)
    for label in labels:
        if label not in source_labels:
            check.error(f"{where}, sources", f"no source has label {label!r} in sources.yaml")
    return {
        "file": where,
        "slug": check.slug(front, "slug", where),
        "title": check.text(front, "title", where, model=Lesson),
        "summary": check.text(front, "summary", where, required=False, model=Lesson),
        "objectives": "\n".join(objectives),
        "body": body,
        "key_terms": key_terms,
        "timeline": timeline,
        "source_labels": labels,
        "questions": [],
        "review_in": [],  # per question, in the same order: later lessons' slugs
    }


# What a question asks of the pupil; all but "recall" go beyond remembering (FORMAT.md).
QUESTION_KINDS = ("recall", "cause", "consequence", "source", "chronology", "odd-one-out", "two-tier")


def _read_questions(check: _Checker, raw: Any, lessons: dict[str, dict], lesson_order: list[str]) -> None:
    for index, item in enumerate(check.items(raw, "questions.yaml"), start=1):
        where = f"questions.yaml, question {index}"
        item = check.mapping(item, where)
        if not item:
            continue
        lesson_slug = check.text(item, "lesson", where)
        if lesson_slug and lesson_slug not in lessons:
            check.error(f"{where}, lesson", f"no lesson has slug {lesson_slug!r}")
        choices = check.strings(item, "choices", where, required=True)
        if len(choices) < 2:
            check.error(f"{where}, choices", "give at least two choices")
        answer = check.integer(item, "answer", where)
        if choices and not 0 <= answer < len(choices):
            check.error(
                f"{where}, answer",
                f"{answer} is not a choice: answers count from 0, so it must be 0 to {len(choices) - 1}",
            )
        kind = item.get("kind")
        if kind is not None and kind not in QUESTION_KINDS:
            check.error(f"{where}, kind", f"{kind!r} is not one of {', '.join(QUESTION_KINDS)}")
        # Spaced retrieval: the later lessons whose check asks this question again.
        review_in = check.strings(item, "review_in", where)
        if len(set(review_in)) != len(review_in):
            check.error(f"{where}, review_in", "a lesson slug is listed twice")
        for slug in review_in:
            if slug not in lesson_order:
                check.error(f"{where}, review_in", f"no lesson has slug {slug!r}")
            elif lesson_slug in lesson_order and lesson_order.index(slug) <= lesson_order.index(lesson_slug):
                check.error(
                    f"{where}, review_in",
                    f"{slug!r} does not come after {lesson_slug!r} in unit.yaml: review questions go to later lessons",
                )
        question = {
            "question": check.text(item, "question", where),
            "choices": choices,
            "answer": answer,
            "explanation": check.text(item, "explanation", where),
        }
        if lesson_slug in lessons:
            if any(_asked_as(other) == _asked_as(question) for other in lessons[lesson_slug]["questions"]):
                check.error(f"{where}, question", f"lesson {lesson_slug!r} already asks this, with the same choices")
            lessons[lesson_slug]["questions"].append(question)
            lessons[lesson_slug]["review_in"].append(review_in)


def _asked_as(question: dict | KnowledgeQuestion) -> tuple[str, tuple[str, ...], int]:
    """What a pupil sees and answers, and how it was scored: the question's wording, its
    choices in order and the right one. A stored attempt keeps the index of the choice picked
    and its score, so a shipped question is matched on this (a corrected key is a new row; the
    old one, if answered, is kept retired so past attempts read as they were scored)."""
    if isinstance(question, KnowledgeQuestion):
        return question.question, tuple(question.choices), question.answer
    return question["question"], tuple(question["choices"]), question["answer"]


def _read_levels(check: _Checker, raw: Any, where: str) -> list[dict]:
    levels: list[dict[str, Any]] = []
    for index, level in enumerate(check.items(raw, f"{where}, levels", required=True), start=1):
        level_where = f"{where}, levels[{index}]"
        level = check.mapping(level, level_where)
        levels.append(
            {
                "number": check.integer(level, "number", level_where, minimum=0),
                "min_marks": check.integer(level, "min_marks", level_where),
                "max_marks": check.integer(level, "max_marks", level_where),
                "descriptor": check.text(level, "descriptor", level_where),
            }
        )
    if levels:
        try:
            validate_bands([(lv["number"], lv["min_marks"], lv["max_marks"]) for lv in levels], what="levels")
        except ValidationError as exc:
            for message in exc.messages:
                check.error(where, message)
    return levels


def _read_mark_scheme(check: _Checker, raw: Any, where: str, total_marks: int) -> dict:
    where = f"{where}, mark_scheme"
    raw = check.mapping(raw, where)
    criteria: list[dict[str, Any]] = []
    codes: set[str] = set()
    for index, item in enumerate(check.items(raw.get("criteria"), f"{where}, criteria", required=True), start=1):
        item = check.mapping(item, f"{where}, criteria[{index}]")
        code = check.text(item, "code", f"{where}, criteria[{index}]", model=Criterion)
        criterion_where = f"{where}, criterion {code or index}"
        if code.upper() == SPAG_CODE:
            check.error(f"{criterion_where}, code", "SPaG goes under mark_scheme.spag, not in criteria")
        if code in codes:
            check.error(f"{criterion_where}, code", f"code {code!r} is used twice")
        codes.add(code)
        criteria.append(
            {
                "code": code,
                "assessment_objectives": check.text(
                    item, "assessment_objectives", criterion_where, required=False, model=Criterion
                ),
                "name": check.text(item, "name", criterion_where, model=Criterion),
                "description": check.text(item, "description", criterion_where, required=False),
                "is_spag": False,
                "levels": _read_levels(check, item.get("levels"), criterion_where),
            }
        )
    tops = sum(max((lv["max_marks"] for lv in c["levels"]), default=0) for c in criteria)
    if criteria and total_marks and tops != total_marks:
        check.error(
            f"{where}, criteria",
            f"the criteria's top marks add up to {tops}, but the prompt's total_marks is {total_marks}",
        )
    spag_raw = raw.get("spag")
    if spag_raw is not None:
        spag_where = f"{where}, spag"
        spag_raw = check.mapping(spag_raw, spag_where)
        spag_max = check.integer(spag_raw, "max_marks", spag_where, minimum=1)
        levels = _read_levels(check, spag_raw.get("levels"), spag_where)
        top = max((lv["max_marks"] for lv in levels), default=0)
        if levels and top != spag_max:
            check.error(spag_where, f"the top level reaches {top} marks, but max_marks is {spag_max}")
        criteria.append(
            {
                "code": SPAG_CODE,
                "assessment_objectives": check.text(
                    spag_raw, "assessment_objectives", spag_where, required=False, model=Criterion
                ),
                "name": "Spelling, punctuation and grammar",
                "description": check.text(spag_raw, "description", spag_where, required=False),
                "is_spag": True,
                "levels": levels,
            }
        )
    unknown = sorted(str(key) for key in raw if key not in MARK_SCHEME_KEYS)
    if unknown:
        check.error(where, f"unknown key(s) {', '.join(unknown)}; expected {', '.join(MARK_SCHEME_KEYS)}")
    return {
        "name": check.text(raw, "name", where, model=MarkScheme),
        "qualification": check.text(raw, "qualification", where, required=False, model=MarkScheme),
        "guidance": check.text(raw, "guidance", where, required=False),
        "criteria": criteria,
    }


def _question_type(check: _Checker, item: dict, where: str) -> str:
    value = item.get("question_type", EssayPrompt.QuestionType.OTHER)
    if value not in EssayPrompt.QuestionType.values:
        check.error(
            f"{where}, question_type",
            f"{value!r} is not a question type; use one of {', '.join(EssayPrompt.QuestionType.values)}",
        )
        return EssayPrompt.QuestionType.OTHER
    return value


def _read_prompts(check: _Checker, raw: Any, source_labels: set[str]) -> list[dict]:
    prompts: list[dict[str, Any]] = []
    slugs: set[str] = set()
    for index, item in enumerate(check.items(raw, "prompts.yaml"), start=1):
        where = f"prompts.yaml, prompt {index}"
        item = check.mapping(item, where)
        if not item:
            continue
        slug = check.slug(item, "slug", where)
        if slug:
            where = f"prompts.yaml, prompt {slug!r}"
            if slug in slugs:
                check.error(f"{where}, slug", f"slug {slug!r} is used twice")
            slugs.add(slug)
        labels = check.strings(item, "sources", where)
        for label in labels:
            if label not in source_labels:
                check.error(f"{where}, sources", f"no source has label {label!r} in sources.yaml")
        if len(set(labels)) != len(labels):
            check.error(f"{where}, sources", "a source is listed twice")
        total_marks = check.integer(item, "total_marks", where, minimum=1)
        indicative_raw = check.mapping(item.get("indicative") or {}, f"{where}, indicative")
        points = []
        for side in indicative_raw:
            if side not in INDICATIVE_SIDES:
                check.error(f"{where}, indicative", f"{side!r} is not one of {', '.join(INDICATIVE_SIDES)}")
        for side in INDICATIVE_SIDES:
            for order, point in enumerate(check.items(indicative_raw.get(side), f"{where}, indicative.{side}")):
                point_where = f"{where}, indicative.{side}[{order + 1}]"
                point = check.mapping(point, point_where)
                points.append(
                    {
                        "side": side,
                        "order": order,
                        "text": check.text(point, "point", point_where),
                        "key_terms": ", ".join(check.strings(point, "key_terms", point_where)),
                    }
                )
        word_min = check.integer(item, "word_min", where, default=0)
        word_max = check.integer(item, "word_max", where, default=0)
        if word_max and word_min > word_max:
            check.error(f"{where}, word_min", f"{word_min} is more than word_max ({word_max})")
        prompts.append(
            {
                "slug": slug,
                "question": check.text(item, "question", where, model=EssayPrompt),
                "question_type": _question_type(check, item, where),
                "instructions": check.text(item, "instructions", where, required=False, model=EssayPrompt),
                "own_knowledge": check.boolean(item, "own_knowledge", where, default=True),
                "suggested_minutes": check.integer(item, "suggested_minutes", where, default=45, minimum=1),
                "word_min": word_min,
                "word_max": word_max,
                "source_labels": labels,
                "points": points,
                "mark_scheme": _read_mark_scheme(check, item.get("mark_scheme"), where, total_marks),
            }
        )
    seen: dict[str, str] = {}  # scheme name -> the prompt that has it
    for prompt in prompts:
        name, slug = str(prompt["mark_scheme"]["name"]), str(prompt["slug"])
        if name and name in seen:
            check.error(
                f"prompts.yaml, prompt {slug!r}, mark_scheme, name",
                f"{name!r} is also the name of prompt {seen[name]!r}'s scheme; every scheme needs its own name",
            )
        seen.setdefault(name, slug)
    return prompts


def _check_answer_marks(check: _Checker, answer: dict, scheme: dict, where: str) -> None:
    """An answer's level and marks must fit the prompt's scheme (crisis.models.model_answer_problems)."""
    bands, spag_max = answer_bands(
        (c["is_spag"], [(lv["number"], lv["min_marks"], lv["max_marks"]) for lv in c["levels"]])
        for c in scheme.get("criteria", [])
    )
    problems = model_answer_problems(answer["level"], answer["marks"], answer["spag"], bands, spag_max)
    for name, message in problems.items():
        check.error(f"{where}, {name}", message)


def _read_model_answers(check: _Checker, folder: Path, prompts: list[dict]) -> None:
    """Read model_answers/<prompt-slug>.yaml into each prompt's "model_answers", lowest level
    first; a prompt without a file gets none."""
    by_slug = {prompt["slug"]: prompt for prompt in prompts if prompt["slug"]}
    for prompt in prompts:
        prompt["model_answers"] = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        where = f"model_answers/{path.name}"
        found = len(check.errors)
        data = check.yaml_text(path.read_text(encoding="utf-8"), where)
        if data is None:
            if len(check.errors) == found:
                check.error(where, "the file is empty")
            continue
        raw = check.mapping(data, where)
        if not raw:
            continue
        slug = check.text(raw, "prompt", where)
        if slug and slug != path.stem:
            check.error(f"{where}, prompt", f"{slug!r} does not match the file name: call the file {slug}.yaml")
            continue
        if slug and slug not in by_slug:
            check.error(f"{where}, prompt", f"no prompt has slug {slug!r} in prompts.yaml")
            continue
        target = by_slug.get(slug)
        answers: list[dict[str, Any]] = []
        for index, item in enumerate(check.items(raw.get("answers"), f"{where}, answers", required=True), start=1):
            item_where = f"{where}, answers[{index}]"
            item = check.mapping(item, item_where)
            if not item:
                continue
            spag = item.get("spag")
            answer = {
                "level": check.integer(item, "level", item_where),
                "marks": check.integer(item, "marks", item_where),
                "spag": None if spag is None else check.integer(item, "spag", item_where),
                "text": check.text(item, "text", item_where, model=ModelAnswer).strip(),
                "commentary": check.text(item, "commentary", item_where, model=ModelAnswer).strip(),
            }
            if target is not None:
                _check_answer_marks(check, answer, target["mark_scheme"], f"{item_where} (level {answer['level']})")
            if any(a["level"] == answer["level"] for a in answers):
                check.error(f"{item_where}, level", f"there is already an answer at level {answer['level']}")
            answers.append(answer)
        if target is not None:
            answers.sort(key=lambda a: a["level"])
            target["model_answers"] = [{"order": order, **a} for order, a in enumerate(answers)]


def read_unit(folder: Path) -> UnitData:
    """Parse and check a unit folder; raise LoaderError naming every problem, file and field."""
    check = _Checker()
    folder = Path(folder)
    if not folder.is_dir():
        raise LoaderError([f"{folder}: no such unit folder"])
    unit_raw = check.mapping(check.yaml_file(folder / "unit.yaml") or {}, "unit.yaml")
    unit: dict[str, Any] = {
        "slug": check.slug(unit_raw, "slug", "unit.yaml"),
        "title": check.text(unit_raw, "title", "unit.yaml", model=Unit),
        "overview": check.text(unit_raw, "overview", "unit.yaml", required=False, model=Unit),
        "key_question": check.text(unit_raw, "key_question", "unit.yaml", required=False, model=Unit),
    }
    lesson_order = check.strings(unit_raw, "lessons", "unit.yaml", required=True)
    if len(set(lesson_order)) != len(lesson_order):
        check.error("unit.yaml, lessons", "a lesson slug is listed twice")

    sources = _read_sources(check, check.yaml_file(folder / "sources.yaml", required=False))
    source_labels = {s["label"] for s in sources}

    lessons: dict[str, dict] = {}
    for path in sorted((folder / "lessons").glob("*.md")):
        lesson = _read_lesson(check, path, source_labels)
        if lesson is None or not lesson["slug"]:
            continue
        if lesson["slug"] in lessons:
            check.error(f"{lesson['file']}, slug", f"{lessons[lesson['slug']]['file']} has the same slug")
        elif lesson["slug"] not in lesson_order:
            check.error(f"{lesson['file']}, slug", f"{lesson['slug']!r} is not listed under lessons in unit.yaml")
        lessons[lesson["slug"]] = lesson
    for slug in lesson_order:
        if slug not in lessons:
            check.error("unit.yaml, lessons", f"no file in lessons/ has slug {slug!r}")

    _read_questions(check, check.yaml_file(folder / "questions.yaml", required=False), lessons, lesson_order)
    unit["organiser_selection"] = _read_organiser(
        check, check.yaml_file(folder / "organiser.yaml", required=False), list(lessons.values())
    )
    prompts = _read_prompts(check, check.yaml_file(folder / "prompts.yaml", required=False), source_labels)
    _read_model_answers(check, folder / "model_answers", prompts)

    if check.errors:
        raise LoaderError(check.errors)
    return UnitData(
        folder=folder,
        unit=unit,
        lessons=[lessons[slug] for slug in lesson_order],
        sources=sources,
        prompts=prompts,
    )


# --- writing -------------------------------------------------------------------------------


@dataclass
class LoadReport:
    slug: str
    counts: Counter = field(default_factory=Counter)  # (action, model name) -> rows
    kept: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(action != "unchanged" and n for (action, _model), n in self.counts.items())

    def summary(self) -> str:
        if not self.changed:
            text = f"{self.slug}: unchanged"
        else:
            parts = []
            for action in ("created", "updated", "deleted"):
                rows = [f"{n} {model}" for (act, model), n in sorted(self.counts.items()) if act == action and n]
                if rows:
                    parts.append(f"{action} {', '.join(rows)}")
            text = f"{self.slug}: {'; '.join(parts)}"
        for note in self.kept:
            text += f"\n  kept {note}"
        return text


_M = TypeVar("_M", bound=models.Model)


class _Writer:
    def __init__(self, report: LoadReport) -> None:
        self.report = report

    def _count(self, action: str, model: type[models.Model], n: int = 1) -> None:
        self.report.counts[(action, model._meta.verbose_name_plural)] += n

    def update(self, obj: _M, values: dict[str, Any]) -> _M:
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if not changed:
            self._count("unchanged", type(obj))
            return obj
        for name in changed:
            setattr(obj, name, values[name])
        if any(f.name == "updated_at" for f in obj._meta.concrete_fields):
            changed.append("updated_at")
        obj.save(update_fields=changed)
        self._count("updated", type(obj))
        return obj

    def create(self, model: type[_M], values: dict[str, Any]) -> _M:
        self._count("created", model)
        return model._default_manager.create(**values)

    def upsert(self, queryset: models.QuerySet[_M], lookup: dict[str, Any], values: dict[str, Any]) -> _M:
        obj = queryset.filter(**lookup).first()
        if obj is None:
            return self.create(queryset.model, {**lookup, **values})
        return self.update(obj, values)

    def delete(self, objs: list[models.Model]) -> None:
        """Delete shipped children that left the files; refuse (and roll back) if marks use them."""
        for obj in objs:
            try:
                obj.delete()
            except (ProtectedError, RestrictedError):
                what = f"{type(obj)._meta.verbose_name} {obj}"
                raise LoaderError([f"{what} is no longer in the files but marks use it; keep it in the data"]) from None
            self._count("deleted", type(obj))

    def try_delete(self, obj: models.Model, what: str) -> None:
        """Delete a shipped item that left the files, unless something still depends on it."""
        try:
            with transaction.atomic():
                obj.delete()
        except (ProtectedError, RestrictedError):
            self.report.kept.append(f"{what} (no longer in the files, but still in use)")
        else:
            self._count("deleted", type(obj))


def _sync_children(writer: _Writer, model: type[models.Model], existing, wanted: list[dict], parent: dict) -> None:
    existing = list(existing)
    for obj, values in zip(existing, wanted, strict=False):
        writer.update(obj, values)
    for values in wanted[len(existing) :]:
        writer.create(model, {**parent, **values})
    writer.delete(existing[len(wanted) :])


def _sync_questions(writer: _Writer, lesson: Lesson, wanted: list[dict]) -> list[KnowledgeQuestion]:
    """A lesson's knowledge check, matched by what the pupil sees (`_asked_as`), not by position:
    attempts store {question id: index of the choice picked}, so a row must never come to ask
    something else. Moving or inserting a question keeps every row; rewording a question or its
    choices makes a new row. A row that left the files is deleted unless a pupil answered it:
    then it is retired (kept for those attempts, no longer asked). Returns the rows in file order."""
    existing: dict[tuple, list[KnowledgeQuestion]] = {}
    for row in lesson.questions.order_by("order", "pk"):
        existing.setdefault(_asked_as(row), []).append(row)
    rows = []
    for order, item in enumerate(wanted):
        values = {"order": order, **item, "retired": False}
        matches = existing.get(_asked_as(item))
        if matches:
            rows.append(writer.update(matches.pop(0), values))
        else:
            rows.append(writer.create(KnowledgeQuestion, {"lesson_id": lesson.pk, **values}))
    for row in (row for matches in existing.values() for row in matches):
        asked_in = [row.lesson_id, *row.review_in.values_list("pk", flat=True)]
        if not KnowledgeCheckAttempt.objects.filter(lesson_id__in=asked_in, answers__has_key=str(row.pk)).exists():
            writer.delete([row])
        elif not row.retired:
            writer.update(row, {"retired": True})
            writer.report.kept.append(
                f"question {row.question[:60]!r} of lesson {lesson.slug!r} (no longer in the files, but pupils "
                "answered it: retired, no longer asked)"
            )
    return rows


def _write_mark_scheme(writer: _Writer, scheme: MarkScheme, data: dict) -> None:
    criteria = {c.code: c for c in scheme.criteria.prefetch_related("levels")}
    wanted_codes = {c["code"] for c in data["criteria"]}
    writer.delete([c for code, c in criteria.items() if code not in wanted_codes])
    for order, item in enumerate(data["criteria"]):
        values = {k: item[k] for k in ("name", "assessment_objectives", "description", "is_spag")} | {"order": order}
        criterion = writer.upsert(scheme.criteria.all(), {"scheme_id": scheme.pk, "code": item["code"]}, values)
        levels = {lv.number: lv for lv in criterion.levels.all()}
        wanted_numbers = {lv["number"] for lv in item["levels"]}
        writer.delete([lv for number, lv in levels.items() if number not in wanted_numbers])
        for level in item["levels"]:
            values = {k: level[k] for k in ("descriptor", "min_marks", "max_marks")}
            if level["number"] in levels:
                writer.update(levels[level["number"]], values)
            else:
                writer.create(Level, {"criterion_id": criterion.pk, "number": level["number"], **values})


def _write(data: UnitData, report: LoadReport) -> Unit:
    writer = _Writer(report)
    unit_values = {k: v for k, v in data.unit.items() if k != "slug"}
    unit = writer.upsert(Unit.objects.shipped(), {"slug": data.slug}, unit_values)
    shipped_sources = Source.objects.shipped().filter(unit=unit)
    sources: dict[str, Source] = {}
    for item in data.sources:
        values = {k: v for k, v in item.items() if k != "label"}
        sources[item["label"]] = writer.upsert(shipped_sources, {"unit_id": unit.pk, "label": item["label"]}, values)

    shipped_lessons = Lesson.objects.shipped().filter(unit=unit)
    lesson_fields = ("title", "summary", "objectives", "body")
    lessons: dict[str, tuple[Lesson, bool]] = {}  # slug -> (lesson, existed before this load)
    reviews: dict[str, set[int]] = {item["slug"]: set() for item in data.lessons}  # slug -> review question ids
    for order, item in enumerate(data.lessons):
        values = {k: item[k] for k in lesson_fields} | {"order": order}
        existed = shipped_lessons.filter(slug=item["slug"]).exists()
        lesson = writer.upsert(shipped_lessons, {"unit_id": unit.pk, "slug": item["slug"]}, values)
        wanted_sources = {sources[label].pk for label in item["source_labels"]}
        if set(lesson.sources.values_list("pk", flat=True)) != wanted_sources:
            lesson.sources.set(wanted_sources)
            if existed:
                report.counts[("updated", "lesson source lists")] += 1
        terms = [{"order": i, **t} for i, t in enumerate(item["key_terms"])]
        parent = {"lesson_id": lesson.pk}
        _sync_children(writer, KeyTerm, lesson.key_terms.order_by("order", "pk"), terms, parent)
        _sync_children(writer, TimelineEvent, lesson.timeline.order_by("sort_date", "pk"), item["timeline"], parent)
        asked = _sync_questions(writer, lesson, item["questions"])
        lessons[item["slug"]] = (lesson, existed)
        for question, later in zip(asked, item["review_in"], strict=True):
            for slug in later:
                reviews[slug].add(question.pk)
    for slug, (lesson, existed) in lessons.items():
        if set(lesson.review_questions.values_list("pk", flat=True)) != reviews[slug]:
            lesson.review_questions.set(reviews[slug])
            if existed:
                report.counts[("updated", "lesson review lists")] += 1

    shipped_prompts = EssayPrompt.objects.shipped().filter(unit=unit).select_related("mark_scheme")
    prompt_fields = (
        "question",
        "question_type",
        "instructions",
        "own_knowledge",
        "suggested_minutes",
        "word_min",
        "word_max",
    )
    for item in data.prompts:
        values = {k: item[k] for k in prompt_fields}
        prompt = shipped_prompts.filter(slug=item["slug"]).first()
        scheme_values = {k: item["mark_scheme"][k] for k in ("name", "qualification", "guidance")}
        if prompt is None:
            scheme = writer.create(MarkScheme, scheme_values)
            values |= {"unit_id": unit.pk, "slug": item["slug"], "mark_scheme": scheme}
            prompt = writer.create(EssayPrompt, values)
        else:
            scheme = writer.update(prompt.mark_scheme, scheme_values)
            writer.update(prompt, values)
        try:
            _write_mark_scheme(writer, scheme, item["mark_scheme"])
        except SchemeInUse:
            raise LoaderError(
                [
                    f"prompt {item['slug']!r}: essays have been marked with its mark scheme, so its criteria, "
                    "levels and mark bands must stay as they are (their wording may change); "
                    "ship different bands as a new prompt"
                ]
            ) from None

        links = {link.source_id: link for link in prompt.source_links.all()}
        wanted = [sources[label].pk for label in item["source_labels"]]
        writer.delete([link for source_id, link in links.items() if source_id not in wanted])
        for order, source_id in enumerate(wanted):
            if source_id in links:
                writer.update(links[source_id], {"order": order})
            else:
                writer.create(PromptSource, {"prompt_id": prompt.pk, "source_id": source_id, "order": order})
        _sync_children(
            writer,
            IndicativePoint,
            prompt.indicative_points.order_by("side", "order", "pk"),
            sorted(item["points"], key=lambda p: (p["side"], p["order"])),
            {"prompt_id": prompt.pk},
        )
        _sync_children(
            writer,
            ModelAnswer,
            prompt.model_answers.order_by("order", "pk"),
            item["model_answers"],
            {"prompt_id": prompt.pk},
        )

    # Shipped items that left the files go too, unless students' work or teachers' items use them.
    for prompt in shipped_prompts.exclude(slug__in=[p["slug"] for p in data.prompts]):
        scheme = prompt.mark_scheme
        writer.try_delete(prompt, f"prompt {prompt.slug!r}")
        if not scheme.prompts.exists():
            writer.try_delete(scheme, f"mark scheme {scheme.name!r}")
    for lesson in shipped_lessons.exclude(slug__in=[lesson["slug"] for lesson in data.lessons]):
        if lesson.attempts.exists():
            report.kept.append(f"lesson {lesson.slug!r} (no longer in the files, but students have attempts on it)")
        else:
            writer.try_delete(lesson, f"lesson {lesson.slug!r}")
    for source in shipped_sources.exclude(label__in=list(sources)):
        writer.try_delete(source, f"source {source.label}")
    return unit


def load_unit(folder: Path) -> LoadReport:
    """Check the unit's files, then create or update its shipped rows in one transaction."""
    data = read_unit(folder)
    report = LoadReport(slug=data.slug)
    with transaction.atomic():
        _write(data, report)
    return report

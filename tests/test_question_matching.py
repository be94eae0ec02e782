"""load_unit matches knowledge-check questions by what a pupil saw (wording and choices), not by
position: an attempt stores {question id: index of the choice picked}, so moving, inserting,
rewording or removing a question in questions.yaml must never show a pupil's answer against a
question they were not asked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from django.urls import reverse

from crisis.content.loader import CONTENT_DIR, LoaderError, load_unit
from crisis.models import KnowledgeCheckAttempt, KnowledgeQuestion, Lesson

pytestmark = pytest.mark.django_db


@pytest.fixture
def files(tmp_path) -> Path:
    folder = tmp_path / "unit"
    shutil.copytree(CONTENT_DIR / "cuban_missile_crisis", folder)
    return folder


def read_questions(folder: Path) -> list[dict]:
    return yaml.safe_load((folder / "questions.yaml").read_text(encoding="utf-8"))


def write_questions(folder: Path, items: list[dict]) -> None:
    text = yaml.safe_dump(items, allow_unicode=True, sort_keys=False)
    (folder / "questions.yaml").write_text(text, encoding="utf-8")


def first_lesson(items: list[dict]) -> str:
    """The lesson of the file's first question: it has several of its own."""
    slug = items[0]["lesson"]
    assert sum(item["lesson"] == slug for item in items) >= 3
    return slug


def own_items(items: list[dict], slug: str) -> list[dict]:
    return [item for item in items if item["lesson"] == slug]


def answer_everything_wrongly_but_the_first(student, lesson: Lesson) -> KnowledgeCheckAttempt:
    """Choice 1 where the right answer is 0, else choice 0: each recorded index names one text."""
    questions = lesson.check_questions()
    answers = {q.pk: (1 if q.answer == 0 else 0) for q in questions}
    answers[questions[0].pk] = questions[0].answer
    return lesson.record_attempt(student, answers, questions)


def shown(client, student, attempt: KnowledgeCheckAttempt) -> list[tuple[str, str]]:
    """(question, "You chose: …") pairs of the attempt's results page, in order."""
    client.force_login(student)
    url = reverse("content:lesson", args=[attempt.lesson_id]) + f"?attempt={attempt.pk}"
    response = client.get(url)
    assert response.status_code == 200
    return [(r["question"].question, r["chosen_text"]) for r in response.context["result"]["results"]]


def as_asked(attempt: KnowledgeCheckAttempt) -> list[tuple[str, str]]:
    """What the pupil saw and picked, read from the rows when the attempt was made."""
    rows = {q.pk: q for q in KnowledgeQuestion.objects.filter(pk__in=[int(k) for k in attempt.answers])}
    return [(rows[int(k)].question, rows[int(k)].choices[v]) for k, v in attempt.answers.items()]


def test_moving_and_inserting_questions_keeps_each_row_and_each_attempt_as_asked(client, student, files):
    load_unit(files)
    items = read_questions(files)
    slug = first_lesson(items)
    lesson = Lesson.objects.shipped().get(slug=slug)
    attempt = answer_everything_wrongly_but_the_first(student, lesson)
    before = as_asked(attempt)
    rows_before = {q.pk: (q.question, q.choices) for q in lesson.questions.all()}

    # The lesson's own questions reversed, and a new one put in front of them.
    mine = own_items(items, slug)
    new = {
        "lesson": slug,
        "question": "Which came first?",
        "choices": ["The Hotline agreement", "The Partial Test Ban Treaty"],
        "answer": 0,
        "explanation": "The Hotline agreement was signed on 20 June 1963, the treaty on 5 August 1963.",
    }
    others = [item for item in items if item["lesson"] != slug]
    write_questions(files, [new, *reversed(mine), *others])
    load_unit(files)

    rows_after = {q.pk: (q.question, q.choices) for q in lesson.questions.all()}
    assert {pk: rows_after[pk] for pk in rows_before} == rows_before  # no row asks anything else now
    assert len(rows_after) == len(rows_before) + 1
    assert [q.question for q in lesson.check_questions()][: len(mine) + 1] == [
        "Which came first?",
        *[item["question"] for item in reversed(mine)],
    ]
    # The attempt shows what was asked, with the choice picked; not the question added since.
    assert sorted(shown(client, student, attempt)) == sorted(before)
    assert "Which came first?" not in [question for question, _ in shown(client, student, attempt)]


def test_a_reworded_question_that_pupils_answered_is_retired_not_rewritten(client, student, teacher, files):
    load_unit(files)
    items = read_questions(files)
    slug = first_lesson(items)
    lesson = Lesson.objects.shipped().get(slug=slug)
    attempt = answer_everything_wrongly_but_the_first(student, lesson)
    before = as_asked(attempt)
    mine = own_items(items, slug)
    old_wording = mine[0]["question"]
    old = lesson.questions.get(question=old_wording)
    mine[0]["question"] = "A reworded question?"
    mine[1]["choices"] = [*mine[1]["choices"][1:], mine[1]["choices"][0]]  # choices moved round
    mine[1]["answer"] = (mine[1]["answer"] - 1) % len(mine[1]["choices"])
    write_questions(files, items)

    report = load_unit(files)

    old.refresh_from_db()
    assert old.retired and old.question == old_wording  # kept, as asked
    assert "no longer in the files, but pupils answered it" in report.summary()
    asked_now = [q.question for q in lesson.check_questions()]
    assert "A reworded question?" in asked_now
    assert old.pk not in [q.pk for q in lesson.check_questions()]
    assert asked_now.count(mine[1]["question"]) == 1  # the old order of choices is retired too
    assert sorted(shown(client, student, attempt)) == sorted(before)
    # Not asked in a later lesson's check either, and a teacher's copy leaves it behind.
    assert not lesson.review_questions.filter(retired=True).exists()
    assert not KnowledgeQuestion.objects.get(pk=old.pk).review_in.exists()
    copy = lesson.make_copy(teacher)
    assert old_wording not in copy.questions.values_list("question", flat=True)

    assert not load_unit(files).changed  # idempotent

    # Put back as it was: the same row is asked again.
    mine[0]["question"] = old_wording
    write_questions(files, items)
    load_unit(files)
    old.refresh_from_db()
    assert not old.retired and old.pk in [q.pk for q in lesson.check_questions()]


def test_a_question_nobody_answered_is_deleted_when_it_leaves_the_files(files):
    load_unit(files)
    items = read_questions(files)
    slug = first_lesson(items)
    gone = own_items(items, slug)[0]
    write_questions(files, [item for item in items if item is not gone])

    load_unit(files)

    assert not KnowledgeQuestion.objects.filter(question=gone["question"], lesson__slug=slug).exists()


def test_a_question_asked_twice_in_one_lesson_is_rejected(files):
    items = read_questions(files)
    slug = first_lesson(items)
    write_questions(files, [*items, {**own_items(items, slug)[0], "review_in": []}])
    with pytest.raises(LoaderError, match="already asks this, with the same choices"):
        load_unit(files)
    assert not KnowledgeQuestion.objects.exists()


def test_a_corrected_answer_key_leaves_past_attempts_as_they_were_scored(client, student, files):
    load_unit(files)
    items = read_questions(files)
    slug = first_lesson(items)
    lesson = Lesson.objects.shipped().get(slug=slug)
    attempt = answer_everything_wrongly_but_the_first(student, lesson)
    first = own_items(items, slug)[0]
    old = lesson.questions.get(question=first["question"])
    first["answer"] = (first["answer"] + 1) % len(first["choices"])  # the key "corrected"
    write_questions(files, items)

    load_unit(files)

    old.refresh_from_db()
    assert old.retired and old.answer != first["answer"]  # the pupil's attempt was scored on this
    new = lesson.questions.get(question=first["question"], retired=False)
    assert new.pk != old.pk and new.answer == first["answer"]
    assert str(old.pk) in attempt.answers and attempt.answers[str(old.pk)] == old.answer
    assert not load_unit(files).changed

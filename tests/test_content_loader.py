"""load_unit: checks everything first, writes in one transaction, is idempotent, never touches copies."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db.models import ProtectedError

from crisis.content.loader import CONTENT_DIR, LoaderError, load_unit, read_unit
from crisis.models import (
    Criterion,
    EssayPrompt,
    IndicativePoint,
    KeyTerm,
    KnowledgeQuestion,
    Lesson,
    Level,
    MarkScheme,
    PromptSource,
    Source,
    TimelineEvent,
    Unit,
)

UNIT_DIR = CONTENT_DIR / "cuban_missile_crisis"
MODELS = [
    Unit, Lesson, KeyTerm, TimelineEvent, KnowledgeQuestion, Source,
    EssayPrompt, PromptSource, IndicativePoint, MarkScheme, Criterion, Level,
]  # fmt: skip


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture
def unit_copy(tmp_path) -> Path:
    """A scratch copy of the shipped unit's files that a test may break."""
    folder = tmp_path / "unit"
    shutil.copytree(UNIT_DIR, folder)
    return folder


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def assert_rejected(folder: Path, *fragments: str) -> str:
    with pytest.raises(LoaderError) as excinfo:
        load_unit(folder)
    message = str(excinfo.value)
    for fragment in fragments:
        assert fragment in message, message
    assert all(count == 0 for count in counts().values()), counts()
    return message


def test_shipped_unit_files_are_valid():
    data = read_unit(UNIT_DIR)
    assert data.slug == "cuban-missile-crisis"
    assert len(data.lessons) >= 5


def test_loading_twice_gives_the_same_rows_and_reports_unchanged(db):
    first = load_unit(UNIT_DIR)
    after_first = counts()
    ids = sorted(KnowledgeQuestion.objects.values_list("pk", flat=True))
    second = load_unit(UNIT_DIR)
    assert first.changed
    assert counts() == after_first
    assert after_first["Lesson"] >= 5 and after_first["Source"] == len(read_unit(UNIT_DIR).sources) >= 15
    assert not second.changed
    assert second.summary() == "cuban-missile-crisis: unchanged"
    # Updated in place: ids that students' attempts and marks point at do not change.
    assert sorted(KnowledgeQuestion.objects.values_list("pk", flat=True)) == ids


def test_command_loads_every_unit_and_says_unchanged_the_second_time(db):
    out = StringIO()
    call_command("load_unit", stdout=out)
    call_command("load_unit", "cuban_missile_crisis", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("cuban-missile-crisis: created")
    assert lines[-1] == "cuban-missile-crisis: unchanged"


def test_command_names_an_unknown_unit(db):
    with pytest.raises(CommandError, match="No unit at .*no-such-unit"):
        call_command("load_unit", "no-such-unit")


def test_a_teachers_edited_copy_survives_a_reload(db, teacher, unit_copy):
    load_unit(unit_copy)
    shipped = EssayPrompt.objects.shipped().get(slug="crisis-improved-relations")
    copy = shipped.make_copy(teacher)
    copy.question = "My own wording of the question"
    copy.save(update_fields=["question"])
    level = Level.objects.get(criterion__scheme=copy.mark_scheme, criterion__code="AO1+AO2", number=1)
    level.descriptor = "My descriptor"
    level.save(update_fields=["descriptor"])
    lesson_copy = Lesson.objects.shipped().get(slug="thirteen-days").make_copy(teacher)
    lesson_copy.body = "My lesson"
    lesson_copy.save(update_fields=["body"])

    # The shipped data changes, then the unit is loaded again.
    edit_yaml(unit_copy / "prompts.yaml", lambda prompts: prompts[0].update(question="How far did diplomacy improve?"))
    report = load_unit(unit_copy)

    assert report.changed
    copy.refresh_from_db()
    shipped.refresh_from_db()
    assert shipped.question == "How far did diplomacy improve?"
    assert copy.question == "My own wording of the question"
    assert copy.owner == teacher and copy.copied_from == shipped
    assert Level.objects.get(pk=level.pk).descriptor == "My descriptor"
    assert Lesson.objects.get(pk=lesson_copy.pk).body == "My lesson"
    assert EssayPrompt.objects.filter(slug="crisis-improved-relations").count() == 2


def test_children_that_leave_the_files_are_deleted_and_changes_update_in_place(db, unit_copy):
    load_unit(unit_copy)
    lesson = Lesson.objects.get(slug="thirteen-days")
    terms_before = lesson.key_terms.count()
    first_term = lesson.key_terms.order_by("order").first()

    path = unit_copy / "lessons" / "01-thirteen-days.md"
    text = path.read_text(encoding="utf-8")
    front, body = text[4:].split("\n---\n", 1)
    data = yaml.safe_load(front)
    data["key_terms"] = data["key_terms"][:-1]
    data["key_terms"][0]["definition"] = "A changed definition."
    path.write_text(f"---\n{yaml.safe_dump(data, allow_unicode=True, sort_keys=False)}---\n{body}", encoding="utf-8")
    load_unit(unit_copy)

    assert lesson.key_terms.count() == terms_before - 1
    first_term.refresh_from_db()
    assert first_term.definition == "A changed definition."


def test_overlapping_bands_are_rejected_naming_file_and_criterion_and_nothing_is_written(db, unit_copy):
    def overlap(prompts):
        levels = prompts[0]["mark_scheme"]["criteria"][0]["levels"]
        assert [level["number"] for level in levels[:3]] == [0, 1, 2]
        levels[2]["min_marks"] = 1  # level 2 now starts inside level 1

    edit_yaml(unit_copy / "prompts.yaml", overlap)
    assert_rejected(unit_copy, "prompts.yaml", "'crisis-improved-relations'", "criterion AO1+AO2", "overlap")


def test_an_unknown_source_label_is_rejected(db, unit_copy):
    edit_yaml(unit_copy / "prompts.yaml", lambda prompts: prompts[0].update(sources=["A", "B", "Z"]))
    assert_rejected(unit_copy, "prompts.yaml", "sources", "no source has label 'Z'")


def test_a_bad_answer_index_is_rejected(db, unit_copy):
    edit_yaml(unit_copy / "questions.yaml", lambda questions: questions[2].update(answer=7))
    assert_rejected(unit_copy, "questions.yaml, question 3, answer", "7 is not a choice")


def test_criteria_that_do_not_add_up_to_the_total_are_rejected(db, unit_copy):
    edit_yaml(unit_copy / "prompts.yaml", lambda prompts: prompts[0].update(total_marks=20))
    assert_rejected(unit_copy, "add up to 16", "total_marks is 20")


def test_a_lesson_without_front_matter_is_rejected(db, unit_copy):
    (unit_copy / "lessons" / "01-thirteen-days.md").write_text("Just text\n", encoding="utf-8")
    assert_rejected(unit_copy, "lessons/01-thirteen-days.md", "front matter")


def test_broken_yaml_names_the_file_and_line(db, unit_copy):
    (unit_copy / "sources.yaml").write_text("- label: A\n  title: [unclosed\n", encoding="utf-8")
    assert_rejected(unit_copy, "sources.yaml", "not valid YAML", "line")


def test_every_problem_is_reported_at_once(db, unit_copy):
    edit_yaml(unit_copy / "questions.yaml", lambda questions: questions[0].update(answer=9, lesson="nowhere"))
    edit_yaml(unit_copy / "sources.yaml", lambda sources: sources[0].update(kind="poem"))
    message = assert_rejected(unit_copy, "question 1, answer", "question 1, lesson", "source A, kind")
    assert "'poem' is not one of" in message


def test_the_command_reports_errors_without_a_traceback_and_writes_nothing(db, unit_copy, settings, monkeypatch):
    edit_yaml(unit_copy / "questions.yaml", lambda questions: questions[0].update(answer=-1))
    monkeypatch.setattr("crisis.management.commands.load_unit.CONTENT_DIR", unit_copy.parent)
    with pytest.raises(CommandError, match=r"nothing was loaded(.|\n)*questions.yaml, question 1, answer"):
        call_command("load_unit", unit_copy.name)
    assert Unit.objects.count() == 0


def test_the_comment_bank_file_is_ignored(db, unit_copy):
    (unit_copy / "comment_bank.yaml").write_text("this: is: not: loaded\n", encoding="utf-8")
    report = load_unit(unit_copy)
    assert report.changed


def test_a_teachers_copy_with_a_shipped_slug_leaves_a_reload_unchanged(db, teacher, unit_copy):
    """A teacher's copy with the same slug as a shipped lesson does not collide with it."""
    load_unit(unit_copy)
    Lesson.objects.shipped().get(slug="limits").make_copy(teacher)
    report = load_unit(unit_copy)
    assert not report.changed


def test_a_prompt_that_left_the_files_is_deleted_unless_assignments_use_it(db, unit_copy, monkeypatch):
    load_unit(unit_copy)
    shipped = len(read_unit(unit_copy).prompts)
    edit_yaml(unit_copy / "prompts.yaml", lambda prompts: prompts.pop())
    # Its model answers leave with it (a model answer for a prompt not in the files is an error).
    (unit_copy / "model_answers" / "value-sources-settlement.yaml").unlink(missing_ok=True)
    real_delete = EssayPrompt.delete

    def used_by_an_assignment(self, *args, **kwargs):
        raise ProtectedError("used by an assignment", {self})

    monkeypatch.setattr(EssayPrompt, "delete", used_by_an_assignment)
    report = load_unit(unit_copy)
    assert EssayPrompt.objects.count() == shipped
    assert "kept prompt 'value-sources-settlement' (no longer in the files, but still in use)" in report.summary()

    monkeypatch.setattr(EssayPrompt, "delete", real_delete)
    report = load_unit(unit_copy)
    assert EssayPrompt.objects.count() == shipped - 1
    assert MarkScheme.objects.count() == shipped - 1
    assert "deleted" in report.summary()

"""Migrations crisis 0007 (board-style schemes) and classroom 0011 (skill strands) lose no mark.

Marks given with an old analytic scheme (one criterion per AO, one mark per level, SPaG
apart) keep their totals, criterion marks, maxima and released feedback, byte for byte; the
scheme reads as before; and each mark gets formative strand ticks derived from its AO
criterion marks. Runs on SQLite and PostgreSQL alike (DATABASE_URL picks the database).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from tests.factories import StudentFactory, SubmissionFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("crisis", "0006_quiz_review"), ("classroom", "0010_join_attempts")]
OLD_CODES = ["AO1", "AO2", "AO3", "AO4", "SPAG"]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _snapshot(apps, mark_ids):
    Mark = apps.get_model("classroom", "Mark")
    CriterionMark = apps.get_model("classroom", "CriterionMark")
    marks = {m.pk: model_to_dict(m) for m in Mark.objects.filter(pk__in=mark_ids)}
    criterion_marks = sorted(
        CriterionMark.objects.filter(mark_id__in=mark_ids).values(
            "mark_id", "criterion_id", "criterion__code", "level_id", "level__number", "marks", "max_marks"
        ),
        key=lambda row: (row["mark_id"], row["criterion_id"]),
    )
    return marks, criterion_marks


def test_board_scheme_migrations_keep_marks_and_derive_strand_ticks(client, cast, essay, school_class):
    second_pupil = StudentFactory()
    school_class.enrol(second_pupil)
    second = SubmissionFactory(
        assignment=essay.assignment, student=second_pupil, text="A shorter essay.", submitted=True
    )

    old = _migrate(BEFORE)
    MarkScheme = old.get_model("crisis", "MarkScheme")
    Criterion = old.get_model("crisis", "Criterion")
    Level = old.get_model("crisis", "Level")
    EssayPrompt = old.get_model("crisis", "EssayPrompt")
    Submission = old.get_model("classroom", "Submission")
    Mark = old.get_model("classroom", "Mark")
    CriterionMark = old.get_model("classroom", "CriterionMark")

    # The old shipped shape: four analytic strands of one mark per level, SPaG apart.
    scheme = MarkScheme.objects.create(name="Old analytic scheme (16 marks + 4 SPaG)")
    levels = {}
    for order, code in enumerate(OLD_CODES):
        criterion = Criterion.objects.create(
            scheme=scheme, order=order, code=code, name=f"Old {code}", is_spag=code == "SPAG"
        )
        for number in range(1, 5):
            levels[(code, number)] = Level.objects.create(
                criterion=criterion, number=number, min_marks=number, max_marks=number, descriptor=f"{code} L{number}"
            )
    EssayPrompt.objects.filter(pk=essay.assignment.prompt_id).update(mark_scheme=scheme)

    now = timezone.now()
    given = {
        # essay: released. AO4 "no rewardable material" (no level).
        essay.pk: ({"AO1": 4, "AO2": 3, "AO3": 2, "AO4": None, "SPAG": 3}, "released"),
        # second: complete, not released.
        second.pk: ({"AO1": 1, "AO2": 2, "AO3": 4, "AO4": 3, "SPAG": None}, "marked"),
    }
    marks = {}
    for submission_pk, (levels_given, state) in given.items():
        Submission.objects.filter(pk=submission_pk).update(state=state)
        content = [n or 0 for code, n in levels_given.items() if code != "SPAG"]
        mark = Mark.objects.create(
            submission_id=submission_pk,
            marker_id=cast["teacher"].pk,
            www="Precise dates for the Hotline and the test ban.",
            ebi="Weigh the limits of détente against the agreements.",
            improvement_task="Rewrite your conclusion with a judgement.",
            total=sum(content),
            spag=levels_given["SPAG"],
            max_total=16,
            max_spag=4,
            revision=7,
            updated_at=now,
            completed_at=now,
            released_at=now if state == "released" else None,
            released_by_id=cast["teacher"].pk if state == "released" else None,
        )
        for code, number in levels_given.items():
            if code == "SPAG" and number is None:
                continue
            level = levels[(code, number)] if number else None
            CriterionMark.objects.create(
                mark=mark,
                criterion_id=levels[(code, 1)].criterion_id,
                level=level,
                marks=number or 0,
                max_marks=4,
            )
        marks[submission_pk] = mark.pk
    before_marks, before_criterion_marks = _snapshot(old, marks.values())
    assert before_marks[marks[essay.pk]]["total"] == 9 and before_marks[marks[second.pk]]["total"] == 10

    new = _migrate(_latest())
    after_marks, after_criterion_marks = _snapshot(new, marks.values())
    assert after_marks == before_marks  # totals, SPaG, maxima, feedback, release, revision
    assert after_criterion_marks == before_criterion_marks

    # The scheme reads as it did: same codes, bands and maxima; the new fields are blank.
    NewScheme = new.get_model("crisis", "MarkScheme")
    migrated = NewScheme.objects.get(pk=scheme.pk)
    assert (migrated.name, migrated.qualification, migrated.guidance) == (scheme.name, "", "")
    bands = sorted(
        new.get_model("crisis", "Level")
        .objects.filter(criterion__scheme=migrated)
        .values_list("criterion__code", "number", "min_marks", "max_marks")
    )
    assert bands == sorted((code, n, n, n) for code in OLD_CODES for n in range(1, 5))
    assert set(migrated.criteria.values_list("assessment_objectives", flat=True)) == {""}
    assert new.get_model("crisis", "EssayPrompt").objects.get(pk=essay.assignment.prompt_id).question_type == "other"

    # Strand ticks, from each AO criterion's level: bottom or none 1, middle 2, top half 3.
    stored = new.get_model("classroom", "StrandTick").objects
    assert not stored.filter(derived=False).exists()  # worked out, not ticked by a marker
    ticks = stored.values_list("mark_id", "strand", "rating")
    assert sorted(ticks) == sorted(
        [
            (marks[essay.pk], "knowledge", 3),  # AO1 level 4 of 4
            (marks[essay.pk], "analysis", 3),  # AO2 level 3 of 4
            (marks[essay.pk], "sources", 2),  # AO3 level 2 of 4
            (marks[essay.pk], "judgement", 1),  # AO4 no level
            (marks[second.pk], "knowledge", 1),  # AO1 level 1
            (marks[second.pk], "analysis", 2),
            (marks[second.pk], "sources", 3),
            (marks[second.pk], "judgement", 3),
        ]
    )

    # The pupil's released feedback reads exactly as before: the derived strands are not in it.
    client.force_login(cast["student"])
    html = client.get(reverse("classroom:feedback", args=[essay.assignment_id])).content.decode()
    assert "Precise dates for the Hotline and the test ban." in html
    assert "Rewrite your conclusion with a judgement." in html
    assert "Your mark: <strong>9 out of 16</strong>" in html
    assert "Your skills" not in html

    # …while the pupil's progress page shows them as skills over time.
    progress = client.get(reverse("classroom:my_progress")).content.decode()
    assert "Skill strands over time" in progress
    assert "Secure" in progress and "Not yet" in progress

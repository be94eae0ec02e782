"""Migration 0005 (one lifecycle) keeps every fact the old columns held: a complete mark keeps
being complete, a redraft in progress reads as returned, every handed-in essay gets its
candidate number, and an anchor the stricter CHECK refuses becomes a general comment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("classroom", "0004_marking"), ("crisis", "0002_lesson_sources")]
AFTER = [("classroom", "0005_one_lifecycle")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_migration_0005_keeps_what_the_old_columns_said(cast, essay):
    old = _migrate(BEFORE)
    Submission = old.get_model("classroom", "Submission")
    Mark = old.get_model("classroom", "Mark")
    Annotation = old.get_model("classroom", "Annotation")
    now = timezone.now()
    handed_in = Submission.objects.get(pk=essay.pk)
    Submission.objects.filter(pk=essay.pk).update(state="marked", candidate_number=None)
    mark = Mark.objects.create(submission_id=handed_in.pk, state="complete", completed_at=None, updated_at=now)
    Annotation.objects.create(mark_id=mark.pk, number=1, start=None, end=5, quote="", comment="Half an anchor")
    Annotation.objects.create(mark_id=mark.pk, number=2, start=0, end=3, quote="The", comment="A real anchor")
    redraft = Submission.objects.create(
        assignment_id=essay.assignment_id,
        student_id=cast["outsider"].pk,
        state="draft",
        submitted_at=now - dt.timedelta(days=2),
        returned_at=now - dt.timedelta(days=1),
    )

    new = _migrate(AFTER)
    Submission = new.get_model("classroom", "Submission")
    Mark = new.get_model("classroom", "Mark")
    Annotation = new.get_model("classroom", "Annotation")
    assert Mark.objects.get(pk=mark.pk).completed_at == now  # complete is now "has completed_at"
    assert Submission.objects.get(pk=redraft.pk).state == "returned"
    number = Submission.objects.get(pk=essay.pk).candidate_number
    assert number is not None and 1000 <= number <= 9999
    anchors = dict(Annotation.objects.values_list("number", "start"))
    assert anchors == {1: None, 2: 0}
    assert Annotation.objects.get(number=1).comment == "Half an anchor"  # kept, as a general comment
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())  # back to the latest schema

"""CompiledQuery runs a queryset's SQL compiled once, with each run's own values bound."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from classroom.compiled import CompiledQuery
from classroom.models import Assignment, Submission


def _assignments(class_ids: list[int], due_before, prompt: int | None):
    queryset = Assignment.objects.filter(school_class_id__in=class_ids, due_at__lt=due_before)
    if prompt is not None:
        queryset = queryset.filter(prompt_id=prompt)
    return (
        queryset.annotate(n=Count("submissions", filter=Q(submissions__state__in=Submission.MARKABLE_STATES)))
        .order_by("pk")
        .values("pk", "title", "n")
    )


@pytest.mark.django_db
def test_each_run_binds_its_own_values(marking_assignment, essay, other_class):
    compiled = CompiledQuery(_assignments)
    later, earlier = timezone.now() + timedelta(days=400), timezone.now() - timedelta(days=400)
    prompt = marking_assignment.prompt_id
    cases = [
        {"class_ids": [marking_assignment.school_class_id], "due_before": later, "prompt": None},
        {"class_ids": [marking_assignment.school_class_id], "due_before": earlier, "prompt": None},
        {"class_ids": [other_class.pk], "due_before": later, "prompt": None},
        {"class_ids": [other_class.pk, marking_assignment.school_class_id], "due_before": later, "prompt": None},
        {"class_ids": [marking_assignment.school_class_id], "due_before": later, "prompt": prompt},
        {"class_ids": [marking_assignment.school_class_id], "due_before": later, "prompt": -1},
        {"class_ids": [], "due_before": later, "prompt": None},
    ]
    for _ in range(2):  # compiled on the first round, reused on the second
        for values in cases:
            assert compiled.rows(**values) == list(_assignments(**values))
    assert compiled.rows(**cases[0]) == [{"pk": marking_assignment.pk, "title": marking_assignment.title, "n": 1}]
    assert compiled.rows(**cases[1]) == []


@pytest.mark.django_db
def test_objects_come_back_as_model_instances(marking_assignment):
    compiled = CompiledQuery(lambda pk: Assignment.objects.filter(pk=pk))
    assert compiled.objects(pk=marking_assignment.pk) == [marking_assignment]
    assert compiled.objects(pk=-5) == []

"""seed_school: deterministic, consistent with the mark scheme, refuses on a live server."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Q

from classroom import progress
from classroom.models import CriterionMark, DirtResponse, Enrolment, Mark, SchoolClass, Submission, User
from tests.factories import EssayPromptFactory, marking_scheme

pytestmark = pytest.mark.django_db

SMALL = {"students": 30, "classes": 2, "assignments": 2}


@pytest.fixture
def prompts(db):
    return [EssayPromptFactory(mark_scheme=marking_scheme()), EssayPromptFactory(mark_scheme=marking_scheme())]


def seed(settings, **options):
    settings.DEBUG = True
    call_command("seed_school", **{**SMALL, "seed": 7, **options})


def totals():
    return sorted(
        Mark.objects.values_list("submission__student__username", "submission__assignment__title", "total", "spag")
    )


def test_same_seed_gives_the_same_school(settings, prompts):
    seed(settings)
    first = totals()
    seed(settings, reset=True)
    assert totals() == first
    assert len(first) > 10


def test_a_different_seed_gives_different_marks(settings, prompts):
    seed(settings)
    first = totals()
    seed(settings, reset=True, seed=8)
    assert totals() != first


def test_seeded_school_has_the_right_shape(settings, prompts):
    seed(settings)
    assert User.objects.filter(username__startswith="seed.", role=User.Role.STUDENT).count() == 30
    assert SchoolClass.objects.count() == 2
    assert Enrolment.objects.count() == 30
    assert Submission.objects.filter(is_late=True).exists()
    assert DirtResponse.objects.filter(submitted_at__isnull=False).exists()
    words = Submission.objects.exclude(submitted_at=None).values_list("word_count", flat=True)
    assert min(words) >= 550


def test_marks_are_consistent_with_the_mark_scheme_bands(settings, prompts):
    seed(settings)
    criterion_marks = list(CriterionMark.objects.select_related("level", "criterion"))
    marks = list(Mark.objects.prefetch_related("criterion_marks__criterion"))
    assert criterion_marks and marks, "the seed made no marks to check"
    for cm in criterion_marks:
        assert cm.level.criterion_id == cm.criterion_id
        assert cm.level.min_marks <= cm.marks <= cm.level.max_marks
    for mark in marks:
        content = sum(cm.marks for cm in mark.criterion_marks.all() if not cm.criterion.is_spag)
        spag = [cm.marks for cm in mark.criterion_marks.all() if cm.criterion.is_spag]
        assert mark.total == content and [mark.spag] == spag


def test_seeded_school_has_missing_and_released_work_in_the_markbook(settings, prompts):
    seed(settings, students=60, seed=3)
    kinds = {cell.kind for c in SchoolClass.objects.all() for row in progress.markbook(c).rows for cell in row.cells}
    assert {"released", "missing"} <= kinds
    assert Mark.objects.filter(Q(released_at__isnull=False)).exists()


def test_refuses_with_debug_off(settings, prompts):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_school", **SMALL)
    assert not User.objects.filter(username__startswith="seed.").exists()


def test_needs_the_unit_loaded(settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="load_unit"):
        call_command("seed_school", **SMALL)


def test_refuses_to_seed_twice_without_reset(settings, prompts):
    seed(settings)
    with pytest.raises(CommandError, match="--reset"):
        seed(settings)

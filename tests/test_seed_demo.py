from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from classroom import demo
from classroom.models import Enrolment, SchoolClass, User

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_the_cast_and_prints_logins(capsys, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert User.objects.filter(role=User.Role.HEAD).count() == 1
    assert User.objects.filter(role=User.Role.TEACHER).count() == 2
    assert User.objects.filter(role=User.Role.STUDENT).count() == len(demo.STUDENTS) == 25
    demo_class = SchoolClass.objects.get(name=demo.CLASS_NAME)
    assert demo_class.active_students().count() == 25
    assert demo.DEMO_PASSWORD in out and "head.ross" in out and "ms.khan" in out and "amelia.brown" in out
    assert User.objects.get(username="amelia.brown").check_password(demo.DEMO_PASSWORD)


def test_seed_demo_is_idempotent(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    counts = (User.objects.count(), SchoolClass.objects.count(), Enrolment.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), SchoolClass.objects.count(), Enrolment.objects.count()) == counts


def test_seed_demo_refuses_in_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refuses to run with DEBUG off"):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_seed_demo_runs_in_production_only_when_forced(settings):
    settings.DEBUG = False
    call_command("seed_demo", force=True)
    assert User.objects.filter(username="head.ross").exists()


def test_seed_demo_adds_marked_and_open_coursework_once_the_unit_is_loaded(settings, capsys):
    from classroom.demo.coursework import OPEN_TITLE, PAST_TITLE
    from classroom.models import Assignment, Mark, Submission

    settings.DEBUG = True
    call_command("load_unit")
    call_command("seed_demo")
    assert "marked and released" in capsys.readouterr().out
    past = Assignment.objects.get(title=PAST_TITLE)
    current = Assignment.objects.get(title=OPEN_TITLE)
    # 25 pupils: 22 handed in (2 of them late) and were marked and released; 3 are missing.
    assert past.submissions.filter(state=Submission.State.RELEASED).count() == 22
    assert past.submissions.filter(is_late=True).count() == 2
    assert Mark.objects.filter(submission__assignment=past, released_at__isnull=False).count() == 22
    for mark in Mark.objects.filter(submission__assignment=past).prefetch_related("criterion_marks__level"):
        for criterion_mark in mark.criterion_marks.all():
            assert criterion_mark.level.min_marks <= criterion_mark.marks <= criterion_mark.level.max_marks
        assert mark.total == sum(cm.marks for cm in mark.criterion_marks.all() if not cm.criterion.is_spag)
    assert current.submissions.filter(state=Submission.State.SUBMITTED).count() == 6
    assert current.submissions.filter(state=Submission.State.DRAFT).count() == 4
    # The first pupil is left to try writing the open essay.
    assert not current.submissions.filter(student__username="amelia.brown").exists()

    counts = (Assignment.objects.count(), Submission.objects.count(), Mark.objects.count())
    call_command("seed_demo")
    assert (Assignment.objects.count(), Submission.objects.count(), Mark.objects.count()) == counts


def test_seed_demo_without_the_unit_explains_how_to_get_coursework(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    assert "run `python manage.py load_unit` first" in capsys.readouterr().out

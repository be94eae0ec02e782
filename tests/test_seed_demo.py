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

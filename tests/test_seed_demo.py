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


def test_seed_demo_shows_the_department_with_a_completed_moderation_round(settings, client):
    from django.urls import reverse

    from classroom import department
    from classroom.demo.department import AGREE_FIRST, STANDARDISATION_TITLE
    from classroom.models import MarkChange, ModerationItem, ReviewMark, Standardisation

    settings.DEBUG = True
    call_command("load_unit")
    call_command("seed_demo")
    items = ModerationItem.objects.all()
    assert items.count() == 4 and not items.filter(agreed_at__isnull=True).exists()
    assert ReviewMark.objects.filter(kind=ReviewMark.Kind.SECOND).count() == 4
    # The head let the first marks stand (the demo's marks are justified in their comments).
    assert set(items.values_list("reason", flat=True)) == {AGREE_FIRST}
    assert not MarkChange.objects.exists()
    second = ReviewMark.objects.filter(kind=ReviewMark.Kind.SECOND)
    firsts = sorted(item.submission.mark.total for item in items)
    assert sum(firsts) - sum(second.values_list("total", flat=True)) >= 3  # a slightly severe second marker
    # Standardisation: three agreed scripts; the class teacher within tolerance, the second not.
    standardisation = Standardisation.objects.get(title=STANDARDISATION_TITLE)
    scripts = department.agreed_scripts_with_marks(standardisation)
    criteria = list(standardisation.prompt.mark_scheme.criteria.prefetch_related("levels"))
    results = {r.marker.username: r for r in department.marker_results(standardisation, criteria, scripts)}
    assert len(scripts) == 3
    assert results["ms.khan"].done == 3 and results["ms.khan"].within is True
    assert results[demo.TEACHERS[1][0]].done == 3 and results[demo.TEACHERS[1][0]].within is False
    # The head sees the figures at once.
    client.force_login(User.objects.get(username="head.ross"))
    page = client.get(reverse("classroom:agreement")).content.decode()
    assert "4 scripts" in page
    # A second run adds nothing.
    call_command("seed_demo")
    assert ModerationItem.objects.count() == 4 and Standardisation.objects.count() == 1
    assert ReviewMark.objects.filter(kind=ReviewMark.Kind.SECOND).count() == 4


def test_seed_demo_judges_the_essays_side_by_side_and_anchors_the_scale(settings, capsys):
    import statistics

    from classroom import judging
    from classroom.demo import judging as demo_judging
    from classroom.models import JudgingSession

    settings.DEBUG = True
    call_command("load_unit")
    call_command("seed_demo")
    assert "Demo judging: 110 judgements of 22 scripts" in capsys.readouterr().out
    session = JudgingSession.objects.get(title=demo_judging.SESSION_TITLE)
    result = judging.results(session)
    # About ten judgements a script, every script on the scale, short of the target of twelve,
    # so whoever tries the demo still has pairs to judge.
    assert result.judgements == 22 * demo_judging.JUDGED_PER_SCRIPT // 2
    assert all(row.judgements >= 5 for row in result.scripts) and not result.progress.complete
    assert judging.pair_for(session, User.objects.get(username="head.ross")) is not None
    # A real scale, not yet a final one: judging more firms it up. The script numbers, and so the
    # pairs, are drawn at random, so the SSR differs from run to run (0.55 to 0.8 seen).
    assert result.ssr >= 0.45
    # Four anchors (the three agreed scripts, the class's top and bottom marks overlap them);
    # the other essays' suggested marks follow the marks their teacher gave.
    assert 3 <= result.anchors <= 5
    others = [row for row in result.scripts if not row.is_anchor]
    assert all(row.suggestion is not None for row in others)
    given = [row.script.submission.mark.total for row in others]
    assert statistics.correlation([row.suggestion.total for row in others], given) >= 0.7
    call_command("seed_demo")
    assert JudgingSession.objects.count() == 1 and session.judgements.count() == result.judgements + 1

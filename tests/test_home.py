"""The role-aware home page and the page shell."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import SchoolClassFactory, StudentFactory

pytestmark = pytest.mark.django_db


def test_teacher_home_lists_their_classes_only(client, cast, school_class, other_class):
    client.force_login(cast["teacher"])
    html = client.get(reverse("home")).content.decode()
    assert "My classes" in html
    assert school_class.name in html
    assert school_class.join_code in html
    assert other_class.name not in html


def test_head_home_lists_every_class(client, cast, school_class, other_class):
    client.force_login(cast["head"])
    html = client.get(reverse("home")).content.decode()
    assert school_class.name in html and other_class.name in html


def test_student_home_shows_their_work_not_teacher_tools(client, cast, school_class, other_class):
    client.force_login(cast["student"])
    html = client.get(reverse("home")).content.decode()
    assert "My work" in html
    assert school_class.name in html
    assert other_class.name not in html
    assert school_class.join_code not in html
    assert "My classes</a>" not in html


def test_a_pupils_home_lists_their_open_assignments_not_other_classes(cast, school_class, other_class):
    from django.utils import timezone

    from classroom.home import student_assignments
    from tests.factories import AssignmentFactory

    mine = AssignmentFactory(school_class=school_class, title="Mine")
    AssignmentFactory(school_class=other_class, title="Theirs")
    AssignmentFactory(
        school_class=school_class, title="Not open yet", opens_at=timezone.now() + timezone.timedelta(days=1)
    )
    open_rows, closed_rows = student_assignments(cast["student"])
    assert [row.assignment.pk for row in open_rows] == [mine.pk] and closed_rows == []
    row = open_rows[0]
    assert row.assignment.school_class.name == school_class.name and row.assignment.prompt.pk == mine.prompt_id
    assert row.status == "not_started" and row.word_count == 0


def test_an_it_account_with_a_pupils_role_still_sees_every_class_as_before(school_class, other_class):
    """createsuperuser makes an account with the default role, a pupil's: visible_to lets a
    superuser see every class, opened or not."""
    from django.utils import timezone

    from classroom.home import student_assignments
    from tests.factories import AssignmentFactory

    admin = StudentFactory(username="it.admin", is_superuser=True, is_staff=True)
    titles = {"Mine", "Theirs", "Not open yet"}
    AssignmentFactory(school_class=school_class, title="Mine")
    AssignmentFactory(school_class=other_class, title="Theirs")
    AssignmentFactory(
        school_class=school_class, title="Not open yet", opens_at=timezone.now() + timezone.timedelta(days=1)
    )
    open_rows, closed_rows = student_assignments(admin)
    assert {row.assignment.title for row in open_rows + closed_rows} == titles


def test_shell_has_language_skip_link_and_role_badge(client, cast):
    client.force_login(cast["student"])
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="en-GB">' in html
    assert 'href="#main">Skip to main content</a>' in html
    assert '<main id="main"' in html
    assert ">Student</span>" in html


def test_login_page_renders_with_crispy_bootstrap_fields(client):
    html = client.get(reverse("login")).content.decode()
    username_input = re.search(r'<input[^>]*name="username"[^>]*>', html).group(0)
    assert "form-control" in username_input
    assert 'for="id_username"' in html


def test_authenticated_user_visiting_login_goes_home(client, cast):
    client.force_login(cast["teacher"])
    response = client.get(reverse("login"))
    assert response.status_code == 302


def _class_of(n: int, teacher) -> None:
    SchoolClassFactory(teachers=[teacher], students=StudentFactory.create_batch(n))


@pytest.mark.parametrize("extra_classes", [1, 8])
def test_teacher_home_query_budget(client, cast, django_assert_num_queries, extra_classes):
    for _ in range(extra_classes):
        _class_of(3, cast["teacher"])
    client.force_login(cast["teacher"])
    # session, user, classes with pupil counts, figures per assignment, the listed assignments
    # (the budget with work waiting is in tests/test_teacher_home.py)
    with django_assert_num_queries(5):
        assert client.get(reverse("home")).status_code == 200


@pytest.mark.parametrize("extra_classes", [1, 8])
def test_student_home_query_budget(client, cast, django_assert_num_queries, extra_classes):
    for _ in range(extra_classes):
        SchoolClassFactory(teachers=[cast["teacher"]], students=[cast["student"]])
    client.force_login(cast["student"])
    # session, user, classes, assignments with this student's status (one annotated query),
    # peer judging open to them (none)
    with django_assert_num_queries(5):
        assert client.get(reverse("home")).status_code == 200


def test_student_home_lists_peer_judging_in_a_fixed_number_of_queries(client, cast, other_class):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from classroom.models import JudgingSession
    from tests.factories import EssayPromptFactory, marking_scheme

    counts = []
    for number in (1, 4):
        for _ in range(number - JudgingSession.objects.count()):
            prompt = EssayPromptFactory(mark_scheme=marking_scheme())
            session = JudgingSession.objects.create(title=f"Judge {prompt.pk}", prompt=prompt, peer_judging=True)
            session.judge_classes.add(cast["student"].enrolments.get().school_class)
        client.force_login(cast["student"])
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("home"))
        assert response.status_code == 200 and len(response.context["judging"]) == number
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("url_name", ["login"])
def test_anonymous_pages_query_budget(client, django_assert_num_queries, url_name):
    with django_assert_num_queries(0):
        assert client.get(reverse(url_name)).status_code == 200


def test_password_page_query_budget(client, cast, django_assert_num_queries):
    client.force_login(cast["student"])
    with django_assert_num_queries(2):
        assert client.get(reverse("password_change")).status_code == 200

"""The access helpers: 404 for outsiders, 403 for the wrong role, login for anonymous."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from classroom import permissions
from classroom.models import EmailKind, SchoolClass, unsubscribe_token
from tests.factories import HeadFactory, StudentFactory

pytestmark = pytest.mark.django_db


def test_teacher_gets_their_own_class(cast, school_class):
    assert permissions.class_for_teacher(cast["teacher"], school_class.pk) == school_class


def test_other_teacher_gets_404_for_a_class_they_do_not_teach(cast, school_class):
    with pytest.raises(Http404):
        permissions.class_for_teacher(cast["other_teacher"], school_class.pk)


def test_student_gets_403_for_a_teacher_helper(cast, school_class):
    with pytest.raises(PermissionDenied):
        permissions.class_for_teacher(cast["student"], school_class.pk)


def test_head_of_department_manages_every_class(cast, school_class, other_class):
    assert permissions.class_for_teacher(cast["head"], school_class.pk) == school_class
    assert permissions.class_for_teacher(cast["head"], other_class.pk) == other_class


def test_student_sees_own_class_but_not_another(cast, school_class, other_class):
    assert permissions.class_for_member(cast["student"], school_class.pk) == school_class
    with pytest.raises(Http404):
        permissions.class_for_member(cast["student"], other_class.pk)


def test_removed_student_no_longer_sees_the_class(cast, school_class):
    school_class.enrolments.get(student=cast["student"]).remove()
    with pytest.raises(Http404):
        permissions.class_for_member(cast["student"], school_class.pk)


def test_nonsense_primary_key_is_404_not_500(cast):
    with pytest.raises(Http404):
        permissions.class_for_member(cast["teacher"], "abc")


def test_visible_to_lists_match_the_detail_rules(cast, school_class, other_class):
    assert list(SchoolClass.objects.visible_to(cast["teacher"])) == [school_class]
    assert list(SchoolClass.objects.visible_to(cast["student"])) == [school_class]
    assert set(SchoolClass.objects.visible_to(cast["head"])) == {school_class, other_class}
    assert list(SchoolClass.objects.visible_to(AnonymousUser())) == []


def test_inactive_user_sees_nothing(cast, school_class):
    teacher = cast["teacher"]
    teacher.is_active = False
    assert not SchoolClass.objects.visible_to(teacher).exists()


def test_student_for_teacher_only_reaches_their_own_pupils(cast):
    assert permissions.student_for_teacher(cast["teacher"], cast["student"].pk) == cast["student"]
    with pytest.raises(Http404):
        permissions.student_for_teacher(cast["teacher"], cast["outsider"].pk)
    assert permissions.student_for_teacher(cast["head"], cast["outsider"].pk) == cast["outsider"]
    with pytest.raises(PermissionDenied):
        permissions.student_for_teacher(cast["student"], cast["outsider"].pk)


@pytest.mark.parametrize("url_name", ["home", "password_change"])
def test_anonymous_is_sent_to_login(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


# --- Email notifications ---------------------------------------------------------------------


def test_email_preferences_are_always_ones_own(cast):
    for person in cast.values():
        assert permissions.email_preferences_for(person).user == person
    with pytest.raises(PermissionDenied):
        permissions.email_preferences_for(AnonymousUser())


def test_an_unsubscribe_token_names_one_person_and_kind_and_cannot_be_altered(cast):
    token = unsubscribe_token(cast["student"], EmailKind.FEEDBACK_RELEASED)
    assert permissions.unsubscribe_from(token) == (cast["student"], EmailKind.FEEDBACK_RELEASED)
    assert permissions.unsubscribe_from(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert permissions.unsubscribe_from("") is None


# --- Staff accounts: a superuser's account ---------------------------------------------------


def test_staff_member_matrix_keeps_a_superusers_account_for_superusers(cast):
    root = HeadFactory(username="root.head", is_superuser=True, is_staff=True)
    admin = StudentFactory(username="it.admin", is_superuser=True, is_staff=True)
    teacher = cast["teacher"]
    # (actor, member) -> the member, or the exception raised
    expected = {
        ("head", teacher): teacher,
        ("head", root): PermissionDenied,
        ("admin", root): root,
        ("admin", teacher): teacher,
        ("root", teacher): teacher,
        ("teacher", root): PermissionDenied,
        ("student", root): PermissionDenied,
        ("head", cast["student"]): Http404,
    }
    actors = {"head": cast["head"], "admin": admin, "root": root, "teacher": teacher, "student": cast["student"]}
    for (actor, member), outcome in expected.items():
        if isinstance(outcome, type):
            with pytest.raises(outcome):
                permissions.staff_member_for_head(actors[actor], member.pk)
        else:
            assert permissions.staff_member_for_head(actors[actor], member.pk) == outcome, (actor, member)
    assert not permissions.may_manage_member(cast["head"], root)
    assert permissions.may_manage_member(admin, root) and permissions.may_manage_member(cast["head"], teacher)

"""Staff accounts run by the head of department: the list, adding a teacher or head with a
one-time code, editing, the guard rails on demoting and deactivating heads, deactivation
(no sign-in, sessions end, work kept), reactivation, password resets, and who may do it."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from classroom import staff
from classroom.models import Assignment, Mark, SchoolClass, User
from tests.conftest import PASSWORD
from tests.factories import HeadFactory, SchoolClassFactory, StudentFactory, TeacherFactory
from tests.helpers import build_class

pytestmark = pytest.mark.django_db

SCHOOL_IP = "10.20.30.40"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def add_data(**overrides) -> dict:
    data = {
        "first_name": "Nina",
        "last_name": "Newton",
        "email": "n.newton@school.example",
        "username": "",
        "role": User.Role.TEACHER,
    }
    return {**data, **overrides}


def edit_data(member: User, **overrides) -> dict:
    data = {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "email": member.email or f"{member.username}@school.example",
        "username": member.username,
        "role": member.role,
    }
    return {**data, **overrides}


def sign_in(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=SCHOOL_IP)


# --- who may do it ---------------------------------------------------------------------------

PAGES = ["staff_list", "staff_create"]
MEMBER_PAGES = ["staff_edit", "staff_deactivate", "staff_reset_password"]
MEMBER_POSTS = ["staff_edit", "staff_deactivate", "staff_reactivate", "staff_reset_password"]


def _urls(member: User) -> list[str]:
    return [reverse(f"classroom:{name}") for name in PAGES] + [
        reverse(f"classroom:{name}", args=[member.pk]) for name in MEMBER_PAGES
    ]


def test_anonymous_is_sent_to_sign_in(client, cast):
    for url in _urls(cast["teacher"]):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


@pytest.mark.parametrize("actor", ["student", "teacher", "other_teacher"])
def test_pupils_and_teachers_get_403_on_every_staff_page_and_action(cast, actor):
    client = signed_in(cast[actor])
    member = cast["other_teacher"] if actor == "teacher" else cast["teacher"]
    for url in _urls(member):
        assert client.get(url).status_code == 403, url
    for name in MEMBER_POSTS:
        url = reverse(f"classroom:{name}", args=[member.pk])
        assert client.post(url, edit_data(member, first_name="Hacked")).status_code == 403, url
    assert client.post(reverse("classroom:staff_create"), add_data()).status_code == 403
    member.refresh_from_db()
    assert member.is_active and member.first_name != "Hacked"
    assert not User.objects.filter(username="nina.newton").exists()


def test_head_opens_every_staff_page(cast):
    client = signed_in(cast["head"])
    for url in _urls(cast["teacher"]):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url


def test_superuser_who_is_not_a_head_manages_staff_too(cast):
    admin = StudentFactory(username="it.admin", is_superuser=True, is_staff=True)
    client = signed_in(admin)
    for url in _urls(cast["teacher"]):
        assert client.get(url).status_code == 200, url


def test_deactivated_head_is_sent_to_sign_in(cast):
    HeadFactory(username="second.head")  # so the first head is not the last one
    client = signed_in(cast["head"])
    staff.deactivate(cast["head"], by=User.objects.get(username="second.head"))
    response = client.get(reverse("classroom:staff_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", MEMBER_PAGES + ["staff_reactivate"])
def test_a_pupils_id_is_404_even_for_the_head(cast, name):
    client = signed_in(cast["head"])
    url = reverse(f"classroom:{name}", args=[cast["student"].pk])
    assert client.get(url).status_code in (404, 405)
    assert client.post(url, edit_data(cast["student"], role=User.Role.TEACHER)).status_code == 404
    student = User.objects.get(pk=cast["student"].pk)
    assert student.is_student and student.is_active


def test_unknown_id_is_404(cast):
    client = signed_in(cast["head"])
    assert client.get(reverse("classroom:staff_edit", args=[987654])).status_code == 404


def test_reactivate_is_post_only(cast):
    teacher = cast["teacher"]
    staff.deactivate(teacher, by=cast["head"])
    client = signed_in(cast["head"])
    assert client.get(reverse("classroom:staff_reactivate", args=[teacher.pk])).status_code == 405
    teacher.refresh_from_db()
    assert not teacher.is_active


def test_actions_need_the_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast["head"])
    teacher = cast["teacher"]
    assert client.post(reverse("classroom:staff_deactivate", args=[teacher.pk])).status_code == 403
    assert client.post(reverse("classroom:staff_create"), add_data()).status_code == 403
    teacher.refresh_from_db()
    assert teacher.is_active
    assert not User.objects.filter(email="n.newton@school.example").exists()


def test_only_heads_see_the_staff_link_in_the_department_pages(cast):
    url = reverse("classroom:staff_list")
    head_page = signed_in(cast["head"]).get(reverse("classroom:department_overview")).content.decode()
    teacher_page = signed_in(cast["teacher"]).get(reverse("classroom:moderation_home")).content.decode()
    assert f'href="{url}"' in head_page
    assert f'href="{url}"' not in teacher_page


# --- the list --------------------------------------------------------------------------------


def test_list_shows_teachers_and_heads_not_pupils(cast, school_class, other_class):
    gone = TeacherFactory(username="mr.gone", first_name="Gus", last_name="Gone")
    staff.deactivate(gone, by=cast["head"])
    archived = SchoolClassFactory(name="Old class", teachers=[cast["teacher"]])
    archived.archive()
    response = signed_in(cast["head"]).get(reverse("classroom:staff_list"))
    active = {member.username: member for member in response.context["active"]}
    inactive = [member.username for member in response.context["inactive"]]
    assert set(active) == {"ms.teacher", "mr.other", "head.of.dept"}
    assert inactive == ["mr.gone"]
    assert active["ms.teacher"].class_count == 1  # the archived class is not counted
    assert active["head.of.dept"].class_count == 0
    page = response.content.decode()
    assert "sam.student" not in page
    assert "Deactivated accounts" in page
    assert reverse("classroom:staff_reactivate", args=[gone.pk]) in page


def _list_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("classroom:staff_list")).status_code == 200
    return len(queries)


def test_list_query_budget_does_not_grow_with_staff_or_classes(cast):
    client = signed_in(cast["head"])
    small = _list_queries(client)
    for number in range(12):
        member = TeacherFactory(username=f"extra{number}", email=f"extra{number}@school.example")
        SchoolClassFactory(name=f"Class {number}", teachers=[member, cast["teacher"]])
        SchoolClassFactory(name=f"Class {number}b", teachers=[member])
    staff.deactivate(User.objects.get(username="extra0"), by=cast["head"])
    large = _list_queries(client)
    # session, user, the staff with their class counts
    assert small == large == 3


# --- adding a member of staff ---------------------------------------------------------------


def test_head_adds_a_teacher_with_a_one_time_code_shown_once(client, cast, caplog):
    head = signed_in(cast["head"])
    with caplog.at_level(logging.INFO, logger="classroom.staff"):
        response = head.post(reverse("classroom:staff_create"), add_data())
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    member = User.objects.get(username="nina.newton")
    assert member.role == User.Role.TEACHER and member.email == "n.newton@school.example"
    assert member.must_change_password and member.is_active
    code = response.context["code"]
    assert code in response.content.decode()
    assert member.check_password(code)
    assert "head.of.dept added nina.newton" in caplog.text
    # The code signs in once, then a new password is required before anything else.
    assert sign_in(client, "nina.newton", code).status_code == 302
    assert client.get(reverse("home"))["Location"] == reverse("password_change")
    # Opening the staff list again never shows the code.
    assert code not in head.get(reverse("classroom:staff_list")).content.decode()


def test_head_names_another_head_when_adding(cast):
    signed_in(cast["head"]).post(reverse("classroom:staff_create"), add_data(role=User.Role.HEAD, username="n.head"))
    member = User.objects.get(username="n.head")
    assert member.is_head and not member.is_superuser
    member.password_changed()  # once they have chosen their own password
    assert signed_in(member).get(reverse("classroom:staff_list")).status_code == 200


def test_username_made_from_the_name_avoids_one_taken(cast):
    TeacherFactory(username="nina.newton")
    signed_in(cast["head"]).post(reverse("classroom:staff_create"), add_data())
    assert User.objects.filter(username="nina.newton2", email="n.newton@school.example").exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "TESS@School.Example"}, "email", "Tess Teacher already has the email address"),
        ({"username": "ms.teacher"}, "username", "already taken"),
        ({"username": "MS.TEACHER"}, "username", "already taken"),
        ({"username": "bad name!"}, "username", "may use only lower-case letters"),
        ({"first_name": ""}, "first_name", "required"),
        ({"last_name": "x\x07y"}, "last_name", "control characters"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"role": User.Role.STUDENT}, "role", "Select a valid choice"),
        ({"role": "superuser"}, "role", "Select a valid choice"),
    ],
)
def test_bad_input_when_adding_gives_a_message_and_saves_nothing(cast, overrides, field, message):
    cast["teacher"].email = "tess@school.example"
    cast["teacher"].save()
    before = User.objects.count()
    response = signed_in(cast["head"]).post(reverse("classroom:staff_create"), add_data(**overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert User.objects.count() == before


def test_a_pupils_email_address_does_not_block_a_teacher(cast):
    StudentFactory(username="pupil.with.email", email="n.newton@school.example")
    signed_in(cast["head"]).post(reverse("classroom:staff_create"), add_data())
    assert User.objects.filter(username="nina.newton").exists()


# --- editing ---------------------------------------------------------------------------------


def test_head_edits_names_email_username_and_promotes_a_teacher(cast, caplog):
    teacher = cast["teacher"]
    data = edit_data(teacher, first_name="Tessa", email="t.teacher@school.example", username="t.teacher", role="head")
    with caplog.at_level(logging.INFO, logger="classroom.staff"):
        response = signed_in(cast["head"]).post(reverse("classroom:staff_edit", args=[teacher.pk]), data)
    assert response.status_code == 302
    teacher.refresh_from_db()
    assert (teacher.first_name, teacher.email, teacher.username, teacher.role) == (
        "Tessa",
        "t.teacher@school.example",
        "t.teacher",
        User.Role.HEAD,
    )
    assert "changed t.teacher" in caplog.text and "role" in caplog.text


def test_an_unchanged_old_style_username_is_kept(cast):
    teacher = TeacherFactory(username="Mr.Smith", email="smith@school.example")
    signed_in(cast["head"]).post(
        reverse("classroom:staff_edit", args=[teacher.pk]), edit_data(teacher, first_name="John")
    )
    teacher.refresh_from_db()
    assert teacher.username == "Mr.Smith" and teacher.first_name == "John"


def test_editing_to_another_members_email_or_username_is_refused(cast):
    cast["other_teacher"].email = "otto@school.example"
    cast["other_teacher"].save()
    teacher = cast["teacher"]
    client = signed_in(cast["head"])
    url = reverse("classroom:staff_edit", args=[teacher.pk])
    response = client.post(url, edit_data(teacher, email="Otto@school.example"))
    assert "Otto Other already has the email address" in " ".join(response.context["form"].errors["email"])
    response = client.post(url, edit_data(teacher, username="mr.other"))
    assert "already taken" in " ".join(response.context["form"].errors["username"])
    teacher.refresh_from_db()
    assert teacher.username == "ms.teacher" and teacher.email != "Otto@school.example"


def test_head_demotes_another_head_who_loses_the_admin(cast):
    other = HeadFactory(username="co.head", email="co@school.example", is_staff=True)
    response = signed_in(cast["head"]).post(
        reverse("classroom:staff_edit", args=[other.pk]), edit_data(other, role=User.Role.TEACHER)
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.role == User.Role.TEACHER and not other.is_superuser and not other.is_staff
    assert signed_in(other).get(reverse("classroom:staff_list")).status_code == 403


def test_a_superuser_demoted_by_a_superuser_stays_a_superuser(cast):
    admin = StudentFactory(username="it.admin", is_superuser=True, is_staff=True)
    other = HeadFactory(username="co.head", email="co@school.example", is_staff=True, is_superuser=True)
    response = signed_in(admin).post(
        reverse("classroom:staff_edit", args=[other.pk]), edit_data(other, role=User.Role.TEACHER)
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.role == User.Role.TEACHER and other.is_superuser and other.is_staff


# A head who is not a superuser may not touch a superuser's account in any way.

SUPERUSER_ACTIONS = ["staff_edit", "staff_deactivate", "staff_reactivate", "staff_reset_password"]


def _superuser_member(active: bool = True) -> User:
    return HeadFactory(
        username="root.head",
        first_name="Rita",
        last_name="Root",
        email="root@school.example",
        is_staff=True,
        is_superuser=True,
        is_active=active,
    )


def _unchanged(member: User, password_hash: str, active: bool = True) -> None:
    fresh = User.objects.get(pk=member.pk)
    assert (fresh.username, fresh.email, fresh.first_name) == ("root.head", "root@school.example", "Rita")
    assert fresh.is_superuser and fresh.is_staff and fresh.is_head and fresh.is_active == active
    assert fresh.password == password_hash


@pytest.mark.parametrize("name", SUPERUSER_ACTIONS)
@pytest.mark.parametrize("active", [True, False])
def test_a_head_gets_403_for_every_action_on_a_superusers_account(cast, name, active):
    member = _superuser_member(active)
    client = signed_in(cast["head"])
    url = reverse(f"classroom:{name}", args=[member.pk])
    if name != "staff_reactivate":
        assert client.get(url).status_code == 403
    data = edit_data(member, username="taken.over", email="mine@evil.example", role=User.Role.TEACHER)
    response = client.post(url, data)
    assert response.status_code == 403
    assert "one-time code" not in response.content.decode().lower()
    _unchanged(member, member.password, active)


@pytest.mark.parametrize("name", SUPERUSER_ACTIONS)
def test_a_superuser_may_act_on_another_superusers_account(cast, name):
    member = _superuser_member(active=name != "staff_reactivate")
    admin = StudentFactory(username="it.admin", is_superuser=True, is_staff=True)
    client = signed_in(admin)
    url = reverse(f"classroom:{name}", args=[member.pk])
    if name != "staff_reactivate":
        assert client.get(url).status_code == 200
    response = client.post(url, edit_data(member, first_name="Rhoda"))
    assert response.status_code in (200, 302)
    fresh = User.objects.get(pk=member.pk)
    assert fresh.is_superuser
    changed = {
        "staff_edit": fresh.first_name == "Rhoda",
        "staff_deactivate": not fresh.is_active,
        "staff_reactivate": fresh.is_active,
        "staff_reset_password": fresh.password != member.password,
    }
    assert changed[name]


def test_the_staff_layer_refuses_a_head_changing_a_superuser(cast):
    member = _superuser_member()
    head = cast["head"]
    details = staff.StaffDetails("Rita", "Root", "mine@evil.example", "root.head", User.Role.HEAD)
    for attempt in (
        lambda: staff.update_member(member, details, by=head),
        lambda: staff.deactivate(member, by=head),
        lambda: staff.reactivate(member, by=head),
        lambda: staff.reset_password(member, by=head),
    ):
        with pytest.raises(staff.StaffError):
            attempt()
    _unchanged(member, member.password)


def test_the_list_marks_a_superuser_without_action_links_for_a_head(cast):
    member = _superuser_member()
    html = signed_in(cast["head"]).get(reverse("classroom:staff_list")).content.decode()
    assert "root.head" in html and "superuser" in html
    for name in ("staff_edit", "staff_deactivate", "staff_reset_password"):
        assert reverse(f"classroom:{name}", args=[member.pk]) not in html
        assert reverse(f"classroom:{name}", args=[cast["teacher"].pk]) in html
    admin = StudentFactory(username="it.admin", is_superuser=True, is_staff=True)
    html = signed_in(admin).get(reverse("classroom:staff_list")).content.decode()
    assert reverse("classroom:staff_edit", args=[member.pk]) in html


def test_head_cannot_demote_themselves(cast):
    HeadFactory(username="co.head")
    head = cast["head"]
    response = signed_in(head).post(reverse("classroom:staff_edit", args=[head.pk]), edit_data(head, role="teacher"))
    assert response.status_code == 200
    assert "You cannot demote yourself" in response.content.decode()
    head.refresh_from_db()
    assert head.is_head


def test_head_may_change_their_own_name(cast):
    head = cast["head"]
    signed_in(head).post(reverse("classroom:staff_edit", args=[head.pk]), edit_data(head, first_name="Hannah"))
    head.refresh_from_db()
    assert head.first_name == "Hannah" and head.is_head


def test_the_last_active_head_is_never_demoted(cast):
    head = cast["head"]
    admin = StudentFactory(username="it.admin", is_superuser=True)
    response = signed_in(admin).post(reverse("classroom:staff_edit", args=[head.pk]), edit_data(head, role="teacher"))
    assert "the only active head of department" in response.content.decode()
    head.refresh_from_db()
    assert head.is_head
    # A deactivated head does not count as the department's head.
    gone = HeadFactory(username="gone.head")
    gone.is_active = False
    gone.save()
    with pytest.raises(staff.StaffError):
        staff.update_member(head, staff.StaffDetails("Hana", "Head", "", "head.of.dept", "teacher"), by=admin)


def test_roster_id_is_shown_but_not_editable(cast):
    teacher = cast["teacher"]
    teacher.roster_id = "T-0042"
    teacher.save()
    client = signed_in(cast["head"])
    url = reverse("classroom:staff_edit", args=[teacher.pk])
    assert "T-0042" in client.get(url).content.decode()
    client.post(url, {**edit_data(teacher, first_name="Tessa"), "roster_id": "HACKED"})
    teacher.refresh_from_db()
    assert teacher.roster_id == "T-0042" and teacher.first_name == "Tessa"


# --- deactivating and reactivating ------------------------------------------------------------


def test_deactivate_asks_first_then_deactivates(cast, caplog):
    teacher = cast["teacher"]
    client = signed_in(cast["head"])
    url = reverse("classroom:staff_deactivate", args=[teacher.pk])
    assert "Deactivate account" in client.get(url).content.decode()
    teacher.refresh_from_db()
    assert teacher.is_active
    with caplog.at_level(logging.INFO, logger="classroom.staff"):
        response = client.post(url)
    assert response["Location"] == reverse("classroom:staff_list")
    teacher.refresh_from_db()
    assert not teacher.is_active
    assert "head.of.dept deactivated ms.teacher" in caplog.text


def test_deactivated_teacher_cannot_sign_in_and_it_looks_like_a_wrong_password(client, cast):
    staff.deactivate(cast["teacher"], by=cast["head"])
    refused = sign_in(client, "ms.teacher", PASSWORD)
    unknown = sign_in(Client(), "no.such.person", PASSWORD)
    assert refused.status_code == unknown.status_code == 200
    assert "_auth_user_id" not in client.session
    text = refused.content.decode()
    assert "Please enter a correct username and password" in text
    assert "inactive" not in text.lower() and "deactivated" not in text.lower()
    assert list(refused.context["form"].non_field_errors()) == list(unknown.context["form"].non_field_errors())


def test_signed_in_teacher_is_signed_out_at_their_next_request_when_deactivated(cast, school_class):
    teacher_client = signed_in(cast["teacher"])
    assert teacher_client.get(reverse("classroom:class_detail", args=[school_class.pk])).status_code == 200
    signed_in(cast["head"]).post(reverse("classroom:staff_deactivate", args=[cast["teacher"].pk]))
    response = teacher_client.get(reverse("classroom:class_detail", args=[school_class.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_deactivation_keeps_classes_assignments_and_marks(cast, school_class):
    teacher, student = cast["teacher"], cast["student"]
    build_class(school_class, teacher, student)
    marks = set(Mark.objects.filter(marker=teacher).values_list("pk", "total"))
    assignments = set(Assignment.objects.filter(school_class=school_class).values_list("pk", flat=True))
    assert marks and assignments
    signed_in(cast["head"]).post(reverse("classroom:staff_deactivate", args=[teacher.pk]))
    teacher.refresh_from_db()
    assert not teacher.is_active
    assert set(Mark.objects.filter(marker=teacher).values_list("pk", "total")) == marks
    assert set(Assignment.objects.filter(school_class=school_class).values_list("pk", flat=True)) == assignments
    assert list(SchoolClass.objects.get(pk=school_class.pk).teachers.all()) == [teacher]
    # The head still sees the class and its marks.
    assert signed_in(cast["head"]).get(reverse("classroom:class_detail", args=[school_class.pk])).status_code == 200


def test_head_cannot_deactivate_themselves(cast):
    HeadFactory(username="co.head")
    head = cast["head"]
    client = signed_in(head)
    response = client.post(reverse("classroom:staff_deactivate", args=[head.pk]), follow=True)
    assert "You cannot deactivate yourself" in response.content.decode()
    head.refresh_from_db()
    assert head.is_active


def test_the_last_active_head_is_never_deactivated(cast):
    admin = StudentFactory(username="it.admin", is_superuser=True)
    response = signed_in(admin).post(reverse("classroom:staff_deactivate", args=[cast["head"].pk]), follow=True)
    assert "the only active head of department" in response.content.decode()
    assert User.objects.get(pk=cast["head"].pk).is_active


def test_another_head_can_be_deactivated_while_one_remains(cast):
    other = HeadFactory(username="co.head")
    signed_in(cast["head"]).post(reverse("classroom:staff_deactivate", args=[other.pk]))
    other.refresh_from_db()
    assert not other.is_active


def test_reactivated_teacher_signs_in_with_their_old_password(client, cast):
    teacher = cast["teacher"]
    staff.deactivate(teacher, by=cast["head"])
    response = signed_in(cast["head"]).post(reverse("classroom:staff_reactivate", args=[teacher.pk]))
    assert response["Location"] == reverse("classroom:staff_list")
    teacher.refresh_from_db()
    assert teacher.is_active
    assert sign_in(client, "ms.teacher", PASSWORD).status_code == 302


# --- resetting a password ---------------------------------------------------------------------


def test_reset_asks_first_then_shows_a_one_time_code_once(client, cast, caplog):
    teacher = cast["teacher"]
    teacher_client = signed_in(teacher)
    head = signed_in(cast["head"])
    url = reverse("classroom:staff_reset_password", args=[teacher.pk])
    assert "Reset password" in head.get(url).content.decode()
    assert User.objects.get(pk=teacher.pk).check_password(PASSWORD)
    with caplog.at_level(logging.INFO, logger="classroom.staff"):
        response = head.post(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    code = response.context["code"]
    assert code in response.content.decode()
    assert "head.of.dept reset the password of ms.teacher" in caplog.text
    teacher.refresh_from_db()
    assert teacher.must_change_password and not teacher.check_password(PASSWORD)
    # Their open session ends; the old password fails; the code works and must be replaced.
    assert teacher_client.get(reverse("home")).status_code == 302
    assert "_auth_user_id" not in Client().session
    assert sign_in(client, "ms.teacher", PASSWORD).status_code == 200
    assert sign_in(client, "ms.teacher", code).status_code == 302
    assert client.get(reverse("home"))["Location"] == reverse("password_change")


def test_head_cannot_reset_their_own_password_here(cast):
    head = cast["head"]
    client = signed_in(head)
    response = client.post(reverse("classroom:staff_reset_password", args=[head.pk]))
    assert response["Location"] == reverse("password_change")
    head.refresh_from_db()
    assert not head.must_change_password and head.check_password(PASSWORD)


def test_a_deactivated_accounts_password_is_not_reset(cast):
    teacher = cast["teacher"]
    staff.deactivate(teacher, by=cast["head"])
    response = signed_in(cast["head"]).post(reverse("classroom:staff_reset_password", args=[teacher.pk]), follow=True)
    assert "reactivate it first" in response.content.decode()
    teacher.refresh_from_db()
    assert not teacher.must_change_password and teacher.check_password(PASSWORD)
    with pytest.raises(staff.StaffError):
        staff.reset_password(teacher, by=cast["head"])


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks between threads need PostgreSQL; SQLite's shared in-memory test database would just fail to lock",
)
@pytest.mark.django_db(transaction=True)
def test_two_heads_demoting_each_other_at_once_leave_one_head():
    first = HeadFactory(username="first.head", email="first@school.example")
    second = HeadFactory(username="second.head", email="second@school.example")
    locked = threading.Event()
    results: dict[str, object] = {}

    def demote(member: User, by: User, hold: bool) -> None:
        details = staff.StaffDetails(member.first_name, member.last_name, member.email, member.username, "teacher")
        try:
            with transaction.atomic():
                staff.update_member(User.objects.get(pk=member.pk), details, by=by)
                if hold:  # keep the rows locked while the other head tries
                    locked.set()
                    time.sleep(0.5)
            results[member.username] = "demoted"
        except staff.StaffError as error:
            results[member.username] = error
        finally:
            connection.close()

    one = threading.Thread(target=demote, args=(second, first, True))
    one.start()
    assert locked.wait(timeout=10)
    two = threading.Thread(target=demote, args=(first, second, False))
    two.start()
    one.join(timeout=30)
    two.join(timeout=30)
    assert results["second.head"] == "demoted"
    assert isinstance(results["first.head"], staff.StaffError)
    assert list(User.objects.filter(role=User.Role.HEAD, is_active=True).values_list("username", flat=True)) == [
        "first.head"
    ]

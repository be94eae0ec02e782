"""Classes and rosters: creating, editing, co-teaching, archiving, join codes, adding,
removing and resetting students, with the access rules and query budgets."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.urls import reverse

from classroom import permissions, roster
from classroom.models import ONE_TIME_CODE_LENGTH, Enrolment, SchoolClass, User, new_one_time_code
from tests.conftest import PASSWORD
from tests.factories import SchoolClassFactory, StudentFactory, TeacherFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    # The join-code throttle counts in the cache, which outlives each test's database.
    cache.clear()
    yield
    cache.clear()


# --- access matrix ---------------------------------------------------------------------

CLASS_PAGES = [
    ("classroom:class_detail", "get"),
    ("classroom:class_edit", "get"),
    ("classroom:class_teachers", "get"),
    ("classroom:class_rotate_code", "get"),
    ("classroom:student_create", "get"),
    ("classroom:student_import", "get"),
    ("classroom:class_archive", "post"),
    ("classroom:class_unarchive", "post"),
    ("classroom:student_import_confirm", "post"),
]
STUDENT_PAGES = [
    ("classroom:student_remove", "get"),
    ("classroom:student_reset_password", "get"),
    ("classroom:student_restore", "post"),
]


def _url(name: str, school_class: SchoolClass, student: User) -> str:
    if (name, "get") in STUDENT_PAGES or (name, "post") in STUDENT_PAGES:
        return reverse(name, args=[school_class.pk, student.pk])
    return reverse(name, args=[school_class.pk])


EXPECTED = {
    "teacher": {"get": 200, "post": 302},
    "head": {"get": 200, "post": 302},
    "student": 403,
    "other_teacher": 404,
}


@pytest.mark.parametrize(("name", "method"), CLASS_PAGES + STUDENT_PAGES)
@pytest.mark.parametrize("who", ["teacher", "head", "student", "other_teacher"])
def test_class_pages_access_matrix(client, cast, school_class, name, method, who):
    client.force_login(cast[who])
    response = getattr(client, method)(_url(name, school_class, cast["student"]))
    expected = EXPECTED[who]
    if isinstance(expected, dict):
        expected = expected[method]
    assert response.status_code == expected


@pytest.mark.parametrize(("name", "method"), CLASS_PAGES + STUDENT_PAGES)
def test_class_pages_send_anonymous_to_login(client, school_class, student, name, method):
    response = getattr(client, method)(_url(name, school_class, student))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("name", ["classroom:class_create", "classroom:class_archived"])
@pytest.mark.parametrize(("who", "status"), [("teacher", 200), ("head", 200), ("other_teacher", 200), ("student", 403)])
def test_teacher_only_pages_access(client, cast, name, who, status):
    client.force_login(cast[who])
    assert client.get(reverse(name)).status_code == status


@pytest.mark.parametrize("name", ["classroom:class_create", "classroom:class_archived", "classroom:class_join"])
def test_class_pages_without_a_class_send_anonymous_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize(("who", "status"), [("student", 200), ("outsider", 200), ("teacher", 403), ("head", 403)])
def test_only_students_may_join_a_class(client, cast, who, status):
    client.force_login(cast[who])
    assert client.get(reverse("classroom:class_join")).status_code == status
    assert client.post(reverse("classroom:class_join"), {"code": "WHATEVER"}).status_code == status


def test_teacher_of_another_class_cannot_act_on_a_student_who_is_not_in_theirs(client, cast, school_class, other_class):
    # The outsider exists, but not in school_class: 404 even for school_class's teacher.
    client.force_login(cast["teacher"])
    url = reverse("classroom:student_reset_password", args=[school_class.pk, cast["outsider"].pk])
    assert client.post(url).status_code == 404
    cast["outsider"].refresh_from_db()
    assert cast["outsider"].must_change_password is False


def test_other_teacher_cannot_reset_a_password_through_their_own_class(client, cast, school_class, other_class):
    client.force_login(cast["other_teacher"])
    url = reverse("classroom:student_reset_password", args=[other_class.pk, cast["student"].pk])
    assert client.post(url).status_code == 404


# --- creating and editing classes ------------------------------------------------------


def test_teacher_creates_a_class_and_teaches_it(client, teacher):
    client.force_login(teacher)
    response = client.post(reverse("classroom:class_create"), {"name": "  9R History ", "year_group": "9"})
    school_class = SchoolClass.objects.get(name="9R History")
    assert response["Location"] == reverse("classroom:class_detail", args=[school_class.pk])
    assert list(school_class.teachers.all()) == [teacher]
    assert school_class.year_group == 9
    assert len(school_class.join_code) == 8


@pytest.mark.parametrize(
    ("data", "message"),
    [({"name": "", "year_group": "9"}, "This field is required"), ({"name": "9R", "year_group": "30"}, "less than")],
)
def test_bad_class_details_give_a_message_and_create_nothing(client, teacher, data, message):
    client.force_login(teacher)
    response = client.post(reverse("classroom:class_create"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SchoolClass.objects.exists()


def test_teacher_renames_their_class(client, cast, school_class):
    client.force_login(cast["teacher"])
    client.post(
        reverse("classroom:class_edit", args=[school_class.pk]), {"name": "10H Modern History", "year_group": ""}
    )
    school_class.refresh_from_db()
    assert (school_class.name, school_class.year_group) == ("10H Modern History", None)


def test_teacher_adds_a_co_teacher_by_username(client, cast, school_class):
    client.force_login(cast["teacher"])
    url = reverse("classroom:class_teachers", args=[school_class.pk])
    assert client.post(url, {"username": "MR.OTHER"}).status_code == 302
    assert set(school_class.teachers.all()) == {cast["teacher"], cast["other_teacher"]}
    # The co-teacher can now manage the class.
    client.force_login(cast["other_teacher"])
    assert client.get(reverse("classroom:class_detail", args=[school_class.pk])).status_code == 200


def test_a_student_cannot_be_made_a_co_teacher(client, cast, school_class):
    client.force_login(cast["teacher"])
    response = client.post(reverse("classroom:class_teachers", args=[school_class.pk]), {"username": "olly.outsider"})
    assert response.status_code == 200
    assert "No teacher has the username" in response.content.decode()
    assert list(school_class.teachers.all()) == [cast["teacher"]]


def test_head_adds_a_co_teacher_to_any_class(client, cast, other_class):
    client.force_login(cast["head"])
    client.post(reverse("classroom:class_teachers", args=[other_class.pk]), {"username": "ms.teacher"})
    assert cast["teacher"] in other_class.teachers.all()


# A teacher may take only themselves off a class; only a head takes off someone else (L10).
@pytest.mark.parametrize(("who", "status"), [("teacher", 403), ("head", 302), ("student", 403), ("other_teacher", 404)])
def test_removing_a_co_teacher_access(client, cast, school_class, who, status):
    school_class.add_teacher(cast["head"])
    client.force_login(cast[who])
    url = reverse("classroom:class_teacher_remove", args=[school_class.pk, cast["head"].pk])
    assert client.post(url).status_code == status
    assert (cast["head"] in school_class.teachers.all()) == (status != 302)


def test_removing_a_co_teacher_sends_anonymous_to_login(client, cast, school_class):
    url = reverse("classroom:class_teacher_remove", args=[school_class.pk, cast["teacher"].pk])
    assert client.post(url)["Location"].startswith(reverse("login"))


def test_removed_co_teacher_loses_the_class_but_the_last_teacher_cannot_go(client, cast, school_class):
    school_class.add_teacher(cast["other_teacher"])
    client.force_login(cast["head"])
    client.post(reverse("classroom:class_teacher_remove", args=[school_class.pk, cast["other_teacher"].pk]))
    assert list(school_class.teachers.all()) == [cast["teacher"]]
    client.force_login(cast["teacher"])
    response = client.post(
        reverse("classroom:class_teacher_remove", args=[school_class.pk, cast["teacher"].pk]), follow=True
    )
    assert "A class needs at least one teacher" in response.content.decode()
    assert list(school_class.teachers.all()) == [cast["teacher"]]
    client.force_login(cast["other_teacher"])
    assert client.get(reverse("classroom:class_detail", args=[school_class.pk])).status_code == 404


def test_a_teacher_who_does_not_teach_the_class_cannot_be_removed_from_it(client, cast, school_class):
    client.force_login(cast["teacher"])
    url = reverse("classroom:class_teacher_remove", args=[school_class.pk, cast["other_teacher"].pk])
    assert client.post(url).status_code == 404


def test_add_teacher_refuses_a_student(school_class, student):
    with pytest.raises(ValueError):
        school_class.add_teacher(student)


# --- archiving -------------------------------------------------------------------------


def test_archiving_moves_the_class_to_the_archived_list_and_keeps_everything(client, cast, school_class):
    client.force_login(cast["teacher"])
    client.post(reverse("classroom:class_archive", args=[school_class.pk]))
    school_class.refresh_from_db()
    assert school_class.archived
    home = client.get(reverse("home")).content.decode()
    assert reverse("classroom:class_detail", args=[school_class.pk]) not in home
    archived = client.get(reverse("classroom:class_archived")).content.decode()
    assert school_class.name in archived
    assert list(school_class.active_students()) == [cast["student"]]

    client.post(reverse("classroom:class_unarchive", args=[school_class.pk]))
    school_class.refresh_from_db()
    assert not school_class.archived
    assert reverse("classroom:class_detail", args=[school_class.pk]) in client.get(reverse("home")).content.decode()


def test_archived_list_shows_only_classes_the_teacher_sees(client, cast, school_class, other_class):
    other_class.archive()
    client.force_login(cast["teacher"])
    assert other_class.name not in client.get(reverse("classroom:class_archived")).content.decode()
    client.force_login(cast["head"])
    assert other_class.name in client.get(reverse("classroom:class_archived")).content.decode()


# --- join codes ------------------------------------------------------------------------


def _join(client, code: str):
    return client.post(reverse("classroom:class_join"), {"code": code}, follow=True)


def test_student_joins_with_a_code_in_any_case_with_spaces_and_dashes(client, cast, school_class):
    newcomer = StudentFactory(username="nina.new")
    client.force_login(newcomer)
    code = school_class.join_code
    messy = f" {code[:4].lower()} - {code[4:].lower()} "
    response = _join(client, messy)
    assert f"You have joined {school_class.name}" in response.content.decode()
    assert newcomer in school_class.active_students()


def test_wrong_code_gives_a_clear_message_and_joins_nothing(client, outsider, school_class):
    client.force_login(outsider)
    response = client.post(reverse("classroom:class_join"), {"code": "NOPE2345"})
    assert response.status_code == 200
    assert "No class has the code “NOPE2345”" in response.content.decode()
    assert not Enrolment.objects.filter(student=outsider).exists()


def test_archived_class_code_is_refused_with_its_own_message(client, outsider, school_class):
    school_class.archive()
    client.force_login(outsider)
    response = client.post(reverse("classroom:class_join"), {"code": school_class.join_code})
    assert "has been archived" in response.content.decode()
    assert outsider not in school_class.active_students()


def test_joining_twice_is_harmless(client, student, school_class):
    client.force_login(student)
    response = _join(client, school_class.join_code)
    assert f"You are already in {school_class.name}" in response.content.decode()
    assert Enrolment.objects.filter(student=student, school_class=school_class).count() == 1


def test_rotating_the_code_stops_the_old_one_working(client, cast, school_class):
    old = school_class.join_code
    client.force_login(cast["teacher"])
    confirm = client.get(reverse("classroom:class_rotate_code", args=[school_class.pk])).content.decode()
    assert old in confirm  # the confirmation names the code that will stop working
    school_class.refresh_from_db()
    assert school_class.join_code == old  # asking is not doing
    client.post(reverse("classroom:class_rotate_code", args=[school_class.pk]))
    school_class.refresh_from_db()
    assert school_class.join_code != old

    newcomer = StudentFactory()
    client.force_login(newcomer)
    assert "No class has the code" in client.post(reverse("classroom:class_join"), {"code": old}).content.decode()
    _join(client, school_class.join_code)
    assert newcomer in school_class.active_students()


def test_l5_a_removed_pupil_cannot_rejoin_with_the_code(client, cast, school_class):
    """Security review L5: removal used to be undone at once by the same join code."""
    enrolment = school_class.enrolments.get(student=cast["student"])
    enrolment.remove()
    client.force_login(cast["student"])
    html = _join(client, school_class.join_code).content.decode()
    assert "Your teacher removed you from" in html
    enrolment.refresh_from_db()
    assert enrolment.removed_at is not None
    assert cast["student"] not in school_class.active_students()


def test_guessing_codes_is_throttled_after_ten_wrong_ones(client, outsider, school_class):
    client.force_login(outsider)
    for attempt in range(roster.JOIN_FAILURE_LIMIT):
        assert (
            "No class has the code"
            in client.post(reverse("classroom:class_join"), {"code": f"BAD{attempt}"}).content.decode()
        )
    # Even the right code is refused now, until the hour is up.
    response = client.post(reverse("classroom:class_join"), {"code": school_class.join_code})
    assert "Too many wrong codes" in response.content.decode()
    assert outsider not in school_class.active_students()
    # Another student is not affected.
    client.force_login(StudentFactory())
    assert "You have joined" in _join(client, school_class.join_code).content.decode()


def test_student_home_has_a_labelled_join_form(client, student):
    client.force_login(student)
    html = client.get(reverse("home")).content.decode()
    assert f'action="{reverse("classroom:class_join")}"' in html
    assert '<label for="join-code-input"' in html


# --- class page ------------------------------------------------------------------------


def test_class_page_lists_active_students_and_removed_ones_separately(client, cast, school_class):
    leaver = StudentFactory(username="lee.leaver", first_name="Lee", last_name="Leaver")
    school_class.enrol(leaver)
    school_class.enrolments.get(student=leaver).remove()
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:class_detail", args=[school_class.pk])).content.decode()
    assert school_class.join_code in html
    active, removed = html.split('id="removed-heading"')
    assert "sam.student" in active and "lee.leaver" not in active
    assert "lee.leaver" in removed


def test_names_that_look_like_formulas_are_escaped_on_the_class_page(client, cast, school_class):
    student = StudentFactory(first_name="=cmd|' /C calc'!A0", last_name="<script>alert(1)</script>")
    school_class.enrol(student)
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:class_detail", args=[school_class.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "=cmd|&#x27; /C calc&#x27;!A0" in html


def _class_with(n: int, teacher) -> SchoolClass:
    school_class = SchoolClassFactory(teachers=[teacher], students=StudentFactory.create_batch(n))
    for enrolment in school_class.enrolments.all()[:2]:
        enrolment.remove()
    return school_class


@pytest.mark.parametrize("size", [5, 50])
def test_class_page_query_budget(client, teacher, django_assert_num_queries, size):
    school_class = _class_with(size, teacher)
    client.force_login(teacher)
    # session, user, class (access check), enrolments with students, teachers
    with django_assert_num_queries(5):
        response = client.get(reverse("classroom:class_detail", args=[school_class.pk]))
    assert response.status_code == 200
    assert len(response.context["active"]) == size - 2


@pytest.mark.parametrize("size", [5, 50])
def test_archived_list_query_budget(client, teacher, django_assert_num_queries, size):
    for _ in range(3):
        _class_with(size, teacher).archive()
    client.force_login(teacher)
    # session, user, archived classes with student counts
    with django_assert_num_queries(3):
        response = client.get(reverse("classroom:class_archived"))
    assert len(response.context["classes"]) == 3


@pytest.mark.parametrize("size", [5, 50])
def test_teacher_home_query_budget_does_not_grow_with_students(client, teacher, django_assert_num_queries, size):
    _class_with(size, teacher)
    client.force_login(teacher)
    # session, user, classes with student counts, then the to-do (tests/test_teacher_home.py):
    # the markbook's status counts, DIRT waiting
    with django_assert_num_queries(5):
        html = client.get(reverse("home")).content.decode()
    assert reverse("classroom:class_create") in html


# --- adding one student ------------------------------------------------------------------


def test_teacher_creates_a_student_with_a_generated_username_and_one_time_code(client, cast, school_class):
    StudentFactory(username="amelia.brown")
    client.force_login(cast["teacher"])
    url = reverse("classroom:student_create", args=[school_class.pk])
    response = client.post(url, {"given_name": "Amélia", "family_name": "Brown", "username": ""})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    user = User.objects.get(username="amelia.brown2")
    assert user.is_student and user.must_change_password
    assert user.first_name == "Amélia"
    assert user in school_class.active_students()
    code = {u.username: c for u, c in response.context["created"]}["amelia.brown2"]
    assert code in response.content.decode()
    assert user.check_password(code)
    assert code not in user.password


def test_single_student_with_a_taken_username_is_refused(client, cast, school_class):
    client.force_login(cast["teacher"])
    url = reverse("classroom:student_create", args=[school_class.pk])
    response = client.post(url, {"given_name": "Sam", "family_name": "Other", "username": "Sam.Student"})
    assert "is already taken" in response.content.decode()
    assert User.objects.filter(first_name="Sam").count() == 1


# --- removing a student ------------------------------------------------------------------


def test_removing_a_student_keeps_the_enrolment_and_hides_the_class(client, cast, school_class):
    client.force_login(cast["teacher"])
    url = reverse("classroom:student_remove", args=[school_class.pk, cast["student"].pk])
    assert "Remove from class" in client.get(url).content.decode()
    assert cast["student"] in school_class.active_students()  # the GET only asks
    client.post(url)
    enrolment = Enrolment.objects.get(school_class=school_class, student=cast["student"])
    assert enrolment.removed_at is not None
    assert User.objects.filter(pk=cast["student"].pk).exists()

    pupil = client.__class__()
    pupil.force_login(cast["student"])
    assert school_class.name not in pupil.get(reverse("home")).content.decode()


def test_teacher_adds_a_removed_student_back(client, cast, school_class):
    school_class.enrolments.get(student=cast["student"]).remove()
    client.force_login(cast["teacher"])
    client.post(reverse("classroom:student_restore", args=[school_class.pk, cast["student"].pk]))
    assert cast["student"] in school_class.active_students()


# --- password reset ----------------------------------------------------------------------


def test_password_reset_shows_a_one_time_code_and_forces_a_change_at_next_login(client, cast, school_class):
    client.force_login(cast["teacher"])
    url = reverse("classroom:student_reset_password", args=[school_class.pk, cast["student"].pk])
    response = client.post(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    [(user, code)] = response.context["created"]
    assert code in response.content.decode()
    student = User.objects.get(pk=cast["student"].pk)
    assert student.must_change_password
    assert not student.check_password(PASSWORD)

    pupil = client.__class__()
    login = pupil.post(reverse("login"), {"username": "sam.student", "password": code})
    assert login.status_code == 302
    # The middleware sends them to choose a password before anything else.
    assert pupil.get(reverse("home"))["Location"] == reverse("password_change")
    pupil.post(
        reverse("password_change"),
        {"old_password": code, "new_password1": "a-fresh-Passw0rd", "new_password2": "a-fresh-Passw0rd"},
    )
    student.refresh_from_db()
    assert not student.must_change_password
    assert pupil.get(reverse("home")).status_code == 200


def test_password_reset_logs_the_student_out_of_existing_sessions(client, cast, school_class):
    pupil = client.__class__()
    pupil.force_login(cast["student"])
    client.force_login(cast["teacher"])
    client.post(reverse("classroom:student_reset_password", args=[school_class.pk, cast["student"].pk]))
    response = pupil.get(reverse("home"))
    assert response.status_code == 302
    assert SESSION_KEY not in pupil.session


def test_head_can_reset_any_students_password(client, cast, other_class):
    client.force_login(cast["head"])
    client.post(reverse("classroom:student_reset_password", args=[other_class.pk, cast["outsider"].pk]))
    cast["outsider"].refresh_from_db()
    assert cast["outsider"].must_change_password


def test_one_time_codes_use_an_unambiguous_alphabet():
    codes = {new_one_time_code() for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        assert len(code) == ONE_TIME_CODE_LENGTH
        assert not set(code) & set("0o1lI")


def test_co_teacher_candidates_are_active_teachers_and_heads(cast):
    gone = TeacherFactory(username="gone.teacher", is_active=False)
    candidates = permissions.co_teacher_candidates(cast["teacher"])
    assert cast["other_teacher"] in candidates and cast["head"] in candidates
    assert gone not in candidates and cast["student"] not in candidates

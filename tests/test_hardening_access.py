"""Security review M1 and L10, reproduced over HTTP.

M1: a teacher a pupil has left could reset the pupil's password (and so take over the
account) and read every class's marks on the pupil's progress page.
L10: one-time codes never expired; any co-teacher could take the class's creator off it;
a mark autosave without a base revision must be refused.

The cast (tests/conftest.py) plus, for M1, `lee`: in `teacher`'s 10H until he left it,
now in `other_teacher`'s 11E, with released feedback in both. `student` is in 10H and 11E
(so `other_teacher` is one of his current teachers too), with released feedback in both.
"""

from __future__ import annotations

import datetime
import importlib

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from classroom.models import Mark, User
from tests.conftest import PASSWORD
from tests.factories import AssignmentFactory, EssayPromptFactory, StudentFactory, TeacherFactory, marking_scheme
from tests.helpers import give_mark, hand_in, mark_fully, mark_post, mark_revision

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def released(school_class, pupil, teacher, tag: str) -> Mark:
    """A released mark for `pupil` in `school_class`, its feedback labelled with `tag`."""
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    now = timezone.now()
    assignment = AssignmentFactory(
        school_class=school_class, prompt=prompt, title=f"{tag} essay", opens_at=now - 9 * DAY, due_at=now - 2 * DAY
    )
    return give_mark(
        hand_in(assignment, pupil, at=now - 3 * DAY),
        teacher,
        3,
        3,
        ebi=f"{tag}-EBI-PRIVATE",
        improvement_task=f"{tag}-TASK-PRIVATE",
    )


@pytest.fixture
def lee(cast, school_class, other_class):
    lee = StudentFactory(username="lee.moved", first_name="Lee", last_name="Moved")
    school_class.enrol(lee)
    released(school_class, lee, cast["teacher"], "LEE-10H")
    other_class.enrol(lee)
    released(other_class, lee, cast["other_teacher"], "LEE-11E")
    school_class.enrolments.get(student=lee).remove()
    return lee


@pytest.fixture
def two_classes(cast, school_class, other_class):
    """`student` now in 10H and 11E, with released feedback in each."""
    student = cast["student"]
    released(school_class, student, cast["teacher"], "SAM-10H")
    other_class.enrol(student)
    released(other_class, student, cast["other_teacher"], "SAM-11E")
    return student


def progress_html(client, user, pupil) -> tuple[int, str]:
    client.force_login(user)
    response = client.get(reverse("classroom:student_progress", args=[pupil.pk]))
    return response.status_code, response.content.decode()


# --- M1: password resets ------------------------------------------------------------------


def test_m1_former_teacher_cannot_reset_the_password_of_a_pupil_who_left(client, cast, school_class, lee):
    before = User.objects.get(pk=lee.pk).password
    client.force_login(cast["teacher"])
    url = reverse("classroom:student_reset_password", args=[school_class.pk, lee.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    lee.refresh_from_db()
    assert lee.password == before and not lee.must_change_password
    assert client.__class__().post(reverse("login"), {"username": "lee.moved", "password": PASSWORD}).status_code == 302
    # Nor does the class page offer it.
    html = client.get(reverse("classroom:class_detail", args=[school_class.pk])).content.decode()
    assert "Lee" in html  # listed under "Removed students", with "Add back"
    assert reverse("classroom:student_reset_password", args=[school_class.pk, lee.pk]) not in html


@pytest.mark.parametrize(
    ("who", "via", "status"),
    [
        ("other_teacher", "other_class", 200),  # teaches a class lee is in now
        ("co_teacher", "other_class", 200),  # ...and so does a co-teacher of it
        ("head", "other_class", 200),
        ("head", "school_class", 200),  # heads: any pupil, even through the class he left
        ("teacher", "school_class", 404),  # the teacher lee left
        ("teacher", "other_class", 404),  # ...who does not teach his class now
        ("stranger", "other_class", 404),
        ("student", "other_class", 403),
        ("lee", "other_class", 403),
        (None, "other_class", "login"),
    ],
)
def test_m1_password_reset_rules_for_every_actor(client, cast, school_class, other_class, lee, who, via, status):
    co_teacher = TeacherFactory(username="ms.co")
    other_class.add_teacher(co_teacher)
    actors = {**cast, "co_teacher": co_teacher, "stranger": TeacherFactory(username="ms.none"), "lee": lee}
    klass = {"school_class": school_class, "other_class": other_class}[via]
    url = reverse("classroom:student_reset_password", args=[klass.pk, lee.pk])
    if who is not None:
        client.force_login(actors[who])
    for response in (client.get(url), client.post(url)):
        if status == "login":
            assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        else:
            assert response.status_code == status
    lee.refresh_from_db()
    assert lee.must_change_password == (status == 200)


# --- M1: the progress page ----------------------------------------------------------------


def test_m1_former_teacher_cannot_read_the_progress_of_a_pupil_who_left(client, cast, lee):
    status, html = progress_html(client, cast["teacher"], lee)
    assert status == 404
    assert "LEE-11E" not in html and "LEE-10H" not in html
    # The class's own record stays with the class: the essays and feedback handed in to it,
    # never another class's.
    mark = Mark.objects.get(submission__student=lee, ebi="LEE-10H-EBI-PRIVATE")
    client.force_login(cast["teacher"])
    assert client.get(reverse("classroom:submission_detail", args=[mark.submission_id])).status_code == 200
    assert client.get(reverse("classroom:mark_submission", args=[mark.submission_id])).status_code == 200
    other = Mark.objects.get(submission__student=lee, ebi="LEE-11E-EBI-PRIVATE")
    assert client.get(reverse("classroom:submission_detail", args=[other.submission_id])).status_code == 404


def test_m1_current_teacher_sees_only_their_own_classes_marks_the_head_and_pupil_all(client, cast, lee):
    status, html = progress_html(client, cast["other_teacher"], lee)
    assert status == 200
    assert "LEE-11E-EBI-PRIVATE" in html and "LEE-11E-TASK-PRIVATE" in html
    assert "LEE-10H" not in html
    assert "Only the marks and feedback of classes you teach are shown" in html
    for user in (cast["head"], lee):
        status, html = progress_html(client, user, lee)
        assert status == 200
        assert "LEE-10H-EBI-PRIVATE" in html and "LEE-11E-EBI-PRIVATE" in html
        assert "Only the marks and feedback of classes you teach" not in html


def test_m1_two_current_teachers_each_see_only_their_own_class(client, cast, two_classes):
    status, html = progress_html(client, cast["other_teacher"], two_classes)
    assert status == 200
    assert "SAM-11E-EBI-PRIVATE" in html and "SAM-10H" not in html
    status, html = progress_html(client, cast["teacher"], two_classes)
    assert status == 200
    assert "SAM-10H-EBI-PRIVATE" in html and "SAM-11E" not in html


def test_m1_co_teacher_of_a_class_sees_that_classes_marks(client, cast, other_class, two_classes):
    co_teacher = TeacherFactory(username="ms.co")
    other_class.add_teacher(co_teacher)
    status, html = progress_html(client, co_teacher, two_classes)
    assert status == 200
    assert "SAM-11E-EBI-PRIVATE" in html and "SAM-10H" not in html


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("lee", 200),
        ("head", 200),
        ("other_teacher", 200),
        ("co_teacher", 200),
        ("teacher", 404),
        ("stranger", 404),
        ("student", 404),
        (None, 302),
    ],
)
def test_m1_progress_rules_for_every_actor(client, cast, other_class, lee, who, status):
    co_teacher = TeacherFactory(username="ms.co")
    other_class.add_teacher(co_teacher)
    actors = {**cast, "lee": lee, "co_teacher": co_teacher, "stranger": TeacherFactory(username="ms.none")}
    if who is not None:
        client.force_login(actors[who])
    response = client.get(reverse("classroom:student_progress", args=[lee.pk]))
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("login"))


def test_m1_adding_the_pupil_back_makes_the_teacher_a_current_teacher_again(client, cast, school_class, lee):
    # Deliberate and visible to the pupil (10H is back on his home page): the rules follow it.
    client.force_login(cast["teacher"])
    client.post(reverse("classroom:student_restore", args=[school_class.pk, lee.pk]))
    status, html = progress_html(client, cast["teacher"], lee)
    assert status == 200 and "LEE-10H-EBI-PRIVATE" in html and "LEE-11E" not in html


# --- L10 (a): one-time codes expire -------------------------------------------------------


def new_pupil(client, teacher, school_class):
    """A teacher adds a pupil; returns (the codes page, the pupil, the code)."""
    client.force_login(teacher)
    response = client.post(
        reverse("classroom:student_create", args=[school_class.pk]), {"given_name": "Nia", "family_name": "New"}
    )
    [(user, code)] = response.context["created"]
    return response, User.objects.get(pk=user.pk), code


def log_in(username: str, code: str):
    from django.test import Client

    pupil = Client()
    return pupil, pupil.post(reverse("login"), {"username": username, "password": code}, REMOTE_ADDR="10.1.2.3")


def test_l10_a_new_pupils_code_expires_after_the_lifetime_and_the_page_says_when(client, cast, school_class):
    made = timezone.now()
    response, pupil, code = new_pupil(client, cast["teacher"], school_class)
    assert made + 7 * DAY <= pupil.one_time_code_expires_at <= timezone.now() + 7 * DAY
    html = response.content.decode()
    local = timezone.localtime(pupil.one_time_code_expires_at)
    assert "works for 7 days, until" in html
    assert local.strftime("%-d %B %Y, %H:%M") in html


def test_l10_the_lifetime_is_a_setting(client, cast, school_class, settings):
    settings.ONE_TIME_CODE_LIFETIME = 2 * DAY
    response, pupil, code = new_pupil(client, cast["teacher"], school_class)
    assert pupil.one_time_code_expires_at <= timezone.now() + 2 * DAY
    assert "works for 2 days" in response.content.decode()


def test_l10_expired_code_is_refused_with_a_clear_message(client, cast, school_class):
    _, pupil, code = new_pupil(client, cast["teacher"], school_class)
    made = timezone.now()
    with time_machine.travel(made + 7 * DAY + datetime.timedelta(minutes=1)):
        browser, response = log_in(pupil.username, code)
    assert response.status_code == 200
    html = response.content.decode()
    assert "This one-time code has expired" in html and "Ask your teacher" in html
    assert "_auth_user_id" not in browser.session
    # A minute before, the same code still worked.
    with time_machine.travel(made + 7 * DAY - datetime.timedelta(minutes=1)):
        browser, response = log_in(pupil.username, code)
        assert response.status_code == 302
        assert browser.get(reverse("home"))["Location"] == reverse("password_change")


def test_l10_an_expired_code_never_counts_as_a_failed_login_or_locks_out(client, cast, school_class, settings):
    _, pupil, code = new_pupil(client, cast["teacher"], school_class)
    with time_machine.travel(timezone.now() + 8 * DAY):
        for _ in range(settings.AXES_FAILURE_LIMIT + 2):
            _, response = log_in(pupil.username, code)
            assert response.status_code == 200  # never the 429 lock-out page
            assert "This one-time code has expired" in response.content.decode()
    assert not AccessAttempt.objects.filter(username=pupil.username).exists()
    assert not AccessFailureLog.objects.filter(username=pupil.username).exists()
    # A new code from the teacher works at once: nothing was locked.
    client.force_login(cast["teacher"])
    fresh = client.post(reverse("classroom:student_reset_password", args=[school_class.pk, pupil.pk]))
    [(_, new_code)] = fresh.context["created"]
    assert log_in(pupil.username, new_code)[1].status_code == 302


def test_l10_a_reset_gives_a_fresh_lifetime_and_shows_it(client, cast, school_class):
    student = cast["student"]
    client.force_login(cast["teacher"])
    response = client.post(reverse("classroom:student_reset_password", args=[school_class.pk, student.pk]))
    student.refresh_from_db()
    assert student.one_time_code_expires_at > timezone.now() + 7 * DAY - datetime.timedelta(minutes=1)
    assert "works for 7 days, until" in response.content.decode()


def test_l10_import_results_show_the_codes_lifetime(client, cast, school_class):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(cast["teacher"])
    file = SimpleUploadedFile("pupils.csv", b"given_name,family_name\nAmelia,Brown\nOliver,Smith\n")
    token = client.post(reverse("classroom:student_import", args=[school_class.pk]), {"file": file}).context["token"]
    response = client.post(reverse("classroom:student_import_confirm", args=[school_class.pk]), {"token": token})
    assert "The codes work for 7 days, until" in response.content.decode()
    assert all(user.one_time_code_expires_at for user, _ in response.context["created"])


def test_l10_class_page_flags_an_expired_code(client, cast, school_class):
    _, pupil, _ = new_pupil(client, cast["teacher"], school_class)
    label = "One-time code expired"
    assert label not in client.get(reverse("classroom:class_detail", args=[school_class.pk])).content.decode()
    User.objects.filter(pk=pupil.pk).update(one_time_code_expires_at=timezone.now() - DAY)
    assert label in client.get(reverse("classroom:class_detail", args=[school_class.pk])).content.decode()


def test_l10_choosing_a_password_clears_the_expiry(client, cast, school_class):
    _, pupil, code = new_pupil(client, cast["teacher"], school_class)
    browser, _ = log_in(pupil.username, code)
    browser.post(
        reverse("password_change"),
        {"old_password": code, "new_password1": "a-fresh-Passw0rd", "new_password2": "a-fresh-Passw0rd"},
    )
    pupil.refresh_from_db()
    assert not pupil.must_change_password and pupil.one_time_code_expires_at is None
    with time_machine.travel(timezone.now() + 30 * DAY):
        assert log_in(pupil.username, "a-fresh-Passw0rd")[1].status_code == 302


def test_l10_the_upgrade_gives_codes_already_handed_out_a_lifetime(cast):
    migration = importlib.import_module("classroom.migrations.0009_one_time_code_expiry")
    pupil, teacher = cast["student"], cast["teacher"]
    User.objects.filter(pk__in=[pupil.pk, teacher.pk]).update(must_change_password=True, one_time_code_expires_at=None)
    migration.expire_outstanding_codes(apps, None)
    pupil.refresh_from_db()
    teacher.refresh_from_db()
    assert pupil.one_time_code_expires_at is not None
    assert teacher.one_time_code_expires_at is None  # only pupils get one-time codes


# --- L10 (b): taking a teacher off a class ------------------------------------------------


@pytest.fixture
def co_taught(cast, school_class):
    """10H, made by `teacher`, with `other_teacher` added as a co-teacher."""
    school_class.add_teacher(cast["other_teacher"])
    return school_class


def remove(client, user, school_class, teacher):
    client.force_login(user)
    return client.post(reverse("classroom:class_teacher_remove", args=[school_class.pk, teacher.pk]))


def test_l10_a_co_teacher_cannot_remove_the_teacher_who_made_the_class(client, cast, co_taught):
    assert remove(client, cast["other_teacher"], co_taught, cast["teacher"]).status_code == 403
    assert cast["teacher"] in co_taught.teachers.all()


def test_l10_the_creator_cannot_remove_a_co_teacher_either(client, cast, co_taught):
    assert remove(client, cast["teacher"], co_taught, cast["other_teacher"]).status_code == 403
    assert cast["other_teacher"] in co_taught.teachers.all()


def test_l10_a_co_teacher_can_leave_but_not_take_the_creator_off(client, cast, co_taught):
    assert remove(client, cast["other_teacher"], co_taught, cast["teacher"]).status_code == 403
    response = remove(client, cast["other_teacher"], co_taught, cast["other_teacher"])
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert list(co_taught.teachers.all()) == [cast["teacher"]]


def test_l10_the_head_can_remove_any_teacher_but_not_the_last(client, cast, co_taught):
    assert remove(client, cast["other_teacher"], co_taught, cast["teacher"]).status_code == 403
    assert remove(client, cast["head"], co_taught, cast["teacher"]).status_code == 302
    assert list(co_taught.teachers.all()) == [cast["other_teacher"]]
    remove(client, cast["head"], co_taught, cast["other_teacher"])
    assert list(co_taught.teachers.all()) == [cast["other_teacher"]]


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("teacher", "teacher", 302),
        ("teacher", "other_teacher", 403),
        ("other_teacher", "teacher", 403),
        ("head", "other_teacher", 302),
        ("stranger", "teacher", 404),
        ("student", "teacher", 403),
        (None, "teacher", "login"),
    ],
)
def test_l10_teacher_removal_rules_for_every_actor(client, cast, co_taught, who, target, status):
    actors = {**cast, "stranger": TeacherFactory(username="ms.none")}
    if who is not None:
        client.force_login(actors[who])
    response = client.post(reverse("classroom:class_teacher_remove", args=[co_taught.pk, cast[target].pk]))
    if status == "login":
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == status
    assert (cast[target] in co_taught.teachers.all()) == (status != 302)


def test_l10_the_co_teachers_page_offers_only_the_allowed_removals_and_says_why(client, cast, co_taught):
    url = reverse("classroom:class_teachers", args=[co_taught.pk])
    mine = reverse("classroom:class_teacher_remove", args=[co_taught.pk, cast["other_teacher"].pk])
    theirs = reverse("classroom:class_teacher_remove", args=[co_taught.pk, cast["teacher"].pk])
    client.force_login(cast["other_teacher"])
    html = client.get(url).content.decode()
    assert mine in html and theirs not in html
    assert "only the head of department can take another teacher off it" in html
    client.force_login(cast["head"])
    html = client.get(url).content.decode()
    assert mine in html and theirs in html


# --- L10 (c): mark autosave needs the revision it was based on -----------------------------


def test_l10_mark_autosave_without_base_revision_changes_nothing(client, cast, essay):
    mark = mark_fully(essay, cast["teacher"], complete=False)
    before = (mark.revision, mark.total, mark.www)
    data = mark_post(essay, {"AO1": (1, 1)}, www="Overwritten by a stale tab.")
    del data["base_revision"]
    client.force_login(cast["teacher"])
    for url in (
        reverse("classroom:mark_autosave", args=[essay.pk]),
        reverse("classroom:mark_submission", args=[essay.pk]),
    ):
        response = client.post(url, data)
        assert response.status_code == 400
        mark.refresh_from_db()
        assert (mark.revision, mark.total, mark.www) == before
    # With the revision it saves, so the refusal is about the missing revision.
    data["base_revision"] = mark_revision(essay)
    assert client.post(reverse("classroom:mark_autosave", args=[essay.pk]), data).status_code == 200
    mark.refresh_from_db()
    assert mark.www == "Overwritten by a stale tab."

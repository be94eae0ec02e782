"""Issue 13, item 5: the small things from the UX review (reviews/ux.md §1 and B9).

- counts say "1 minute", never "1 minutes" (one helper in Python, `pluralize` in templates);
- a new pupil's first log-in says so and asks only for the new password, twice;
- re-running seed_demo (every `make run`) leaves the demo school as the teacher left it;
- an import that cannot give a pupil the username made from their name says which and why.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from classroom import demo, roster
from classroom.models import Enrolment, SchoolClass, User
from crisis.markdown import MarkdownLengthValidator
from crisis.wording import plural
from tests.conftest import PASSWORD
from tests.factories import AssignmentFactory, EssayPromptFactory, StudentFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-fresh-Passw0rd"


# --- (a) counts in words ------------------------------------------------------------------------


def test_plural_is_singular_only_for_exactly_one():
    assert plural(1, "minute") == "1 minute"
    assert plural(0, "minute") == "0 minutes"
    assert plural(2, "minute") == "2 minutes"
    assert plural(1200, "word") == "1,200 words"
    assert plural(1, "class", "classes") == "1 class" and plural(3, "class", "classes") == "3 classes"


def test_a_one_minute_timed_essay_says_1_minute_to_pupil_and_teacher(client, teacher, student, school_class):
    prompt = EssayPromptFactory(question="How far did the crisis change diplomacy?")
    assignment = AssignmentFactory(
        school_class=school_class, prompt=prompt, title=prompt.question, time_limit_minutes=1
    )
    assert assignment.sealed_title == "Timed essay (1 minute)"

    client.force_login(student)
    home = client.get(reverse("home")).content.decode()
    assert "timed, 1 minute" in home
    url = reverse("classroom:write", args=[assignment.pk])
    client.post(url, {"start": "1"})
    page = client.get(url).content.decode()
    assert "Timed essay: 1 minute." in page
    assert "1 minutes" not in home + page

    client.force_login(teacher)
    detail = client.get(reverse("classroom:assignment_detail", args=[assignment.pk])).content.decode()
    assert "1 minute from when" in detail and "1 minutes" not in detail


def test_python_messages_with_a_count_of_one_are_singular(client, student, settings):
    with pytest.raises(ValidationError) as caught:
        MarkdownLengthValidator(10)("x" * 11)
    message = caught.value.message % caught.value.params
    assert "Shorten it by 1 character (" in message

    settings.ONE_TIME_CODE_LIFETIME = timedelta(days=1)
    student.set_one_time_code()
    student.set_password(PASSWORD)
    student.one_time_code_expires_at = timezone.now() - timedelta(minutes=1)
    student.save()
    response = client.post(reverse("login"), {"username": student.username, "password": PASSWORD})
    assert "codes work for 1 day." in response.content.decode()


# A count (a variable) right before a noun in the plural, with no `pluralize`: "{{ n }} minutes".
# A range ("{{ min }}–{{ max }} words") is plural whatever the numbers, so it is allowed.
COUNT_NOUNS = (
    "minutes|hours|days|weeks|marks|words|characters|essays|scripts|students|pupils|comments|"
    "responses|accounts|codes|rows|assignments|classes|submissions|attempts|lessons|sources|questions"
)
UNPLURALISED = re.compile(r"(?<![–-])\{\{[^{}]*\}\}(?:\s|&nbsp;|</?\w+[^>]*>)*(?:" + COUNT_NOUNS + r")\b")


def test_no_template_puts_a_count_before_a_plural_noun_without_pluralize():
    templates = Path(django_settings.BASE_DIR) / "templates"
    found = []
    for path in sorted(templates.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for match in UNPLURALISED.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{path.relative_to(templates)}:{line}: {match.group(0)}")
    assert not found, "Use `noun{{ n|pluralize }}`:\n" + "\n".join(found)


# --- (b) the first log-in with a one-time code --------------------------------------------------


def _add_pupil(client, teacher, school_class, given="Nia", family="Hughes") -> tuple[str, str]:
    client.force_login(teacher)
    response = client.post(
        reverse("classroom:student_create", args=[school_class.pk]), {"given_name": given, "family_name": family}
    )
    [(user, code)] = response.context["created"]
    client.logout()
    return user.username, code


def test_a_new_pupils_first_login_says_so_and_asks_only_for_the_new_password_twice(client, teacher, school_class):
    username, code = _add_pupil(client, teacher, school_class)
    assert client.post(reverse("login"), {"username": username, "password": code}).status_code == 302
    response = client.get(reverse("password_change"))
    html = response.content.decode()
    assert "first log-in" in html
    assert "reset" not in html.lower()
    assert "old_password" not in response.context["form"].fields
    assert 'name="old_password"' not in html

    response = client.post(reverse("password_change"), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    pupil = User.objects.get(username=username)
    assert not pupil.must_change_password and pupil.check_password(NEW_PASSWORD)
    assert client.get(reverse("home")).status_code == 200


def test_a_first_login_left_half_way_is_still_a_first_login(client, teacher, school_class):
    username, code = _add_pupil(client, teacher, school_class)
    client.post(reverse("login"), {"username": username, "password": code})
    client.post(reverse("logout"))
    client.post(reverse("login"), {"username": username, "password": code})
    assert "first log-in" in client.get(reverse("password_change")).content.decode()


def test_a_real_reset_still_says_the_teacher_reset_it_and_needs_no_old_password(client, teacher, student, school_class):
    User.objects.filter(pk=student.pk).update(date_joined=timezone.now() - timedelta(days=60))
    client.force_login(teacher)
    code = client.post(reverse("classroom:student_reset_password", args=[school_class.pk, student.pk])).context[
        "created"
    ][0][1]
    client.logout()
    client.post(reverse("login"), {"username": student.username, "password": code})
    response = client.get(reverse("password_change"))
    html = response.content.decode()
    assert "Your teacher reset your password" in html and "first log-in" not in html
    assert "old_password" not in response.context["form"].fields
    client.post(reverse("password_change"), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    student.refresh_from_db()
    assert not student.must_change_password and student.check_password(NEW_PASSWORD)


def test_a_refused_new_password_is_reported_under_it_and_changes_nothing(client, teacher, school_class):
    username, code = _add_pupil(client, teacher, school_class)
    client.post(reverse("login"), {"username": username, "password": code})
    response = client.post(reverse("password_change"), {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "too short" in str(errors["new_password1"]) and "new_password2" not in errors
    pupil = User.objects.get(username=username)
    assert pupil.must_change_password and pupil.check_password(code)


def test_a_chosen_password_is_still_changed_only_with_the_old_one(client, student):
    client.force_login(student)
    response = client.get(reverse("password_change"))
    assert "old_password" in response.context["form"].fields
    assert "reset" not in response.content.decode().lower()
    refused = client.post(
        reverse("password_change"),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert refused.status_code == 200
    student.refresh_from_db()
    assert student.check_password(PASSWORD)


# --- (c) seed_demo leaves existing demo data alone -----------------------------------------------


@pytest.fixture
def seeded(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    return SchoolClass.objects.get(name=demo.CLASS_NAME)


def test_seed_demo_again_keeps_changed_passwords_and_signed_in_sessions(client, seeded):
    amelia = User.objects.get(username="amelia.brown")
    amelia.set_password(NEW_PASSWORD)
    amelia.save()
    teacher_hash = User.objects.get(username="ms.khan").password
    client.force_login(User.objects.get(username="ms.khan"))
    call_command("seed_demo")
    assert User.objects.get(username="amelia.brown").check_password(NEW_PASSWORD)
    assert User.objects.get(username="ms.khan").password == teacher_hash
    assert client.get(reverse("home")).status_code == 200  # not logged out


def test_seed_demo_again_does_not_re_enrol_a_removed_pupil(seeded, capsys):
    Enrolment.objects.get(school_class=seeded, student__username="theo.wood").remove()
    call_command("seed_demo")
    enrolment = Enrolment.objects.get(school_class=seeded, student__username="theo.wood")
    assert enrolment.removed_at is not None
    assert not seeded.active_students().filter(username="theo.wood").exists()
    assert f"24 in {demo.CLASS_NAME}" in capsys.readouterr().out


def test_seed_demo_again_keeps_teacher_changes_and_adds_only_what_is_missing(seeded):
    khan, evans = User.objects.get(username="ms.khan"), User.objects.get(username="mr.evans")
    seeded.add_teacher(evans)
    seeded.remove_teacher(khan)
    User.objects.filter(username="amelia.brown").update(first_name="Amy")
    User.objects.get(username="noah.taylor").delete()
    call_command("seed_demo")
    assert list(seeded.teachers.all()) == [evans]
    assert User.objects.get(username="amelia.brown").first_name == "Amy"
    noah = User.objects.get(username="noah.taylor")  # the missing pupil is made again, enrolled
    assert noah.check_password(demo.DEMO_PASSWORD) and seeded.active_students().filter(pk=noah.pk).exists()


# --- (d) an import says which usernames were changed and why ------------------------------------


def _upload(client, school_class, text: str):
    file = SimpleUploadedFile("pupils.csv", text.encode(), content_type="text/csv")
    return client.post(reverse("classroom:student_import", args=[school_class.pk]), {"file": file})


def test_import_preview_and_result_say_which_usernames_changed_and_why(client, teacher, school_class):
    StudentFactory(username="amelia.brown", first_name="Amelia", last_name="Brown")
    school_class.enrol(User.objects.get(username="amelia.brown"))
    client.force_login(teacher)
    response = _upload(client, school_class, "given_name,family_name\nAmelia,Brown\nOliver,Smith\nOliver,Smith\n")
    html = response.content.decode()
    assert "2 usernames will differ from the name" in html
    assert "Line 2, Amelia Brown: Amelia Brown is already in this class as “amelia.brown”" in html
    assert "so this account will be <code>amelia.brown2</code>" in html
    assert "If they are the same pupil, leave this line out of the file." in html
    assert (
        "Line 4, Oliver Smith: line 3 gets “oliver.smith”, so this account will be <code>oliver.smith2</code>" in html
    )
    assert "Line 3, Oliver Smith" not in html  # the plain username, nothing to explain

    result = client.post(
        reverse("classroom:student_import_confirm", args=[school_class.pk]), {"token": response.context["token"]}
    )
    html = result.content.decode()
    assert {user.username for user, _code in result.context["created"]} == {
        "amelia.brown2",
        "oliver.smith",
        "oliver.smith2",
    }
    assert "2 usernames differ from the name" in html
    assert "so this account is <code>amelia.brown2</code>" in html
    assert "If they are the same pupil, remove the new account from the class." in html


def test_a_username_taken_outside_the_class_is_explained_with_what_to_do(client, teacher, school_class, other_class):
    StudentFactory(username="amelia.brown", first_name="Amelia", last_name="Brown")
    other_class.enrol(User.objects.get(username="amelia.brown"))
    client.force_login(teacher)
    html = _upload(client, school_class, "given_name,family_name\nAmelia,Brown\n").content.decode()
    assert "“amelia.brown” is already someone’s username, so this account will be <code>amelia.brown2</code>" in html
    assert "give them the class’s join code instead" in html
    assert "in this class" not in html  # another teacher's pupil is not named


def test_adding_one_pupil_whose_username_is_taken_says_so(client, teacher, school_class):
    StudentFactory(username="nia.hughes")
    client.force_login(teacher)
    response = client.post(
        reverse("classroom:student_create", args=[school_class.pk]), {"given_name": "Nia", "family_name": "Hughes"}
    )
    html = response.content.decode()
    assert "Nia Hughes: “nia.hughes” is already someone’s username, so this account is <code>nia.hughes2</code>" in html


def test_validate_rows_explains_only_changed_usernames():
    StudentFactory(username="amelia.brown")
    rows = roster.validate_rows(
        roster.parse_csv(b"given_name,family_name,username\nAmelia,Brown,\nZoe,Lee,\nAny,One,zoe.lee\n")
    )
    assert [(row.username, row.username_note) for row in rows] == [
        ("amelia.brown2", "“amelia.brown” is already someone’s username"),
        ("zoe.lee2", "line 4 asks for “zoe.lee”"),
        ("zoe.lee", ""),
    ]
    assert rows[0].maybe_same_pupil == roster.ELSEWHERE and rows[1].maybe_same_pupil == ""

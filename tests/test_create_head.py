"""`manage.py create_head`: the first account on a new server, or promoting a teacher."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from classroom.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "Trinidad-Khrushchev-1962"


@pytest.fixture
def password_file(tmp_path):
    path = tmp_path / "head-password"
    path.write_text(GOOD_PASSWORD + "\n", encoding="utf-8")
    return path


def test_create_head_makes_a_new_superuser_head_with_the_file_password(password_file, capsys):
    call_command(
        "create_head", "dana.ross", "--first-name", "Dana", "--last-name", "Ross", "--password-file", str(password_file)
    )
    head = User.objects.get(username="dana.ross")
    assert head.role == User.Role.HEAD and head.is_head
    assert head.is_staff and head.is_superuser and head.is_active
    assert (head.first_name, head.last_name) == ("Dana", "Ross")
    # The trailing newline in the file is not part of the password.
    assert head.check_password(GOOD_PASSWORD)
    assert "Created head of department dana.ross" in capsys.readouterr().out


def test_create_head_promotes_an_existing_teacher_and_keeps_their_classes(school_class, teacher, password_file):
    call_command("create_head", teacher.username, "--password-file", str(password_file))
    teacher.refresh_from_db()
    assert teacher.role == User.Role.HEAD
    assert teacher.is_staff and teacher.is_superuser
    assert teacher.check_password(GOOD_PASSWORD)
    assert list(teacher.teaching_classes.all()) == [school_class]
    assert User.objects.filter(username=teacher.username).count() == 1


def test_keep_password_changes_the_role_but_not_the_password(teacher, capsys):
    call_command("create_head", teacher.username, "--keep-password")
    teacher.refresh_from_db()
    assert teacher.role == User.Role.HEAD and teacher.is_superuser
    assert teacher.check_password(PASSWORD)
    assert "Updated head of department" in capsys.readouterr().out


def test_keep_password_is_refused_for_a_user_who_does_not_exist():
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("create_head", "nobody", "--keep-password")
    assert not User.objects.exists()


def test_a_weak_password_is_refused_and_nothing_changes(teacher, tmp_path):
    weak = tmp_path / "weak"
    weak.write_text("12345678\n", encoding="utf-8")
    with pytest.raises(CommandError, match="password was not accepted"):
        call_command("create_head", teacher.username, "--password-file", str(weak))
    with pytest.raises(CommandError, match="password was not accepted"):
        call_command("create_head", "new.head", "--password-file", str(weak))
    teacher.refresh_from_db()
    assert teacher.role == User.Role.TEACHER and not teacher.is_superuser
    assert teacher.check_password(PASSWORD)
    assert not User.objects.filter(username="new.head").exists()


def test_a_missing_or_empty_password_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read the password file"):
        call_command("create_head", "new.head", "--password-file", str(tmp_path / "absent"))
    empty = tmp_path / "empty"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(CommandError, match="is empty"):
        call_command("create_head", "new.head", "--password-file", str(empty))
    assert not User.objects.exists()


def test_without_a_terminal_or_password_file_it_asks_for_a_file(monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError, match="--password-file"):
        call_command("create_head", "new.head")
    assert not User.objects.exists()


def test_interactive_password_is_asked_twice(monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter([GOOD_PASSWORD, GOOD_PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    call_command("create_head", "new.head")
    assert User.objects.get(username="new.head").check_password(GOOD_PASSWORD)


def test_interactive_passwords_that_differ_change_nothing(monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter([GOOD_PASSWORD, GOOD_PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    with pytest.raises(CommandError, match="did not match"):
        call_command("create_head", "new.head")
    assert not User.objects.exists()


def test_an_invalid_username_or_email_is_refused(password_file):
    with pytest.raises(CommandError, match="username"):
        call_command("create_head", "dana ross!", "--password-file", str(password_file))
    with pytest.raises(CommandError, match="email"):
        call_command("create_head", "dana.ross", "--email", "not-an-address", "--password-file", str(password_file))
    assert not User.objects.exists()

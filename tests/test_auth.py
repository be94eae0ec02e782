"""Logging in by username, friendly errors, per-(username, IP) lockout, Argon2."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.urls import reverse

from classroom.models import User
from tests.conftest import PASSWORD
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db

SCHOOL_IP = "10.20.30.40"


def attempt(client, username: str, password: str, ip: str = SCHOOL_IP):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_student_without_email_logs_in_by_username(client, student):
    assert student.email == ""
    response = attempt(client, "sam.student", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(student.pk)


def test_wrong_password_gives_a_clear_message_and_no_session(client, student):
    response = attempt(client, "sam.student", "not-it")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sixth_attempt_is_locked_out_but_a_classmate_on_the_same_ip_still_logs_in(client, student):
    classmate = StudentFactory(username="cara.classmate")
    for _ in range(5):
        assert attempt(client, "sam.student", "wrong").status_code == 200
    sixth = attempt(client, "sam.student", "wrong")
    assert sixth.status_code == 429
    # Locked now: even the right password is refused until the cool-off ends.
    locked = attempt(client, "sam.student", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed log-in attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session

    other = client.__class__()
    ok = attempt(other, "cara.classmate", PASSWORD)
    assert ok.status_code == 302
    assert other.session["_auth_user_id"] == str(classmate.pk)


def test_lockout_is_per_ip_too(client, student):
    for _ in range(6):
        attempt(client, "sam.student", "wrong", ip="10.0.0.1")
    assert attempt(client, "sam.student", PASSWORD, ip="10.0.0.1").status_code == 429
    # The same pupil at home (another address) is not locked out.
    assert attempt(client.__class__(), "sam.student", PASSWORD, ip="192.0.2.9").status_code == 302


def test_successful_login_resets_the_failure_count(client, student):
    for _ in range(5):
        attempt(client, "sam.student", "wrong")
    assert attempt(client, "sam.student", PASSWORD).status_code == 302
    client.logout()
    for _ in range(5):
        attempt(client, "sam.student", "wrong")
    assert attempt(client, "sam.student", PASSWORD).status_code == 302


def test_passwords_are_hashed_with_argon2id_at_the_schools_settings(settings):
    settings.PASSWORD_HASHERS = ["crisis.hashers.SchoolArgon2PasswordHasher"]
    user = User.objects.create_user("new.pupil", password="a-long-pass-phrase")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert check_password("a-long-pass-phrase", user.password)


def test_a_hash_made_with_djangos_argon2_settings_still_logs_in_and_is_made_again(client, settings, student):
    """Accounts from before the change keep working; the next log-in re-hashes them."""
    from django.contrib.auth.hashers import Argon2PasswordHasher

    settings.PASSWORD_HASHERS = ["crisis.hashers.SchoolArgon2PasswordHasher"]
    old = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    assert "m=102400,t=2,p=8" in old
    User.objects.filter(pk=student.pk).update(password=old)
    assert attempt(client, student.username, PASSWORD).status_code == 302
    student.refresh_from_db()
    assert student.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert check_password(PASSWORD, student.password)


def test_configured_hasher_is_argon2():
    # The autouse fixture swaps hashers for speed; the configured list is in the module.
    from crisis import settings as configured
    from crisis.hashers import SchoolArgon2PasswordHasher

    assert configured.PASSWORD_HASHERS[0] == "crisis.hashers.SchoolArgon2PasswordHasher"
    assert SchoolArgon2PasswordHasher.algorithm == "argon2"


def test_logout_is_a_post_and_ends_the_session(client, student):
    client.force_login(student)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_change_clears_the_one_time_flag(client, student):
    student.must_change_password = True
    student.save()
    client.force_login(student)
    # Everything else redirects to the password page until it is changed.
    assert client.get(reverse("home"))["Location"] == reverse("password_change")
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "my-own-better-pass", "new_password2": "my-own-better-pass"},
    )
    assert response.status_code == 302
    student.refresh_from_db()
    assert not student.must_change_password
    assert client.get(reverse("home")).status_code == 200


def test_password_change_with_wrong_old_password_changes_nothing(client, student):
    client.force_login(student)
    before = User.objects.get(pk=student.pk).password
    response = client.post(
        reverse("password_change"),
        {"old_password": "nope", "new_password1": "my-own-better-pass", "new_password2": "my-own-better-pass"},
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    assert User.objects.get(pk=student.pk).password == before

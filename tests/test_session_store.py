"""crisis/session_store.py: Django's database sessions, read with one plain statement."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends import db as django_db
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crisis.session_store import SessionStore

pytestmark = pytest.mark.django_db


def test_it_is_the_configured_store():
    assert settings.SESSION_ENGINE == "crisis.session_store"


def test_a_saved_session_is_read_back_in_one_query():
    saved = SessionStore()
    saved["pupil"] = 42
    saved["words"] = ["Khrushchev", "Kennedy"]
    saved.save()
    read = SessionStore(saved.session_key)
    with CaptureQueriesContext(connection) as queries:
        assert read.load() == {"pupil": 42, "words": ["Khrushchev", "Kennedy"]}
    assert len(queries) == 1
    assert read.session_key == saved.session_key


@pytest.mark.parametrize("store", [SessionStore, django_db.SessionStore], ids=["this store", "django's"])
def test_sessions_are_the_same_rows_as_djangos_so_switching_keeps_everyone_signed_in(store):
    written = store()
    written["_auth_user_id"] = "7"
    written.save()
    other = django_db.SessionStore if store is SessionStore else SessionStore
    assert other(written.session_key).load() == {"_auth_user_id": "7"}


def test_an_expired_session_reads_as_empty_and_its_key_is_dropped():
    saved = SessionStore()
    saved["pupil"] = 1
    saved.save()
    Session.objects.filter(session_key=saved.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    read = SessionStore(saved.session_key)
    assert read.load() == {}
    assert read.session_key is None


def test_a_session_expiring_later_is_still_read():
    saved = SessionStore()
    saved["pupil"] = 1
    saved.save()
    Session.objects.filter(session_key=saved.session_key).update(expire_date=timezone.now() + timedelta(minutes=1))
    assert SessionStore(saved.session_key).load() == {"pupil": 1}


@pytest.mark.parametrize("key", ["x" * 32, "no-such-session-key-0123456789ab", None, "short"])
def test_an_unknown_or_malformed_key_reads_as_empty_without_error(key):
    read = SessionStore(key)
    assert read.load() == {}
    assert read.session_key is None


def test_signing_in_and_out_through_the_pages(client, django_user_model):
    user = django_user_model.objects.create_user(username="s.reader", password="pw-not-used-here", role="student")
    client.force_login(user)
    assert client.get(reverse("home"), secure=True).status_code == 200
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert SessionStore(key).load()["_auth_user_id"] == str(user.pk)
    client.post(reverse("logout"), secure=True)
    assert SessionStore(key).load() == {}
    response = client.get(reverse("home"), secure=True)
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_session_signed_in_before_the_app_had_its_own_backend_stays_signed_in(client, django_user_model):
    """Sessions name the backend that signed them in; those naming Django's ModelBackend (which
    the app's extends, and which AUTHENTICATION_BACKENDS no longer lists) read as the app's."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    user = django_user_model.objects.create_user(username="s.earlier", password="pw-not-used-here", role="student")
    old = django_db.SessionStore()
    old.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
    )
    old.save()
    assert SessionStore(old.session_key).load()[BACKEND_SESSION_KEY] == "classroom.signin.ModelBackend"
    client.cookies[settings.SESSION_COOKIE_NAME] = old.session_key
    response = client.get(reverse("home"), secure=True)
    assert response.status_code == 200
    assert response.wsgi_request.user == user
    # A session naming a backend the app does not list is still signed out.
    old[BACKEND_SESSION_KEY] = "somewhere.else.Backend"
    old.save()
    response = client.get(reverse("home"), secure=True)
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_each_requests_user_is_found_by_the_compiled_query_and_checked_as_djangos(client, django_user_model):
    """The app's backend finds the session's user with one query, as Django's does: a
    switched-off account, or one whose password changed since, is signed out."""
    from classroom.signin import ModelBackend

    user = django_user_model.objects.create_user(username="s.found", password="pw-not-used-here", role="student")
    backend = ModelBackend()
    with CaptureQueriesContext(connection) as queries:
        assert backend.get_user(user.pk) == user
    assert len(queries) == 1
    assert backend.get_user(user.pk + 1000) is None
    assert backend.get_user(str(user.pk)) == user  # not an int: Django's own way
    client.force_login(user)
    assert client.get(reverse("home"), secure=True).status_code == 200
    django_user_model.objects.filter(pk=user.pk).update(is_active=False)
    assert backend.get_user(user.pk) is None
    assert client.get(reverse("home"), secure=True).status_code == 302
    django_user_model.objects.filter(pk=user.pk).update(is_active=True)
    client.force_login(user)
    user.set_password("a-new-one-entirely")
    user.save()
    assert client.get(reverse("home"), secure=True).status_code == 302

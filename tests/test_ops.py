"""Health endpoints, security headers, static files."""

from __future__ import annotations

import pytest
from django.db import DatabaseError
from django.urls import reverse

from classroom.views import core


@pytest.mark.django_db
def test_healthz_needs_no_database_and_says_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ready_when_database_answers_and_migrated(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.content == b"ready\n"


@pytest.mark.django_db
def test_readyz_reports_unapplied_migrations(client, monkeypatch):
    monkeypatch.setattr(core, "_migrations_checked", False)

    class PendingExecutor:
        def __init__(self, connection):
            self.loader = type("L", (), {"graph": type("G", (), {"leaf_nodes": lambda self: []})()})()

        def migration_plan(self, targets):
            return [("classroom", "9999_pending")]

    monkeypatch.setattr(core, "MigrationExecutor", PendingExecutor)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.content == b"not ready\n"


@pytest.mark.django_db
def test_readyz_reports_database_down(client, monkeypatch):
    class BrokenCursor:
        def __enter__(self):
            raise DatabaseError("connection refused to 10.0.0.5")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(core.connection, "cursor", lambda: BrokenCursor())
    response = client.get("/readyz")
    assert response.status_code == 503
    assert b"10.0.0.5" not in response.content


def test_health_endpoints_are_get_only(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_security_headers_on_every_page(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_pages_load_nothing_from_outside(client, cast):
    client.force_login(cast["teacher"])
    html = client.get(reverse("home")).content.decode()
    assert "http://" not in html and "https://" not in html
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html
    assert "htmx" not in html
    assert "<script>" not in html  # no inline scripts: the CSP would block them

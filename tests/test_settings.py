"""Settings are read from the environment and refuse bad values loudly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from crisis.env import env_bool, env_int, env_list, env_list_or_none, env_str

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_KEY = "prod-" + "x7Kq2mZp9Lw4Rt8Yv3Nb6Hc1Jd5Fg0Se" * 2


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    dropped = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("raw,expected", [("True", True), ("false", False), ("TRUE", True), ("False", False)])
def test_env_bool_accepts_true_and_false(raw, expected):
    assert env_bool("FLAG", not expected, {"FLAG": raw}) is expected


@pytest.mark.parametrize("raw", ["yes", "1", "0", "on", "Tru"])
def test_env_bool_rejects_anything_else(raw):
    with pytest.raises(ImproperlyConfigured, match="FLAG must be True or False"):
        env_bool("FLAG", False, {"FLAG": raw})


def test_env_bool_default_when_unset_or_blank():
    assert env_bool("FLAG", True, {}) is True
    assert env_bool("FLAG", True, {"FLAG": "  "}) is True


def test_env_int_rejects_words_and_negatives():
    assert env_int("N", 3, {"N": "42"}) == 42
    with pytest.raises(ImproperlyConfigured, match="N must be a whole number"):
        env_int("N", 3, {"N": "forty"})
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_int("N", 3, {"N": "-1"})


def test_env_list_splits_on_commas():
    assert env_list("HOSTS", [], {"HOSTS": "a.example, b.example,,"}) == ["a.example", "b.example"]
    assert env_list("HOSTS", ["x"], {}) == ["x"]


@pytest.mark.parametrize("raw", ["", "  ", "none", "None", " NONE "])
def test_env_list_or_none_set_but_empty_is_nothing(raw):
    assert env_list_or_none("ROLES", ["a", "b"], {"ROLES": raw}) == []
    # The ordinary lists keep their default for a blank value.
    assert env_list("HOSTS", ["x"], {"HOSTS": raw.strip() if raw.strip().lower() != "none" else ""}) == ["x"]


def test_env_list_or_none_unset_is_the_default_and_a_list_is_read():
    assert env_list_or_none("ROLES", ["a", "b"], {}) == ["a", "b"]
    assert env_list_or_none("ROLES", ["a", "b"], {"ROLES": "b, c,"}) == ["b", "c"]


def password_roles(**env: str) -> str:
    code = "from django.conf import settings; print(sorted(settings.PASSWORD_SIGNIN_ROLES))"
    result = run_manage("shell", "-c", code, DEBUG="True", **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_password_signin_roles_set_but_empty_means_no_role(monkeypatch):
    monkeypatch.delenv("PASSWORD_SIGNIN_ROLES", raising=False)
    assert password_roles() == "['head', 'student', 'teacher']"  # unset: every role
    assert password_roles(PASSWORD_SIGNIN_ROLES="") == "[]"
    assert password_roles(PASSWORD_SIGNIN_ROLES="none") == "[]"
    assert password_roles(PASSWORD_SIGNIN_ROLES="student") == "['student']"


def test_secret_can_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-the-file\n")
    assert env_str("SECRET_KEY", None, {"SECRET_KEY": "inline", "SECRET_KEY_FILE": str(secret)}) == "from-the-file"


def test_unreadable_secret_file_is_a_clear_error(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY_FILE"):
        env_str("SECRET_KEY", None, {"SECRET_KEY_FILE": str(tmp_path / "missing")})


def test_bad_debug_value_stops_startup():
    result = run_manage("check", DEBUG="yes")
    assert result.returncode != 0
    assert "DEBUG must be True or False, not 'yes'" in result.stderr


def test_missing_secret_key_in_production_stops_startup():
    result = run_manage("check", DEBUG="False")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_short_secret_key_in_production_stops_startup():
    result = run_manage("check", DEBUG="False", SECRET_KEY="short")
    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr


def test_bad_database_url_is_a_clear_error():
    result = run_manage("check", DEBUG="True", DATABASE_URL="mysql://root@localhost/x")
    assert result.returncode != 0
    assert "DATABASE_URL must be a postgres:// or sqlite:// URL" in result.stderr


def test_deploy_check_passes_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="False",
        SECRET_KEY=PRODUCTION_KEY,
        ALLOWED_HOSTS="history.school.example",
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def postgres_settings_print(code: str, **env: str) -> list[str]:
    """What `code` prints, run after django.setup() with DATABASE_URL naming PostgreSQL (no
    connection is made) and `env` set (DB_PREPARED_STATEMENTS as the test's environment
    has it only if given)."""
    dropped = {"DJANGO_SETTINGS_MODULE", "DB_PREPARED_STATEMENTS"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    clean.update(
        DEBUG="True", DATABASE_URL="postgres://u@db.example:5432/crisis", DJANGO_SETTINGS_MODULE="crisis.settings"
    )
    clean.update(env)
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_database_url_selects_postgres_with_jit_off_and_random_reads_costed_for_memory():
    code = (
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['ENGINE'], d['OPTIONS']['options'], d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )
    expected = ["django.db.backends.postgresql", "-c", "jit=off", "-c", "random_page_cost=1.1", "600", "True"]
    assert postgres_settings_print(code) == expected


@pytest.mark.django_db
def test_postgres_sessions_really_run_with_those_settings():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner settings")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), current_setting('random_page_cost')")
        assert cursor.fetchone() == ("off", "1.1")


@pytest.mark.parametrize(
    ("setting", "expected"),
    [(None, "True 5"), ("True", "True 5"), ("False", "None None")],
)
def test_postgres_prepares_repeated_statements_unless_told_not_to(setting, expected):
    code = (
        "from django.conf import settings; o = settings.DATABASES['default']['OPTIONS']; "
        "print(o.get('server_side_binding'), o.get('prepare_threshold'))"
    )
    env = {} if setting is None else {"DB_PREPARED_STATEMENTS": setting}
    assert postgres_settings_print(code, **env) == expected.split()


@pytest.mark.django_db
def test_postgres_sessions_prepare_a_statement_run_again_and_again(student):
    from django.db import connection

    from classroom.models import User

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's prepared statements")

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%%classroom_user%%'")
            return cursor.fetchone()[0]

    before = prepared()
    for _ in range(7):  # more than the threshold of 5
        assert User.objects.get(pk=student.pk) == student
    assert prepared() > before


def test_defaults_are_british_and_mail_stays_on_the_console():
    from crisis import settings as configured  # pytest swaps the live EMAIL_BACKEND for locmem

    assert configured.LANGUAGE_CODE == "en-gb"
    assert configured.TIME_ZONE == "Europe/London"
    assert configured.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"


@pytest.mark.django_db
def test_tests_run_on_the_database_that_database_url_names():
    # CI runs the suite twice; this fails loudly if the PostgreSQL run silently used SQLite.
    from django.db import connection

    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected

"""Crisis Classroom served the production way, for the journey test and `make screenshots`.

`production_server()` is a context manager: a fresh database (a uniquely named PostgreSQL
database on the server in DATABASE_URL when that is a postgres:// URL, otherwise a SQLite
file in a temporary directory), then, as subprocesses with DEBUG off and only the
variables a school's environment file would hold, `migrate`, `collectstatic`,
`load_unit`, `load_comment_bank` and `seed_demo --force`, then gunicorn with
deploy/gunicorn.conf.py on a free loopback port. It yields a `ProductionServer` once
/readyz answers, and always stops gunicorn and removes the database and files.

Plain HTTP on 127.0.0.1, so the HTTPS-only settings (redirect, secure cookies, HSTS) are
turned off; everything else is as in production: whitenoise's hashed static files, the
strict CSP, Argon2 passwords, the real error pages.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dj_database_url
import pytest

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
READY_TIMEOUT = 45.0


class ServerError(RuntimeError):
    """The app could not be prepared or did not become ready; the message says which step."""


@dataclass
class ProductionServer:
    url: str
    env: dict[str, str]
    database: str
    work: Path
    log: Path
    _commands: list[str] = field(default_factory=list)

    def manage(self, *args: str, timeout: float = 300) -> str:
        """Run a management command against this server's database; return its output."""
        return _run([sys.executable, "manage.py", *args], self.env, self.work, timeout=timeout)

    def python(self, script: Path, *args: str, timeout: float = 300) -> str:
        """Run a Python script with this server's environment (it calls django.setup() itself)."""
        return _run([sys.executable, str(script), *args], self.env, self.work, timeout=timeout)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _run(command: Sequence[str], env: dict[str, str], work: Path, *, timeout: float) -> str:
    step = " ".join(command[1:3]) if command[0] == sys.executable else command[0]
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and manage.py, no shell
            list(command), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raise ServerError(f"{step} took more than {timeout:.0f}s") from exc
    if done.returncode != 0:
        raise ServerError(f"{step} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_admin(url: str):
    """A connection to the server's maintenance database (autocommit, for CREATE/DROP DATABASE)."""
    import psycopg

    config = dj_database_url.parse(url)
    return psycopg.connect(
        dbname="postgres",
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        autocommit=True,
        connect_timeout=10,
    )


def _with_database_name(url: str, name: str) -> str:
    base, _, rest = url.partition("?")
    server = base.rsplit("/", 1)[0]
    return f"{server}/{name}" + (f"?{rest}" if rest else "")


@contextmanager
def _fresh_database(work: Path, base_url: str | None) -> Iterator[tuple[str, str]]:
    """Yield (DATABASE_URL, description) for an empty database that is removed afterwards."""
    if base_url and base_url.startswith(("postgres://", "postgresql://")):
        from psycopg import sql

        name = f"crisis_journey_{os.getpid()}_{secrets.token_hex(3)}"
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with _postgres_admin(base_url) as admin:
            admin.execute(drop)
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield _with_database_name(base_url, name), f"PostgreSQL database {name}"
        finally:
            with _postgres_admin(base_url) as admin:
                admin.execute(drop)
    else:
        path = work / "journey.sqlite3"
        yield f"sqlite:///{path}", f"SQLite file {path}"


def production_env(database_url: str, work: Path, port: int) -> dict[str, str]:
    """What a production environment file would hold, and nothing from the caller's shell."""
    env = {name: os.environ[name] for name in ("PATH", "HOME", "TMPDIR", "SYSTEMROOT") if name in os.environ}
    env.update(
        {
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "DJANGO_SETTINGS_MODULE": "crisis.settings",
            "DEBUG": "False",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "DATABASE_URL": database_url,
            "ALLOWED_HOSTS": "127.0.0.1",
            # Plain HTTP on loopback: no TLS to redirect to or pin cookies to.
            "SECURE_SSL_REDIRECT": "False",
            "SESSION_COOKIE_SECURE": "False",
            "CSRF_COOKIE_SECURE": "False",
            "SECURE_HSTS_SECONDS": "0",
            "VAR_DIR": str(work / "var"),
            "STATIC_ROOT": str(work / "staticfiles"),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_THREADS": "4",
            "GUNICORN_LOG_LEVEL": "warning",
        }
    )
    return env


def _has_command(server: ProductionServer, name: str) -> bool:
    try:
        server.manage("help", name, timeout=60)
    except ServerError:
        return False
    return True


def _wait_ready(url: str, process: subprocess.Popen, server: ProductionServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise ServerError(f"gunicorn exited ({process.returncode}) before it was ready:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:  # noqa: S310 - loopback http
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise ServerError(f"/readyz did not answer 200 within {timeout:.0f}s:\n{server.log_tail()}")
        time.sleep(0.25)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextmanager
def production_server(
    database_url: str | None = None, *, seed_demo: bool = True, ready_timeout: float = READY_TIMEOUT
) -> Iterator[ProductionServer]:
    """Serve the app as a school would, on a throwaway database; see the module docstring.

    `database_url` defaults to the DATABASE_URL environment variable: a postgres:// URL
    means "a new database on that server" (the named database itself is never touched).
    """
    if database_url is None:
        database_url = os.environ.get("DATABASE_URL")
    work = Path(tempfile.mkdtemp(prefix="crisis-journey-"))
    process: subprocess.Popen | None = None
    try:
        with _fresh_database(work, database_url) as (url, description):
            port = free_port()
            env = production_env(url, work, port)
            server = ProductionServer(
                url=f"http://127.0.0.1:{port}", env=env, database=description, work=work, log=work / "gunicorn.log"
            )
            server.manage("migrate", "--noinput")
            server.manage("collectstatic", "--noinput")
            server.manage("load_unit")
            if _has_command(server, "load_comment_bank"):
                server.manage("load_comment_bank")
            if seed_demo:
                server.manage("seed_demo", "--force")
            if GUNICORN_CONFIG.exists():
                command = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG)]
            else:
                command = [sys.executable, "-m", "gunicorn", "crisis.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"]
            with server.log.open("wb") as log:
                process = subprocess.Popen(  # noqa: S603 - our own interpreter, no shell
                    command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
                )
            try:
                _wait_ready(server.url, process, server, ready_timeout)
                yield server
            finally:
                _stop(process)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def production_site(browser) -> Iterator[ProductionServer]:
    """A production-way server for the tests of one module (import this fixture there).

    It asks for `browser` first, so that without Chromium the tests are skipped (or fail
    with REQUIRE_BROWSER=1) before any time is spent building the server.
    """
    try:
        with production_server() as server:
            yield server
    except ServerError as error:
        pytest.fail(f"The production-way server did not start: {error}")

"""Serving the app and the hello-world yardstick for the benchmarks that go over HTTP.

The one home for: the benchmark's environment (import this module before Django), the
throwaway static files, starting gunicorn as a school runs it, waiting for it, signing
users in without the login form, and measuring hello-world with wrk.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
# The servers and this process share one key, so the sessions made here are valid there.
SECRET_KEY = os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50)
os.environ.update(
    DEBUG="True", ALLOWED_HOSTS="testserver,127.0.0.1", DJANGO_SETTINGS_MODULE="crisis.settings", SECRET_KEY=SECRET_KEY
)
# What the shipped nginx config sends with every request (deploy/nginx-crisis-classroom.conf).
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}


def require_postgres() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database with load_unit and seed_school run on it.")
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def session_cookies(users: dict[str, object]) -> dict[str, str]:
    """A database session per user, as signing in makes (the servers share the database)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from classroom.signin import MODEL_BACKEND

    cookies = {}
    for who, user in users.items():
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)  # type: ignore[attr-defined]
        session[BACKEND_SESSION_KEY] = MODEL_BACKEND
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()  # type: ignore[attr-defined]
        session.create()
        cookies[who] = session.session_key
    return cookies


def delete_sessions(keys: Iterator[str] | list[str]) -> None:
    from django.contrib.sessions.models import Session
    from django.db import connections

    connections.close_all()
    Session.objects.filter(session_key__in=list(keys)).delete()


@dataclass
class Servers:
    app: str  # http://127.0.0.1:port, no trailing slash
    hello: str  # http://127.0.0.1:port/


def _start(app: str | None, port: int, workers: int, static_root: str, log: Path) -> subprocess.Popen:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108
        "LANG": "C.UTF-8",
        "DEBUG": "False",
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_PROXY_SSL_HEADER": "True",
        "SECURE_SSL_REDIRECT": "True",
        "PROXY_COUNT": "1",
        "STATIC_ROOT": static_root,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_LOG_LEVEL": "warning",
    }
    # Passed on when set, to compare gunicorn settings (deploy/gunicorn.conf.py's defaults otherwise).
    passed = ("CACHE_URL", "CONN_MAX_AGE", "DB_POOL_MAX_SIZE", "GUNICORN_THREADS", "GUNICORN_MAX_REQUESTS")
    for name in (*passed, "GUNICORN_PRELOAD", "GUNICORN_KEEPALIVE_REQUESTS"):
        if name in os.environ:
            env[name] = os.environ[name]
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    command = [gunicorn, "--config", "deploy/gunicorn.conf.py", "--access-logfile", "/dev/null"]
    if app:
        command += ["--pythonpath", str(BENCH), app]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)  # noqa: S603


def _wait_ready(url: str, server: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"The server for {url} exited before it was ready:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own server
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    sys.exit(f"{url} did not answer within {timeout:.0f} s.")


@contextmanager
def serve(workers: int = 2) -> Iterator[Servers]:
    """The app (DEBUG off, collected static files) and bench/hello_world.py, each under gunicorn
    with deploy/gunicorn.conf.py and `workers` workers; stopped and cleaned up afterwards."""
    from django.db import connections

    connections.close_all()  # the servers get the database to themselves
    work = Path(tempfile.mkdtemp(prefix="crisis-bench-"))
    static_root = str(work / "static")
    env = {**os.environ, "DEBUG": "False", "STATIC_ROOT": static_root}
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    app_port, hello_port = free_port(), free_port()
    app_log, hello_log = work / "app.log", work / "hello.log"
    servers = [
        _start(None, app_port, workers, static_root, app_log),
        _start("hello_world:application", hello_port, workers, static_root, hello_log),
    ]
    try:
        found = Servers(f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{hello_port}/")
        _wait_ready(found.app + "/healthz", servers[0], app_log)
        _wait_ready(found.hello, servers[1], hello_log)
        yield found
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_ERRORS = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_PERCENTILE = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt install wrk")


def wrk(url: str, duration: int, connections: int, cookie: str | None = None) -> tuple[float, float, float, int]:
    """(requests per second, p50 ms, p99 ms, errors) from one wrk run of GETs."""
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--timeout", "30s", "--latency"]
    for name, value in PROXY_HEADERS.items():
        command += ["-H", f"{name}: {value}"]
    if cookie:
        command += ["-H", f"Cookie: sessionid={cookie}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout  # noqa: S603
    found = _RPS.search(out)
    if found is None:
        sys.exit(f"wrk printed no rate for {url}:\n{out}")
    errors_found = _ERRORS.search(out)
    errors = int(errors_found.group(1)) if errors_found else 0
    sockets = _SOCKET_ERRORS.search(out)
    if sockets:
        errors += sum(int(n) for n in sockets.groups())
    percentiles = {p: float(value) * _UNIT[unit] for p, value, unit in _PERCENTILE.findall(out)}
    return float(found.group(1)), percentiles.get("50", 0.0), percentiles.get("99", 0.0), errors

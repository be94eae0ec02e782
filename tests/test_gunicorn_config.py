"""deploy/gunicorn.conf.py as gunicorn runs it: the app loaded once by the master, and kept-alive
connections closed after GUNICORN_KEEPALIVE_REQUESTS requests so they spread over the workers."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"

PROBE = """
import os

LOADED_BY = os.getpid()


def application(environ, start_response):
    body = f"{LOADED_BY} {os.getpid()}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(tmp_path: Path, **env: str) -> tuple[subprocess.Popen, int]:
    (tmp_path / "probe.py").write_text(PROBE)
    port = _free_port()
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_LOG_LEVEL": "warning",
        **env,
    }
    command = [str(GUNICORN), "--config", "deploy/gunicorn.conf.py", "--pythonpath", str(tmp_path), "probe:application"]
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn and config
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    output = server.communicate()[0]
    pytest.fail(f"gunicorn did not start: {output[-2000:]}")


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()


def _get(connection: http.client.HTTPConnection) -> tuple[str, str]:
    connection.request("GET", "/")
    response = connection.getresponse()
    return response.read().decode(), (response.getheader("Connection") or "").lower()


@pytest.mark.parametrize(("preload", "loaded_by_master"), [("1", True), ("0", False)])
def test_the_master_loads_the_app_once_unless_told_not_to(tmp_path, preload, loaded_by_master):
    server, port = _serve(tmp_path, GUNICORN_PRELOAD=preload)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        loaded_by, worker = (int(pid) for pid in _get(connection)[0].split())
        connection.close()
        assert worker != server.pid
        assert (loaded_by == server.pid) is loaded_by_master
        assert (loaded_by == worker) is not loaded_by_master
    finally:
        _stop(server)


def test_a_kept_alive_connection_is_closed_after_its_last_request(tmp_path):
    server, port = _serve(tmp_path, GUNICORN_KEEPALIVE_REQUESTS="3")
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        answers = [_get(connection)[1] for _ in range(3)]
        assert answers == ["keep-alive", "keep-alive", "close"]
        connection.close()
        # A new connection starts counting again.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        assert _get(connection)[1] == "keep-alive"
        connection.close()
    finally:
        _stop(server)


def test_a_bad_setting_stops_gunicorn_with_a_clear_message(tmp_path):
    (tmp_path / "probe.py").write_text(PROBE)
    result = subprocess.run(  # noqa: S603 - our own gunicorn and config
        [str(GUNICORN), "--config", "deploy/gunicorn.conf.py", "--pythonpath", str(tmp_path), "probe:application"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "GUNICORN_KEEPALIVE_REQUESTS": "lots", "GUNICORN_BIND": "127.0.0.1:0"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert "GUNICORN_KEEPALIVE_REQUESTS must be a whole number, not 'lots'." in result.stdout + result.stderr


def test_loading_the_app_opens_no_connection_a_worker_would_share(tmp_path):
    """The master loads crisis.wsgi before it forks the workers: with the database and the cache
    both unreachable, loading it (every view included) still succeeds, and starts no thread."""
    probe = (
        "import threading, crisis.wsgi, sys\n"
        "from django.urls import get_resolver\n"
        "assert 'classroom.views.marking' in sys.modules, 'the views are loaded'\n"
        "print(sorted(t.name for t in threading.enumerate()))\n"
    )
    closed = _free_port()  # nothing listens there
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "crisis.settings",
        "DEBUG": "False",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"postgres://nobody@127.0.0.1:{closed}/nothing",
        "DB_POOL_MAX_SIZE": "2",
        "CACHE_URL": f"redis://127.0.0.1:{closed}/0",
        "VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and app
        [sys.executable, "-W", "ignore", "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "['MainThread']"


def test_nginx_closes_idle_upstream_connections_before_gunicorn_does():
    """A request nginx sends on a kept-alive connection gunicorn has just closed fails (a POST
    is not retried): nginx's upstream keepalive_timeout must be the shorter."""
    config = (ROOT / "deploy" / "nginx-crisis-classroom.conf").read_text()
    upstream = re.search(r"upstream crisis_classroom \{(.*?)\}", config, re.S)
    assert upstream is not None
    nginx_timeout = re.search(r"^\s*keepalive_timeout (\d+)s;", upstream[1], re.M)
    assert nginx_timeout is not None, "the upstream block sets keepalive_timeout"
    settings: dict[str, object] = {}
    exec((ROOT / "deploy" / "gunicorn.conf.py").read_text(), settings)  # noqa: S102 - our own config file
    assert int(nginx_timeout[1]) < settings["keepalive"]


def test_a_stopping_worker_answers_on_its_idle_connections_until_their_keepalive_ends(tmp_path):
    """A worker being replaced keeps an idle kept-alive connection for the whole keepalive timeout
    (5 s), not gunicorn's own two seconds: a request sent on it three seconds after the worker
    began to stop is answered, by that worker, with "Connection: close", not cut off."""
    server, port = _serve(tmp_path, GUNICORN_WORKERS="1", GUNICORN_KEEPALIVE="5")
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        body, kept = _get(connection)
        worker = int(body.split()[1])
        assert kept == "keep-alive"
        os.kill(worker, signal.SIGTERM)  # what a replacement or `systemctl reload` sends it
        time.sleep(3)
        body, kept = _get(connection)  # raised RemoteDisconnected when the linger was two seconds
        assert int(body.split()[1]) == worker
        assert kept == "close"
        connection.close()
        # The worker has gone once the connection closed, and a new one serves new connections.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(worker, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the stopping worker did not exit")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        assert int(_get(connection)[0].split()[1]) != worker
        connection.close()
    finally:
        _stop(server)

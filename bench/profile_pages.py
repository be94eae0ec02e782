"""Where a page's time goes, in-process: milliseconds a request and, optionally, a profile.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crisis_bench .venv/bin/python bench/profile_pages.py \
        [--only "markbook,writing page"] [--repeat 30] [--profile 25] [--sql]

The pages and users are bench/pages_bench.py's. Settings are production's (DEBUG off,
collected static files, the proxy headers nginx sends), but requests go through Django's
test client, so the figure is this process's time for the request (Python and the waits
on PostgreSQL) without gunicorn and the network: quieter than wrk, handy between changes.
Printed per page: the median and best wall-clock and CPU milliseconds over --repeat
requests and the number of queries; "pg cpu", the CPU milliseconds the PostgreSQL server
process serving this connection spent a request (the mean over --repeat, from
/proc/PID/schedstat: "-" when the server is on another machine). On a shared machine whose
wall-clock figures swing, this process's CPU plus PostgreSQL's is the steadier measure of
what a page costs the server. With --sql, the milliseconds PostgreSQL answered in
(the queries are counted either way, which costs a little);
with --profile N, the N functions with the most cumulative time (cProfile; PROFILE_SORT=tottime
sorts by time in the function itself).
Reads only; the sessions the client makes are deleted at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import served  # sets the environment up before django.setup()


def production_settings() -> Path:
    """DEBUG off with a throwaway STATIC_ROOT, as bench/served.py serves the app."""
    static_root = Path(tempfile.mkdtemp(prefix="crisis-profile-")) / "static"
    env = {**os.environ, "DEBUG": "False", "STATIC_ROOT": str(static_root)}
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=served.ROOT, env=env, check=True
    )
    os.environ.update(DEBUG="False", STATIC_ROOT=str(static_root), SECURE_PROXY_SSL_HEADER="True", PROXY_COUNT="1")
    return static_root


def server_cpu_ns(pid: int | None) -> int | None:
    """Nanoseconds the PostgreSQL server process `pid` has run on a CPU, if it runs here."""
    try:
        with open(f"/proc/{pid}/schedstat") as stat:
            return int(stat.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="Comma-separated page names (default: all).")
    parser.add_argument("--repeat", type=int, default=30, help="Requests a page (default 30).")
    parser.add_argument("--profile", type=int, default=0, help="Print the N costliest functions of each page.")
    parser.add_argument(
        "--sql", action="store_true", help="Also print query milliseconds, and each query of the last request."
    )
    args = parser.parse_args()
    served.require_postgres()
    static_root = production_settings()
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from pages_bench import pick_pages

    headers = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in served.PROXY_HEADERS.items()}
    try:
        pages, users = pick_pages()
        if args.only:
            wanted = {name.strip() for name in args.only.split(",")}
            pages = [page for page in pages if page.name in wanted]
        clients = {}
        for who, user in users.items():
            clients[who] = Client(**headers)
            clients[who].force_login(user)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            server_pid = cursor.fetchone()[0]
        print(f"{'page':<30} {'wall ms':>8} {'best':>6} {'cpu ms':>7} {'pg cpu':>7} {'queries':>8} {'sql ms':>7}")
        for page in pages:
            client = clients[page.who]
            for _ in range(3):  # warm caches, templates and connections
                response = client.get(page.url, secure=True)
                if response.status_code != 200:
                    sys.exit(f"{page.name} ({page.url}) answered {response.status_code}, not 200.")
            walls, cpus, sql_ms = [], [], []
            server_started = server_cpu_ns(server_pid)
            for _ in range(args.repeat):
                with CaptureQueriesContext(connection) as captured:
                    started, started_cpu = time.perf_counter(), time.process_time()
                    client.get(page.url, secure=True)
                    walls.append((time.perf_counter() - started) * 1000)
                    cpus.append((time.process_time() - started_cpu) * 1000)
                if args.sql:
                    sql_ms.append(sum(float(query["time"]) for query in captured.captured_queries) * 1000)
            server_ended = server_cpu_ns(server_pid)
            queries = len(captured)
            sql = f"{statistics.median(sql_ms):7.1f}" if sql_ms else "      -"
            server = (
                f"{(server_ended - server_started) / args.repeat / 1e6:7.1f}"
                if server_started is not None and server_ended is not None
                else "      -"
            )
            print(
                f"{page.name:<30} {statistics.median(walls):8.1f} {min(walls):6.1f} "
                f"{statistics.median(cpus):7.1f} {server} {queries:8d} {sql}"
            )
            if args.sql:  # each query of the last request: milliseconds and its start
                for query in captured.captured_queries:
                    print(f"    {float(query['time']) * 1000:6.1f} ms  {query['sql'][:110]}")
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(10):
                    client.get(page.url, secure=True)
                profiler.disable()
                out = io.StringIO()
                order = os.environ.get("PROFILE_SORT", "cumulative")
                pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.profile)
                print(out.getvalue())
    finally:
        served.delete_sessions(
            [client.session.session_key for client in clients.values()] if "clients" in locals() else []
        )
        shutil.rmtree(static_root.parent, ignore_errors=True)


if __name__ == "__main__":
    main()

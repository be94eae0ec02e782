"""Two checkouts of the app compared page by page, in turns, in CPU milliseconds a request.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crisis_bench .venv/bin/python bench/compare_pages.py \
        --before /path/to/other/checkout [--after .] [--only "markbook,department"] [--rounds 8] [--requests 10]

On a shared machine wall-clock figures swing by half or more from one minute to the next,
so two runs made one after the other say little about a change. This starts one process for
each checkout (its own code, its bench/pages_bench.py's pages and users, production
settings as bench/profile_pages.py makes them, the same database) and has them take turns:
each round, each page is requested --requests times by one, then the other (the order
swapped every round). Counted for each burst: the CPU time of the app's process and of the
PostgreSQL server process serving it (/proc/PID/schedstat), a request's mean. Printed per
page and checkout: the best burst (the least disturbed) and the median, the change in the
best, and the median wall-clock milliseconds. A page both checkouts serve the same (as the
standardisation list, for most changes) shows what the noise is. PostgreSQL must run on
this machine, outside a container (the server process is found by its process id), and the
database must be seeded as for pages_bench. Parallel query workers are processes of their
own and are not counted (the pages' queries run without them here). Reads only, but for
the sessions the clients make, deleted at the end of each process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path


def worker(root: Path) -> None:
    """Serve bursts for the driver: read "page name<TAB>requests" lines, answer with the
    app's and PostgreSQL's CPU milliseconds a request and the wall milliseconds."""
    here = Path(__file__).resolve().parent
    sys.path[:] = [str(root / "bench"), str(root)] + [p for p in sys.path if Path(p or ".").resolve() != here]
    os.chdir(root)
    import served  # this checkout's, as are the modules below

    served.require_postgres()
    import profile_pages

    static_root = profile_pages.production_settings()
    import time

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from pages_bench import pick_pages

    headers = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in served.PROXY_HEADERS.items()}
    clients: dict[str, Client] = {}
    try:
        pages, users = pick_pages()
        by_name = {page.name: page for page in pages}
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            server = cursor.fetchone()[0]

        def on_cpu(pid: int) -> int:
            with open(f"/proc/{pid}/schedstat") as stat:
                return int(stat.read().split()[0])

        print("ready " + "\t".join(by_name), flush=True)
        for line in sys.stdin:
            name, count = line.rstrip("\n").split("\t")
            page, requests = by_name[name], int(count)
            if page.who not in clients:
                clients[page.who] = Client(**headers)
                clients[page.who].force_login(users[page.who])
            client = clients[page.who]
            for _ in range(2):  # warm
                status = client.get(page.url, secure=True).status_code
                if status != 200:
                    sys.exit(f"{name} ({page.url}) answered {status}, not 200.")
            app, db, wall = on_cpu(os.getpid()), on_cpu(server), time.perf_counter()
            statuses = {client.get(page.url, secure=True).status_code for _ in range(requests)}
            if statuses != {200}:
                sys.exit(f"{name} ({page.url}) answered {sorted(statuses)} while measured.")
            app, db, wall = on_cpu(os.getpid()) - app, on_cpu(server) - db, time.perf_counter() - wall
            print(f"{app / requests / 1e6} {db / requests / 1e6} {wall / requests * 1e3}", flush=True)
    finally:
        served.delete_sessions([client.session.session_key for client in clients.values()])
        import shutil

        shutil.rmtree(static_root.parent, ignore_errors=True)


def start(root: Path) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(  # noqa: S603
        [str(root / ".venv" / "bin" / "python"), __file__, "--worker", str(root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("ready "):
        sys.exit(f"The worker for {root} did not start.")
    return process, line.rstrip("\n")[len("ready ") :].split("\t")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="The checkout to compare with (with its .venv).")
    parser.add_argument("--after", default=Path(__file__).resolve().parent.parent, type=Path)
    parser.add_argument("--only", default="", help="Comma-separated page names (default: every page).")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--requests", type=int, default=10, help="Requests a page in each burst.")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker.resolve())
        return
    if args.before is None:
        parser.error("--before is required")
    if args.rounds < 1 or args.requests < 1:
        parser.error("--rounds and --requests must be at least 1")
    checkouts = {"before": args.before.resolve(), "after": args.after.resolve()}
    workers = {label: start(root) for label, root in checkouts.items()}
    names = [name for name in workers["after"][1] if name in workers["before"][1]]
    if args.only:
        wanted = [name.strip() for name in args.only.split(",")]
        unknown = [name for name in wanted if name not in names]
        if unknown:
            sys.exit(f"No such page in both checkouts: {', '.join(unknown)}")
        names = wanted
    bursts: dict[tuple[str, str], list[tuple[float, float, float]]] = {
        (label, name): [] for label in workers for name in names
    }
    for round_number in range(args.rounds):
        for name in names:
            for label in ("before", "after") if round_number % 2 == 0 else ("after", "before"):
                process = workers[label][0]
                assert process.stdin is not None and process.stdout is not None
                process.stdin.write(f"{name}\t{args.requests}\n")
                process.stdin.flush()
                answer = process.stdout.readline()
                if not answer:
                    sys.exit(f"The worker for {checkouts[label]} stopped (its message is above).")
                app, db, wall = map(float, answer.split())
                bursts[(label, name)].append((app, db, wall))
    for process, _ in workers.values():
        assert process.stdin is not None
        process.stdin.close()
        process.wait()
    print(
        f"{args.rounds} rounds of {args.requests} requests a page; CPU ms a request (the app + PostgreSQL), "
        f"before: {checkouts['before']}, after: {checkouts['after']}"
    )
    print("| page | best before | best after | change | median before | median after | wall ms, median |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        best = {label: min(sum(b[:2]) for b in bursts[(label, name)]) for label in workers}
        median = {label: statistics.median(sum(b[:2]) for b in bursts[(label, name)]) for label in workers}
        wall = {label: statistics.median(b[2] for b in bursts[(label, name)]) for label in workers}
        change = (best["after"] - best["before"]) / best["before"] * 100
        print(
            f"| {name} | {best['before']:.1f} | {best['after']:.1f} | {change:+.0f} % "
            f"| {median['before']:.1f} | {median['after']:.1f} | {wall['before']:.1f} → {wall['after']:.1f} |"
        )


if __name__ == "__main__":
    main()

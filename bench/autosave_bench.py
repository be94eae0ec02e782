"""Autosave: queries a save, and throughput with many pupils saving at once, against hello-world.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crisis_bench .venv/bin/python bench/autosave_bench.py \
        [--writers 40] [--duration 20] [--workers 2] [--pause 0]

Needs `wrk` and a PostgreSQL database with `migrate`, `load_unit` and `seed_school` run on
it first. It WRITES: the chosen pupils' drafts get the benchmark's text (use a database made
for benchmarking).

1. Queries, in-process (Django's test client, signed in): the statements one save runs,
   for a save that only updates the text, one that also records what happened while writing
   (pastes, active time: the writing-process record), and one that also keeps a revision.
2. Served as a school runs it (bench/served.py: gunicorn, DEBUG off, the proxy headers
   nginx sends): --writers pupils, each on their own keep-alive connection with their own
   session, save a growing essay back to back (or every --pause seconds) for --duration
   seconds, each save based on the revision the last one returned. Reported: saves a
   second, p50/p95/p99 latency, and errors (anything but 200, a version conflict included),
   with hello-world's rate (wrk, 8 connections) as the yardstick.
"""

from __future__ import annotations

import argparse
import http.client
import json
import secrets
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import django
import served  # sets the environment up before django.setup()

SENTENCE = "Khrushchev's letter of 26 October offered to remove the missiles in return for a pledge. "


@dataclass
class Writer:
    assignment_id: int
    revision: int
    cookie: str
    text: str = ""
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def process_record(saves: int) -> str:
    """What the writing page sends about how the text was written since the last save
    (static/js/writing_process.js): one batch, ten seconds of writing and a paste."""
    now = 60_000 + saves * 10_000  # the page's clock, in milliseconds since it opened
    batch = {
        "seq": saves + 1,
        "from": now - 10_000,
        "to": now,
        "active": 9,
        "events": [{"kind": "paste", "t": now - 5_000, "position": 120, "length": 212, "origin": ""}],
    }
    return json.dumps({"session": "bench-session-0001", "now": now, "batches": [batch]})


def pick_writers(count: int) -> list[tuple[object, int, int]]:
    """(pupil, assignment id, revision) for `count` pupils with an untimed essay open for writing."""
    from classroom.models import Submission
    from classroom.status import EDITABLE_STATES

    found: dict[int, tuple[object, int, int]] = {}
    candidates = (
        Submission.objects.filter(
            state__in=EDITABLE_STATES,
            assignment__time_limit_minutes__isnull=True,
            assignment__archived_at__isnull=True,
        )
        .select_related("student")
        .order_by("pk")
    )
    for submission in candidates.iterator():
        found.setdefault(submission.student_id, (submission.student, submission.assignment_id, submission.revision))
        if len(found) == count:
            break
    if len(found) < count:
        sys.exit(f"Only {len(found)} pupils have an untimed essay open for writing; seed a bigger school.")
    return list(found.values())


def count_queries(pupil: object, assignment_id: int) -> list[tuple[str, list[str]]]:
    """The statements of three kinds of save, in-process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from classroom.models import REVISION_INTERVAL, Submission, SubmissionRevision

    client = Client()
    client.force_login(pupil)
    url = reverse("classroom:autosave", args=[assignment_id])
    revision = Submission.objects.get(student=pupil, assignment_id=assignment_id).revision
    kept = SubmissionRevision.objects.filter(submission__student=pupil, submission__assignment_id=assignment_id)
    response = client.post(url, {"text": f"warm-up {secrets.token_hex(4)}", "base_revision": revision})
    revision = response.json()["revision"]
    results = []
    for name, extra, snapshot in (
        ("text only", {}, False),
        ("with a writing-process record", {"process": process_record(1)}, False),
        ("keeping a revision as well", {"process": process_record(2)}, True),
    ):
        if not kept.exists():
            SubmissionRevision.objects.create(
                submission=Submission.objects.get(student=pupil, assignment_id=assignment_id),
                text="",
                revision=revision,
                reason=SubmissionRevision.Reason.AUTOSAVE,
            )
        # A revision is kept at most once an interval: the last one is made recent, or old.
        now = django.utils.timezone.now()
        kept.update(created_at=now - REVISION_INTERVAL * 2 if snapshot else now)
        with CaptureQueriesContext(connection) as captured:
            response = client.post(url, {"text": f"{name} {secrets.token_hex(4)}", "base_revision": revision, **extra})
        if response.status_code != 200:
            sys.exit(f"The in-process save ({name}) answered {response.status_code}: {response.content[:300]!r}")
        revision = response.json()["revision"]
        results.append((name, [query["sql"] for query in captured.captured_queries]))
    return results


def write(writer: Writer, app: str, stop: float, pause: float, with_process: bool) -> None:
    parts = urlsplit(app)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    csrf = secrets.token_hex(16)  # Django accepts its cookie's secret sent back as the token
    origin = f"https://{parts.hostname}:{parts.port}"
    path = f"/classroom/assignments/{writer.assignment_id}/autosave/"
    headers = {
        **served.PROXY_HEADERS,
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"sessionid={writer.cookie}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
        "Origin": origin,
        "Referer": f"{origin}/classroom/assignments/{writer.assignment_id}/write/",
    }
    saves = 0
    while time.monotonic() < stop:
        writer.text += SENTENCE
        fields = {"text": writer.text, "base_revision": writer.revision}
        if with_process:
            fields["process"] = process_record(saves)
        started = time.perf_counter()
        try:
            connection.request("POST", path, body=urlencode(fields), headers=headers)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            writer.errors.append(type(error).__name__)
            connection.close()
            continue
        writer.latencies.append((time.perf_counter() - started) * 1000)
        saves += 1
        if response.status == 200:
            writer.revision = json.loads(body)["revision"]
        else:
            writer.errors.append(str(response.status))
            if response.status == 409:
                writer.revision = json.loads(body)["revision"]
        if pause:
            time.sleep(pause)
    connection.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=40)
    parser.add_argument("--duration", type=int, default=20, help="Seconds of saving (default 20).")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers for both servers.")
    parser.add_argument("--pause", type=float, default=0.0, help="Seconds each writer waits between saves.")
    parser.add_argument("--no-process", action="store_true", help="Send no writing-process record with saves.")
    args = parser.parse_args()
    served.require_postgres()
    served.require_wrk()
    django.setup()
    from django.db import connection

    picked = pick_writers(args.writers)
    print("Queries a save (in-process, signed in):")
    for name, statements in count_queries(picked[0][0], picked[0][1]):
        kinds = ", ".join(sql.split(None, 1)[0] for sql in statements)
        print(f"  {name:<32} {len(statements)}: {kinds}")
    if connection.vendor != "postgresql":
        sys.exit("The served part needs PostgreSQL.")
    picked = pick_writers(args.writers)  # revisions as they now stand
    cookies = served.session_cookies({str(index): pupil for index, (pupil, _, _) in enumerate(picked)})
    writers = [
        Writer(assignment_id, revision, cookies[str(index)])
        for index, (_, assignment_id, revision) in enumerate(picked)
    ]
    try:
        with served.serve(args.workers) as servers:
            hellos = [served.wrk(servers.hello, 5, 8)[0]]
            stop = time.monotonic() + args.duration
            threads = [
                threading.Thread(target=write, args=(w, servers.app, stop, args.pause, not args.no_process))
                for w in writers
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
            hellos.append(served.wrk(servers.hello, 5, 8)[0])
    finally:
        served.delete_sessions(list(cookies.values()))
    latencies = [ms for w in writers for ms in w.latencies]
    errors = [error for w in writers for error in w.errors]
    rate, floor = len(latencies) / elapsed, statistics.median(hellos)
    print(
        f"{args.writers} writers for {args.duration} s, gunicorn {args.workers} workers"
        f"{', with a writing-process record each save' if not args.no_process else ''}: "
        f"{len(latencies)} saves, {rate:,.1f} a second = {rate / floor:.3f} of hello-world ({floor:,.0f} req/s); "
        f"p50 {percentile(latencies, 0.5):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms, "
        f"p99 {percentile(latencies, 0.99):.0f} ms; {len(errors)} errors"
        + (f" ({', '.join(sorted(set(errors)))})" if errors else "")
    )
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()

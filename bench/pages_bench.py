"""Throughput of every main page against a bare Django "hello world", served side by side.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crisis_bench .venv/bin/python bench/pages_bench.py \
        [--duration 2] [--runs 4] [--connections 8] [--workers 2] [--only markbook,writing] [--markdown]

Needs `wrk` (apt install wrk) and a PostgreSQL database with `migrate`, `load_unit`,
`seed_school --students 1500 --classes 60 --assignments 12` and then `ANALYZE` run on it
first (planner statistics, as autovacuum gathers them on a running server).

Both servers run as a school runs the app: gunicorn with deploy/gunicorn.conf.py, DEBUG
off, the same number of workers and threads, on 127.0.0.1; bench/hello_world.py is the
yardstick. Each page is loaded once in-process first (it must answer 200; its query count
is taken there), then wrk runs --duration seconds with --connections connections, carrying
a session cookie made for the page's user (as after signing in) and the X-Forwarded-Proto
header the shipped nginx config sends, --runs times; the best run counts. (wrk's keep-alive
connections are shared out between the gunicorn workers as they connect, and when a worker
is replaced its connections move to the others: a run can measure one worker at about half
the rate. The best of several short runs is the rate with both at work.) Hello-world is
measured before, between and after the pages; "share" is a page's
requests per second over hello-world's median. Nothing here writes to the database except
the benchmark's own sessions, which are deleted at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass

import django
import served  # sets the environment up before django.setup()

# What a pupil in a lesson opens, and the marking queue: held to the higher bar.
LESSON_PAGES = {"pupil home", "writing page", "lesson", "source", "feedback", "marking queue"}


@dataclass
class Page:
    name: str
    who: str
    url: str
    queries: int = 0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0


def pick_pages() -> tuple[list[Page], dict[str, object]]:
    """The pages to measure and the user each is opened as, from the seeded school."""
    from django.db.models import Count, Q
    from django.urls import reverse
    from progress_bench import pick  # the same class, teacher, pupil and head as the progress benchmark

    from classroom.models import Assignment, Mark, Submission, User
    from crisis.models import Lesson, Source, Unit

    school_class, teacher, student_id, head, prompt_id = pick()
    pupil = User.objects.get(pk=student_id)
    released = (
        Mark.objects.filter(submission__student=pupil, released_at__isnull=False)
        .select_related("submission")
        .order_by("-released_at")
        .first()
    )
    draft = (
        Submission.objects.filter(student=pupil, assignment__school_class=school_class)
        .order_by("-assignment__due_at")
        .first()
    )
    marked = (
        Submission.objects.filter(assignment__school_class=school_class, state__in=["submitted", "marked"])
        .order_by("pk")
        .first()
    )
    assignment = (
        Assignment.objects.filter(school_class=school_class)
        .annotate(n=Count("submissions", filter=Q(submissions__state="submitted")))
        .order_by("-n", "pk")
        .first()
    )
    unit, lesson = Unit.objects.order_by("pk").first(), Lesson.objects.order_by("pk").first()
    source = Source.objects.order_by("pk").first()
    if None in (released, draft, marked, assignment, unit, lesson, source, head):
        sys.exit("The database has no seeded school: run load_unit and seed_school on it first.")
    users = {"pupil": pupil, "teacher": teacher, "head": head}
    c, r = "classroom:", reverse
    pages = [
        Page("pupil home", "pupil", r("home")),
        Page("writing page", "pupil", r(c + "write", args=[draft.assignment_id])),
        Page("lesson", "pupil", r("content:lesson", args=[lesson.pk])),
        Page("source", "pupil", r("content:source", args=[source.pk])),
        Page("unit", "pupil", r("content:unit", args=[unit.pk])),
        Page("feedback", "pupil", r(c + "feedback", args=[released.submission.assignment_id])),
        Page("my progress", "pupil", r(c + "my_progress")),
        Page("teacher home", "teacher", r("home")),
        Page("class", "teacher", r(c + "class_detail", args=[school_class.pk])),
        Page("class assignments", "teacher", r(c + "assignment_list", args=[school_class.pk])),
        Page("assignment", "teacher", r(c + "assignment_detail", args=[assignment.pk])),
        Page("marking queue", "teacher", r(c + "marking_queue", args=[assignment.pk])),
        Page("marking page", "teacher", r(c + "mark_submission", args=[marked.pk])),
        Page("markbook", "teacher", r(c + "markbook", args=[school_class.pk])),
        Page("class overview", "teacher", r(c + "class_overview", args=[school_class.pk])),
        Page("pupil progress", "teacher", r(c + "student_progress", args=[pupil.pk])),
        Page("new assignment (form)", "teacher", r(c + "assignment_create", args=[school_class.pk])),
        Page("new prompt (form)", "teacher", r("content:prompt_create", args=[unit.pk])),
        Page("question", "teacher", r("content:prompt", args=[prompt_id])),
        Page("units", "teacher", r("content:units")),
        Page("comment bank", "teacher", r(c + "comment_bank")),
        Page("exemplar library", "teacher", r(c + "exemplar_library")),
        Page("comparative judgement", "teacher", r(c + "judging_list")),
        Page("standardisation", "teacher", r(c + "standardisation_list")),
        Page("second marking", "teacher", r(c + "moderation_home")),
        Page("department", "head", r(c + "department_overview")),
        Page("department progress", "head", r(c + "department_progress") + f"?prompt={prompt_id}"),
        Page("marking agreement", "head", r(c + "agreement")),
        Page("staff", "head", r(c + "staff_list")),
        Page("class lists from the school", "head", r(c + "oneroster_imports")),
    ]
    if Unit.objects.count() < 2:  # with one unit the list opens it: a redirect, not a page
        pages = [page for page in pages if page.name != "units"]
    return pages, users


def count_queries(pages: list[Page], users: dict[str, object]) -> None:
    """Each page must answer 200 in-process; record how many queries it takes."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    clients = {}
    for who, user in users.items():
        clients[who] = Client()
        clients[who].force_login(user)
    for page in pages:
        client = clients[page.who]
        response = client.get(page.url)
        if response.status_code != 200:
            sys.exit(f"{page.name} ({page.url}) answered {response.status_code} in-process, not 200.")
        with CaptureQueriesContext(connection) as captured:
            client.get(page.url)
        page.queries = len(captured)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=2, help="Seconds of each wrk run (default 2).")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--runs", type=int, default=4, help="wrk runs a page; the best counts (default 4).")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers for both servers.")
    parser.add_argument("--only", default="", help="Comma-separated page names (default: all).")
    parser.add_argument("--markdown", action="store_true", help="Print the table as Markdown.")
    args = parser.parse_args()
    served.require_postgres()
    served.require_wrk()
    django.setup()
    from classroom.models import SchoolClass, User

    pages, users = pick_pages()
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        pages = [page for page in pages if page.name in wanted]
    count_queries(pages, users)
    cookies = served.session_cookies(users)
    try:
        with served.serve(args.workers) as servers:
            measure = served.wrk
            hellos = [measure(servers.hello, args.duration, args.connections)[0]]
            for index, page in enumerate(pages):
                url = servers.app + page.url
                measure(url, 1, args.connections, cookies[page.who])  # warm every worker
                runs = [measure(url, args.duration, args.connections, cookies[page.who]) for _ in range(args.runs)]
                page.rps, page.p50_ms, page.p99_ms, _ = max(runs)
                page.errors = sum(run[3] for run in runs)
                if index == len(pages) // 2:
                    hellos.append(measure(servers.hello, args.duration, args.connections)[0])
            hellos.append(measure(servers.hello, args.duration, args.connections)[0])
    finally:
        served.delete_sessions(list(cookies.values()))

    floor = statistics.median(hellos)
    pupils, classes = User.objects.filter(role=User.Role.STUDENT).count(), SchoolClass.objects.count()
    print(
        f"{pupils} pupils, {classes} classes; gunicorn {args.workers} workers; wrk {args.connections} connections, "
        f"best of {args.runs} runs of {args.duration} s a page; "
        f"hello-world {floor:,.0f} req/s (runs: {', '.join(f'{h:,.0f}' for h in hellos)})"
    )
    rows = [
        (
            page.name,
            page.who,
            str(page.queries),
            f"{page.rps:,.1f}",
            f"{page.rps / floor:.3f}",
            f"{page.p50_ms:.0f}",
            f"{page.p99_ms:.0f}",
            str(page.errors),
        )
        for page in pages
    ]
    header = ("page", "as", "queries", "req/s", "share of hello-world", "p50 ms", "p99 ms", "errors")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    shares = sorted(page.rps / floor for page in pages)
    lesson = [page.rps / floor for page in pages if page.name in LESSON_PAGES]
    print(
        f"median share {statistics.median(shares):.3f}; lowest {shares[0]:.3f}"
        + (f"; lowest of the lesson pages and marking queue {min(lesson):.3f}" if lesson else "")
    )
    if any(page.errors for page in pages):
        sys.exit("Some requests failed (errors column).")


if __name__ == "__main__":
    main()

"""Time the progress pages server-side on a seeded school (not part of the test suite).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crisis_bench .venv/bin/python bench/progress_bench.py [--runs 20]

Needs `migrate`, `load_unit` and `seed_school` run on that database first. Each page is
requested through Django's test Client (signed in with force_login, so no login cost),
warmed up, then timed over --runs requests; one line per page: median, p95, queries
(counted with CaptureQueriesContext on a separate request) and response size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import django
from django.db import connection
from django.db.models import Count, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DEBUG", "True")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisis.settings")


def pick():
    """The biggest seeded class, its teacher, its student with the most released marks, a head."""
    from classroom.models import Assignment, Mark, SchoolClass, User  # models load after django.setup()

    school_class = (
        SchoolClass.objects.annotate(n=Count("enrolments", filter=Q(enrolments__removed_at__isnull=True)))
        .order_by("-n", "pk")
        .first()
    )
    if school_class is None:
        sys.exit("No classes: run `manage.py load_unit` and `manage.py seed_school` on this database first.")
    teacher = school_class.teachers.order_by("pk").first()
    student_id = (
        Mark.objects.filter(submission__assignment__school_class=school_class, released_at__isnull=False)
        .values("submission__student_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "submission__student_id")
        .values_list("submission__student_id", flat=True)
        .first()
    )
    head = User.objects.filter(role=User.Role.HEAD).order_by("pk").first()
    prompt = Assignment.objects.filter(school_class=school_class).order_by("due_at").first().prompt
    root = prompt.copied_from_id or prompt.pk
    return school_class, teacher, student_id, head, root


def measure(client: Client, url: str, runs: int, warmup: int) -> tuple[float, float, int, int]:
    for _ in range(warmup):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(round(0.95 * (len(timings) - 1))))]
    return statistics.median(timings), p95, len(queries), len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    django.setup()
    from classroom.models import Mark, SchoolClass, User  # models load after django.setup()

    school_class, teacher, student_id, head, prompt_id = pick()
    students = User.objects.filter(role=User.Role.STUDENT).count()
    marks = Mark.objects.count()
    print(
        f"{connection.vendor}: {SchoolClass.objects.count()} classes, {students} students, {marks} marks; "
        f"class {school_class.name!r} ({school_class.enrolments.count()} students, "
        f"{school_class.assignments.count()} assignments); {args.runs} runs after {args.warmup} warm-up"
    )
    as_teacher, as_head = Client(), Client()
    as_teacher.force_login(teacher)
    if head is not None:
        as_head.force_login(head)
    export = reverse("classroom:markbook_export", args=[school_class.pk])
    pages = [
        ("markbook", as_teacher, reverse("classroom:markbook", args=[school_class.pk])),
        (
            "markbook sorted by average",
            as_teacher,
            reverse("classroom:markbook", args=[school_class.pk]) + "?sort=average",
        ),
        ("student progress", as_teacher, reverse("classroom:student_progress", args=[student_id])),
        ("class overview", as_teacher, reverse("classroom:class_overview", args=[school_class.pk])),
        ("CSV export, long", as_teacher, export + "?shape=long"),
        ("CSV export, wide", as_teacher, export + "?shape=wide&separator=tab&bom=1"),
    ]
    if head is not None:
        pages.append(("department (head)", as_head, reverse("classroom:department_progress") + f"?prompt={prompt_id}"))
    for name, client, url in pages:
        median, p95, queries, size = measure(client, url, args.runs, args.warmup)
        print(f"{name:<28} median {median:7.1f} ms   p95 {p95:7.1f} ms   {queries:2d} queries   {size / 1024:6.1f} KiB")


if __name__ == "__main__":
    main()

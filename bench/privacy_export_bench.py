"""How long a pupil's subject-access export takes with five years of work (target: under 60 s).

    .venv/bin/python bench/privacy_export_bench.py [--years 5] [--essays 40] [--revisions 12]

Makes a throwaway test database (SQLite in memory unless DATABASE_URL names another server,
where a test_ database is made and dropped), seeds one pupil with YEARS classes of ESSAYS
essays each, every essay with REVISIONS earlier versions, a mark with feedback, criterion
marks, three comments and a response, beside 25 classmates with an essay each; then writes
the export zip and prints the seconds, the queries, the zip's size, and the queries for a
pupil with a single essay (the count must be the same: nothing is fetched per essay).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DEBUG", "True")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisis.settings")

PARAGRAPH = (
    "The Cuban Missile Crisis changed relations between the superpowers because both sides saw "
    "how close they had come to nuclear war. Source A shows that Kennedy wanted a way to talk "
    "directly to Khrushchev, and the Hotline of June 1963 gave them one. "
)


def seed(years: int, essays: int, revisions: int, classmates: int, name: str):
    from django.utils import timezone

    from classroom.models import (
        Annotation,
        Assignment,
        CriterionMark,
        DirtResponse,
        Enrolment,
        Mark,
        SchoolClass,
        Submission,
        SubmissionRevision,
        User,
    )
    from tests.factories import EssayPromptFactory, marking_scheme

    now = timezone.now()
    teacher = User.objects.create(username=f"{name}-teacher", role=User.Role.TEACHER, first_name="Tess")
    pupil = User.objects.create(username=name, role=User.Role.STUDENT, first_name="Pat", last_name="Pupil")
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    criteria = list(prompt.mark_scheme.criteria.prefetch_related("levels"))
    text = PARAGRAPH * 25  # about 1,100 words
    for year in range(years):
        start = now - timedelta(days=365 * (years - year))
        school_class = SchoolClass.objects.create(name=f"{name} year {year + 7}")
        school_class.teachers.add(teacher)
        others = User.objects.bulk_create(
            User(username=f"{name}-y{year}-m{i}", role=User.Role.STUDENT, first_name=f"Mate{i}")
            for i in range(classmates)
        )
        Enrolment.objects.bulk_create(
            Enrolment(school_class=school_class, student=person, joined_at=start) for person in [pupil, *others]
        )
        assignments = Assignment.objects.bulk_create(
            Assignment(
                school_class=school_class,
                prompt=prompt,
                title=f"Essay {year}.{i}",
                opens_at=start + timedelta(days=7 * i),
                due_at=start + timedelta(days=7 * i + 6),
            )
            for i in range(essays)
        )
        subs = Submission.objects.bulk_create(
            Submission(
                assignment=a,
                student=pupil,
                text=text,
                word_count=1100,
                state="released",
                submitted_at=a.due_at,
                started_at=a.opens_at,
            )
            for a in assignments
        )
        Submission.objects.bulk_create(
            Submission(assignment=a, student=m, text="A classmate's essay.", state="draft")
            for a in assignments[:1]
            for m in others
        )
        SubmissionRevision.objects.bulk_create(
            SubmissionRevision(submission=s, text=text[: 300 * (r + 1)], revision=r + 1, reason="autosave")
            for s in subs
            for r in range(revisions)
        )
        marks = Mark.objects.bulk_create(
            Mark(
                submission=s,
                marker=teacher,
                www="A clear line of argument.",
                ebi="Weigh the sources against each other.",
                improvement_task="Rewrite your conclusion.",
                total=7,
                spag=3,
                max_total=10,
                max_spag=4,
                completed_at=now,
                released_at=now,
            )
            for s in subs
        )
        CriterionMark.objects.bulk_create(
            CriterionMark(mark=m, criterion=c, level=c.levels.all()[0], marks=2, max_marks=4)
            for m in marks
            for c in criteria
        )
        Annotation.objects.bulk_create(
            Annotation(mark=m, number=n + 1, start=0, end=10, quote=text[:10], comment="Which source says so?")
            for m in marks
            for n in range(3)
        )
        DirtResponse.objects.bulk_create(DirtResponse(mark=m, text="I will compare the sources.") for m in marks)
    return pupil


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--essays", type=int, default=40)
    parser.add_argument("--revisions", type=int, default=12)
    parser.add_argument("--classmates", type=int, default=25)
    args = parser.parse_args()
    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from classroom import privacy

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0)
    try:
        started = time.perf_counter()
        pupil = seed(args.years, args.essays, args.revisions, args.classmates, "bench-pupil")
        small = seed(1, 1, args.revisions, 0, "one-essay")
        print(f"seeded in {time.perf_counter() - started:.1f} s")
        with tempfile.TemporaryDirectory() as folder:
            privacy.write_export(small, Path(folder) / "warm.zip")  # (caches fill once)
            with CaptureQueriesContext(connection) as one:
                privacy.write_export(small, Path(folder) / "one.zip")
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                out = privacy.write_export(pupil, Path(folder) / "export.zip")
            seconds = time.perf_counter() - started
            essays = args.years * args.essays
            print(
                f"{args.years} years x {args.essays} essays = {essays} essays, {essays * args.revisions} revisions: "
                f"export in {seconds:.2f} s, {len(queries)} queries, {out.stat().st_size / 1e6:.1f} MB zip"
            )
            print(f"a pupil with one essay: {len(one)} queries (the same count: nothing is fetched per essay)")
            if seconds > 60 or len(queries) != len(one):
                sys.exit("FAILED: over 60 s, or the query count grew with the essays")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()

"""Time the OneRoster import on a school-sized set (not part of the test suite).

    .venv/bin/python bench/oneroster_bench.py [--pupils 1500] [--classes 60] [--keep FOLDER]

Writes a OneRoster 1.1 CSV set (bulk: manifest, orgs, academicSessions, courses, classes,
users, enrollments) for that many pupils spread over that many classes, each with a teacher,
into a temporary folder (or --keep FOLDER), then on a throwaway test database (SQLite, or
the one DATABASE_URL names) times: the dry run (reading and planning), the first import, the
same file again (which must change nothing), and a term later (a tenth of the classes renamed,
a fifth of the pupils gone, a fifth moved). One line each: seconds and queries.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

import django
from django.db import connection
from django.test.utils import CaptureQueriesContext

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DEBUG", "True")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisis.settings")

FILES = {
    "academicSessions": "bulk",
    "classes": "bulk",
    "courses": "bulk",
    "enrollments": "bulk",
    "orgs": "bulk",
    "users": "bulk",
}


def write_set(folder: Path, pupils: int, classes: int, changed: bool = False) -> None:
    """The set; `changed`: a term later, a tenth of the classes renamed, a fifth of the
    pupils gone (deactivated) and another fifth moved to the next class."""

    def table(name: str, header: list[str], rows: list[list[str]]) -> None:
        with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)

    names = ["manifest.version", "oneroster.version"] + [f"file.{name}" for name in FILES]
    values = ["1.0", "1.1", *FILES.values()]
    table("manifest", ["propertyName", "value"], [list(pair) for pair in zip(names, values, strict=True)])
    table(
        "orgs",
        ["sourcedId", "status", "dateLastModified", "name", "type"],
        [["org-1", "", "", "Bench School", "school"]],
    )
    table(
        "academicSessions",
        ["sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate", "schoolYear"],
        [["year-1", "", "", "2026-27", "schoolYear", "2026-09-01", "2027-07-20", "2027"]],
    )
    table(
        "courses",
        ["sourcedId", "status", "dateLastModified", "title", "courseCode", "orgSourcedId", "subjects"],
        [["course-hi", "", "", "History", "HI", "org-1", "History"]],
    )
    class_header = [
        "sourcedId",
        "status",
        "dateLastModified",
        "title",
        "courseSourcedId",
        "classCode",
        "schoolSourcedId",
    ]
    table(
        "classes",
        [*class_header, "termSourcedIds"],
        [
            [f"class-{c}", "", "", f"Class {c} History{' (renamed)' if changed and c % 10 == 0 else ''}"]
            + ["course-hi", f"H{c}", "org-1", "year-1"]
            for c in range(classes)
        ],
    )
    users_header = ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role", "username"]
    users_header += ["givenName", "familyName", "email"]
    users = [
        [f"t-{c}", "", "", "true", "org-1", "teacher", f"teacher{c}", "Teacher", f"Number {c}", f"t{c}@bench.example"]
        for c in range(classes)
    ]
    kept = [p for p in range(pupils) if not (changed and p % 5 == 0)]
    users += [[f"p-{p}", "", "", "true", "org-1", "student", f"pupil{p}", "Pupil", f"Number {p}", ""] for p in kept]
    table("users", users_header, users)
    enrolments = [[f"et-{c}", "", "", f"class-{c}", "org-1", f"t-{c}", "teacher"] for c in range(classes)]
    moved = {p for p in kept if changed and p % 5 == 1}
    enrolments += [
        [f"ep-{p}", "", "", f"class-{(p + (p in moved)) % classes}", "org-1", f"p-{p}", "student"] for p in kept
    ]
    table(
        "enrollments",
        ["sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"],
        enrolments,
    )


def timed(label: str, action) -> object:
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        result = action()
        seconds = time.perf_counter() - start
    print(f"{label:<28} {seconds:6.2f} s  {len(queries.captured_queries):5d} queries")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=1500)
    parser.add_argument("--classes", type=int, default=60)
    parser.add_argument("--keep", type=Path, default=None, help="Write the set here and keep it.")
    args = parser.parse_args()
    django.setup()
    from classroom import oneroster  # after django.setup()

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        write_set(folder, args.pupils, args.classes)
        print(f"{args.pupils} pupils in {args.classes} classes ({connection.vendor})")
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            files = oneroster.read_source(folder)
            plan = timed("dry run (read and plan)", lambda: oneroster.make_plan(files))
            print(f"  {' | '.join(plan.summary_lines())}")
            timed("first import", lambda: oneroster.apply_plan(oneroster.make_plan(files)))
            again = timed("same file again (plan)", lambda: oneroster.make_plan(files))
            timed("same file again (apply)", lambda: oneroster.apply_plan(again))
            print(f"  changes on the second run: {again.changes}")
            if again.changes:
                sys.exit("The second run should change nothing.")
            write_set(folder, args.pupils, args.classes, changed=True)
            files = oneroster.read_source(folder)
            later = timed("a term later (plan)", lambda: oneroster.make_plan(files))
            print(f"  {' | '.join(later.summary_lines())}")
            timed("a term later (apply)", lambda: oneroster.apply_plan(later))
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()

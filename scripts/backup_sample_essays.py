"""Add a few essays to the demo data before the backup round trip (never on a live server).

Run as `python scripts/backup_sample_essays.py` with the same environment as manage.py.
The essays are awkward on purpose: curly quotes, dashes, Cyrillic, emoji, blank lines and
one long essay, so an encoding or truncation fault in the backup shows up as a different
SHA-256. Prints how many essays it wrote; exits non-zero if no essay could be written, so
the round trip never silently stops covering essays.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import django
from django.db import transaction
from django.utils import timezone

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisis.settings")

PARAGRAPH = (
    "In October 1962 Kennedy’s quarantine and Khrushchev’s letters — one conciliatory, one "
    "demanding the Jupiter missiles — show how close the superpowers came. "
)
ESSAYS = [
    "“How far did the Cuban Missile Crisis improve US–Soviet diplomacy?”\n\nTo a large extent: "
    "the hotline (June 1963) and the Partial Test Ban Treaty followed within a year.",
    "Хрущёв wrote of a “knot of war”.\r\n\r\nBoth sides pulled on the rope 🪢 — then let go.\n\n\n",
    PARAGRAPH * 400,
]


def via_factory() -> int:
    # Imported here: models load after django.setup(), and factory_boy is a test tool.
    from tests.factories import SubmissionFactory

    with transaction.atomic():
        for text in ESSAYS:
            SubmissionFactory(text=text)
    return len(ESSAYS)


def via_models() -> int:
    from classroom.models import Assignment, SchoolClass, Submission
    from crisis.models import EssayPrompt

    school_class = SchoolClass.objects.order_by("pk").first()
    prompt = EssayPrompt.objects.order_by("pk").first()
    if school_class is None or prompt is None:
        raise RuntimeError("needs seed_demo (a class) and load_unit (an essay prompt) first")
    teacher = school_class.teachers.order_by("pk").first()
    students = list(school_class.active_students().order_by("pk")[: len(ESSAYS)])
    now = timezone.now()
    with transaction.atomic():
        assignment = Assignment.objects.create(
            school_class=school_class,
            prompt=prompt,
            title="Backup round trip",
            opens_at=now - timedelta(days=1),
            due_at=now + timedelta(days=7),
            created_by=teacher,
        )
        for student, text in zip(students, ESSAYS, strict=False):
            submission = Submission.start(assignment, student)
            submission = submission.save_draft(text, base_revision=submission.revision)
            submission.submit(by=student)
    return len(students)


def main() -> int:
    django.setup()
    problems = []
    for way in (via_factory, via_models):
        try:
            written = way()
        except Exception as exc:  # report why, then try the other way
            problems.append(f"{way.__name__}: {type(exc).__name__}: {exc}")
            continue
        if written:
            print(f"Wrote {written} sample essays ({way.__name__}).")
            return 0
    print("Could not write sample essays; update scripts/backup_sample_essays.py.", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

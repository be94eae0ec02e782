"""Who the load test's simulated people are, as JSON on stdout (bench/load_test.sh runs it).

    python manage.py shell < bench/load_plan.py > plan.json

On a database that `seed_school` has filled: gives every seeded class one assignment open
now (seeded assignments are all past due, most essays handed in), so each pupil has an
essay to autosave; lists each pupil with that assignment, and each teacher with their
classes, the assignment with handed-in work and the essays there still to mark. Only for a
throwaway database.
"""

import json
import sys
from datetime import timedelta

from django.utils import timezone

from classroom.management.commands.seed_school import PASSWORD, PREFIX
from classroom.models import Assignment, SchoolClass, Submission, User
from crisis.models import EssayPrompt

TITLE = "Load test: an essay written now"

now = timezone.now()
prompt = EssayPrompt.objects.shipped().order_by("pk").first()
if prompt is None:
    sys.exit("No shipped essay prompt: run `python manage.py load_unit` and `seed_school` first.")
teachers = User.objects.filter(username__startswith=PREFIX, role=User.Role.TEACHER).order_by("username")
plan: dict = {"password": PASSWORD, "pupils": [], "teachers": []}
for teacher in teachers:
    entry: dict = {"username": teacher.username, "classes": []}
    for school_class in SchoolClass.objects.filter(teachers=teacher).order_by("pk"):
        current, _ = Assignment.objects.get_or_create(
            school_class=school_class,
            title=TITLE,
            defaults={
                "prompt": prompt,
                "opens_at": now - timedelta(days=1),
                "due_at": now + timedelta(days=14),
                "created_by": teacher,
            },
        )
        for pupil in school_class.active_students().order_by("username").values_list("username", flat=True):
            plan["pupils"].append({"username": pupil, "assignment": current.pk})
        to_mark = list(
            Submission.objects.filter(
                assignment__school_class=school_class, state=Submission.State.SUBMITTED, mark__isnull=True
            )
            .order_by("-assignment__due_at", "pk")
            .values_list("pk", "assignment_id")[:20]
        )
        if to_mark:
            entry["classes"].append(
                {"class": school_class.pk, "assignment": to_mark[0][1], "to_mark": [pk for pk, _ in to_mark]}
            )
    if entry["classes"]:
        plan["teachers"].append(entry)
print(json.dumps(plan))

"""Create the demo department: a head, two teachers, a class of 25 readable pupils and
their coursework (once the unit is loaded).

Idempotent: running it again resets the demo passwords and changes nothing else.
Refuses to run with DEBUG off (a production server) unless --force is given.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from classroom import demo
from classroom.demo.coursework import create_demo_coursework
from classroom.models import SchoolClass, User


class Command(BaseCommand):
    help = "Create demo accounts and classes (development and trials only) and print the logins."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though DEBUG is off. Never use this on a school's live server.",
        )

    def handle(self, *args, force: bool = False, **options) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with a published password, so it refuses to run "
                "with DEBUG off. Use --force only on a throwaway trial server."
            )
        # One hash for everyone: Argon2 is deliberately slow, 28 hashes would take seconds.
        password_hash = make_password(demo.DEMO_PASSWORD)
        with transaction.atomic():
            head = self._user(demo.HEAD, User.Role.HEAD, password_hash)
            teachers = [self._user(t, User.Role.TEACHER, password_hash) for t in demo.TEACHERS]
            school_class = self._class(demo.CLASS_NAME, demo.CLASS_JOIN_CODE, teachers[0])
            self._class(demo.OTHER_CLASS_NAME, demo.OTHER_CLASS_JOIN_CODE, teachers[1])
            students = []
            for given, family in demo.STUDENTS:
                username = demo.student_username(given, family)
                students.append(self._user((username, given, family), User.Role.STUDENT, password_hash))
            for student in students:
                school_class.enrol(student)
            coursework = create_demo_coursework(school_class, teachers[0], students)
        self._print_logins(head, teachers, students, school_class)
        self.stdout.write(coursework)

    def _user(self, spec: tuple[str, str, str], role: str, password_hash: str) -> User:
        username, given, family = spec
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "first_name": given,
                "last_name": family,
                "role": role,
                "password": password_hash,
                "is_active": True,
                "must_change_password": False,
            },
        )
        return user

    def _class(self, name: str, code: str, teacher: User) -> SchoolClass:
        school_class, created = SchoolClass.objects.get_or_create(
            name=name, defaults={"year_group": demo.CLASS_YEAR, "join_code": code}
        )
        school_class.teachers.add(teacher)
        return school_class

    def _print_logins(self, head: User, teachers: list[User], students: list[User], school_class: SchoolClass) -> None:
        out = self.stdout
        out.write("")
        out.write(self.style.SUCCESS(f"Demo logins (password for every account: {demo.DEMO_PASSWORD})"))
        out.write(f"  Head of department  {head.username}")
        for teacher in teachers:
            out.write(f"  Teacher             {teacher.username}")
        out.write(
            f"  Students            {students[0].username}, {students[1].username}, … "
            f"({len(students)} in {school_class.name}, join code {school_class.join_code})"
        )
        out.write("")

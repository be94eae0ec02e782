"""Create the demo department: a head, two teachers, a class of 25 readable pupils, their
coursework and the department's standardisation and moderation round on it (once the unit
is loaded).

Safe to run again (`make run` does, every time): it creates only what is missing and leaves
the rest as a trying-out school left it. An existing account keeps its password (no one is
logged out), a pupil the teacher removed stays removed, a co-teacher change stays made.
Refuses to run with DEBUG off (a production server) unless --force is given.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from classroom import demo
from classroom.demo.coursework import PAST_TITLE, create_demo_coursework
from classroom.demo.department import create_demo_department
from classroom.demo.judging import create_demo_judging
from classroom.models import Enrolment, SchoolClass, User


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
        self.created_users = 0
        with transaction.atomic():
            head = self._user(demo.HEAD, User.Role.HEAD, password_hash)
            teachers = [self._user(t, User.Role.TEACHER, password_hash) for t in demo.TEACHERS]
            school_class = self._class(demo.CLASS_NAME, demo.CLASS_JOIN_CODE, teachers[0])
            self._class(demo.OTHER_CLASS_NAME, demo.OTHER_CLASS_JOIN_CODE, teachers[1])
            students = []
            for given, family in demo.STUDENTS:
                username = demo.student_username(given, family)
                students.append(self._user((username, given, family), User.Role.STUDENT, password_hash))
            # Only a pupil never enrolled is added: a removed enrolment stays removed.
            enrolled = set(Enrolment.objects.filter(school_class=school_class).values_list("student_id", flat=True))
            Enrolment.objects.bulk_create(
                [Enrolment(school_class=school_class, student=s) for s in students if s.pk not in enrolled]
            )
            in_class = list(school_class.active_students())
            coursework = create_demo_coursework(school_class, teachers[0], in_class)
            shared = create_demo_department(head, teachers, school_class, PAST_TITLE)
            judged = create_demo_judging([head, *teachers], school_class, PAST_TITLE)
        self._print_logins(head, teachers, students, school_class, len(in_class))
        self.stdout.write(coursework)
        self.stdout.write(shared)
        self.stdout.write(judged)

    def _user(self, spec: tuple[str, str, str], role: str, password_hash: str) -> User:
        """The demo account, created if missing; an existing one is left exactly as it is (its
        password too: re-hashing it would end every demo session)."""
        username, given, family = spec
        user, created = User.objects.get_or_create(
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
        self.created_users += created
        return user

    def _class(self, name: str, code: str, teacher: User) -> SchoolClass:
        """The demo class, created with its teacher if missing; an existing one keeps its teachers."""
        school_class, created = SchoolClass.objects.get_or_create(
            name=name, defaults={"year_group": demo.CLASS_YEAR, "join_code": code}
        )
        if created:
            school_class.teachers.add(teacher)
        return school_class

    def _print_logins(
        self, head: User, teachers: list[User], students: list[User], school_class: SchoolClass, in_class: int
    ) -> None:
        out = self.stdout
        out.write("")
        out.write(self.style.SUCCESS(f"Demo logins (password for every account: {demo.DEMO_PASSWORD})"))
        if self.created_users < len(demo.STUDENTS) + len(demo.TEACHERS) + 1:
            out.write(
                "  The demo accounts were already there and are left as they were: a password "
                "someone changed stays changed."
            )
        out.write(f"  Head of department  {head.username}")
        for teacher in teachers:
            out.write(f"  Teacher             {teacher.username}")
        out.write(
            f"  Students            {students[0].username}, {students[1].username}, … "
            f"({in_class} in {school_class.name}, join code {school_class.join_code})"
        )
        out.write("")

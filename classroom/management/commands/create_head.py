"""Create the head of department on a new server, or make an existing user one.

The head sees every class and adds teachers and other heads on the Staff page; they are
also a superuser, so the Django admin is there if ever needed. The password is asked for
twice (not echoed), or read from --password-file for scripted installs; it must pass the
same validators as every other password.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from classroom.models import User

HEAD_FIELDS = ["role", "is_staff", "is_superuser", "is_active"]


class Command(BaseCommand):
    help = "Create or update the head of department: role head, staff and superuser, with a password."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--first-name", default=None)
        parser.add_argument("--last-name", default=None)
        parser.add_argument("--email", default=None)
        parser.add_argument(
            "--password-file",
            type=Path,
            default=None,
            help="Read the password from this file (first line) instead of asking for it.",
        )
        parser.add_argument(
            "--keep-password",
            action="store_true",
            help="For an existing user: change the role, leave the password as it is.",
        )

    def handle(
        self,
        *args,
        username: str,
        first_name: str | None,
        last_name: str | None,
        email: str | None,
        password_file: Path | None,
        keep_password: bool,
        **options,
    ) -> None:
        username = username.strip()
        if not username:
            raise CommandError("The username must not be blank.")
        try:
            User._meta.get_field("username").run_validators(username)
            if email:
                validate_email(email.strip())
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        user = User.objects.filter(username=username).first()
        if keep_password and user is None:
            raise CommandError(f"There is no user {username!r} whose password could be kept; give a password.")
        if keep_password and password_file is not None:
            raise CommandError("Use either --keep-password or --password-file, not both.")

        candidate = user or User(username=username)
        for attribute, value in (("first_name", first_name), ("last_name", last_name), ("email", email)):
            if value is not None:
                setattr(candidate, attribute, value.strip())
        password = None if keep_password else self._password(password_file)
        if password is not None:
            try:
                validate_password(password, user=candidate)
            except ValidationError as exc:
                raise CommandError("The password was not accepted: " + " ".join(exc.messages)) from None

        with transaction.atomic():
            created = user is None
            candidate.role = User.Role.HEAD
            candidate.is_staff = True
            candidate.is_superuser = True
            candidate.is_active = True
            candidate.must_change_password = False
            if password is not None:
                candidate.set_password(password)
            if created:
                candidate.save()
            else:
                changed = [*HEAD_FIELDS, "must_change_password", "first_name", "last_name", "email"]
                if password is not None:
                    changed.append("password")
                candidate.save(update_fields=changed)

        verb = "Created" if created else "Updated"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} head of department {candidate.username}: sees every class and can use /admin/.")
        )

    def _password(self, password_file: Path | None) -> str:
        if password_file is not None:
            try:
                lines = password_file.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise CommandError(f"Cannot read the password file {str(password_file)!r}: {exc.strerror}.") from None
            password = lines[0] if lines else ""
            if not password:
                raise CommandError(f"The password file {str(password_file)!r} is empty.")
            return password
        if not sys.stdin.isatty():
            raise CommandError("No terminal to ask for a password: use --password-file PATH.")
        password = getpass.getpass("Password: ")
        if not password:
            raise CommandError("The password must not be blank.")
        if getpass.getpass("Password (again): ") != password:
            raise CommandError("The two passwords did not match; nothing was changed.")
        return password

"""Erase one pupil's personal data (classroom/privacy.py says what happens to each table).

    python manage.py erase_pupil USERNAME [--yes]

Asks to confirm by typing the username again, unless --yes. The marks stay with the
anonymised account, so class figures do not change; an ErasureRecord notes it was done.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from classroom import privacy
from classroom.models import ErasureRecord


class Command(BaseCommand):
    help = "Erase a pupil's personal data (asks to confirm; --yes for scripts)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--yes", action="store_true", help="Do not ask to confirm.")

    def handle(self, *args, username: str, yes: bool, **options) -> None:
        try:
            pupil = privacy.find_pupil(username)
            privacy.check_erasable(pupil)
        except privacy.ErasureError as error:
            raise CommandError(str(error)) from None
        if not yes:
            self.stdout.write(
                f"This erases the personal data of {pupil.display_name} ({pupil.username}): their essays’ text, "
                "feedback and account details. Their marks stay, under a placeholder name. It cannot be undone."
            )
            typed = input("Type the username again to confirm: ")
            if typed.strip().lower() != pupil.username.lower():
                raise CommandError("That is not the username: nothing was erased.")
        try:
            record = privacy.erase_pupil(pupil, by=None, how=ErasureRecord.How.COMMAND)
        except privacy.ErasureError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Erased. The account is now {record.reference}; the erasure record says what was done.")

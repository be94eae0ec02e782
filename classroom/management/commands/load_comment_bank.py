from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from classroom.comment_bank import BankFileError, load_starter_bank


class Command(BaseCommand):
    help = (
        "Load the starter comment bank from every unit folder's comment_bank.yaml (after load_unit). "
        "Idempotent: entries are matched by code and updated in place; teachers' own entries are never touched."
    )

    def handle(self, *args, **options):
        try:
            report = load_starter_bank()
        except BankFileError as exc:
            raise CommandError(f"Nothing was loaded, because:\n{exc}") from None
        self.stdout.write(report.summary())

"""Import classes, pupils and teachers from a OneRoster 1.1 CSV set (a zip or a folder).

    python manage.py import_oneroster PATH [--dry-run] [--only TEXT]

Prints what happens to classes, pupils and teachers (create / update / deactivate /
unchanged); with -v 2, each class and person that changes. --dry-run changes nothing.
A set with a problem changes nothing either: each error names its file, line and column.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from classroom import oneroster
from crisis.wording import plural


class Command(BaseCommand):
    help = "Import classes, pupils and teachers from a OneRoster 1.1 CSV zip or folder."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="A OneRoster 1.1 CSV zip file, or a folder holding its CSV files.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would change; change nothing.")
        parser.add_argument(
            "--only",
            default="",
            help="Import only classes whose title, class code, subjects or course contain this text (any case), "
            "e.g. --only History.",
        )

    def handle(self, *args, path: str, dry_run: bool, only: str, verbosity: int, **options) -> None:
        try:
            files = oneroster.read_source(path)
            with transaction.atomic():
                plan = oneroster.make_plan(files, only=only.strip())
                if not dry_run:
                    oneroster.apply_plan(plan)
        except oneroster.OneRosterInvalid as exc:
            lines = [str(error) for error in exc.errors]
            if exc.more:
                lines.append(f"…and {exc.more} more.")
            raise CommandError("Nothing was imported:\n" + "\n".join(lines)) from None
        if verbosity >= 2:
            for line in oneroster.describe(plan):
                self.stdout.write(line)
        for note in plan.notes:
            self.stdout.write(note)
        for line in plan.summary_lines():
            self.stdout.write(line)
        if dry_run:
            self.stdout.write(
                f"Dry run: {plural(plan.changes, 'change')} to classes and people would be made; nothing was changed."
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported: {plural(plan.changes, 'change')} to classes and people."))

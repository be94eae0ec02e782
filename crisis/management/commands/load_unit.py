from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from crisis.content.loader import CONTENT_DIR, LoaderError, load_unit, unit_folders


class Command(BaseCommand):
    help = (
        "Load shipped units from crisis/content/<slug>/ (all of them by default). Checks every file first and "
        "writes nothing if any is wrong; re-running updates in place and never touches teachers' copies."
    )

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="unit folders to load, e.g. cuban_missile_crisis")

    def handle(self, *args, slugs: list[str], **options):
        folders = [CONTENT_DIR / slug for slug in slugs] if slugs else unit_folders()
        if not folders:
            raise CommandError(f"No unit folders (with a unit.yaml) under {CONTENT_DIR}.")
        for folder in folders:
            if not (folder / "unit.yaml").exists():
                known = ", ".join(path.name for path in unit_folders()) or "none"
                raise CommandError(f"No unit at {folder} (no unit.yaml). Units: {known}.")
            try:
                report = load_unit(folder)
            except LoaderError as exc:
                problems = "\n".join(f"  - {error}" for error in exc.errors)
                raise CommandError(f"{folder.name}: nothing was loaded, because:\n{problems}") from None
            self.stdout.write(report.summary())

"""Write one pupil's subject-access export (HTML pages and data.json in a zip) to a file.

    python manage.py export_pupil USERNAME --out FILE.zip

The file is written to a temporary name beside FILE.zip and renamed into place, so nobody
sees half a zip. The export is recorded in the access log (by nobody: the server's admin).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from classroom import privacy
from classroom.models import AccessLogEntry


class Command(BaseCommand):
    help = "Write a pupil's subject-access export (a zip of HTML pages and data.json)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--out", type=Path, required=True, help="The zip file to write.")

    def handle(self, *args, username: str, out: Path, **options) -> None:
        try:
            pupil = privacy.find_pupil(username)
        except privacy.ErasureError as error:
            raise CommandError(str(error)) from None
        if not out.parent.is_dir():
            raise CommandError(f"The folder {out.parent} does not exist.")
        privacy.write_export(pupil, out)
        AccessLogEntry.objects.create(pupil=pupil, what="Subject-access export (export_pupil command)")
        self.stdout.write(f"Wrote the export of {pupil.username} to {out}.")

"""Apply the retention policy (RETENTION_YEARS_AFTER_LEAVING, ACCESS_LOG_RETENTION_DAYS).

    python manage.py apply_retention           # a dry run: lists what has passed the policy
    python manage.py apply_retention --purge   # erases those pupils, deletes the old log rows

A pupil has left when they are in no class (classroom/privacy.py, `left_pupils`); each is
erased exactly as the erase_pupil command does.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import Count

from classroom import privacy
from classroom.models import ErasureRecord


class Command(BaseCommand):
    help = "List (or with --purge, erase) pupils and access-log rows kept longer than the retention policy."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--purge", action="store_true", help="Erase and delete, rather than only list.")

    def handle(self, *args, purge: bool, **options) -> None:
        years = settings.RETENTION_YEARS_AFTER_LEAVING
        pupils = list(privacy.pupils_past_retention().annotate(essays=Count("submissions", distinct=True)))
        old_log = privacy.old_access_log()
        log_rows = old_log.count()
        if not years:
            self.stdout.write("RETENTION_YEARS_AFTER_LEAVING is 0: no pupil is erased by the policy.")
        else:
            self.stdout.write(f"Pupils who left more than {years} year(s) ago: {len(pupils)}.")
        for pupil in pupils:
            self.stdout.write(f"  {pupil.username}: left {pupil.left_at:%Y-%m-%d}, {pupil.essays} essay(s)")
        self.stdout.write(f"Access-log rows older than {settings.ACCESS_LOG_RETENTION_DAYS} days: {log_rows}.")
        if not purge:
            self.stdout.write("Dry run: nothing was changed. Add --purge to erase and delete.")
            return
        for pupil in pupils:
            record = privacy.erase_pupil(pupil, by=None, how=ErasureRecord.How.RETENTION)
            self.stdout.write(f"Erased {pupil.username} (now {record.reference}).")
        deleted, _ = old_log.delete()
        self.stdout.write(f"Deleted {deleted} access-log row(s).")

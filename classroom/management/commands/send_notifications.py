"""Build the teachers' daily digests that are due, then send the emails that are due.

Run every minute by deploy/crisis-classroom-notify.timer. Safe to run twice at once: each
message is locked while it is sent. With the mail server down nothing is lost; messages are
tried again on later runs (classroom/notifications.py).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from classroom.notifications import build_digests, send_due


class Command(BaseCommand):
    help = "Send the notification emails that are due (and build the daily digests once a day)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=200, help="Most messages to send in this run (default 200)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        digests = build_digests()
        report = send_due(batch_size=options["batch_size"])
        self.stdout.write(f"Digests built {digests}. {report}")

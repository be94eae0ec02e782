"""Sending queued emails, and building each teacher's daily digest.

Events queue their messages themselves (QueuedEmail.queue_*), in the event's own transaction,
so a rolled-back event sends nothing. `manage.py send_notifications` (run every minute by
deploy/crisis-classroom-notify.timer) calls `build_digests` and then `send_due`. No request
ever waits for a mail server.

Each message is sent inside a transaction holding its row lock (SKIP LOCKED: a second sender
passes over it), and marked sent before the lock goes, so two senders never send it twice.
A refused connection or a 4xx answer is tried again later, with growing gaps, up to
EMAIL_MAX_ATTEMPTS; a 5xx refusal of the address is final. Either way the error is kept.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from classroom import status
from classroom.models import (
    Assignment,
    DirtResponse,
    EmailKind,
    EmailPreference,
    Enrolment,
    Exemption,
    QueuedEmail,
    SendOutcome,
    Submission,
    User,
)
from crisis.wording import plural

logger = logging.getLogger(__name__)


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0  # given up
    cancelled: int = 0
    postponed: int = 0

    def add(self, outcome: SendOutcome) -> None:
        if outcome == "sent":
            self.sent += 1
        elif outcome == "retrying":
            self.retrying += 1
        else:
            self.failed += 1

    def __str__(self) -> str:
        return (
            f"Sent {self.sent}, to try again {self.retrying}, given up {self.failed}, "
            f"not needed {self.cancelled}, postponed {self.postponed}."
        )


class ServerUnavailable(Exception):
    """The mail server could not be reached or would not take mail: stop this run."""


def send_due(batch_size: int = 100, connection: BaseEmailBackend | None = None) -> SendReport:
    """Send up to `batch_size` messages that are due, one transaction each."""
    report = SendReport()
    connection = connection or get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT)
    try:
        for _ in range(batch_size):
            with transaction.atomic():
                message = (
                    QueuedEmail.objects.due()
                    .select_for_update(skip_locked=True, of=("self",))
                    .select_related("recipient", "assignment__prompt", "assignment__school_class", "mark__submission")
                    .order_by("next_attempt_at", "pk")
                    .first()
                )
                if message is None:
                    break
                try:
                    _handle(message, connection, report)
                except ServerUnavailable:
                    break
    finally:
        connection.close()
    return report


def _handle(message: QueuedEmail, connection: BaseEmailBackend, report: SendReport) -> None:
    now = timezone.now()
    refusal, later = _still_wanted(message, now)
    if later is not None:
        message.postpone(later)
        report.postponed += 1
        return
    if refusal:
        message.cancel(refusal, now)
        report.cancelled += 1
        return
    message.compose()
    message.to = message.recipient.email
    unsubscribe = message.unsubscribe_url()
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        connection=connection,
        headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")
    try:
        email.send()
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as error:
        codes = _codes(error)
        final = bool(codes) and all(code >= 500 for code in codes)  # 5xx: this address or message, for good
        report.add(message.record_attempt(now, _describe(error), final=final))
    except (OSError, smtplib.SMTPException) as error:  # refused, timed out, dropped, not accepted
        report.add(message.record_attempt(now, _describe(error)))
        raise ServerUnavailable from error
    except ValueError as error:  # an address or header no mail server could take: for good
        logger.warning("Queued email %s cannot be sent: %s", message.pk, error)
        report.add(message.record_attempt(now, _describe(error), final=True))
    except Exception as error:  # anything else: recorded and tried later, never blocking the queue
        logger.exception("Queued email %s failed", message.pk)
        report.add(message.record_attempt(now, _describe(error)))
    else:
        report.add(message.record_attempt(now))


def _codes(error: smtplib.SMTPException) -> list[int]:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return [code for code, _ in error.recipients.values()]
    return [error.smtp_code] if isinstance(error, smtplib.SMTPResponseException) else []


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def _still_wanted(message: QueuedEmail, now: datetime) -> tuple[str, datetime | None]:
    """Why the message should no longer go ("" if it should), or when to try instead (the
    assignment now opens, or the feedback is now released, later than planned)."""
    person = message.recipient
    if not person.is_active or not person.email:
        return "The person has no email address now.", None
    if not EmailPreference.for_user(person).wants(message.kind):
        return "The person turned this kind of email off.", None
    assignment = message.assignment
    if message.kind == EmailKind.ESSAY_SET and assignment is not None:
        if assignment.is_archived:
            return "The assignment was archived.", None
        if not Enrolment.objects.filter(
            school_class_id=assignment.school_class_id, student=person, removed_at__isnull=True
        ).exists():
            return "The pupil is no longer in the class.", None
        if Exemption.objects.filter(assignment=assignment, student=person).exists():
            return "The pupil is excused from the assignment.", None
        if assignment.opens_at > now:
            return "", assignment.opens_at
    if message.kind == EmailKind.FEEDBACK_RELEASED and message.mark is not None and assignment is not None:
        submission = message.mark.submission
        if message.mark.seen_at is not None:
            return "The pupil has already read the feedback.", None
        if not status.feedback_visible(submission.state, assignment.feedback_date_passed):
            release_at = assignment.feedback_release_at
            if assignment.feedback_release == Assignment.FeedbackRelease.AT_DATE and release_at and release_at > now:
                return "", release_at
            return "The feedback is not released now.", None
    return "", None


# --- the daily digest ---------------------------------------------------------------------


def build_digests(now: datetime | None = None) -> int:
    """Queue each teacher's digest once a day, from EMAIL_DIGEST_HOUR (local time): essays
    handed in and responses to feedback since their last digest, in their classes. Nothing is
    queued for a teacher with nothing new. How many were queued."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    if local.hour < settings.EMAIL_DIGEST_HOUR:
        return 0
    today = local.replace(hour=settings.EMAIL_DIGEST_HOUR, minute=0, second=0, microsecond=0)
    teachers = (
        User.objects.filter(role__in=[User.Role.TEACHER, User.Role.HEAD], is_active=True)
        .exclude(email="")
        .exclude(email_preference__daily_digest=False)
        .exclude(email_preference__digest_through__gte=today)
    )
    queued = 0
    for teacher in teachers:
        with transaction.atomic():
            preference, _ = EmailPreference.objects.select_for_update().get_or_create(user=teacher)
            if preference.digest_through is not None and preference.digest_through >= today:
                continue  # another sender built it a moment ago
            since = preference.digest_through or now - timedelta(days=1)
            lines = digest_lines(teacher, since, now)
            if lines:
                message = QueuedEmail(
                    recipient=teacher,
                    to=teacher.email,
                    kind=EmailKind.DAILY_DIGEST,
                    dedupe_key=f"daily_digest:user:{teacher.pk}:{local.date().isoformat()}",
                    due_at=now,
                    next_attempt_at=now,
                )
                handed_in = sum(line.handed_in for line in lines)
                responses = sum(line.responses for line in lines)
                message.subject = (
                    f"Daily digest: {plural(handed_in, 'essay')} handed in, {plural(responses, 'response')} to feedback"
                )
                message.body = (
                    render_to_string(
                        "classroom/email/daily_digest.txt",
                        {
                            "person": teacher,
                            "lines": lines,
                            "since": since,
                            "handed_in": handed_in,
                            "responses": responses,
                            "kind_label": EmailKind.DAILY_DIGEST.label,
                            "unsubscribe_url": message.unsubscribe_url(),
                            "preferences_url": settings.SITE_URL + reverse("classroom:email_preferences"),
                        },
                    ).strip()
                    + "\n"
                )
                QueuedEmail.objects.bulk_create([message], ignore_conflicts=True)
                queued += 1
            preference.digest_through = now
            preference.save(update_fields=["digest_through"])
    return queued


@dataclass
class DigestLine:
    assignment: Assignment
    handed_in: int
    responses: int
    link: str


def digest_lines(teacher: User, since: datetime, until: datetime) -> list[DigestLine]:
    """Per assignment of the teacher's classes: essays handed in and responses to feedback
    handed in within (since, until]. Counts only, never names (some marking is anonymous)."""
    handed_in = dict(
        Submission.objects.filter(
            assignment__school_class__teachers=teacher, submitted_at__gt=since, submitted_at__lte=until
        )
        .values_list("assignment")
        .annotate(n=Count("pk"))
    )
    responses = dict(
        DirtResponse.objects.filter(
            mark__submission__assignment__school_class__teachers=teacher,
            submitted_at__gt=since,
            submitted_at__lte=until,
        )
        .values_list("mark__submission__assignment")
        .annotate(n=Count("pk"))
    )
    assignments = Assignment.objects.filter(pk__in=set(handed_in) | set(responses)).select_related(
        "school_class", "prompt"
    )
    return [
        DigestLine(
            assignment=assignment,
            handed_in=handed_in.get(assignment.pk, 0),
            responses=responses.get(assignment.pk, 0),
            link=settings.SITE_URL + reverse("classroom:marking_queue", args=[assignment.pk]),
        )
        for assignment in sorted(assignments, key=lambda a: (a.school_class.name, a.title, a.pk))
    ]

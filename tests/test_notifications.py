"""Email notifications: queued in the event's transaction, sent by `send_notifications` to a
real SMTP server (aiosmtpd, started here on a free 127.0.0.1 port), retried while the server
is down, never sent twice; preferences, one-click unsubscribe and the teachers' daily digest.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core import signing
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from classroom.models import (
    Assignment,
    DirtResponse,
    EmailKind,
    EmailPreference,
    Mark,
    QueuedEmail,
    retry_delay,
    unsubscribe_token,
)
from classroom.notifications import build_digests, digest_lines, send_due
from tests.factories import AssignmentFactory, StudentFactory, SubmissionFactory, TeacherFactory
from tests.helpers import give_mark, hand_in, mark_fully
from tests.test_settings import run_manage

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
SITE = "https://history.school.example"


# --- a real SMTP server ------------------------------------------------------------------


class Mailbox:
    """aiosmtpd handler: keeps every message it accepts; refuses the addresses in `refuse`
    with the reply given (e.g. "550 No such user"); `delay` slows each delivery down."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.refuse: dict[str, str] = {}
        self.delay = 0.0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook name
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for recipients, message in self.received if address in recipients]


class SMTPServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """A running SMTP server, and the settings that send to it."""
    server = SMTPServer(_free_port())
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "classroom@school.example"
    settings.SITE_URL = SITE
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def pupil(student):
    student.email = "sam@pupils.example"
    student.save(update_fields=["email"])
    return student


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def _form_time(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def _assignment_form(prompt_pk: int, opens_at: dt.datetime, title: str = "Cuba essay") -> dict:
    return {
        "prompt": prompt_pk,
        "title": title,
        "instructions": "",
        "opens_at": _form_time(opens_at),
        "due_at": _form_time(opens_at + dt.timedelta(days=7)),
        "late_cutoff": "",
        "time_limit_minutes": "",
        "feedback_release": "manual",
        "feedback_release_at": "",
    }


# --- queueing, in the event's transaction --------------------------------------------------


def test_setting_an_essay_queues_one_message_per_pupil_who_can_get_it(client, cast, school_class, pupil):
    no_address = StudentFactory()
    turned_off = StudentFactory(email="off@pupils.example")
    EmailPreference.choose(turned_off, {"essay_set": False})
    for other in (no_address, turned_off):
        school_class.enrol(other)
    prompt = AssignmentFactory().prompt
    opens = timezone.now() + dt.timedelta(hours=3)
    client.force_login(cast["teacher"])
    response = client.post(
        reverse("classroom:assignment_create", args=[school_class.pk]), _assignment_form(prompt.pk, opens)
    )
    assert response.status_code == 302
    assignment = Assignment.objects.get(title="Cuba essay")
    message = QueuedEmail.objects.get()
    assert (message.recipient, message.to, message.kind) == (pupil, pupil.email, EmailKind.ESSAY_SET)
    # It opens later: the pupil hears when it opens, not now.
    assert message.due_at == message.next_attempt_at == assignment.opens_at
    assert message.subject == "Essay set: Cuba essay"
    assert f"{SITE}/classroom/assignments/{assignment.pk}/write/" in message.body


def test_moving_the_opening_time_moves_the_message(client, cast, school_class, pupil):
    assignment = AssignmentFactory(school_class=school_class, opens_at=timezone.now() + dt.timedelta(days=1))
    QueuedEmail.queue_essay_set(assignment)
    later = timezone.now() + dt.timedelta(days=2)
    client.force_login(cast["teacher"])
    data = _assignment_form(assignment.prompt_id, later, title=assignment.title)
    response = client.post(reverse("classroom:assignment_edit", args=[assignment.pk]), data)
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert QueuedEmail.objects.get().due_at == assignment.opens_at


def test_a_rolled_back_event_leaves_no_message(cast, essay, pupil):
    mark = mark_fully(essay, cast["teacher"])
    with pytest.raises(RuntimeError), transaction.atomic():
        mark.release(by=cast["teacher"])
        assert QueuedEmail.objects.count() == 1  # queued inside the release's transaction
        raise RuntimeError("the request failed after the release")
    assert not QueuedEmail.objects.exists()
    mark.refresh_from_db()
    assert not mark.is_released


def test_releasing_feedback_queues_once_even_if_released_again(client, cast, essay, pupil):
    mark_fully(essay, cast["teacher"])
    client.force_login(cast["teacher"])
    client.post(reverse("classroom:mark_release", args=[essay.pk]))
    client.post(reverse("classroom:mark_withdraw", args=[essay.pk]))
    client.post(reverse("classroom:mark_release", args=[essay.pk]))
    message = QueuedEmail.objects.get()
    assert message.kind == EmailKind.FEEDBACK_RELEASED and message.recipient == pupil
    assert f"{SITE}/classroom/assignments/{essay.assignment_id}/feedback/" in message.body


def test_release_all_queues_for_every_pupil_released(client, cast, school_class, marking_assignment, pupil):
    other = StudentFactory(email="ola@pupils.example")
    school_class.enrol(other)
    for who in (pupil, other):
        mark_fully(hand_in(marking_assignment, who), cast["teacher"])
    client.force_login(cast["teacher"])
    client.post(reverse("classroom:release_all", args=[marking_assignment.pk]))
    assert {m.recipient for m in QueuedEmail.objects.filter(kind=EmailKind.FEEDBACK_RELEASED)} == {pupil, other}


def test_feedback_released_at_a_date_is_due_at_that_date(cast, marking_assignment, pupil):
    release_at = timezone.now() + dt.timedelta(days=3)
    Assignment.objects.filter(pk=marking_assignment.pk).update(
        feedback_release=Assignment.FeedbackRelease.AT_DATE, feedback_release_at=release_at
    )
    marking_assignment.refresh_from_db()
    mark_fully(hand_in(marking_assignment, pupil), cast["teacher"])
    assert QueuedEmail.objects.get().due_at == release_at


def test_nothing_is_queued_for_a_pupil_with_no_address_or_the_kind_turned_off(cast, essay, student):
    give_mark(essay, cast["teacher"], 3, 2)  # released; the pupil has no email address
    assert not QueuedEmail.objects.exists()
    student.email = "sam@pupils.example"
    student.save()
    EmailPreference.choose(student, {"feedback_released": False})
    second = AssignmentFactory(school_class=essay.assignment.school_class, prompt=essay.assignment.prompt)
    give_mark(hand_in(second, student), cast["teacher"], 3, 2)
    assert not QueuedEmail.objects.exists()


def test_a_pupil_who_joins_before_it_opens_hears_too_and_one_who_joins_after_does_not(school_class, pupil):
    later = AssignmentFactory(school_class=school_class, opens_at=timezone.now() + dt.timedelta(days=1))
    AssignmentFactory(school_class=school_class)  # open already
    QueuedEmail.queue_essay_set(later)
    newcomer = StudentFactory(email="new@pupils.example")
    school_class.enrol(newcomer)
    school_class.enrol(newcomer)  # enrolling twice queues nothing more
    assert sorted(m.recipient.username for m in QueuedEmail.objects.all()) == sorted(
        [pupil.username, newcomer.username]
    )
    assert QueuedEmail.objects.get(recipient=newcomer).assignment == later


def _pupils(school_class, count: int) -> list:
    pupils = [StudentFactory(email=f"p{n}.{school_class.pk}@pupils.example") for n in range(count)]
    for pupil in pupils:
        school_class.enrol(pupil)
    return pupils


@pytest.mark.parametrize("size", [2, 6])
def test_queueing_an_essay_for_a_class_takes_the_same_queries_at_any_size(school_class, size):
    _pupils(school_class, size)
    assignment = Assignment.objects.select_related("prompt", "school_class").get(
        pk=AssignmentFactory(school_class=school_class).pk
    )
    # the pupils who can get it, the events already queued, one insert
    with CaptureQueriesContext(connection) as queries:
        assert QueuedEmail.queue_essay_set(assignment) == size
    assert len(queries) == 3, [q["sql"][:90] for q in queries.captured_queries]


@pytest.mark.parametrize("size", [2, 6])
def test_queueing_feedback_for_a_whole_class_takes_the_same_queries_at_any_size(
    cast, school_class, marking_assignment, size
):
    pupils = _pupils(school_class, size)
    for pupil in pupils:
        mark_fully(hand_in(marking_assignment, pupil), cast["teacher"])
    marks = list(
        Mark.objects.filter(submission__assignment=marking_assignment).select_related(
            "submission__assignment__prompt", "submission__assignment__school_class"
        )
    )
    # the pupils who can get it, the events already queued, one insert
    with CaptureQueriesContext(connection) as queries:
        assert QueuedEmail.queue_feedback_released(marks) == size
    assert len(queries) == 3, [q["sql"][:90] for q in queries.captured_queries]


# --- sending to the SMTP server -------------------------------------------------------------


def test_the_command_delivers_due_messages_once(smtp, cast, school_class, essay, pupil):
    assignment = AssignmentFactory(school_class=school_class, title="Was Khrushchev the loser?")
    QueuedEmail.queue_essay_set(assignment)
    give_mark(essay, cast["teacher"], 3, 2)
    call_command("send_notifications")
    received = smtp.mailbox.to(pupil.email)
    assert len(received) == 2
    by_subject = {message["Subject"]: message for message in received}
    essay_set = by_subject["Essay set: Was Khrushchev the loser?"]
    assert f"{SITE}/classroom/assignments/{assignment.pk}/write/" in _body(essay_set)
    assert "Hello Sam," in _body(essay_set)
    feedback = by_subject[f"Your feedback is ready: {essay.assignment.title}"]
    assert f"{SITE}/classroom/assignments/{essay.assignment_id}/feedback/" in _body(feedback)
    # RFC 8058: one-click unsubscribe, the same link as in the text.
    link = feedback["List-Unsubscribe"].strip().strip("<>")
    assert link.startswith(f"{SITE}/classroom/email/unsubscribe/") and link in _body(feedback)
    assert feedback["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert all(m.sent_at and m.attempts == 1 for m in QueuedEmail.objects.all())
    call_command("send_notifications")
    assert len(smtp.mailbox.received) == 2


def test_an_essay_that_opens_later_is_sent_when_it_opens(smtp, school_class, pupil):
    opens = timezone.now() + dt.timedelta(hours=2)
    QueuedEmail.queue_essay_set(AssignmentFactory(school_class=school_class, opens_at=opens))
    assert send_due().sent == 0
    with time_machine.travel(opens + dt.timedelta(minutes=1)):
        assert send_due().sent == 1
    assert len(smtp.mailbox.to(pupil.email)) == 1


def test_a_mail_outage_loses_nothing_and_the_message_goes_when_the_server_is_back(smtp, school_class, pupil):
    QueuedEmail.queue_essay_set(AssignmentFactory(school_class=school_class))
    smtp.stop()  # the port is closed: connection refused
    report = send_due()
    assert (report.sent, report.retrying) == (0, 1)
    message = QueuedEmail.objects.get()
    assert message.sent_at is None and message.failed_at is None and message.attempts == 1
    assert "Connection" in message.last_error or "refused" in message.last_error
    assert message.next_attempt_at > timezone.now()
    smtp.start()
    assert send_due().sent == 0  # not before its next attempt
    with time_machine.travel(message.next_attempt_at + dt.timedelta(seconds=1)):
        assert send_due().sent == 1
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 2 and message.last_error == ""
    assert len(smtp.mailbox.to(pupil.email)) == 1


def test_a_permanent_refusal_is_recorded_and_never_retried(smtp, school_class, pupil):
    smtp.mailbox.refuse[pupil.email] = "550 5.1.1 No such mailbox"
    QueuedEmail.queue_essay_set(AssignmentFactory(school_class=school_class))
    assert send_due().failed == 1
    message = QueuedEmail.objects.get()
    assert message.failed_at is not None and message.sent_at is None
    assert "550" in message.last_error and "No such mailbox" in message.last_error
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        assert send_due().sent == 0
    assert QueuedEmail.objects.get().attempts == 1


def test_an_address_no_server_could_take_fails_for_good_and_the_queue_goes_on(smtp, school_class, pupil):
    """An address that passed an import's checks but that no mail server can take (two @s)
    is given up at once, and the messages behind it are still sent."""
    broken = StudentFactory(username="b.roken", email="b@roken@pupils.example")
    school_class.enrol(broken)
    QueuedEmail.queue_essay_set(AssignmentFactory(school_class=school_class))
    first = QueuedEmail.objects.get(recipient=broken)
    QueuedEmail.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now() - dt.timedelta(hours=1))
    report = send_due()
    assert (report.failed, report.sent) == (1, 1)
    first.refresh_from_db()
    assert first.failed_at is not None and "ValueError" in first.last_error
    assert len(smtp.mailbox.to(pupil.email)) == 1


def test_a_temporary_refusal_is_retried_then_given_up_after_the_limit(smtp, settings, school_class, pupil):
    settings.EMAIL_MAX_ATTEMPTS = 2
    smtp.mailbox.refuse[pupil.email] = "450 4.2.1 Mailbox busy, try later"
    QueuedEmail.queue_essay_set(AssignmentFactory(school_class=school_class))
    assert send_due().retrying == 1
    message = QueuedEmail.objects.get()
    assert message.failed_at is None and "450" in message.last_error
    with time_machine.travel(message.next_attempt_at + dt.timedelta(seconds=1)):
        assert send_due().failed == 1
    message.refresh_from_db()
    assert message.attempts == 2 and message.failed_at is not None
    assert smtp.mailbox.received == []


def test_retry_gaps_grow_and_are_capped():
    assert [retry_delay(n) for n in (1, 2, 3)] == [dt.timedelta(minutes=m) for m in (1, 2, 4)]
    assert retry_delay(30) == dt.timedelta(hours=6)


def test_a_kind_turned_off_after_queueing_is_not_sent(smtp, school_class, pupil):
    QueuedEmail.queue_essay_set(AssignmentFactory(school_class=school_class))
    EmailPreference.choose(pupil, {"essay_set": False})
    assert send_due().cancelled == 1
    assert smtp.mailbox.received == []
    assert QueuedEmail.objects.get().cancelled_at is not None


def test_feedback_withdrawn_before_sending_is_not_sent(smtp, cast, essay, pupil):
    mark = give_mark(essay, cast["teacher"], 3, 2)
    mark.withdraw_release()
    assert send_due().cancelled == 1
    assert smtp.mailbox.received == []


def test_a_pupil_who_left_the_class_hears_nothing(smtp, school_class, pupil):
    QueuedEmail.queue_essay_set(AssignmentFactory(school_class=school_class))
    school_class.enrolments.get(student=pupil).remove()
    assert send_due().cancelled == 1
    assert smtp.mailbox.received == []


def test_feedback_whose_release_date_moved_later_waits_for_the_new_date(smtp, cast, marking_assignment, pupil):
    Assignment.objects.filter(pk=marking_assignment.pk).update(
        feedback_release=Assignment.FeedbackRelease.AT_DATE, feedback_release_at=timezone.now() + dt.timedelta(hours=1)
    )
    marking_assignment.refresh_from_db()
    mark_fully(hand_in(marking_assignment, pupil), cast["teacher"])
    new_date = timezone.now() + dt.timedelta(days=2)
    Assignment.objects.filter(pk=marking_assignment.pk).update(feedback_release_at=new_date)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
        assert send_due().postponed == 1
    assert QueuedEmail.objects.get().next_attempt_at == new_date
    with time_machine.travel(new_date + dt.timedelta(minutes=1)):
        assert send_due().sent == 1
    assert len(smtp.mailbox.to(pupil.email)) == 1


def test_the_message_goes_to_the_current_address_and_not_at_all_without_one(smtp, school_class, pupil):
    QueuedEmail.queue_essay_set(AssignmentFactory(school_class=school_class))
    QueuedEmail.queue_essay_set(AssignmentFactory(school_class=school_class))
    pupil.email = "sam.new@pupils.example"
    pupil.save()
    send_due(batch_size=1)
    assert len(smtp.mailbox.to("sam.new@pupils.example")) == 1
    pupil.email = ""
    pupil.save()
    assert send_due().cancelled == 1
    assert len(smtp.mailbox.received) == 1


def test_the_command_refuses_a_batch_size_below_one(smtp):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("send_notifications", "--batch-size", "0")


needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks between threads need PostgreSQL; SQLite's shared in-memory test database would just fail to lock",
)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_never_send_a_message_twice(smtp, school_class):
    pupils = [StudentFactory(email=f"pupil{n}@pupils.example") for n in range(12)]
    for pupil in pupils:
        school_class.enrol(pupil)
    QueuedEmail.queue_essay_set(AssignmentFactory(school_class=school_class))
    smtp.mailbox.delay = 0.05  # each delivery takes a moment, so the senders overlap
    barrier = threading.Barrier(2)
    reports: list = []

    def sender():
        try:
            barrier.wait()
            reports.append(send_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(report.sent for report in reports) == 12
    assert all(report.sent > 0 for report in reports), "both senders should have taken a share"
    delivered = sorted(address for recipients, _ in smtp.mailbox.received for address in recipients)
    assert delivered == sorted(p.email for p in pupils)


# --- unsubscribing without signing in -------------------------------------------------------


def test_the_unsubscribe_link_in_the_email_works_without_signing_in(smtp, school_class, pupil):
    QueuedEmail.queue_essay_set(AssignmentFactory(school_class=school_class))
    send_due()
    [message] = smtp.mailbox.to(pupil.email)
    path = message["List-Unsubscribe"].strip().strip("<>").removeprefix(SITE)
    anonymous = Client(enforce_csrf_checks=True)
    page = anonymous.get(path)
    assert page.status_code == 200 and "Stop these emails?" in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    assert EmailPreference.for_user(pupil).essay_set  # a GET (a link checker) changes nothing
    done = anonymous.post(path)
    assert done.status_code == 200 and "Emails stopped" in done.content.decode()
    preference = EmailPreference.for_user(pupil)
    assert not preference.essay_set and preference.feedback_released


def test_one_click_unsubscribe_from_a_mail_program(pupil):
    url = reverse("classroom:email_unsubscribe", args=[unsubscribe_token(pupil, EmailKind.FEEDBACK_RELEASED)])
    response = Client(enforce_csrf_checks=True).post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not EmailPreference.for_user(pupil).feedback_released


def _other_kind(token: str, pupil) -> str:
    """The payload changed to another kind, the signature kept."""
    forged = unsubscribe_token(pupil, EmailKind.FEEDBACK_RELEASED).split(":")[0]
    return forged + ":" + token.split(":")[1]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token, pupil: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        _other_kind,
        lambda token, pupil: "nonsense",
        lambda token, pupil: signing.dumps({"u": pupil.pk, "k": "essay_set"}),  # signed, not for unsubscribing
    ],
)
def test_a_tampered_unsubscribe_link_is_refused_and_changes_nothing(pupil, tamper):
    token = tamper(unsubscribe_token(pupil, EmailKind.ESSAY_SET), pupil)
    url = reverse("classroom:email_unsubscribe", args=[token])
    for response in (Client().get(url), Client().post(url)):
        assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    assert not EmailPreference.objects.exists()


# --- the preferences page ------------------------------------------------------------------

ACTORS = ["student", "teacher", "other_teacher", "head", "outsider", "superuser"]


def _actor(cast, who, django_user_model):
    if who == "superuser":
        return django_user_model.objects.create_superuser("root", "", "correct-horse-battery")
    return cast[who]


def test_preferences_page_sends_anonymous_to_sign_in(client):
    url = reverse("classroom:email_preferences")
    for response in (client.get(url), client.post(url, {"essay_set": ""})):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert not EmailPreference.objects.exists()


@pytest.mark.parametrize("who", ACTORS)
def test_everyone_signed_in_manages_only_their_own_preferences(client, cast, who, django_user_model):
    person = _actor(cast, who, django_user_model)
    client.force_login(person)
    url = reverse("classroom:email_preferences")
    page = client.get(url)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"] and "private" in page["Cache-Control"]
    html = page.content.decode()
    teaches = person.is_teacher
    assert ('name="daily_digest"' in html) is teaches
    assert ('name="essay_set"' in html) is not teaches
    assert 'id="no-email-address"' in html  # the cast have no addresses
    # Everything off: only the kinds this person can get are saved, and only for them.
    response = client.post(url, {})
    assert response.status_code == 302
    saved = EmailPreference.objects.get()
    assert saved.user == person
    assert saved.daily_digest is not teaches
    assert saved.essay_set is teaches and saved.feedback_released is teaches


def test_a_pupil_cannot_switch_on_a_teachers_kind(client, pupil):
    client.force_login(pupil)
    client.post(reverse("classroom:email_preferences"), {"essay_set": "on", "daily_digest": ""})
    preference = EmailPreference.objects.get(user=pupil)
    assert preference.essay_set and not preference.feedback_released and preference.daily_digest


def test_the_page_names_the_address_when_there_is_one(client, pupil):
    client.force_login(pupil)
    html = client.get(reverse("classroom:email_preferences")).content.decode()
    assert pupil.email in html and 'id="no-email-address"' not in html


# --- the daily digest -------------------------------------------------------------------------


def _at(hour: int, day: int = 2) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, 0, tzinfo=LONDON)


@pytest.fixture
def mailed_teacher(teacher):
    teacher.email = "tess@staff.example"
    teacher.save(update_fields=["email"])
    return teacher


def test_the_digest_counts_hand_ins_and_responses_once_a_day(smtp, mailed_teacher, marking_assignment, student):
    other = TeacherFactory(email="otto@staff.example")  # teaches no class with work: no digest
    with time_machine.travel(_at(6), tick=False):
        hand_in(marking_assignment, student)
        mark = give_mark(marking_assignment.submissions.get(), mailed_teacher, 3, 2)
        DirtResponse.for_mark(mark).save_text("I will use the sources.", 0).submit()
        assert build_digests() == 0  # before EMAIL_DIGEST_HOUR (07:00)
    with time_machine.travel(_at(8), tick=False):
        assert build_digests() == 1
        assert build_digests() == 0  # once a day
        call_command("send_notifications")
    [digest] = smtp.mailbox.to(mailed_teacher.email)
    assert digest["Subject"] == "Daily digest: 1 essay handed in, 1 response to feedback"
    body = _body(digest)
    assert f"10H History: {marking_assignment.title}" in body
    assert f"{SITE}/classroom/assignments/{marking_assignment.pk}/marking/" in body
    assert student.last_name not in body  # counts only, never names
    assert smtp.mailbox.to(other.email) == []
    with time_machine.travel(_at(8, day=3), tick=False):
        assert build_digests() == 0  # nothing new since yesterday's: no email
    newcomer = StudentFactory()
    marking_assignment.school_class.enrol(newcomer)
    with time_machine.travel(_at(12, day=3), tick=False):
        hand_in(marking_assignment, newcomer)
    with time_machine.travel(_at(9, day=4), tick=False):
        assert build_digests() == 1
    latest = QueuedEmail.objects.filter(kind=EmailKind.DAILY_DIGEST).latest("pk")
    assert latest.subject == "Daily digest: 1 essay handed in, 0 responses to feedback"


def test_the_digest_covers_only_the_teachers_own_classes(mailed_teacher, other_class, marking_assignment, student):
    theirs = AssignmentFactory(school_class=other_class)
    SubmissionFactory(assignment=theirs, student=other_class.active_students().get(), submitted=True)
    hand_in(marking_assignment, student)
    lines = digest_lines(mailed_teacher, timezone.now() - dt.timedelta(hours=1), timezone.now())
    assert [(line.assignment, line.handed_in, line.responses) for line in lines] == [(marking_assignment, 1, 0)]


def test_no_digest_for_a_teacher_who_turned_it_off(mailed_teacher, marking_assignment, student):
    EmailPreference.choose(mailed_teacher, {"daily_digest": False})
    with time_machine.travel(_at(6), tick=False):
        hand_in(marking_assignment, student)
    with time_machine.travel(_at(8), tick=False):
        assert build_digests() == 0


def test_an_impossible_digest_hour_stops_startup_with_a_clear_message():
    result = run_manage("check", DEBUG="True", EMAIL_DIGEST_HOUR="24")
    assert result.returncode != 0
    assert "EMAIL_DIGEST_HOUR must be an hour of the day, 0 to 23." in result.stderr
    assert run_manage("check", DEBUG="True", EMAIL_DIGEST_HOUR="23").returncode == 0

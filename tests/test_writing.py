"""Writing an essay: the page, autosave with a version check, submit, deadlines and timed essays."""

from __future__ import annotations

import datetime as dt
import hashlib
import json as _json
import random
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from classroom.models import (
    MAX_ESSAY_CHARS,
    Assignment,
    Submission,
    SubmissionError,
    SubmissionRevision,
    count_words,
)
from tests.factories import (
    AssignmentFactory,
    EssayPromptFactory,
    SourceFactory,
    StudentFactory,
    SubmissionFactory,
    link_sources,
)
from tests.helpers import mark_fully

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def _local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


@pytest.fixture
def prompt():
    prompt = EssayPromptFactory(question="How far did the crisis improve diplomacy?", word_min=400, word_max=800)
    link_sources(
        prompt,
        [
            SourceFactory(label="A", title="Kennedy's address", excerpt="First para.\n\nSecond para."),
            SourceFactory(label="B", title="Khrushchev's letter", origin="A private letter from Moscow."),
        ],
    )
    return prompt


@pytest.fixture
def assignment(school_class, prompt):
    return AssignmentFactory(school_class=school_class, prompt=prompt, title="Diplomacy essay")


def json(value) -> str:
    return _json.dumps(value)


def _autosave(client, assignment, text, base):
    return client.post(reverse("classroom:autosave", args=[assignment.pk]), {"text": text, "base_revision": base})


def _draft(assignment, student, text="A first draft of the essay."):
    submission = Submission.start(assignment, student)
    return submission.save_draft(text, base_revision=submission.revision)


# --- Access ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("student", 200), ("outsider", 404), ("teacher", 200), ("other_teacher", 404), ("head", 200)],
)
def test_writing_page_access(client, cast, assignment, who, status):
    client.force_login(cast[who])
    assert client.get(reverse("classroom:write", args=[assignment.pk])).status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [("student", 200), ("outsider", 404), ("teacher", 403), ("other_teacher", 403), ("head", 403)],
)
def test_autosave_access(client, cast, assignment, who, status):
    client.force_login(cast[who])
    assert _autosave(client, assignment, "Words", 0).status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [("student", 200), ("outsider", 404), ("teacher", 403), ("other_teacher", 403), ("head", 403)],
)
def test_submit_page_access(client, cast, assignment, who, status):
    _draft(assignment, cast["student"])
    client.force_login(cast[who])
    assert client.get(reverse("classroom:submit", args=[assignment.pk])).status_code == status


@pytest.mark.parametrize("url_name", ["classroom:write", "classroom:submit", "classroom:autosave"])
def test_writing_urls_send_anonymous_visitors_to_log_in(client, assignment, url_name):
    response = client.get(reverse(url_name, args=[assignment.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_students_cannot_open_an_assignment_before_it_opens(client, cast, school_class):
    future = AssignmentFactory(school_class=school_class, opens_at=timezone.now() + dt.timedelta(hours=1))
    client.force_login(cast["student"])
    assert client.get(reverse("classroom:write", args=[future.pk])).status_code == 404


def test_teacher_preview_has_no_essay_form_and_cannot_post(client, cast, assignment):
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:write", args=[assignment.pk])).content.decode()
    assert "preview of what your students see" in html
    assert 'id="essay-form"' not in html
    assert client.post(reverse("classroom:write", args=[assignment.pk]), {"text": "x"}).status_code == 403
    assert not Submission.objects.exists()


def test_a_student_never_sees_another_students_text(client, cast, assignment, school_class):
    _draft(assignment, cast["student"], "My private words")
    classmate = StudentFactory()
    school_class.enrol(classmate)
    client.force_login(classmate)
    html = client.get(reverse("classroom:write", args=[assignment.pk])).content.decode()
    assert "My private words" not in html
    client.force_login(cast["outsider"])
    assert client.get(reverse("classroom:write", args=[assignment.pk])).status_code == 404


# --- The page ------------------------------------------------------------------------------


def test_writing_page_has_prompt_sources_labelled_box_and_status_region(client, cast, assignment):
    client.force_login(cast["student"])
    html = client.get(reverse("classroom:write", args=[assignment.pk])).content.decode()
    assert "How far did the crisis improve diplomacy?" in html
    assert "Source A</span>: Kennedy&#x27;s address" in html
    assert "<p>First para.</p>" in html and "<p>Second para.</p>" in html
    assert "A private letter from Moscow." in html
    assert '<label for="id_text"' in html
    assert re.search(r'id="save-status" role="status" aria-live="polite"', html)
    assert 'name="base_revision" value="0"' in html
    assert "(aim for 400–800)" in html
    assert 'data-autosave-url="/classroom/assignments/' in html
    assert "<script>" not in html and "style=" not in html
    assert 'src="/static/js/essay.js"' in html


def test_opening_the_writing_page_writes_nothing_until_the_first_save(client, cast, assignment):
    client.force_login(cast["student"])
    response = client.get(reverse("classroom:write", args=[assignment.pk]))
    assert response.status_code == 200 and not Submission.objects.exists()
    assert 'name="base_revision" value="0"' in response.content.decode()
    assert _autosave(client, assignment, "First words.", 0).status_code == 200
    submission = Submission.objects.get()
    assert submission.started_at is not None and submission.text == "First words."


def test_l9_a_timed_essays_clock_starts_on_start_once_never_on_get_or_head(client, cast, assignment):
    type(assignment).objects.filter(pk=assignment.pk).update(time_limit_minutes=45)
    client.force_login(cast["student"])
    url = reverse("classroom:write", args=[assignment.pk])
    html = client.get(url).content.decode()
    assert "Start the timed essay" in html and 'id="essay-form"' not in html
    client.head(url)
    assert not Submission.objects.exists()  # opening the page starts nothing
    with time_machine.travel(timezone.now(), tick=False):
        assert client.post(url, {"start": "1"}).status_code == 302
        started = Submission.objects.get().started_at
    assert started is not None
    client.post(url, {"start": "1"})  # pressed again (another tab): the clock does not restart
    submission = Submission.objects.get()
    assert submission.started_at == started
    assert submission.state == Submission.State.NOT_STARTED
    html = client.get(url).content.decode()
    assert 'id="essay-form"' in html and 'id="countdown"' in html


# --- Autosave ---------------------------------------------------------------------------------


def test_autosave_saves_and_returns_the_new_revision(client, cast, assignment):
    client.force_login(cast["student"])
    response = _autosave(client, assignment, "The Hotline was set up in 1963.", 0)
    assert response.status_code == 200
    data = response.json()
    assert data["revision"] == 1 and data["word_count"] == 7
    assert re.fullmatch(r"\d\d:\d\d", data["saved_at_display"])
    submission = Submission.objects.get()
    assert (submission.text, submission.state, submission.revision) == (
        "The Hotline was set up in 1963.",
        Submission.State.DRAFT,
        1,
    )


def test_stale_autosave_gets_409_with_the_current_version_and_changes_nothing(client, cast, assignment):
    client.force_login(cast["student"])
    assert _autosave(client, assignment, "Tab one", 0).status_code == 200
    response = _autosave(client, assignment, "Tab two", 0)
    assert response.status_code == 409
    assert response.json()["revision"] == 1
    assert response.json()["text"] == "Tab one"
    assert response.json()["status"] == "conflict" and response.json()["editable"] is True
    assert Submission.objects.get().text == "Tab one"


def test_autosave_after_submit_is_409_already_submitted(client, cast, assignment):
    submission = _draft(assignment, cast["student"])
    submission.submit(by=cast["student"])
    client.force_login(cast["student"])
    response = _autosave(client, assignment, "Sneaky change", 1)
    assert response.status_code == 409
    assert response.json()["editable"] is False
    assert response.json()["error"] == "This essay has already been submitted, so it cannot be changed."
    submission.refresh_from_db()
    assert submission.text == "A first draft of the essay."
    assert submission.state == Submission.State.SUBMITTED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "Words", "base_revision": "seven"}, "broken version number"),
        ({"text": "Words"}, "did not say which version"),
        ({"text": "x" * (MAX_ESSAY_CHARS + 1), "base_revision": "1"}, "too long to save"),
        ({"text": "Words", "base_revision": "-1"}, "greater than or equal to 0"),
    ],
)
def test_bad_autosave_is_400_with_a_message_and_changes_nothing(client, cast, assignment, data, message):
    _draft(assignment, cast["student"], "Kept safe")
    client.force_login(cast["student"])
    response = client.post(reverse("classroom:autosave", args=[assignment.pk]), data)
    assert response.status_code == 400
    assert message in response.json()["error"]
    submission = Submission.objects.get()
    assert (submission.text, submission.revision) == ("Kept safe", 1)


def test_essay_of_exactly_the_maximum_length_is_saved(client, cast, assignment):
    client.force_login(cast["student"])
    assert _autosave(client, assignment, "a" * MAX_ESSAY_CHARS, 0).status_code == 200


def test_autosave_without_csrf_token_is_refused(cast, assignment):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(cast["student"])
    assert _autosave(client, assignment, "Words", 0).status_code == 403
    assert not Submission.objects.filter(text="Words").exists()


# --- Without JavaScript --------------------------------------------------------------------------


def test_js_off_save_draft_then_confirm_then_submit(client, cast, assignment):
    client.force_login(cast["student"])
    url = reverse("classroom:write", args=[assignment.pk])
    client.get(url)
    response = client.post(url, {"text": "My essay has five words.", "base_revision": "0", "save": "1"}, follow=True)
    assert "Draft saved at" in response.content.decode()
    assert Submission.objects.get().text == "My essay has five words."
    response = client.post(url, {"text": "My essay has six words now.", "base_revision": "1", "submit": "1"})
    assert response.status_code == 302
    assert response.url == reverse("classroom:submit", args=[assignment.pk])
    confirm = client.get(response.url).content.decode()
    assert "<strong>6 words</strong>" in confirm
    assert Submission.objects.get().state == Submission.State.DRAFT  # nothing handed in yet
    response = client.post(reverse("classroom:submit", args=[assignment.pk]), follow=True)
    html = response.content.decode()
    assert "Your essay has been submitted at" in html
    assert 'id="essay-form"' not in html  # read-only now
    assert "My essay has six words now." in html
    submission = Submission.objects.get()
    assert submission.state == Submission.State.SUBMITTED
    assert submission.text_sha256 == hashlib.sha256(b"My essay has six words now.").hexdigest()


def test_js_off_stale_save_shows_both_versions_and_overwrites_nothing(client, cast, assignment):
    _draft(assignment, cast["student"], "Saved from the laptop")
    client.force_login(cast["student"])
    url = reverse("classroom:write", args=[assignment.pk])
    response = client.post(url, {"text": "Typed on the phone", "base_revision": "0", "save": "1"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "This essay was changed in another tab or device" in html
    assert "Typed on the phone</textarea>" in html
    assert "Saved from the laptop" in html
    assert 'name="base_revision" value="1"' in html  # saving again is a deliberate choice
    assert Submission.objects.get().text == "Saved from the laptop"


def test_js_off_bad_revision_is_400_and_keeps_the_typed_text(client, cast, assignment):
    _draft(assignment, cast["student"], "Kept safe")
    client.force_login(cast["student"])
    response = client.post(
        reverse("classroom:write", args=[assignment.pk]), {"text": "New words", "base_revision": "x"}
    )
    assert response.status_code == 400
    assert "broken version number" in response.content.decode()
    assert "New words</textarea>" in response.content.decode()
    assert Submission.objects.get().text == "Kept safe"


def test_double_submit_is_harmless(client, cast, assignment):
    _draft(assignment, cast["student"])
    client.force_login(cast["student"])
    url = reverse("classroom:submit", args=[assignment.pk])
    client.post(url)
    first = Submission.objects.get()
    client.post(url)
    second = Submission.objects.get()
    assert second.submitted_at == first.submitted_at
    assert second.revision == first.revision
    assert second.revisions.filter(reason=SubmissionRevision.Reason.SUBMIT).count() == 1


def test_empty_essay_cannot_be_submitted(client, cast, assignment):
    client.force_login(cast["student"])
    client.get(reverse("classroom:write", args=[assignment.pk]))
    response = client.post(reverse("classroom:submit", args=[assignment.pk]), follow=True)
    assert "Your essay is empty" in response.content.decode()
    assert Submission.objects.get().state == Submission.State.NOT_STARTED


# --- Deadlines ------------------------------------------------------------------------------------


@pytest.fixture
def deadline_assignment(school_class, prompt):
    """Due 23:59 on Friday 23 October 2026 (BST), late work refused after Monday 26 October (GMT) 09:00."""
    return AssignmentFactory(
        school_class=school_class,
        prompt=prompt,
        opens_at=_local(2026, 10, 12, 9, 0),
        due_at=_local(2026, 10, 23, 23, 59),
        late_cutoff=_local(2026, 10, 26, 9, 0),
    )


def _submit_at(assignment, student, moment):
    with time_machine.travel(moment, tick=False):
        submission = _draft(assignment, student)
        return submission.submit(by=student)


def test_submitted_a_minute_before_midnight_due_is_on_time(cast, deadline_assignment):
    submission = _submit_at(deadline_assignment, cast["student"], _local(2026, 10, 23, 23, 58, 59))
    assert submission.state == Submission.State.SUBMITTED and not submission.is_late


def test_submitted_just_after_a_2359_due_time_is_late(cast, deadline_assignment):
    submission = _submit_at(deadline_assignment, cast["student"], _local(2026, 10, 24, 0, 0, 30))
    assert submission.is_late


def test_cut_off_is_read_in_gmt_after_the_clocks_go_back(cast, deadline_assignment):
    # 08:30 GMT on 26 October is 08:30 UTC: before the 09:00 cut-off (an hour earlier in BST terms).
    submission = _submit_at(deadline_assignment, cast["student"], dt.datetime(2026, 10, 26, 8, 30, tzinfo=dt.UTC))
    assert submission.state == Submission.State.SUBMITTED and submission.is_late


def test_submit_after_cut_off_is_refused_and_the_draft_kept(client, cast, deadline_assignment):
    with time_machine.travel(_local(2026, 10, 25, 12, 0), tick=False):
        submission = _draft(deadline_assignment, cast["student"], "Nearly finished")
    with time_machine.travel(_local(2026, 10, 26, 9, 0, 1), tick=False):
        client.force_login(cast["student"])
        response = client.post(reverse("classroom:submit", args=[deadline_assignment.pk]), follow=True)
    assert "The deadline for late work has passed" in response.content.decode()
    submission.refresh_from_db()
    assert (submission.state, submission.text) == (Submission.State.DRAFT, "Nearly finished")


def test_extension_moves_the_due_date_and_cut_off_for_that_student_only(cast, deadline_assignment, school_class):
    deadline_assignment.grant_extension(
        cast["student"], _local(2026, 10, 30, 17, 0), _local(2026, 11, 2, 9, 0), by=cast["teacher"]
    )
    submission = _submit_at(deadline_assignment, cast["student"], _local(2026, 10, 30, 16, 59))
    assert not submission.is_late
    classmate = StudentFactory()
    school_class.enrol(classmate)
    with pytest.raises(SubmissionError):
        _submit_at(deadline_assignment, classmate, _local(2026, 10, 30, 16, 59))


def test_teacher_form_times_are_read_in_london_time_either_side_of_the_clock_change(client, cast, school_class):
    client.force_login(cast["teacher"])
    prompt = EssayPromptFactory()
    with time_machine.travel(_local(2026, 10, 1, 9, 0), tick=False):
        client.post(
            reverse("classroom:assignment_create", args=[school_class.pk]),
            {
                "prompt": prompt.pk,
                "title": "Clock change",
                "opens_at": "2026-10-05T09:00",
                "due_at": "2026-10-24T23:59",
                "late_cutoff": "2026-10-25T23:59",
                "feedback_release": "manual",
            },
        )
    assignment = Assignment.objects.get()
    assert assignment.due_at == dt.datetime(2026, 10, 24, 22, 59, tzinfo=dt.UTC)  # BST
    assert assignment.late_cutoff == dt.datetime(2026, 10, 25, 23, 59, tzinfo=dt.UTC)  # GMT


def test_resubmission_after_return_ignores_the_cut_off_and_keeps_the_late_flag(cast, deadline_assignment):
    submission = _submit_at(deadline_assignment, cast["student"], _local(2026, 10, 24, 10, 0))
    assert submission.is_late
    with time_machine.travel(_local(2026, 11, 3, 9, 0), tick=False):
        submission.return_for_redraft(by=cast["teacher"])
        submission.save_draft("A better essay after feedback.", base_revision=submission.revision)
        submission.submit(by=cast["student"])
    assert submission.state == Submission.State.SUBMITTED
    assert submission.is_late
    assert submission.text == "A better essay after feedback."


# --- Timed essays ---------------------------------------------------------------------------------


@pytest.fixture
def timed(school_class, prompt):
    return AssignmentFactory(
        school_class=school_class,
        prompt=prompt,
        time_limit_minutes=45,
        opens_at=_local(2026, 11, 23, 9, 0),
        due_at=_local(2026, 11, 30, 9, 0),
    )


def test_timed_page_shows_a_countdown_to_started_plus_limit(client, cast, timed):
    client.force_login(cast["student"])
    with time_machine.travel(_local(2026, 11, 23, 10, 0), tick=False):
        client.post(reverse("classroom:write", args=[timed.pk]), {"start": "1"})
        html = client.get(reverse("classroom:write", args=[timed.pk])).content.decode()
    assert 'data-deadline="2026-11-23T10:45:00+00:00"' in html
    assert 'id="auto-submit-form"' in html


def test_time_limit_is_capped_by_the_due_date(cast, timed):
    with time_machine.travel(_local(2026, 11, 30, 8, 30), tick=False):
        submission = Submission.start(timed, cast["student"])
    assert submission.time_deadline() == _local(2026, 11, 30, 9, 0)


def test_saves_are_refused_after_time_is_up_and_submit_hands_in_the_saved_text(cast, timed):
    student = cast["student"]
    with time_machine.travel(_local(2026, 11, 23, 10, 0), tick=False):
        submission = Submission.start(timed, student)
    with time_machine.travel(_local(2026, 11, 23, 10, 44), tick=False):
        submission.save_draft("Saved in time.", base_revision=0)
    with time_machine.travel(_local(2026, 11, 23, 10, 45, 20), tick=False):
        submission.save_draft("Saved within the grace period.", base_revision=1)  # network delay allowed
    with time_machine.travel(_local(2026, 11, 23, 10, 47), tick=False):
        with pytest.raises(SubmissionError, match="Time is up"):
            submission.save_draft("Too late to add this.", base_revision=2)
        submission.submit(by=student)
    submission.refresh_from_db()
    assert submission.state == Submission.State.SUBMITTED
    assert submission.text == "Saved within the grace period."
    assert not submission.is_late


def test_autosave_after_time_is_up_is_400_with_a_message(client, cast, timed):
    client.force_login(cast["student"])
    with time_machine.travel(_local(2026, 11, 23, 10, 0), tick=False):
        client.post(reverse("classroom:write", args=[timed.pk]), {"start": "1"})
    with time_machine.travel(_local(2026, 11, 23, 11, 0), tick=False):
        response = _autosave(client, timed, "After the bell", 0)
    assert response.status_code == 400
    assert "Time is up" in response.json()["error"]


def test_js_off_submit_after_time_is_up_hands_in_the_saved_text(client, cast, timed):
    client.force_login(cast["student"])
    url = reverse("classroom:write", args=[timed.pk])
    with time_machine.travel(_local(2026, 11, 23, 10, 0), tick=False):
        client.post(url, {"start": "1"})
    with time_machine.travel(_local(2026, 11, 23, 10, 30), tick=False):
        client.post(url, {"text": "Saved in time.", "base_revision": "0", "save": "1"})
    with time_machine.travel(_local(2026, 11, 23, 11, 0), tick=False):
        response = client.post(url, {"text": "Saved in time. And more.", "base_revision": "1", "submit": "1"})
        assert response.url == reverse("classroom:submit", args=[timed.pk])
        client.post(response.url)
    submission = Submission.objects.get()
    assert (submission.state, submission.text) == (Submission.State.SUBMITTED, "Saved in time.")


# --- Revisions ------------------------------------------------------------------------------------


def test_autosave_revisions_are_throttled_to_one_a_minute(cast, assignment):
    start = _local(2026, 11, 23, 10, 0)
    with time_machine.travel(start, tick=False):
        submission = Submission.start(assignment, cast["student"])
        submission.save_draft("One", base_revision=0)
    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        submission.save_draft("One two", base_revision=1)
    assert list(submission.revisions.values_list("text", flat=True)) == ["One"]
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        submission.save_draft("One two three", base_revision=2)
    with time_machine.travel(start + dt.timedelta(seconds=200), tick=False):
        submission.save_draft("One two three", base_revision=3)  # unchanged: no snapshot
    assert list(submission.revisions.values_list("text", flat=True)) == ["One", "One two three"]
    with time_machine.travel(start + dt.timedelta(seconds=210), tick=False):
        submission.submit(by=cast["student"])  # always kept, even inside the minute
    assert submission.revisions.count() == 3
    assert submission.revisions.last().reason == SubmissionRevision.Reason.SUBMIT


def test_an_autosave_costs_at_most_five_queries_on_postgresql_session_included(client, cast, assignment):
    """Session, user, the essay with the right to write it, and one statement that saves the
    text, keeps a revision when one is due and records the writing process: no more, whatever
    the save carries. (SQLite has no data-modifying WITH: there it is one transaction.)"""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    student = cast["student"]
    client.force_login(student)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert _autosave(client, assignment, "First save makes the essay.", 0).status_code == 200
    batch = {"seq": 1, "from": 0, "to": 10_000, "active": 9, "events": []}
    paste = {"kind": "paste", "t": 5_000, "position": 3, "length": 120, "origin": ""}

    def record(now, *batches):
        return {"process": json({"session": "tab-one-0001", "now": now, "batches": list(batches)})}

    saves = [
        (10, "text only", {}),
        (20, "with the writing record", record(20_000, batch)),
        (90, "keeping a revision too", record(90_000, {**batch, "seq": 2, "events": [paste]})),  # a minute on
    ]
    budget = 5 if connection.vendor == "postgresql" else 10
    for revision, (seconds, text, extra) in enumerate(saves, start=1):
        with (
            time_machine.travel(start + dt.timedelta(seconds=seconds), tick=False),
            CaptureQueriesContext(connection) as captured,
        ):
            response = client.post(
                reverse("classroom:autosave", args=[assignment.pk]),
                {"text": f"Saved: {text}.", "base_revision": revision, **extra},
            )
        assert response.status_code == 200, response.content
        assert response.json()["revision"] == revision + 1
        assert len(captured) <= budget, [query["sql"][:80] for query in captured.captured_queries]
    submission = Submission.objects.get(assignment=assignment, student=student)
    assert submission.text == "Saved: keeping a revision too." and submission.revision == 4
    kept = list(submission.revisions.order_by("created_at").values_list("text", "revision"))
    assert kept == [("First save makes the essay.", 1), ("Saved: keeping a revision too.", 4)]
    assert submission.writing_events.filter(kind="paste", length=120).count() == 1


def test_a_stale_autosave_changes_nothing_and_records_nothing(client, cast, assignment):
    student = cast["student"]
    client.force_login(student)
    assert _autosave(client, assignment, "Saved from the first tab.", 0).status_code == 200
    assert _autosave(client, assignment, "Saved from the first tab again.", 1).status_code == 200
    batch = {"seq": 1, "from": 0, "to": 10_000, "active": 9, "events": []}
    response = client.post(
        reverse("classroom:autosave", args=[assignment.pk]),
        {
            "text": "From a second tab, based on the first save.",
            "base_revision": 1,
            "process": json({"session": "tab-two-0002", "now": 10000, "batches": [batch]}),
        },
    )
    assert response.status_code == 409
    assert response.json()["revision"] == 2
    submission = Submission.objects.get(assignment=assignment, student=student)
    assert submission.text == "Saved from the first tab again." and submission.revision == 2
    assert not submission.writing_events.exists()


def _orm_rule(student, assignment_pk):
    """assignment_for_writer's rule in the ORM, for an essay already begun."""
    from classroom.models import Assignment

    return Submission.objects.filter(
        student=student,
        assignment_id=assignment_pk,
        started_at__isnull=False,
        assignment__in=Assignment.objects.visible_to(student),
    ).first()


def test_the_autosave_query_finds_the_essay_exactly_when_the_orm_rule_does(cast, school_class, assignment):
    """permissions.own_essay_for_saving runs compiled SQL and builds the objects itself: it
    must agree with Assignment.objects.visible_to and load the essay as the ORM would."""
    from django.core.exceptions import PermissionDenied
    from django.db import connection

    from classroom import permissions
    from classroom.models import Enrolment, Extension

    student, outsider = cast["student"], cast["outsider"]
    later = AssignmentFactory(school_class=school_class, opens_at=timezone.now() + dt.timedelta(days=1))
    other = AssignmentFactory(school_class=cast["outsider"].enrolments.get().school_class)
    unstarted = AssignmentFactory(school_class=school_class)
    for each in (assignment, later):
        SubmissionFactory(assignment=each, student=student)
    SubmissionFactory(assignment=unstarted, student=student, started_at=None)
    SubmissionFactory(assignment=other, student=outsider)
    SubmissionFactory(assignment=assignment, student=outsider)  # an essay in a class not theirs
    due = timezone.now() + dt.timedelta(days=20)
    Extension.objects.create(assignment=assignment, student=student, due_at=due, granted_by=cast["teacher"])
    _draft(assignment, student, "Kept as a revision.")

    def agree(who, assignment_pk):
        found, expected = permissions.own_essay_for_saving(who, assignment_pk), _orm_rule(who, assignment_pk)
        assert (found is None) == (expected is None), (who, assignment_pk)
        return found, expected

    for who in (student, outsider):
        for each in (assignment, later, other, unstarted):
            agree(who, each.pk)
    found, expected = agree(student, assignment.pk)
    assert found is not None and expected is not None
    for field in Submission._meta.concrete_fields:
        if field.name != "text":
            assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert "text" in found.get_deferred_fields()
    for field in assignment._meta.concrete_fields:
        assert getattr(found.assignment, field.attname) == getattr(expected.assignment, field.attname), field.name
    assert found.ext_due_at == due and found.ext_cutoff is None
    assert found.last_kept_at == expected.revisions.order_by("-created_at").first().created_at
    assert found.deadlines()[0] == due
    # Removed from the class: found no more.
    Enrolment.objects.filter(student=student).update(removed_at=timezone.now())
    assert agree(student, assignment.pk)[0] is None
    if connection.vendor == "postgresql":  # compiled to SQL once, not built afresh each save
        from classroom.permissions import _writer_essay

        compiled = _writer_essay._compiled({"student": student.pk, "assignment": assignment.pk, "now": timezone.now()})
        assert compiled.compiler is not None
    # Not a pupil: refused before any query.
    with pytest.raises(PermissionDenied):
        permissions.own_essay_for_saving(cast["teacher"], assignment.pk)


# --- Word count -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", 0),
        ("   \n\n  ", 0),
        ("The Cold-War thawed.", 3),
        ("One — two – three", 3),
        ("Khrushchev's letter, 26 October 1962.", 5),
        ("Détente\tbegan\nslowly", 3),
        ("-" * 20_000 + " a " + "_" * 20_000, 1),  # long runs without a letter: none, and quickly
        ("• bullet - points", 2),
        ("'Quoted' (1962) __init__ ...", 3),
        ("a" * 20_000 + " —" + "b" * 20_000, 2),
    ],
)
def test_word_count(text, words):
    assert count_words(text) == words


def test_word_count_is_the_number_of_runs_holding_a_letter_or_digit():
    """The definition itself, checked against the regex on many random texts."""
    rng = random.Random(1962)
    alphabet = "ab1 _-—*.'\n\t\u00a0\u2003é٣"
    for _ in range(5_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        expected = sum(1 for run in text.split() if any(character.isalnum() for character in run))
        assert count_words(text) == expected, repr(text)


def test_submission_factory_hands_work_in_through_submit(assignment, student):
    submission = SubmissionFactory(assignment=assignment, student=student, submitted=True)
    assert submission.state == Submission.State.SUBMITTED
    assert submission.text_sha256 == hashlib.sha256(submission.text.encode()).hexdigest()


@pytest.mark.parametrize("source_count", [1, 6])
def test_writing_page_query_budget(client, cast, school_class, django_assert_num_queries, source_count):
    prompt = EssayPromptFactory()
    link_sources(prompt, SourceFactory.create_batch(source_count))
    assignment = AssignmentFactory(school_class=school_class, prompt=prompt)
    _draft(assignment, cast["student"])
    client.force_login(cast["student"])
    # session, user, assignment+class+prompt, submission, prompt's sources, this student's
    # extension, their exemption and joining date in one (for the status: exempt, or joined
    # after the due date), the exemplars shared with the assignment, their access arrangement
    with django_assert_num_queries(9):
        assert client.get(reverse("classroom:write", args=[assignment.pk])).status_code == 200


# --- The writing page once the essay is marked -----------------------------------------------


def _write_page(client, essay) -> str:
    client.force_login(essay.student)
    return client.get(reverse("classroom:write", args=[essay.assignment_id])).content.decode()


def test_writing_page_links_released_feedback_instead_of_an_essay_box(client, cast, essay):
    mark_fully(essay, cast["teacher"]).release(by=cast["teacher"])
    html = _write_page(client, essay)
    feedback = reverse("classroom:feedback", args=[essay.assignment_id])
    assert re.search(rf'<a class="[^"]*" href="{feedback}">Marked — read your feedback</a>', html)
    assert 'id="essay-form"' not in html and 'name="text"' not in html


def test_writing_page_shows_marked_unreleased_work_as_being_marked_without_a_feedback_link(client, cast, essay):
    mark_fully(essay, cast["teacher"])
    html = _write_page(client, essay)
    assert "Submitted — your teacher is marking it" in html
    assert reverse("classroom:feedback", args=[essay.assignment_id]) not in html
    assert 'id="essay-form"' not in html and 'name="text"' not in html


def test_writing_page_says_late_work_being_marked_was_submitted_late(client, cast, marking_assignment, student):
    essay = SubmissionFactory(assignment=marking_assignment, student=student, text="Handed in after the bell")
    essay.submit(by=student, at=marking_assignment.due_at + dt.timedelta(minutes=5))
    mark_fully(essay, cast["teacher"])
    assert "Submitted late — your teacher is marking it" in _write_page(client, essay)


def test_writing_page_links_feedback_once_its_release_date_passes(client, cast, essay):
    mark_fully(essay, cast["teacher"])
    assignment = essay.assignment
    assignment.feedback_release = Assignment.FeedbackRelease.AT_DATE
    assignment.feedback_release_at = timezone.now() - dt.timedelta(minutes=1)
    assignment.save(update_fields=["feedback_release", "feedback_release_at"])
    feedback = reverse("classroom:feedback", args=[essay.assignment_id])
    assert feedback in _write_page(client, essay)
    assert client.get(feedback).status_code == 200


def test_marked_essay_cannot_be_changed_from_the_writing_page(client, cast, essay):
    mark_fully(essay, cast["teacher"])
    client.force_login(essay.student)
    response = client.post(
        reverse("classroom:write", args=[essay.assignment_id]), {"text": "Rewritten", "base_revision": essay.revision}
    )
    assert response.status_code == 409
    essay.refresh_from_db()
    assert essay.text != "Rewritten" and essay.state == Submission.State.MARKED

"""Access arrangements: extra time and rest breaks kept by the server's clock of a timed essay,
spell check off for an assignment (and allowed by an arrangement), read aloud, reading
preferences on every page, the teacher's and the pupil's pages, and who may see what.

The cast (tests/conftest.py): `teacher` teaches 10H, whose pupil is `student`;
`other_teacher` teaches 11E, whose pupil is `outsider`; `head` is head of department.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection
from django.urls import reverse

from classroom.models import AccessArrangement, Submission, SubmissionError
from tests.factories import AssignmentFactory, EssayPromptFactory, SourceFactory, StudentFactory, link_sources
from tests.helpers import hand_in

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
START = dt.datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)  # GMT: 10:00 local is 10:00 UTC


def at(minutes: float) -> dt.datetime:
    """`minutes` of clock time after the pupil pressed Start."""
    return START + dt.timedelta(minutes=minutes)


@pytest.fixture
def timed(school_class):
    """A 60-minute timed essay, due a week later (so the due date never cuts the clock)."""
    prompt = EssayPromptFactory(question="How far did the crisis improve diplomacy?")
    link_sources(prompt, [SourceFactory(label="A", title="Kennedy's address", excerpt="We will not prematurely run.")])
    return AssignmentFactory(
        school_class=school_class,
        prompt=prompt,
        title="Mock: diplomacy",
        time_limit_minutes=60,
        opens_at=START - dt.timedelta(hours=1),
        due_at=START + dt.timedelta(days=7),
    )


def arrange(student, by, **values) -> AccessArrangement:
    arrangement = AccessArrangement.objects.filter(student=student).first() or AccessArrangement(student=student)
    for name, value in values.items():
        setattr(arrangement, name, value)
    arrangement.save_by(by)
    return arrangement


def started(assignment, student) -> Submission:
    with time_machine.travel(START, tick=False):
        return Submission.start(assignment, student)


def save_at(submission: Submission, minutes: float, text: str = "Words") -> Submission:
    with time_machine.travel(at(minutes), tick=False):
        return submission.save_draft(f"{text} at {minutes}", base_revision=submission.revision)


# --- The clock ------------------------------------------------------------------------------


def test_a_25_percent_pupil_saves_at_74_59_and_is_refused_after_75_minutes_and_the_grace(cast, timed):
    arrange(cast["student"], cast["teacher"], extra_time="25")
    submission = started(timed, cast["student"])
    assert submission.time_allowed_seconds == 75 * 60
    assert submission.time_deadline() == at(75)
    save_at(submission, 74 + 59 / 60)
    save_at(submission, 75.5)  # within the 30-second grace (a save sent at zero, arriving late)
    with pytest.raises(SubmissionError, match="Time is up"):
        save_at(submission, 75.5 + 1 / 60)
    submission.refresh_from_db()
    assert submission.text == "Words at 75.5"


def test_a_pupil_without_arrangements_is_refused_after_60_minutes_and_the_grace(cast, timed):
    submission = started(timed, cast["student"])
    assert submission.time_allowed_seconds is None
    assert submission.time_deadline() == at(60)
    save_at(submission, 60.5)
    with pytest.raises(SubmissionError, match="Time is up"):
        save_at(submission, 60.5 + 1 / 60)
    with pytest.raises(SubmissionError, match="Time is up"):
        save_at(submission, 74)


def test_fifty_percent_and_extra_minutes(cast, timed, school_class):
    other = StudentFactory()
    school_class.enrol(other)
    arrange(cast["student"], cast["teacher"], extra_time="50")
    arrange(other, cast["teacher"], extra_time="minutes", extra_minutes=7)
    assert started(timed, cast["student"]).time_deadline() == at(90)
    assert started(timed, other).time_deadline() == at(67)


def test_a_ten_minute_rest_break_moves_the_end_by_ten_minutes(cast, timed):
    arrange(cast["student"], cast["teacher"], rest_break_minutes=15)
    submission = started(timed, cast["student"])
    with time_machine.travel(at(20), tick=False):
        submission.start_break()
        assert submission.on_break()
    with time_machine.travel(at(25), tick=False):
        # During the break the clock is stopped: the end moves on with it.
        assert submission.time_deadline() == at(65)
    with time_machine.travel(at(30), tick=False):
        submission.end_break()
    assert (submission.break_seconds_used, submission.break_started_at) == (600, None)
    assert submission.time_deadline() == at(70)
    save_at(submission, 70.4)
    with pytest.raises(SubmissionError, match="Time is up"):
        save_at(submission, 71)


def test_rest_breaks_beyond_the_limit_are_refused_and_an_overlong_break_restarts_the_clock(cast, timed):
    arrange(cast["student"], cast["teacher"], rest_break_minutes=10)
    submission = started(timed, cast["student"])
    with time_machine.travel(at(10), tick=False):
        submission.start_break()
    # Away for 25 minutes: only 10 of them stop the clock (it ran again from 10 + 10).
    with time_machine.travel(at(35), tick=False):
        assert not submission.on_break()
        assert submission.time_deadline() == at(70)
        submission.end_break()
    assert submission.break_seconds_used == 600
    with time_machine.travel(at(40), tick=False), pytest.raises(SubmissionError, match="used all your rest break time"):
        submission.start_break()
    submission.refresh_from_db()
    assert submission.break_started_at is None
    assert submission.time_deadline() == at(70)


def test_no_rest_break_without_the_arrangement_or_on_an_untimed_essay(cast, timed, school_class):
    submission = started(timed, cast["student"])
    with time_machine.travel(at(5), tick=False), pytest.raises(SubmissionError, match="not part of your arrangements"):
        submission.start_break()
    untimed = AssignmentFactory(school_class=school_class)
    arrange(cast["student"], cast["teacher"], rest_break_minutes=10)
    essay = Submission.start(untimed, cast["student"])
    with pytest.raises(SubmissionError, match="timed essays"):
        essay.start_break()


def test_a_save_during_a_rest_break_is_accepted_and_keeps_the_text(cast, timed):
    arrange(cast["student"], cast["teacher"], rest_break_minutes=10)
    submission = started(timed, cast["student"])
    with time_machine.travel(at(59), tick=False):
        submission.start_break()
    save_at(submission, 65, text="From another tab")  # past 60 (+grace), but the clock is stopped
    submission.refresh_from_db()
    assert submission.text == "From another tab at 65"


def test_hand_in_after_time_is_still_allowed_with_the_saved_text(cast, timed):
    arrange(cast["student"], cast["teacher"], extra_time="25")
    submission = started(timed, cast["student"])
    save_at(submission, 70)
    with time_machine.travel(at(90), tick=False):
        submission.submit(by=cast["student"])
    assert (submission.state, submission.text, submission.is_late) == ("submitted", "Words at 70", False)


def test_a_changed_arrangement_moves_the_clock_of_open_timed_essays_only(cast, timed, school_class):
    submission = started(timed, cast["student"])
    handed_in = hand_in(AssignmentFactory(school_class=school_class, time_limit_minutes=30), cast["student"])
    arrange(cast["student"], cast["teacher"], extra_time="25", rest_break_minutes=5)
    submission.refresh_from_db()
    handed_in.refresh_from_db()
    assert (submission.time_allowed_seconds, submission.break_allowance_seconds) == (4500, 300)
    assert submission.time_deadline() == at(75)
    assert (handed_in.time_allowed_seconds, handed_in.break_allowance_seconds) == (None, 0)
    arrange(cast["student"], cast["head"], extra_time="")
    submission.refresh_from_db()
    assert submission.time_deadline() == at(60)


def test_the_due_date_still_caps_the_clock(cast, timed):
    timed.due_at = at(70)
    timed.save(update_fields=["due_at"])
    arrange(cast["student"], cast["teacher"], extra_time="25")
    assert started(timed, cast["student"]).time_deadline() == at(70)


def test_autosave_needs_no_extra_query_for_the_pupils_own_end_time(client, cast, timed, django_assert_num_queries):
    arrange(cast["student"], cast["teacher"], extra_time="25", rest_break_minutes=10)
    client.force_login(cast["student"])
    url = reverse("classroom:autosave", args=[timed.pk])
    with time_machine.travel(START, tick=False):
        client.post(reverse("classroom:write", args=[timed.pk]), {"start": "1"})
    with time_machine.travel(at(5), tick=False):
        Submission.objects.get().start_break()
    # Session, user, the essay with its assignment, extension and last kept revision; then on
    # PostgreSQL one statement (update + revision kept), elsewhere savepoint, update, re-read,
    # last revision's text, new revision, release. Nothing for the arrangement or the break.
    expected = 4 if connection.vendor == "postgresql" else 9
    with time_machine.travel(at(74), tick=False), django_assert_num_queries(expected):
        response = client.post(url, {"text": "Late in my extra time", "base_revision": 0})
    assert response.status_code == 200


# --- The writing page -----------------------------------------------------------------------


def _page(client, assignment) -> str:
    return client.get(reverse("classroom:write", args=[assignment.pk])).content.decode()


def test_the_writing_page_says_the_pupils_own_end_time_in_words(client, cast, timed):
    arrange(cast["student"], cast["teacher"], extra_time="25", rest_break_minutes=10)
    client.force_login(cast["student"])
    with time_machine.travel(at(-5), tick=False):
        html = _page(client, timed)
        assert "60 minutes and your 25 % extra time from when you start" in html
    with time_machine.travel(START, tick=False):
        client.post(reverse("classroom:write", args=[timed.pk]), {"start": "1"})
    with time_machine.travel(at(1), tick=False):
        html = _page(client, timed)
    assert "You have 25 % extra time: this essay closes at 11:15." in html
    assert 'data-deadline="2026-11-23T11:15:00+00:00"' in html
    assert "Take a rest break" in html
    assert "10 minutes left" in html


def test_no_arrangement_no_extra_words_and_no_break_button(client, cast, timed):
    client.force_login(cast["student"])
    with time_machine.travel(START, tick=False):
        client.post(reverse("classroom:write", args=[timed.pk]), {"start": "1"})
        html = _page(client, timed)
    assert "extra time" not in html
    assert "Take a rest break" not in html
    assert 'data-deadline="2026-11-23T11:00:00+00:00"' in html


def test_a_rest_break_without_javascript_saves_the_text_hides_the_essay_and_carry_on_ends_it(client, cast, timed):
    arrange(cast["student"], cast["teacher"], rest_break_minutes=10)
    client.force_login(cast["student"])
    url = reverse("classroom:rest_break", args=[timed.pk])
    with time_machine.travel(START, tick=False):
        client.post(reverse("classroom:write", args=[timed.pk]), {"start": "1"})
    with time_machine.travel(at(20), tick=False):
        response = client.post(url, {"text": "Typed before the break", "base_revision": "0", "action": "start"})
        assert response.status_code == 302
        html = _page(client, timed)
    submission = Submission.objects.get()
    assert (submission.text, submission.break_started_at) == ("Typed before the break", at(20))
    assert "You are on a rest break" in html
    assert "Carry on writing" in html
    assert 'name="text"' not in html  # the essay is hidden
    assert "Kennedy&#x27;s address" not in html  # and the sources
    assert 'id="countdown"' not in html  # and the clock stopped
    with time_machine.travel(at(24), tick=False):
        client.post(url, {"action": "end"})
        html = _page(client, timed)
    submission.refresh_from_db()
    assert (submission.break_seconds_used, submission.break_started_at) == (240, None)
    assert "Typed before the break" in html
    assert "Kennedy&#x27;s address" in html
    assert "6 minutes left (4 used)" in html
    assert 'data-deadline="2026-11-23T11:04:00+00:00"' in html


def test_a_rest_break_that_ran_out_by_itself_counts_as_used_on_the_page(client, cast, timed):
    arrange(cast["student"], cast["teacher"], rest_break_minutes=10)
    client.force_login(cast["student"])
    with time_machine.travel(START, tick=False):
        client.post(reverse("classroom:write", args=[timed.pk]), {"start": "1"})
    with time_machine.travel(at(5), tick=False):
        client.post(reverse("classroom:rest_break", args=[timed.pk]), {"action": "start"})
    with time_machine.travel(at(30), tick=False):
        html = _page(client, timed)
    assert "You are on a rest break" not in html
    assert "0 minutes left (10 used)" in html
    assert 'data-deadline="2026-11-23T11:10:00+00:00"' in html


def test_a_rest_break_whose_save_conflicts_keeps_the_text_and_does_not_start(client, cast, timed):
    arrange(cast["student"], cast["teacher"], rest_break_minutes=10)
    client.force_login(cast["student"])
    with time_machine.travel(START, tick=False):
        submission = Submission.start(timed, cast["student"])
        submission.save_draft("Saved in another tab", base_revision=0)
    with time_machine.travel(at(20), tick=False):
        response = client.post(
            reverse("classroom:rest_break", args=[timed.pk]),
            {"text": "This tab's words", "base_revision": "0", "action": "start"},
        )
    assert response.status_code == 409
    assert "This tab&#x27;s words" in response.content.decode()
    submission.refresh_from_db()
    assert (submission.text, submission.break_started_at) == ("Saved in another tab", None)


def test_a_refused_rest_break_says_why_and_changes_nothing(client, cast, timed):
    arrange(cast["student"], cast["teacher"], rest_break_minutes=1)
    client.force_login(cast["student"])
    url = reverse("classroom:rest_break", args=[timed.pk])
    with time_machine.travel(START, tick=False):
        client.post(reverse("classroom:write", args=[timed.pk]), {"start": "1"})
    with time_machine.travel(at(5), tick=False):
        client.post(url, {"action": "start"})
    with time_machine.travel(at(10), tick=False):
        client.post(url, {"action": "end"})
        response = client.post(url, {"action": "start"})
    assert "used all your rest break time (1 minute)" in str(list(get_messages(response.wsgi_request))[-1])
    assert Submission.objects.get().break_started_at is None


def test_rest_break_before_starting_is_refused_with_a_message(client, cast, timed):
    client.force_login(cast["student"])
    response = client.post(reverse("classroom:rest_break", args=[timed.pk]), {"action": "start"})
    assert response.status_code == 302
    assert not Submission.objects.exists()


# --- Spell check ----------------------------------------------------------------------------


def _essay_box(html: str) -> str:
    found = re.search(r"<textarea name=\"text\"[^>]*>", html)
    assert found is not None
    return found.group(0)


def test_spell_check_off_for_an_assignment_and_allowed_by_an_arrangement(client, cast, school_class):
    assignment = AssignmentFactory(school_class=school_class, spell_check_off=True)
    client.force_login(cast["student"])
    box = _essay_box(_page(client, assignment))
    # autocorrect (Safari's own attribute, not valid HTML) is set by static/js/essay.js.
    for attribute in ('spellcheck="false"', "data-autocorrect-off", 'autocapitalize="off"', 'autocomplete="off"'):
        assert attribute in box
    arrange(cast["student"], cast["teacher"], spell_check=True)
    box = _essay_box(_page(client, assignment))
    assert 'spellcheck="true"' in box
    assert "autocorrect" not in box


def test_spell_check_stays_on_by_default(client, cast, school_class):
    client.force_login(cast["student"])
    assert 'spellcheck="true"' in _essay_box(_page(client, AssignmentFactory(school_class=school_class)))


def test_the_marker_is_told_when_spelling_was_checked(client, cast, school_class):
    assignment = AssignmentFactory(school_class=school_class, spell_check_off=True)
    plain = AssignmentFactory(school_class=school_class, spell_check_off=False)
    arrange(cast["student"], cast["teacher"], spell_check=True)
    checked = hand_in(assignment, cast["student"])
    unflagged = hand_in(plain, cast["student"])
    assert (checked.spell_checked, unflagged.spell_checked) == (True, False)
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:mark_submission", args=[checked.pk])).content.decode()
    assert "Spelling checked" in html
    html = client.get(reverse("classroom:mark_submission", args=[unflagged.pk])).content.decode()
    assert "Spelling checked" not in html


def test_the_assignment_form_sets_spell_check_off(client, cast, school_class):
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:assignment_create", args=[school_class.pk])).content.decode()
    assert 'name="spell_check_off"' in html


# --- Read aloud -----------------------------------------------------------------------------


def test_read_aloud_for_a_reader_or_by_the_pupils_own_choice(client, cast, timed, school_class):
    assignment = AssignmentFactory(school_class=school_class, prompt=timed.prompt)
    client.force_login(cast["student"])
    html = _page(client, assignment)
    assert "readaloud.js" not in html
    assert "data-read-aloud" not in html
    arrange(cast["student"], cast["teacher"], reader=True)
    html = _page(client, assignment)
    assert "readaloud.js" in html
    assert 'data-read-aloud="sources-text" hidden' in html
    assert 'data-read-aloud="id_text" hidden' in html
    arrange(cast["student"], cast["teacher"], reader=False)
    cast["student"].read_aloud = True
    cast["student"].save(update_fields=["read_aloud"])
    assert "readaloud.js" in _page(client, assignment)


# --- Reading preferences --------------------------------------------------------------------


def test_reading_preferences_apply_on_every_page_as_classes_on_html(client, cast):
    client.force_login(cast["student"])
    url = reverse("classroom:reading_settings")
    response = client.post(url, {"text_size": "large", "line_spacing": "wider", "tint": "cream", "readable_font": "on"})
    assert response.status_code == 302
    for page in (reverse("home"), reverse("classroom:my_progress"), url):
        html = client.get(page).content.decode()
        assert '<html lang="en-GB" class="rp-text-large rp-spacing-wider rp-tint-cream rp-font-plain">' in html
    client.post(url, {"text_size": "", "line_spacing": "", "tint": ""})
    assert '<html lang="en-GB">' in client.get(reverse("home")).content.decode()


def test_bad_reading_preferences_are_refused_and_nothing_changes(client, cast):
    client.force_login(cast["student"])
    response = client.post(reverse("classroom:reading_settings"), {"text_size": "enormous", "tint": "cream"})
    assert response.status_code == 400
    cast["student"].refresh_from_db()
    assert (cast["student"].text_size, cast["student"].tint) == ("", "")


def test_reading_classes_cost_no_extra_query(client, cast, django_assert_num_queries):
    client.force_login(cast["student"])
    url = reverse("classroom:reading_settings")
    with django_assert_num_queries(3):  # session, user, the pupil's arrangement
        client.get(url)
    client.post(url, {"text_size": "larger", "tint": "blue"})
    with django_assert_num_queries(3):
        assert "rp-tint-blue" in client.get(url).content.decode()


def test_a_pupil_sees_their_own_arrangements_and_no_one_elses(client, cast):
    arrange(cast["student"], cast["teacher"], extra_time="25", rest_break_minutes=10)
    arrange(cast["outsider"], cast["other_teacher"], reader=True)
    client.force_login(cast["student"])
    html = client.get(reverse("classroom:reading_settings")).content.decode()
    assert "25 % extra time" in html
    assert "Rest breaks of up to 10 minutes per essay" in html
    assert "Set by Tess Teacher" in html
    assert "Computer reader" not in html
    client.force_login(cast["outsider"])
    html = client.get(reverse("classroom:reading_settings")).content.decode()
    assert "Computer reader (read aloud)" in html
    assert "extra time" not in html


# --- The teacher's pages --------------------------------------------------------------------


def _edit_url(school_class, student) -> str:
    return reverse("classroom:arrangement_edit", args=[school_class.pk, student.pk])


ARRANGEMENT_POST = {
    "extra_time": "minutes",
    "extra_minutes": "10",
    "rest_break_minutes": "5",
    "spell_check": "on",
    "notes": "Sits near the door",
    "reading-text_size": "large",
    "reading-tint": "green",
}


def test_a_teacher_sets_arrangements_and_reading_preferences_and_who_and_when_is_kept(client, cast, school_class):
    client.force_login(cast["teacher"])
    when = dt.datetime(2026, 11, 20, 9, 30, tzinfo=LONDON)
    with time_machine.travel(when, tick=False):
        response = client.post(_edit_url(school_class, cast["student"]), ARRANGEMENT_POST)
    assert response.url == reverse("classroom:class_arrangements", args=[school_class.pk])
    arrangement = AccessArrangement.objects.get(student=cast["student"])
    assert (arrangement.extra_time, arrangement.extra_minutes, arrangement.rest_break_minutes) == ("minutes", 10, 5)
    assert (arrangement.spell_check, arrangement.reader, arrangement.notes) == (True, False, "Sits near the door")
    assert (arrangement.updated_by, arrangement.updated_at) == (cast["teacher"], when)
    cast["student"].refresh_from_db()
    assert (cast["student"].text_size, cast["student"].tint) == ("large", "green")
    html = client.get(_edit_url(school_class, cast["student"])).content.decode()
    assert "Last changed 20 November 2026, 09:30 by Tess Teacher." in html
    html = client.get(reverse("classroom:class_arrangements", args=[school_class.pk])).content.decode()
    assert "10 extra minutes; rest breaks of up to 5 minutes per essay; word processor with spell check" in html
    assert "Sits near the door" in html


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"extra_minutes": "0"}, "Give the extra minutes"),
        ({"extra_minutes": "999"}, "Give the extra minutes"),
        ({"extra_minutes": "ten"}, "Enter a whole number"),
        ({"rest_break_minutes": "500"}, "at most 120 minutes"),
        ({"extra_time": "75"}, "Select a valid choice"),
        ({"reading-tint": "purple"}, "Select a valid choice"),
    ],
)
def test_bad_arrangements_are_refused_with_a_message_and_nothing_changes(client, cast, school_class, change, error):
    client.force_login(cast["teacher"])
    response = client.post(_edit_url(school_class, cast["student"]), {**ARRANGEMENT_POST, **change})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not AccessArrangement.objects.exists()
    cast["student"].refresh_from_db()
    assert cast["student"].tint == ""


def test_the_class_page_links_each_pupil_to_their_arrangements(client, cast, school_class):
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:class_detail", args=[school_class.pk])).content.decode()
    assert _edit_url(school_class, cast["student"]) in html
    assert reverse("classroom:class_arrangements", args=[school_class.pk]) in html


def test_a_pupil_not_now_in_the_class_is_404_even_to_its_teacher(client, cast, school_class, other_class):
    client.force_login(cast["teacher"])
    assert client.get(_edit_url(school_class, cast["outsider"])).status_code == 404
    school_class.enrolments.get(student=cast["student"]).remove()
    assert client.get(_edit_url(school_class, cast["student"])).status_code == 404
    client.force_login(cast["head"])  # the head too: the page is the class's
    assert client.get(_edit_url(other_class, cast["student"])).status_code == 404


@pytest.mark.parametrize("pupils", [1, 8])
def test_class_arrangements_query_budget(client, cast, school_class, django_assert_num_queries, pupils):
    for number in range(pupils):
        pupil = StudentFactory()
        school_class.enrol(pupil)
        if number % 2:
            arrange(pupil, cast["teacher"], extra_time="25", notes="Near the door")
    client.force_login(cast["teacher"])
    # session, user, class, pupils with their arrangements and who changed them (one join)
    with django_assert_num_queries(4):
        response = client.get(reverse("classroom:class_arrangements", args=[school_class.pk]))
    assert response.content.decode().count("Change<span") == pupils + 1


# --- Access ---------------------------------------------------------------------------------

# (who, class arrangements list, a pupil's arrangements page): anonymous goes to log in
TEACHER_PAGES = [
    ("anonymous", 302),
    ("student", 403),
    ("outsider", 403),
    ("teacher", 200),
    ("other_teacher", 404),
    ("head", 200),
]


def _as(client, cast, who):
    if who != "anonymous":
        client.force_login(cast[who])


@pytest.mark.parametrize(("who", "status"), TEACHER_PAGES)
def test_access_to_the_class_arrangements_list(client, cast, school_class, who, status):
    _as(client, cast, who)
    response = client.get(reverse("classroom:class_arrangements", args=[school_class.pk]))
    assert response.status_code == status
    if status == 302:
        assert response.url.startswith(reverse("login"))
    if status == 200:
        assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(("who", "status"), TEACHER_PAGES)
def test_access_to_a_pupils_arrangements_page_and_its_post(client, cast, school_class, who, status):
    _as(client, cast, who)
    url = _edit_url(school_class, cast["student"])
    assert client.get(url).status_code == status
    response = client.post(url, ARRANGEMENT_POST)
    assert response.status_code == (302 if status == 200 else status)
    assert AccessArrangement.objects.exists() is (status == 200)


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("student", 200), ("outsider", 200), ("teacher", 200), ("other_teacher", 200), ("head", 200)],
)
def test_access_to_reading_settings_everyone_signed_in_their_own(client, cast, who, status):
    _as(client, cast, who)
    response = client.get(reverse("classroom:reading_settings"))
    assert response.status_code == status
    if status == 200:
        assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("student", 302), ("outsider", 404), ("teacher", 403), ("other_teacher", 403), ("head", 403)],
)
def test_access_to_the_rest_break(client, cast, timed, who, status):
    arrange(cast["student"], cast["teacher"], rest_break_minutes=10)
    arrange(cast["outsider"], cast["other_teacher"], rest_break_minutes=10)
    started(timed, cast["student"])
    _as(client, cast, who)
    with time_machine.travel(at(5), tick=False):
        response = client.post(reverse("classroom:rest_break", args=[timed.pk]), {"action": "start"})
    assert response.status_code == status
    assert (Submission.objects.get().break_started_at is not None) is (who == "student")
    if who == "anonymous":
        assert response.url.startswith(reverse("login"))
    assert client.get(reverse("classroom:rest_break", args=[timed.pk])).status_code in (302, 403, 404, 405)


def test_first_arrangements_saved_twice_at_once_update_the_one_row(cast):
    # Two teachers open the pupil's empty form together; the second to save replaces the first.
    student, teacher = cast["student"], cast["teacher"]
    AccessArrangement(student=student, extra_time=AccessArrangement.ExtraTime.QUARTER).save_by(teacher)
    late = AccessArrangement(student=student, extra_time=AccessArrangement.ExtraTime.HALF, reader=True)
    late.save_by(cast["head"])
    saved = AccessArrangement.objects.get(student=student)
    assert AccessArrangement.objects.filter(student=student).count() == 1
    assert (saved.extra_time, saved.reader) == (AccessArrangement.ExtraTime.HALF, True)

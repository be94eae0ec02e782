"""The writing-process record: what the autosave brings in (and what it leaves out), its cost
on the autosave, the summary and its sessions, the replay, and who may read the record.
In a browser: tests/e2e/test_writing_process_browser.py."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from classroom import writing_process
from classroom.models import Submission, SubmissionRevision, WritingEvent, count_words
from classroom.writing_process import MAX_EVENTS, MAX_PROCESS_CHARS, MAX_ROWS, replay_frames, summarise
from tests.factories import AssignmentFactory, StudentFactory
from tests.helpers import draft, hand_in

pytestmark = pytest.mark.django_db

SESSION = "a1b2c3d4e5f6a7b8"
SECRET = "TEXT-FROM-THE-CLIPBOARD-THAT-MUST-NOT-BE-STORED"


@pytest.fixture
def assignment(school_class):
    return AssignmentFactory(school_class=school_class, title="Diplomacy essay")


@pytest.fixture
def timed(school_class):
    return AssignmentFactory(school_class=school_class, title="Timed essay", time_limit_minutes=45)


@pytest.fixture
def pupil(client, student):
    client.force_login(student)
    return client


def batch(seq=1, active=30, start=1_000, end=31_000, events=()):
    return {"seq": seq, "active": active, "from": start, "to": end, "events": list(events)}


def process(*batches, now=60_000, session=SESSION) -> str:
    return json.dumps({"session": session, "now": now, "batches": list(batches)})


def autosave(client, assignment, text, base=None, process_field=None):
    if base is None:
        found = Submission.objects.filter(assignment=assignment).first()
        base = found.revision if found else 0
    data = {"text": text, "base_revision": base}
    if process_field is not None:
        data["process"] = process_field
    return client.post(reverse("classroom:autosave", args=[assignment.pk]), data, HTTP_ACCEPT="application/json")


PASTE_400 = {"kind": "paste", "t": 20_000, "position": 12, "length": 400, "origin": "", "text": SECRET}
QUOTE_90 = {"kind": "paste", "t": 25_000, "position": 412, "length": 90, "origin": "sources"}
INSERT_80 = {"kind": "insertion", "t": 27_000, "position": 502, "length": 80}
AWAY = {"kind": "focus", "t": 40_000, "until": 52_000}


# --- from the autosave into the summary ----------------------------------------------------


def test_pastes_insertions_and_time_away_go_from_an_autosave_into_the_summary(pupil, timed):
    response = autosave(
        pupil, timed, "An essay.", process_field=process(batch(events=[PASTE_400, QUOTE_90, INSERT_80, AWAY]))
    )
    assert response.status_code == 200
    assert response.json()["process"] == [1]
    submission = Submission.objects.get(assignment=timed)
    assert submission.text == "An essay."
    summary = writing_process.summary_for(submission)
    assert len(summary.sessions) == 1
    assert summary.active_seconds == 30
    assert [p.length for p in summary.pastes] == [400, 90]
    assert summary.largest_paste == 400
    assert summary.quoted == 1
    assert [(e.position, e.length) for e in summary.insertions] == [(502, 80)]
    assert [writing_process.seconds_between(e.at, e.until) for e in summary.focus_lost] == [12]
    assert summary.sentence == (
        "Written over 1 session, less than a minute active; 2 pastes, the largest 400 characters "
        "(1 quoted from the sources); 1 large insertion; left the page once (less than a minute in all)."
    )


def test_event_times_come_from_the_servers_clock_not_the_pupils(pupil, assignment):
    before = timezone.now()
    # The page has been open 10 minutes; the paste was 4 minutes before this save.
    autosave(pupil, assignment, "Text.", process_field=process(batch(events=[dict(PASTE_400, t=360_000)]), now=600_000))
    paste = WritingEvent.objects.get(kind="paste")
    assert (
        before - datetime.timedelta(minutes=4, seconds=1) <= paste.at <= timezone.now() - datetime.timedelta(minutes=4)
    )


def test_time_away_is_recorded_only_in_a_timed_essay(pupil, assignment):
    autosave(pupil, assignment, "Text.", process_field=process(batch(events=[AWAY])))
    assert not WritingEvent.objects.filter(kind="focus").exists()
    assert WritingEvent.objects.filter(kind="writing").count() == 1


def test_no_pasted_text_is_stored_anywhere(pupil, timed):
    autosave(pupil, timed, "Only the essay.", process_field=process(batch(events=[PASTE_400])))
    assert WritingEvent.objects.count() == 2
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (table names from the database itself)
            assert SECRET not in repr(cursor.fetchall()), table


def test_a_batch_sent_again_is_recorded_once(pupil, assignment):
    first = process(batch(seq=1, events=[PASTE_400]))
    autosave(pupil, assignment, "One.", process_field=first)
    # The answer was lost: the page sends batch 1 again, with batch 2.
    again = process(batch(seq=1, events=[PASTE_400]), batch(seq=2, start=40_000, end=50_000, events=[QUOTE_90]))
    response = autosave(pupil, assignment, "One. Two.", process_field=again)
    assert response.json()["process"] == [1, 2]
    assert sorted(WritingEvent.objects.filter(kind="paste").values_list("length", flat=True)) == [90, 400]
    assert WritingEvent.objects.filter(kind="writing").count() == 2


def test_a_save_that_is_refused_records_nothing_and_acknowledges_nothing(pupil, assignment):
    autosave(pupil, assignment, "One.")
    response = autosave(pupil, assignment, "Other tab.", base=0, process_field=process(batch(events=[PASTE_400])))
    assert response.status_code == 409
    assert "process" not in response.json()
    assert not WritingEvent.objects.exists()


def test_a_save_without_javascript_records_nothing(pupil, assignment):
    url = reverse("classroom:write", args=[assignment.pk])
    response = pupil.post(url, {"text": "Written without JavaScript.", "base_revision": 0, "save": "1"})
    assert response.status_code == 302
    assert Submission.objects.get(assignment=assignment).text == "Written without JavaScript."
    assert not WritingEvent.objects.exists()


# --- bounds: process data never costs the text ---------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        "not json",
        "[]",
        json.dumps({"session": "short", "now": 1000, "batches": [batch()]}),  # session id too short
        json.dumps({"session": "bad id with spaces!", "now": 1000, "batches": [batch()]}),
        json.dumps({"session": SESSION, "now": "soon", "batches": [batch()]}),
        json.dumps({"session": SESSION, "now": 1000, "batches": "many"}),
        "x" * (MAX_PROCESS_CHARS + 1),
    ],
)
def test_malformed_or_oversized_process_data_is_dropped_and_the_text_saved(pupil, assignment, field):
    response = autosave(pupil, assignment, "My essay survives.", process_field=field)
    assert response.status_code == 200
    assert response.json()["process"] == []
    assert Submission.objects.get(assignment=assignment).text == "My essay survives."
    assert not WritingEvent.objects.exists()


def test_bad_events_are_left_out_and_numbers_cut_to_their_bounds(pupil, timed):
    events = [
        "a string",
        {"kind": "keystroke", "t": 1000, "key": "a"},
        {"kind": "paste", "t": "when?", "length": 10},
        {"kind": "paste", "t": 2000, "length": 0},
        {"kind": "paste", "t": 3000, "length": 10**12, "position": -5, "origin": "the web"},
        {"kind": "insertion", "t": 4000, "length": 3},  # too small to be a large insertion
        {"kind": "focus", "t": 5000, "until": 4000},  # ends before it starts
        {"kind": "paste", "t": 10**15, "length": 5},  # later than "now": taken as now
    ]
    response = autosave(pupil, timed, "Kept.", process_field=process(batch(active=10**9, events=events)))
    assert response.json()["process"] == [1]
    rows = list(WritingEvent.objects.order_by("index"))
    assert [row.kind for row in rows] == ["writing", "paste", "paste"]
    writing, huge, late = rows
    assert writing.active_seconds == 31  # no more than the 30 seconds the batch spans, + rounding
    assert (huge.length, huge.position, huge.origin) == (100_000, 0, "")
    assert late.at == writing.at + datetime.timedelta(seconds=59)  # the page's "now" (60 s after its 1 s)


def test_too_many_events_and_batches_are_cut(pupil, assignment):
    many = [{"kind": "paste", "t": 1000 + i, "length": 5, "position": i} for i in range(MAX_EVENTS + 20)]
    response = autosave(pupil, assignment, "Kept.", process_field=process(batch(seq=1, events=many)))
    assert response.json()["process"] == [1]
    assert WritingEvent.objects.filter(kind="paste").count() == MAX_EVENTS
    # Ten batches of 40 events: only as many whole batches as one INSERT takes; the rest wait.
    batches = [batch(seq=n, events=many[:40]) for n in range(2, 12)]
    response = autosave(pupil, assignment, "Kept again.", process_field=process(*batches))
    taken = response.json()["process"]
    assert taken == [2]  # 41 rows; a second batch would pass MAX_ROWS
    assert WritingEvent.objects.count() <= 1 + MAX_EVENTS + MAX_ROWS
    assert Submission.objects.get(assignment=assignment).text == "Kept again."


# --- cost on the autosave ------------------------------------------------------------------


def test_a_save_with_events_costs_one_insert_and_one_without_costs_nothing(pupil, assignment):
    autosave(pupil, assignment, "Warm up: the first save makes the essay and its first version.")

    def queries(text, field=None):
        with CaptureQueriesContext(connection) as captured:
            assert autosave(pupil, assignment, text, process_field=field).status_code == 200
        return [query["sql"] for query in captured.captured_queries]

    plain = queries("Second save.")
    nothing = queries("Third save.", process())  # a field with no batches: nothing to record
    empty = queries("Fourth save.", "")
    with_events = queries("Fifth save.", process(batch(events=[PASTE_400, QUOTE_90])))
    assert len(nothing) == len(plain) and len(empty) == len(plain)
    extra = [sql for sql in with_events if "classroom_writingevent" in sql]
    assert len(extra) == 1 and "INSERT" in extra[0]
    if connection.vendor == "postgresql":  # the INSERT rides in the save's one statement
        assert len(with_events) == len(plain)
        assert extra[0].startswith("WITH saved AS (UPDATE")
    else:
        assert len(with_events) == len(plain) + 1
        assert extra[0].startswith("INSERT")
    assert not any("classroom_writingevent" in sql for sql in plain + nothing + empty)


# --- sessions and the summary --------------------------------------------------------------


def _event(kind, at, session=SESSION, batch_no=1, index=0, **values):
    return WritingEvent(kind=kind, at=at, session=session, batch=batch_no, index=index, **values)


def test_a_new_page_or_a_long_pause_starts_a_new_session():
    start = timezone.now() - datetime.timedelta(days=1)
    minutes = datetime.timedelta(minutes=1)
    events = [
        _event("writing", start, until=start + 10 * minutes, active_seconds=500),
        _event("writing", start + 39 * minutes, until=start + 45 * minutes, active_seconds=300),  # 29 min: same
        _event("writing", start + 80 * minutes, until=start + 90 * minutes, active_seconds=400),  # 35 min: new
        _event("writing", start + 91 * minutes, session="another-page-1", active_seconds=60),  # another page
        _event("paste", start + 85 * minutes, length=212),
        _event("paste", start + 86 * minutes, length=300, origin="essay", index=1),
    ]
    summary = summarise(events, timed=False)
    assert [session.active_seconds for session in summary.sessions] == [800, 400, 60]
    assert [len(session.events) for session in summary.sessions] == [0, 2, 0]
    assert summary.sentence == (
        "Written over 3 sessions, 21 min active; 2 pastes, the largest 300 characters (1 moved within the essay)."
    )


def test_the_summary_of_an_essay_with_no_record_says_so():
    summary = summarise([], timed=True)
    assert not summary.recorded
    assert summary.sentence.startswith("No writing record")


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0, "less than a minute"), (59, "less than a minute"), (2700, "45 min"), (7800, "2 h 10 min"), (7200, "2 h")],
)
def test_durations_in_words(seconds, words):
    assert writing_process.duration(seconds) == words


# --- the replay ----------------------------------------------------------------------------


def test_the_replays_last_frame_is_every_demo_essays_text_exactly(settings):
    settings.DEBUG = True
    call_command("load_unit")
    call_command("seed_demo")
    essays = list(Submission.objects.exclude(state=Submission.State.NOT_STARTED).prefetch_related("revisions"))
    assert len(essays) > 20
    for essay in essays:
        revisions = sorted(essay.revisions.all(), key=lambda r: (r.created_at, r.pk))
        frames = replay_frames(essay, revisions)
        assert frames[-1].text == essay.text, essay.pk
        assert frames[-1].words == essay.word_count
    # The demo's essays come with a writing record too, made through the same save.
    summaries = [writing_process.summary_for(essay) for essay in essays]
    assert all(len(summary.sessions) == 2 for summary in summaries)
    assert any(summary.quoted for summary in summaries)


def test_the_essay_now_is_the_last_frame_when_the_newest_version_differs(student, assignment):
    essay = draft(assignment, student, "First words.\r\nWith a Windows line break, and – dashes.")
    # A second save within the minute keeps no new version: the text now is added as the last frame.
    essay.save_draft("First words.\r\nWith more\u00a0words and a tab\there.", essay.revision)
    revisions = list(essay.revisions.order_by("created_at", "pk"))
    frames = replay_frames(essay, revisions)
    assert [f.text for f in frames] == [revisions[0].text, essay.text]
    assert frames[-1].label == "The essay now"


def test_the_replay_is_cut_to_its_most_frames_keeping_the_first_and_last(student, assignment):
    essay = draft(assignment, student, "v0")
    start = timezone.now() - datetime.timedelta(days=2)
    SubmissionRevision.objects.bulk_create(
        SubmissionRevision(
            submission=essay,
            text=f"v{n}",
            word_count=1,
            revision=n,
            reason="autosave",
            created_at=start + datetime.timedelta(minutes=n),
        )
        for n in range(1, writing_process.MAX_FRAMES + 50)
    )
    essay.save_draft("the end", essay.revision)
    frames = replay_frames(essay, list(essay.revisions.order_by("created_at", "pk")))
    assert len(frames) == writing_process.MAX_FRAMES
    assert frames[0].text == "v1" and frames[-1].text == "the end"


def test_the_record_page_passes_the_frames_with_the_exact_text(pupil, student, assignment):
    text = 'A <b>tag</b> & "quotes"\r\nand </script> in it.'
    essay = draft(assignment, student, text)
    response = pupil.get(reverse("classroom:writing_record", args=[essay.pk]))
    frames = json.loads(
        response.content.decode().split('id="replay-frames" type="application/json">')[1].split("</script>")[0]
    )
    assert frames[-1]["text"] == text
    assert frames[-1]["words"] == count_words(text)


# --- who may read it -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["writing_record", "writing_record_print"])
@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("anonymous", 302),
        ("student", 200),
        ("classmate", 404),
        ("outsider", 404),
        ("teacher", 200),
        ("co", 200),
        ("other_teacher", 404),
        ("stranger", 404),
        ("head", 200),
    ],
)
def test_who_may_read_a_writing_record(cast, school_class, co, stranger, assignment, name, actor, status):
    essay = hand_in(assignment, cast["student"])
    people = {**cast, "co": co, "stranger": stranger, "classmate": StudentFactory()}
    school_class.enrolments.create(student=people["classmate"])
    client = Client()
    if actor != "anonymous":
        client.force_login(people[actor])
    response = client.get(reverse(f"classroom:{name}", args=[essay.pk]))
    assert response.status_code == status
    if status == 302:
        assert "/accounts/login/" in response["Location"]
    if status == 200:
        assert "no-store" in response["Cache-Control"]


def test_an_account_with_no_role_here_is_refused(cast, assignment, django_user_model):
    from django.core.exceptions import PermissionDenied

    from classroom.permissions import submission_for_process_record

    essay = hand_in(assignment, cast["student"])
    nobody = django_user_model.objects.create(username="nobody", role="")
    with pytest.raises(PermissionDenied):
        submission_for_process_record(nobody, essay.pk)


def test_the_record_hides_the_name_while_names_are_hidden(client, cast, school_class):
    anonymous = AssignmentFactory(school_class=school_class, anonymous_marking=True, title="Blind essay")
    essay = hand_in(anonymous, cast["student"])
    client.force_login(cast["teacher"])
    for name in ("writing_record", "writing_record_print"):
        page = client.get(reverse(f"classroom:{name}", args=[essay.pk])).content.decode()
        assert "Sam" not in page and "Student" not in page.replace("Student's", "")
        assert essay.marking_label in page
    anonymous.reveal_names(by=cast["teacher"])
    page = client.get(reverse("classroom:writing_record", args=[essay.pk])).content.decode()
    assert "Sam Student" in page


def test_the_marking_page_has_the_summary_line_and_the_link(client, teacher, essay):
    WritingEvent.objects.create(
        submission=essay, session=SESSION, batch=1, index=0, kind="paste", at=timezone.now(), length=212, position=0
    )
    client.force_login(teacher)
    page = client.get(reverse("classroom:mark_submission", args=[essay.pk])).content.decode()
    assert "1 paste, the largest 212 characters" in page
    assert reverse("classroom:writing_record", args=[essay.pk]) in page


def test_the_writing_page_says_what_is_recorded_and_links_to_the_record(pupil, student, assignment):
    url = reverse("classroom:write", args=[assignment.pk])
    page = pupil.get(url).content.decode()
    assert "What is recorded while you write" in page
    assert "not what it says" in page
    essay = draft(assignment, student, "Some words.")
    assert reverse("classroom:writing_record", args=[essay.pk]) in pupil.get(url).content.decode()


@pytest.mark.parametrize("size", [1, 4])
def test_record_page_query_budget(client, cast, assignment, django_assert_num_queries, size):
    essay = draft(assignment, cast["student"], "Start.")
    now = timezone.now()
    WritingEvent.objects.bulk_create(
        WritingEvent(
            submission=essay,
            session=f"page-{n:04d}x",
            batch=1,
            index=0,
            kind="paste",
            at=now - datetime.timedelta(hours=n),
            length=10 * n,
        )
        for n in range(size * 10)
    )
    SubmissionRevision.objects.bulk_create(
        SubmissionRevision(
            submission=essay,
            text="x" * n,
            word_count=1,
            revision=n,
            reason="autosave",
            created_at=now - datetime.timedelta(hours=n),
        )
        for n in range(1, size * 10)
    )
    client.force_login(cast["teacher"])
    # session, user, the essay with its assignment, class and pupil, its events, its versions,
    # the access log's row (a teacher read the pupil's record)
    with django_assert_num_queries(6):
        assert client.get(reverse("classroom:writing_record", args=[essay.pk])).status_code == 200
    with django_assert_num_queries(6):
        assert client.get(reverse("classroom:writing_record_print", args=[essay.pk])).status_code == 200


def test_time_away_counts_only_in_a_timed_essay_and_adds_up():
    start = timezone.now() - datetime.timedelta(hours=1)
    minutes = datetime.timedelta(minutes=1)
    events = [
        _event("writing", start, until=start + 40 * minutes, active_seconds=1800),
        _event("focus", start + 5 * minutes, until=start + 7 * minutes, index=1),
        _event("focus", start + 20 * minutes, until=start + 21 * minutes, index=2),
    ]
    timed = summarise(events, timed=True)
    assert timed.focus_lost_seconds == 180
    assert timed.sentence.endswith("no pastes; left the page 2 times (3 min in all).")
    assert "left the page" not in summarise(events, timed=False).sentence

"""Findings of the security review (../shared/reviews/security.md), each named after its
finding: the attack as it was made, and what must hold now."""

from __future__ import annotations

import pytest
from django.urls import reverse

from classroom.forms import whole_number
from classroom.models import Annotation, Extension
from tests.helpers import mark_fully

pytestmark = pytest.mark.django_db


# --- L1: shared classroom computers ---------------------------------------------------------


@pytest.mark.parametrize("who", ["student", "teacher", "head"])
def test_l1_signed_in_pages_are_never_stored_by_the_browser(client, cast, who):
    client.force_login(cast[who])
    response = client.get(reverse("home"))
    assert response.status_code == 200
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= directives


# --- L2: over-long input on the sign-in form --------------------------------------------------


def test_l2_an_overlong_username_is_a_400_with_a_message_not_a_500(client):
    response = client.post(reverse("login"), {"username": "u" * 256, "password": "x"})
    assert response.status_code == 400
    assert "at most 150 characters" in response.content.decode()


def test_l2_a_wrong_password_is_still_an_ordinary_page(client, cast):
    response = client.post(reverse("login"), {"username": cast["student"].username, "password": "wrong"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


# --- L3: numbers typed as "²" ------------------------------------------------------------------


@pytest.mark.parametrize("text", ["²", "١٢", "1²", "", "-1", " 1", "1e3", None, "9" * 19])
def test_l3_only_ascii_digits_make_a_number(text):
    assert whole_number(text) is None


def test_l3_ascii_digits_do():
    assert whole_number("0") == 0 and whole_number("42") == 42


def test_l3_department_view_with_a_superscript_prompt_id_says_so(client, head):
    client.force_login(head)
    response = client.get(reverse("classroom:department_progress") + "?prompt=²")
    assert response.status_code == 200
    assert "Choose one of the essay questions" in response.content.decode()


def test_l3_removing_an_extension_by_a_superscript_id_changes_nothing(client, cast, marking_assignment):
    Extension.objects.create(assignment=marking_assignment, student=cast["student"], due_at=marking_assignment.due_at)
    client.force_login(cast["teacher"])
    url = reverse("classroom:assignment_extensions", args=[marking_assignment.pk])
    response = client.post(url, {"remove": "²"})
    assert response.status_code == 302
    assert Extension.objects.count() == 1


def test_l3_a_comment_with_a_superscript_bank_entry_is_added_without_one(client, cast, essay):
    mark_fully(essay, cast["teacher"], complete=False)
    client.force_login(cast["teacher"])
    url = reverse("classroom:annotation_add", args=[essay.pk])
    response = client.post(url, {"comment": "Good use of Source A.", "bank_entry": "²"})
    assert response.status_code == 302
    assert Annotation.objects.get().bank_entry is None


# --- H1: the lock-out behind the shipped nginx ----------------------------------------------
#
# deploy/nginx-crisis-classroom.conf sends `X-Forwarded-For $remote_addr` (one address) to
# gunicorn on 127.0.0.1, and deploy/env.example sets PROXY_COUNT=1.

NGINX = "127.0.0.1"


def _through_nginx(client, username, password, pupil_address, header=None):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=NGINX,
        HTTP_X_FORWARDED_FOR=header if header is not None else pupil_address,
    )


@pytest.fixture
def behind_nginx(settings):
    settings.PROXY_COUNT = 1


def test_h1_behind_nginx_failures_lock_only_that_pupils_address(client, behind_nginx, student):
    from tests.conftest import PASSWORD

    for _ in range(5):
        assert _through_nginx(client, student.username, "wrong", "203.0.113.7").status_code == 200
    assert _through_nginx(client, student.username, "wrong", "203.0.113.7").status_code == 429  # the sixth
    assert _through_nginx(client, student.username, PASSWORD, "203.0.113.7").status_code == 429
    # The real pupil, at school on another address, still signs in: no global lock-out.
    assert _through_nginx(client.__class__(), student.username, PASSWORD, "198.51.100.9").status_code == 302


def test_h1_a_spoofed_forwarded_for_never_mints_new_addresses(client, behind_nginx, student):
    from tests.conftest import PASSWORD

    # A client sending its own header to a proxy that appends: the made-up entries are on the left.
    for n in range(5):
        header = f"192.0.2.{n}, 203.0.113.7"
        assert _through_nginx(client, student.username, "wrong", "", header=header).status_code == 200
    assert _through_nginx(client, student.username, "wrong", "", header="192.0.2.98, 203.0.113.7").status_code == 429
    assert _through_nginx(client, student.username, PASSWORD, "", header="192.0.2.99, 203.0.113.7").status_code == 429


def test_h1_without_a_proxy_the_header_is_ignored(client, settings, student):
    from tests.conftest import PASSWORD

    settings.PROXY_COUNT = 0
    for n in range(5):
        response = client.post(
            reverse("login"),
            {"username": student.username, "password": "wrong"},
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
        assert response.status_code == 200
    sixth = client.post(
        reverse("login"),
        {"username": student.username, "password": "wrong"},
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="192.0.2.100",
    )
    assert sixth.status_code == 429
    locked = client.post(
        reverse("login"),
        {"username": student.username, "password": PASSWORD},
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="192.0.2.200",
    )
    assert locked.status_code == 429


# --- L7: password spraying from one address ------------------------------------------------


def test_l7_one_wrong_password_for_each_of_many_pupils_hits_the_address_cap(client, settings, school_class):
    from classroom.models import User
    from tests.factories import StudentFactory

    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 4
    pupils = [StudentFactory() for _ in range(5)]
    for pupil in pupils[:4]:  # one guess each: never enough for axes's per-pupil lock-out
        response = client.post(reverse("login"), {"username": pupil.username, "password": "Summer2026"})
        assert response.status_code == 200
    last = pupils[4]
    last.set_password("Summer2026")
    last.save()
    sprayed = client.post(reverse("login"), {"username": last.username, "password": "Summer2026"})
    assert sprayed.status_code == 429 and "from this network" in sprayed.content.decode()
    assert "_auth_user_id" not in client.session  # not even a right guess gets through
    # Another address is not affected.
    other = client.__class__()
    ok = other.post(reverse("login"), {"username": last.username, "password": "Summer2026"}, REMOTE_ADDR="198.51.100.4")
    assert ok.status_code == 302
    assert User.objects.filter(pk=last.pk).exists()


# --- M4: comment-bank expansion is bounded ----------------------------------------------------


def test_m4_expanding_many_codes_of_a_huge_entry_stays_within_the_fields_size(cast):
    import tracemalloc

    from classroom.comment_bank import expand_codes
    from classroom.models import MAX_FEEDBACK_CHARS, CommentBankEntry

    # An entry saved before the cap (or written straight into the database): 100,000 characters.
    CommentBankEntry.objects.create(owner=cast["teacher"], code="huge", text="x" * 100_000)
    entries = CommentBankEntry.objects.for_teacher(cast["teacher"])
    box = "#huge " * 1_600  # what fits in one 10,000-character feedback box
    tracemalloc.start()
    expanded, _ = expand_codes(box, entries, MAX_FEEDBACK_CHARS)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(expanded) == MAX_FEEDBACK_CHARS + 1  # too long: the field's own check refuses it
    assert peak < 2_000_000  # bytes; expanding every code would need 160 MB


def test_m4_the_marking_page_refuses_the_expanded_feedback_with_a_message(client, cast, essay):
    from classroom.models import CommentBankEntry, Mark
    from tests.helpers import mark_post

    CommentBankEntry.objects.create(owner=cast["teacher"], code="huge", text="x" * 100_000)
    client.force_login(cast["teacher"])
    data = mark_post(essay, {"AO1": (1, 1)}, www="#huge " * 1_600)
    response = client.post(reverse("classroom:mark_submission", args=[essay.pk]), data)
    assert response.status_code == 400
    assert "too long" in response.content.decode()
    assert not Mark.objects.filter(submission=essay).exists()


def test_m4_a_bank_entry_is_capped_at_2000_characters(client, cast):
    from classroom.models import CommentBankEntry

    client.force_login(cast["teacher"])
    response = client.post(
        reverse("classroom:comment_bank"), {"bank-code": "long", "bank-text": "y" * 2_001, "bank-criterion_code": ""}
    )
    assert response.status_code == 400
    assert "at most 2000 characters" in response.content.decode()
    assert not CommentBankEntry.objects.filter(code="long").exists()


# --- M2: anonymous marking is not undone by the assignment page -------------------------------


def test_m2_while_names_are_hidden_the_assignment_page_pairs_no_name_with_an_essay(client, cast, essay):
    assignment = essay.assignment
    type(assignment).objects.filter(pk=assignment.pk).update(anonymous_marking=True)
    essay.refresh_from_db()
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:assignment_detail", args=[assignment.pk])).content.decode()
    assert essay.student.display_name in html  # who has handed in is no secret…
    assert f"/submissions/{essay.pk}/" not in html  # …but which essay is theirs is
    assert f"<td>{essay.word_count}</td>" not in html
    assert "names hidden while marking" in html
    # The essay page, which names the writer, sends the marker to the anonymous marking page.
    response = client.get(reverse("classroom:submission_detail", args=[essay.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("classroom:mark_submission", args=[essay.pk])
    # Once the names are revealed (explicit, recorded), both show the essay again.
    assignment.reveal_names(by=cast["teacher"])
    html = client.get(reverse("classroom:assignment_detail", args=[assignment.pk])).content.decode()
    assert f"/submissions/{essay.pk}/" in html
    assert client.get(reverse("classroom:submission_detail", args=[essay.pk])).status_code == 200


# --- L8: /readyz and a database that refuses writes -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_l8_readyz_is_not_ready_while_the_database_refuses_writes(client):
    from django.db import connection

    from classroom.models import ReadinessProbe

    assert client.get("/readyz").status_code == 200
    assert not ReadinessProbe.objects.exists()  # the probe keeps nothing
    # Reads still work, writes fail: what a full disk or a read-only database looks like.
    on, off = (
        ("PRAGMA query_only = ON", "PRAGMA query_only = OFF")
        if connection.vendor == "sqlite"
        else ("SET default_transaction_read_only = on", "SET default_transaction_read_only = off")
    )
    with connection.cursor() as cursor:
        cursor.execute(on)
    try:
        response = client.get("/readyz")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(off)
    assert response.status_code == 503 and response.content == b"not ready\n"
    assert client.get("/readyz").status_code == 200


def test_l7_one_pupil_hammering_one_account_never_pauses_the_whole_address(client, settings, student):
    from tests.conftest import PASSWORD
    from tests.factories import StudentFactory

    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 10
    for _ in range(30):  # 6 count; axes refuses the rest (429) and those are not counted
        client.post(reverse("login"), {"username": student.username, "password": "wrong"})
    classmate = StudentFactory()
    classmate.set_password(PASSWORD)
    classmate.save()
    response = client.__class__().post(reverse("login"), {"username": classmate.username, "password": PASSWORD})
    assert response.status_code == 302


# --- L1: browser-session cookies on shared computers ------------------------------------------


def _session_cookie_after_login(client, student):
    from tests.conftest import PASSWORD

    response = client.post(reverse("login"), {"username": student.username, "password": PASSWORD})
    assert response.status_code == 302
    return response.cookies["sessionid"]


def test_l1_closing_the_browser_ends_the_login_by_default(client, student):
    cookie = _session_cookie_after_login(client, student)
    # No lifetime: the browser forgets the cookie when it closes.
    assert not cookie["max-age"] and not cookie["expires"]


def test_l1_a_school_with_own_devices_can_keep_logins_across_restarts(client, settings, student):
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = False
    cookie = _session_cookie_after_login(client, student)
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE


# --- L6: the join-code guess limit is the same for every worker and survives restarts ---------


def _guess(client, code):
    return client.post(reverse("classroom:class_join"), {"code": code}).content.decode()


def test_l6_the_join_code_limit_survives_a_restart_and_holds_in_every_worker(client, outsider, school_class):
    from django.core.cache import cache

    from classroom import roster

    client.force_login(outsider)
    for attempt in range(roster.JOIN_FAILURE_LIMIT):
        assert "No class has the code" in _guess(client, f"BAD{attempt}")
        cache.clear()  # another worker, or this one restarted: each starts with an empty cache
    assert "Too many wrong codes" in _guess(client, school_class.join_code)
    assert not school_class.enrolments.filter(student=outsider).exists()


def test_l6_the_limit_is_per_pupil_and_lets_go_after_an_hour(client, outsider, school_class):
    from datetime import timedelta

    from django.utils import timezone

    from classroom import roster
    from classroom.models import JoinCodeFailure
    from tests.factories import StudentFactory

    client.force_login(outsider)
    for attempt in range(roster.JOIN_FAILURE_LIMIT):
        _guess(client, f"BAD{attempt}")
    classmate = StudentFactory()
    client.force_login(classmate)
    assert "Too many wrong codes" not in _guess(client, school_class.join_code)
    assert school_class.active_students().filter(pk=classmate.pk).exists()
    # An hour after the wrong codes, the first pupil may try again; old rows are cleared.
    JoinCodeFailure.objects.filter(student=outsider).update(at=timezone.now() - timedelta(hours=1, seconds=1))
    client.force_login(outsider)
    assert "No class has the code" in _guess(client, "BADAGAIN")
    assert JoinCodeFailure.objects.filter(student=outsider).count() == 1
    assert (
        "You have joined"
        in client.post(reverse("classroom:class_join"), {"code": school_class.join_code}, follow=True).content.decode()
    )


# --- Measurements: compressed pages, deferred scripts, a description --------------------------


def test_pages_are_gzipped_with_random_padding_against_breach(client, cast):
    import gzip

    client.force_login(cast["teacher"])
    sizes = set()
    for _ in range(8):
        response = client.get(reverse("home"), headers={"accept-encoding": "gzip"})
        assert response["Content-Encoding"] == "gzip"
        assert "My classes" in gzip.decompress(response.content).decode()
        sizes.add(len(response.content))
    assert len(sizes) > 1  # the same page, different lengths: sizes tell an attacker nothing
    assert "Content-Encoding" not in client.get(reverse("home"))


@pytest.mark.parametrize("who", [None, "student", "teacher"])
def test_every_script_is_deferred_and_every_page_has_a_description(client, cast, essay, who):
    import re

    if who is None:
        html = client.get(reverse("login")).content.decode()
    else:
        client.force_login(cast[who])
        page = (
            reverse("classroom:write", args=[essay.assignment_id])
            if who == "student"
            else reverse("classroom:mark_submission", args=[essay.pk])
        )
        html = client.get(page).content.decode()
    scripts = [tag for tag in re.findall(r"<script\b[^>]*>", html) if "application/json" not in tag]  # data, not code
    assert len(scripts) >= 2
    assert all(" defer" in tag and " src=" in tag for tag in scripts), scripts
    head = html.split("</head>")[0]
    assert all(tag in head for tag in scripts)
    assert re.search(r'<meta name="description" content="[^"]{40,}">', head)


# --- L9: a timed essay's question stays hidden until the pupil starts --------------------------


@pytest.fixture
def timed(school_class):
    from tests.factories import AssignmentFactory, EssayPromptFactory, LessonFactory, SourceFactory, link_sources

    prompt = EssayPromptFactory(question="How far did the Hotline end the Cold War?", instructions="Use Source Z.")
    own, taught = SourceFactory(unit=prompt.unit, title="Only in the exam"), SourceFactory(unit=prompt.unit)
    LessonFactory(unit=prompt.unit).sources.add(taught)
    link_sources(prompt, [own, taught])
    return AssignmentFactory(school_class=school_class, prompt=prompt, title=prompt.question, time_limit_minutes=45)


def test_l9_a_timed_question_is_hidden_under_learn_until_the_pupil_starts(client, cast, timed):
    prompt = timed.prompt
    own, taught = prompt.ordered_sources()
    client.force_login(cast["student"])
    question = prompt.question
    for url in (reverse("content:prompt", args=[prompt.pk]), reverse("content:source", args=[own.pk])):
        response = client.get(url)
        assert response.status_code == 403 and question not in response.content.decode()
        assert "timed essay you have not started" in response.content.decode()
    unit_page = client.get(reverse("content:unit", args=[prompt.unit_id])).content.decode()
    assert question not in unit_page and own.title not in unit_page and taught.title in unit_page
    # Sources taught in a lesson stay readable: they are the unit's pack, studied in class.
    assert client.get(reverse("content:source", args=[taught.pk])).status_code == 200
    home = client.get(reverse("home")).content.decode()
    assert question not in home and "Timed essay (45 minutes)" in home
    write = client.get(reverse("classroom:write", args=[timed.pk])).content.decode()
    assert question not in write and "Use Source Z." not in write and own.title not in write
    assert "Start the timed essay" in write

    client.post(reverse("classroom:write", args=[timed.pk]), {"start": "1"})
    write = client.get(reverse("classroom:write", args=[timed.pk])).content.decode()
    assert question in write and "Use Source Z." in write and own.title in write
    assert client.get(reverse("content:prompt", args=[prompt.pk])).status_code == 200
    assert question in client.get(reverse("home")).content.decode()


@pytest.mark.parametrize("who", ["teacher", "outsider", "head"])
def test_l9_only_the_classes_own_pupils_are_kept_from_the_question(client, cast, timed, who):
    client.force_login(cast[who])
    response = client.get(reverse("content:prompt", args=[timed.prompt_id]))
    assert response.status_code == 200 and timed.prompt.question in response.content.decode()


def test_l9_a_timed_essay_whose_time_has_closed_shows_its_question_again(client, cast, timed):
    from datetime import timedelta

    from django.utils import timezone

    timed.late_cutoff = timed.due_at = timezone.now() - timedelta(minutes=1)
    timed.opens_at = timed.due_at - timedelta(days=1)
    timed.save()
    client.force_login(cast["student"])
    assert client.get(reverse("content:prompt", args=[timed.prompt_id])).status_code == 200


# --- L4: "return for redraft" racing "complete" and "release all", over HTTP -------------------


@pytest.mark.django_db(transaction=True)
def test_l4_return_racing_complete_and_release_all_over_http_never_locks_a_redraft(cast, marking_assignment):
    from django.db import connection
    from django.test import Client

    from classroom.models import Mark, Submission
    from tests.factories import StudentFactory
    from tests.helpers import FULL, hand_in, mark_post
    from tests.test_submission_races import _in_threads

    if connection.vendor != "postgresql":
        pytest.skip("row locks between threads need PostgreSQL (CI runs this there)")
    for _ in range(10):
        pupil = StudentFactory()
        marking_assignment.school_class.enrol(pupil)
        essay = hand_in(marking_assignment, pupil)
        marker, colleague = Client(), Client()
        marker.force_login(cast["teacher"])
        colleague.force_login(cast["head"])
        data = mark_post(essay, FULL, action="complete")

        def complete_then_release_all(essay=essay, data=data, marker=marker):
            first = marker.post(reverse("classroom:mark_submission", args=[essay.pk]), data)
            second = marker.post(reverse("classroom:release_all", args=[marking_assignment.pk]))
            return [first.status_code, second.status_code]

        def give_back(essay=essay, colleague=colleague):
            return [colleague.post(reverse("classroom:submission_return", args=[essay.pk])).status_code]

        results = _in_threads(complete_then_release_all, give_back)
        assert all(isinstance(codes, list) and max(codes) < 500 for codes in results), results
        essay.refresh_from_db()
        mark = Mark.objects.filter(submission=essay).first()
        if essay.state == Submission.State.RETURNED:
            # The redraft stays open to the pupil; no mark of the old text is released to them.
            assert essay.is_editable and (mark is None or mark.released_at is None)
        else:
            assert essay.state == Submission.State.RELEASED and mark.completed_at and mark.released_at

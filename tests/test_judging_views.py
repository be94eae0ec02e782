"""Comparative judgement (issue 15) through the test client: every judging page for every kind
of visitor, what a pupil judge may and may not see, names on the results and in the CSV, the
judging screen's choices, accepting suggested marks, the owner's actions, query budgets and
bad input. The database side on its own: tests/test_judging.py.

The cast (tests/conftest.py, plus three here): `teacher` teaches 10H and set the session up;
`co` teaches 10H too; `other_teacher` teaches 11E, whose essays are also in the session;
`stranger` is a teacher with no part in it; `head`; `student` is a pupil of 10H (not a judge
class); `outsider` is a pupil of 11E, the judge class, with peer judging on; `bystander` is
a pupil of 9Z, a class with no part in it.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from types import SimpleNamespace

import pytest
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from classroom import judging
from classroom.models import Assignment, Judgement, JudgingScript, JudgingSession, Mark, MarkChange
from tests.factories import (
    AssignmentFactory,
    EssayPromptFactory,
    SchoolClassFactory,
    SourceFactory,
    StudentFactory,
    link_sources,
    marking_scheme,
)
from tests.helpers import draft, give_mark, hand_in

TEN_LAST, ELEVEN_LAST = "Tenbrook", "Elvenholt"
TEN_FIRSTS = ("Perpetua", "Quintilla", "Rosamund", "Seraphina")  # qualities 0, 2, 4, 6
ELEVEN_FIRSTS = ("Ignatius", "Leopold")  # qualities 1, 3 (the outsider's essay: 5)
CLASS_NAMES = ("10H History", "11E History")


@pytest.fixture(autouse=True)
def _fresh_scale_cache():
    """The pairing keeps each session's scale in the cache under the session's id; ids come
    round again from test to test, so each test starts with an empty cache."""
    cache.clear()
    yield
    cache.clear()


def essay_text(first: str, last: str, quality: int) -> str:
    """An essay that names its writer (the script masks the name) and says how good it is, so
    a test can judge a pair the way a perfect judge would."""
    return f"My name is {first} {last}. Quality {quality}.\n\n" + "The Hotline was agreed in 1963. " * (quality + 1)


def quality(text: str) -> int:
    found = re.search(r"Quality (\d+)", text)
    assert found is not None, f"not an essay from essay_text(): {text[:60]!r}"
    return int(found.group(1))


def writers(school_class, assignment, firsts, last, qualities) -> list:
    """New pupils of `school_class` who hand in essays for `assignment`; their submissions."""
    essays = []
    for first, level in zip(firsts, qualities, strict=True):
        pupil = StudentFactory(first_name=first, last_name=last)
        school_class.enrol(pupil)
        essays.append(hand_in(assignment, pupil, text=essay_text(first, last, level)))
    return essays


def judge_pairs(session, judge, count: int) -> int:
    """`judge` decides up to `count` pairs as a perfect judge would (the better essay wins),
    through classroom.judging; returns how many they decided."""
    made = 0
    while made < count:
        pair = judging.pair_for(session, judge)
        if pair is None:
            break
        texts = dict(JudgingScript.objects.filter(pk__in=[pair.left_id, pair.right_id]).values_list("pk", "text"))
        judging.decide(pair, judge, "left" if quality(texts[pair.left_id]) > quality(texts[pair.right_id]) else "right")
        made += 1
    return made


def waiting_pair(session, judge) -> Judgement:
    """The pair `judge` is shown next (kept, as the judging screen keeps it)."""
    pair = judging.pair_for(session, judge)
    assert pair is not None, f"no pair left for {judge}"
    return pair


def judge_shown_pair(client, session):
    """Through the client: open the judging screen and choose the better of the two scripts
    shown. Returns (the GET response, the judgement id), or (the response, None) when there
    is no pair to judge."""
    url = reverse("classroom:judging_judge", args=[session.pk])
    page = client.get(url)
    assert page.status_code == 200
    if "judgement" not in page.context:
        return page, None
    left, right = page.context["left"], page.context["right"]
    choice = "left" if quality(left.text) > quality(right.text) else "right"
    posted = client.post(url, {"judgement": page.context["judgement"].pk, "choice": choice})
    assert posted.status_code == 302 and posted["Location"] == url
    return page, page.context["judgement"].pk


def choice_values(field) -> list[int]:
    """The ids a form's tick boxes offer."""
    return [choice.value for choice, _label in field.choices]


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


# --- the cast and the session ----------------------------------------------------------------


@pytest.fixture
def bystander(db, stranger):
    pupil = StudentFactory(username="bea.bystander", first_name="Bea", last_name="Bystander")
    SchoolClassFactory(name="9Z History", teachers=[stranger], students=[pupil])
    return pupil


@pytest.fixture
def world(school_class, other_class, teacher, outsider, marking_assignment):
    """A session set up by `teacher` on two classes' assignments on one question: 10H's four
    essays and 11E's three (the outsider's among them), target 3, with 11E's pupils judging."""
    a10 = marking_assignment
    a11 = AssignmentFactory(school_class=other_class, prompt=a10.prompt, title="How far essay (11E)")
    tens = writers(school_class, a10, TEN_FIRSTS, TEN_LAST, (0, 2, 4, 6))
    elevens = writers(other_class, a11, ELEVEN_FIRSTS, ELEVEN_LAST, (1, 3))
    elevens.append(hand_in(a11, outsider, text=essay_text("Olly", "Outsider", 5)))
    session = judging.create_session(
        teacher, "Peer judged essays", [a10, a11], target=3, peer_judging=True, judge_classes=[other_class]
    )
    return SimpleNamespace(session=session, a10=a10, a11=a11, tens=tens, elevens=elevens)


def script_of(session, essay) -> JudgingScript:
    return session.scripts.get(submission=essay)


def url(name: str, session) -> str:
    return reverse(f"classroom:judging_{name}", args=[session.pk])


def written_names(essays) -> list[str]:
    return [essay.student.display_name for essay in essays]


# --- access ---------------------------------------------------------------------------------

# What each visitor gets from each page (POST for accept, judges and anchor, GET otherwise):
# the creator (teacher of 10H), a co-teacher of 10H, the teacher of 11E (whose essays are in
# it), a teacher with no part, the head, a pupil of 10H (not a judge class), a pupil of 11E (a
# judge class, peer judging on), a pupil of 9Z (no part). Anonymous visitors go to the login.
ACCESS = {
    "list": {"teacher": 200, "co": 200, "other_teacher": 200, "stranger": 200, "head": 200},
    "create": {"teacher": 200, "co": 200, "other_teacher": 200, "stranger": 200, "head": 200},
    "results": {"teacher": 200, "co": 200, "other_teacher": 200, "stranger": 403, "head": 200},
    "judge": {"teacher": 200, "co": 200, "other_teacher": 200, "stranger": 200, "head": 200},
    "settings": {"teacher": 200, "co": 403, "other_teacher": 403, "stranger": 403, "head": 200},
    "csv": {"teacher": 200, "co": 200, "other_teacher": 200, "stranger": 403, "head": 200},
    "accept": {"teacher": 302, "co": 302, "other_teacher": 302, "stranger": 403, "head": 302},
    "judges": {"teacher": 302, "co": 403, "other_teacher": 403, "stranger": 403, "head": 302},
    "anchor": {"teacher": 302, "co": 403, "other_teacher": 403, "stranger": 403, "head": 302},
}
PUPILS = {
    "list": {"student": 200, "outsider": 200, "bystander": 200},
    "create": {"student": 403, "outsider": 403, "bystander": 403},
    "results": {"student": 403, "outsider": 403, "bystander": 403},
    "judge": {"student": 404, "outsider": 200, "bystander": 404},
    "settings": {"student": 403, "outsider": 403, "bystander": 403},
    "csv": {"student": 403, "outsider": 403, "bystander": 403},
    "accept": {"student": 403, "outsider": 403, "bystander": 403},
    "judges": {"student": 403, "outsider": 403, "bystander": 403},
    "anchor": {"student": 403, "outsider": 403, "bystander": 403},
}
POST_ONLY = ("accept", "judges", "anchor")


@pytest.fixture
def people(teacher, co, other_teacher, stranger, head, student, outsider, bystander):
    return {
        "teacher": teacher,
        "co": co,
        "other_teacher": other_teacher,
        "stranger": stranger,
        "head": head,
        "student": student,
        "outsider": outsider,
        "bystander": bystander,
    }


def requests_for(world, teacher) -> dict[str, tuple[str, dict | None]]:
    """(URL, POST data or None for a GET) for each page in ACCESS."""
    session = world.session
    return {
        "list": (reverse("classroom:judging_list"), None),
        "create": (reverse("classroom:judging_create"), None),
        "results": (url("results", session), None),
        "judge": (url("judge", session), None),
        "settings": (url("edit", session), None),
        "csv": (url("csv", session), None),
        "accept": (url("accept", session), {"fingerprint": "stale"}),
        "judges": (url("judge_left_out", session), {"judge": str(teacher.pk), "left_out": "0"}),
        "anchor": (
            reverse("classroom:judging_anchor", args=[script_of(session, world.tens[0]).pk]),
            {"anchor": "1"},
        ),
    }


def visit(client, target: str, data: dict | None):
    return client.get(target) if data is None else client.post(target, data)


@pytest.mark.parametrize("page", list(ACCESS))
def test_access_matrix(client, world, people, teacher, page):
    target, data = requests_for(world, teacher)[page]
    response = visit(client, target, data)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for who, status in {**ACCESS[page], **PUPILS[page]}.items():
        client.force_login(people[who])
        response = visit(client, target, data)
        assert response.status_code == status, f"{who} on {page}: {response.status_code}, expected {status}"
        if page in POST_ONLY and status == 302:
            assert response["Location"].startswith(url("results", world.session))
    # The POSTs change nothing, whoever sends them: an out-of-date fingerprint, a judge who
    # counts already, an anchor that is one already.
    world.session.refresh_from_db()
    assert world.session.closed_at is None and not world.session.left_out_judges.exists()
    assert world.session.scripts.filter(anchor=False).count() == 0
    assert not Mark.objects.filter(submission__judging_scripts__session=world.session).exists()


@pytest.mark.parametrize("page", POST_ONLY)
def test_post_only_pages_refuse_a_get(client, world, teacher, page):
    client.force_login(teacher)
    target, _data = requests_for(world, teacher)[page]
    assert client.get(target).status_code == 405


def test_with_peer_judging_off_the_judge_class_pupil_gets_404_and_an_empty_list(client, world, outsider):
    client.force_login(outsider)
    assert client.get(url("judge", world.session)).status_code == 200
    JudgingSession.objects.filter(pk=world.session.pk).update(peer_judging=False)
    assert client.get(url("judge", world.session)).status_code == 404
    assert list(client.get(reverse("classroom:judging_list")).context["sessions"]) == []


def test_a_pupil_who_left_the_judge_class_may_no_longer_judge(client, world, other_class, outsider):
    other_class.enrolments.filter(student=outsider).update(removed_at=timezone.now())
    client.force_login(outsider)
    assert client.get(url("judge", world.session)).status_code == 404


# --- what a pupil judge sees ------------------------------------------------------------------


def forbidden_for_pupils(world) -> list[str]:
    """Text that must never appear on a pupil's judging pages: every writer's name (the pupil
    judge's own display name sits in the page's header, so their full name is not listed),
    the class names, scores and anything of the results."""
    names = [*TEN_FIRSTS, TEN_LAST, *ELEVEN_FIRSTS, ELEVEN_LAST, "Sam Student", "Outsider</"]
    links = [f'"{url("results", world.session)}"', f'"{url("csv", world.session)}"']
    results = [*links, "reliab", "Rank", "anchor"]
    return [*names, *CLASS_NAMES, "Score", "score", "of about", "session-progress", *results]


def assert_nothing_forbidden(html: str, world, where: str) -> None:
    for text in forbidden_for_pupils(world):
        assert text not in html, f"{text!r} on the pupil's {where}"


def test_a_pupil_judge_sees_only_other_classes_scripts_and_never_a_name_or_result(
    client, world, teacher, co, outsider, school_class
):
    # Teachers have judged already, so there are results and other judges' choices to leak.
    judge_pairs(world.session, teacher, 2)
    judge_pairs(world.session, co, 1)
    client.force_login(outsider)
    listing = client.get(reverse("classroom:judging_list"))
    assert [s.pk for s in listing.context["sessions"]] == [world.session.pk]
    assert_nothing_forbidden(listing.content.decode(), world, "list")
    ten_scripts = set(world.session.scripts.filter(submission__assignment=world.a10).values_list("pk", flat=True))
    shown: list[frozenset[int]] = []
    while True:
        page, judgement = judge_shown_pair(client, world.session)
        html = page.content.decode()
        assert_nothing_forbidden(html, world, "judging page")
        assert "progress" not in page.context and "can_read_results" not in page.context
        if judgement is None:
            break
        pair = Judgement.objects.get(pk=judgement)
        assert {pair.left_id, pair.right_id} <= ten_scripts, "a pupil of 11E was shown an 11E script"
        assert pair.by_pupil and pair.judge == outsider and pair.winner_id is not None
        assert "[name]" in html  # the writer's own name is masked in the script
        assert f"You have made {len(shown)} judgement" in html  # their own count only
        shown.append(frozenset((pair.left_id, pair.right_id)))
    assert len(shown) >= 3 and len(set(shown)) == len(shown)
    assert "There are no more pairs for you to judge" in html
    assert f"for your {len(shown)} judgement" in html
    listing = client.get(reverse("classroom:judging_list")).content.decode()
    assert f"you have made {len(shown)} judgements" in listing
    assert_nothing_forbidden(listing, world, "list")


def test_a_pupil_who_moved_class_is_never_shown_their_own_essay(client, world, teacher, school_class, student):
    """BUG (classroom/judging.py, own_scripts): only scripts of the classes a pupil is on now
    are kept from them. A pupil who handed in with 10H and then moved to 10K (a judge class
    with nothing to write on the question) is shown their own essay to judge, which the rules
    forbid ("never a script from a class they are on (their own essay with it)")."""
    own = hand_in(world.a10, student, text=essay_text("Sam", "Student", 7))
    judging.add_scripts(world.session)
    mine = script_of(world.session, own).pk
    new_class = SchoolClassFactory(name="10K History", teachers=[teacher])
    world.session.judge_classes.add(new_class)
    school_class.enrolments.filter(student=student).update(removed_at=timezone.now())
    new_class.enrol(student)
    client.force_login(student)
    shown = set()
    while True:
        _page, judgement = judge_shown_pair(client, world.session)
        if judgement is None:
            break
        pair = Judgement.objects.get(pk=judgement)
        shown |= {pair.left_id, pair.right_id}
    assert shown, "the pupil was given nothing to judge"
    assert mine not in shown, "the pupil was shown their own essay to judge"


# --- pupils still writing -------------------------------------------------------------------


def test_a_pupil_still_writing_on_the_question_may_not_judge_until_they_hand_in(client, world, other_class):
    late = StudentFactory(first_name="Wilhelmina", last_name="Latecomer")
    other_class.enrol(late)
    client.force_login(late)
    judge_url, list_url = url("judge", world.session), reverse("classroom:judging_list")
    # Not started, then a draft: still writing, so no judging and nothing in their list.
    assert client.get(judge_url).status_code == 404
    assert list(client.get(list_url).context["sessions"]) == []
    draft(world.a11, late, "My first paragraph.")
    assert client.get(judge_url).status_code == 404
    assert list(client.get(list_url).context["sessions"]) == []
    assert client.post(judge_url, {"judgement": "1", "choice": "left"}).status_code == 404
    assert not Judgement.objects.filter(judge=late).exists()
    # Handed in: they may judge.
    hand_in(world.a11, late, text="The Hotline was a teleprinter link, set up in 1963.")
    assert [s.pk for s in client.get(list_url).context["sessions"]] == [world.session.pk]
    page = client.get(judge_url)
    assert page.status_code == 200 and "judgement" in page.context


def test_a_copy_of_the_question_counts_as_the_same_question(client, world, teacher, other_class):
    """A pupil of 11E who has handed in there but is writing the same question, in a teacher's
    copy, for another class of theirs may not judge."""
    pupil = StudentFactory(first_name="Xanthe", last_name="Xylander")
    other_class.enrol(pupil)
    hand_in(world.a11, pupil, text="The Hotline was a teleprinter link.")
    copy = world.a10.prompt.make_copy(teacher)
    AssignmentFactory(school_class=SchoolClassFactory(name="Revision club", students=[pupil]), prompt=copy)
    client.force_login(pupil)
    assert client.get(url("judge", world.session)).status_code == 404
    assert list(client.get(reverse("classroom:judging_list")).context["sessions"]) == []


# --- names on the results and in the CSV ------------------------------------------------------


def names_on(client, who, world) -> tuple[str, set[str]]:
    """The results page's HTML and the pupil names in the CSV, for `who`."""
    client.force_login(who)
    page = client.get(url("results", world.session))
    assert page.status_code == 200
    pupils = {row["pupil"] for row in csv_rows(client.get(url("csv", world.session)))}
    return page.content.decode(), pupils - {""}


def test_results_name_only_the_pupils_of_classes_the_reader_teaches(
    client, world, teacher, co, other_teacher, head, outsider
):
    judge_pairs(world.session, teacher, 3)
    judge_pairs(world.session, outsider, 1)  # a pupil judge of 11E
    tens, elevens = written_names(world.tens), written_names(world.elevens)
    for reader, shown, hidden in (
        (teacher, tens, elevens),
        (co, tens, elevens),
        (other_teacher, elevens, tens),
        (head, tens + elevens, []),
    ):
        html, in_csv = names_on(client, reader, world)
        for name in shown:
            assert name in html, f"{reader} should see {name}"
        for name in hidden:
            assert name not in html, f"{reader} should not see {name}"
        assert in_csv == set(shown), reader
        # The pupil judge is named only to the teachers of their class (and heads).
        if reader in (teacher, co):
            assert "Pupil judge 1" in html and "Outsider" not in html
        else:
            assert "Olly Outsider (pupil)" in html
        assert "10H History" in html and "11E History" in html  # the class of each script


def test_anonymous_marking_hides_names_even_from_the_class_teacher(client, world, teacher, other_teacher, head):
    Assignment.objects.filter(pk=world.a10.pk).update(anonymous_marking=True)
    tens, elevens = written_names(world.tens), written_names(world.elevens)
    for reader, shown in ((teacher, []), (head, elevens), (other_teacher, elevens)):
        html, in_csv = names_on(client, reader, world)
        for name in tens:
            assert name not in html, f"{reader} sees {name} while names are hidden"
        assert in_csv == set(shown), reader
    # Once the teacher reveals the names, they show again.
    Assignment.objects.get(pk=world.a10.pk).reveal_names(teacher)
    html, in_csv = names_on(client, teacher, world)
    assert in_csv == set(tens) and all(name in html for name in tens)


# --- the judging screen ---------------------------------------------------------------------


def test_judging_flow_keeps_the_pair_records_the_choice_once_and_the_time_taken(client, world, teacher, co):
    client.force_login(teacher)
    judge_url = url("judge", world.session)
    first = client.get(judge_url)
    assert first.status_code == 200
    judgement = first.context["judgement"]
    left, right = first.context["left"], first.context["right"]
    html = first.content.decode()
    assert left.label in html and right.label in html and world.a10.prompt.question in html
    assert "Perpetua" not in html and TEN_LAST not in html  # teachers judge blind too
    # A reload shows the same pair.
    again = client.get(judge_url)
    assert again.context["judgement"].pk == judgement.pk
    assert Judgement.objects.filter(judge=teacher).count() == 1
    # The judge took half a minute.
    Judgement.objects.filter(pk=judgement.pk).update(shown_at=timezone.now() - datetime.timedelta(seconds=30))
    chosen = client.post(judge_url, {"judgement": judgement.pk, "choice": "left", "note": "  Sharper on B.  "})
    assert chosen.status_code == 302 and chosen["Location"] == judge_url
    judgement.refresh_from_db()
    assert judgement.winner_id == left.pk and judgement.note == "Sharper on B."
    assert judgement.decided_at > judgement.shown_at and 30 <= judgement.seconds < 90
    following = client.get(judge_url)
    assert following.context["judgement"].pk != judgement.pk
    assert "You have made 1 judgement." in following.content.decode()
    # The same pair posted again (a second click, another tab): nothing changes.
    repeat = client.post(judge_url, {"judgement": judgement.pk, "choice": "right"})
    assert repeat.status_code == 302
    assert any("already recorded" in m for m in messages_of(repeat))
    judgement.refresh_from_db()
    assert judgement.winner_id == left.pk and judgement.note == "Sharper on B."
    assert Judgement.objects.filter(judge=teacher, decided_at__isnull=False).count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"choice": "middle"}, "Choose the left or the right script"),
        ({"choice": ""}, "Choose the left or the right script"),
        ({}, "Choose the left or the right script"),
        ({"choice": "left", "note": "x" * 501}, "The note is too long"),
    ],
)
def test_a_bad_choice_is_refused_with_a_message_and_saves_nothing(client, world, teacher, data, message):
    client.force_login(teacher)
    judge_url = url("judge", world.session)
    pair = client.get(judge_url).context["judgement"]
    response = client.post(judge_url, {"judgement": pair.pk, **data})
    assert response.status_code == 302
    assert any(message in m for m in messages_of(response)), messages_of(response)
    pair.refresh_from_db()
    assert pair.winner_id is None and pair.decided_at is None and pair.note == ""
    assert client.get(judge_url).context["judgement"].pk == pair.pk  # still waiting


def test_a_note_of_500_characters_is_kept(client, world, teacher):
    client.force_login(teacher)
    judge_url = url("judge", world.session)
    pair = client.get(judge_url).context["judgement"]
    client.post(judge_url, {"judgement": pair.pk, "choice": "right", "note": "y" * 500})
    pair.refresh_from_db()
    assert pair.winner_id == pair.right_id and pair.note == "y" * 500


def test_a_judge_cannot_decide_another_judges_pair(client, world, teacher, co, outsider):
    theirs = waiting_pair(world.session, co)
    pupils = waiting_pair(world.session, outsider)
    client.force_login(teacher)
    for pair in (theirs, pupils):
        response = client.post(url("judge", world.session), {"judgement": pair.pk, "choice": "left"})
        assert response.status_code == 302
        assert any("no longer waiting for you" in m for m in messages_of(response))
        pair.refresh_from_db()
        assert pair.winner_id is None and pair.decided_at is None
    client.force_login(outsider)
    client.post(url("judge", world.session), {"judgement": theirs.pk, "choice": "left"})
    theirs.refresh_from_db()
    assert theirs.winner_id is None


def test_a_pair_from_another_session_is_not_decided_through_this_one(
    client, world, school_class, other_class, teacher, outsider
):
    """BUG (classroom/views/judging.py, judging_judge): the POST looks the judgement up by id
    alone, not within the session in the URL. A pupil whose peer judging was turned off in
    session B (so B's judging page is 404 to them) can still record a choice on the pair B
    showed them, by posting its id to session A's page."""
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    other = AssignmentFactory(school_class=school_class, prompt=prompt, title="Another question")
    writers(school_class, other, ("Ada", "Bea", "Cy"), "Thirdly", (0, 1, 2))
    session_b = judging.create_session(
        teacher, "Session B", [other], target=2, peer_judging=True, judge_classes=[other_class]
    )
    pair = waiting_pair(session_b, outsider)
    JudgingSession.objects.filter(pk=session_b.pk).update(peer_judging=False)
    client.force_login(outsider)
    assert client.post(url("judge", session_b), {"judgement": pair.pk, "choice": "left"}).status_code == 404
    client.post(url("judge", world.session), {"judgement": pair.pk, "choice": "left"})
    pair.refresh_from_db()
    assert pair.decided_at is None, "a choice in session B was recorded through session A's page"


# --- accepting suggested marks -------------------------------------------------------------------


@pytest.fixture
def anchored(world, teacher, co):
    """The session with three 10H essays marked (complete, not released) to anchor the scale:
    the weakest, one near the top and the best; two teachers have made eight judgements (fewer
    than the target needs, so more can be made)."""
    give_mark(world.tens[0], teacher, 1, 1, 1, release=False)
    give_mark(world.tens[2], teacher, 3, 4, 2, release=False)
    give_mark(world.tens[3], teacher, 4, 6, 4, release=False)
    assert judge_pairs(world.session, teacher, 5) + judge_pairs(world.session, co, 3) == 8
    return world


def rows_by_essay(page) -> dict[int, dict]:
    return {r["row"].script.submission_id: r for r in page.context["rows"]}


def judgement_marks() -> int:
    return MarkChange.objects.filter(source=MarkChange.Source.JUDGEMENT).count()


def test_accepting_ticked_suggestions_puts_complete_marks_in_the_markbook(client, anchored, teacher):
    world = anchored
    client.force_login(teacher)
    page = client.get(url("results", world.session))
    assert page.context["result"].anchors == 3 and not page.context["result"].anchoring_errors
    rows = rows_by_essay(page)
    free = rows[world.tens[1].pk]
    assert free["refusal"] == "" and free["row"].suggestion is not None
    assert page.context["acceptable"] == 1  # 11E's essays are not this teacher's to accept
    html = page.content.decode()
    assert f'name="script" value="{free["row"].script.pk}"' in html
    for essay in (world.tens[0], world.tens[3], *world.elevens):
        assert f'name="script" value="{rows[essay.pk]["row"].script.pk}"' not in html
    assert "An anchor" in rows[world.tens[3].pk]["refusal"]
    assert rows[world.elevens[0].pk]["refusal"] == "Not a class you teach."
    response = client.post(
        url("accept", world.session),
        {"script": [free["row"].script.pk], "fingerprint": page.context["result"].fingerprint},
    )
    assert response.status_code == 302
    assert any("Accepted 1 suggested mark" in m for m in messages_of(response)), messages_of(response)
    mark = Mark.objects.get(submission=world.tens[1])
    assert mark.is_complete and not mark.is_released and mark.total == free["row"].suggestion.total
    changes = MarkChange.objects.filter(mark=mark)
    assert changes.exists() and {c.source for c in changes} == {MarkChange.Source.JUDGEMENT}
    assert all(c.changed_by == teacher and "Peer judged essays" in c.reason for c in changes)
    # Accepted once: the page no longer offers it, and a second POST changes nothing.
    again = client.get(url("results", world.session))
    assert rows_by_essay(again)[world.tens[1].pk]["refusal"] == "Accepted."
    before = judgement_marks()
    client.post(
        url("accept", world.session),
        {"script": [free["row"].script.pk], "fingerprint": again.context["result"].fingerprint},
    )
    assert judgement_marks() == before and Mark.objects.get(pk=mark.pk).revision == mark.revision


def test_the_teacher_of_11e_accepts_for_11e_only(client, anchored, other_teacher):
    world = anchored
    client.force_login(other_teacher)
    page = client.get(url("results", world.session))
    rows = rows_by_essay(page)
    fingerprint = page.context["result"].fingerprint
    ten, eleven = rows[world.tens[1].pk], rows[world.elevens[0].pk]
    assert ten["refusal"] == "Not a class you teach." and eleven["refusal"] == ""
    refused = client.post(url("accept", world.session), {"script": [ten["row"].script.pk], "fingerprint": fingerprint})
    assert any("Not a class you teach" in m for m in messages_of(refused))
    assert not Mark.objects.filter(submission=world.tens[1]).exists() and judgement_marks() == 0
    # Both ticked: nothing at all is accepted.
    both = [ten["row"].script.pk, eleven["row"].script.pk]
    client.post(url("accept", world.session), {"script": both, "fingerprint": fingerprint})
    assert not Mark.objects.filter(submission__in=[world.tens[1], world.elevens[0]]).exists()
    client.post(url("accept", world.session), {"script": [eleven["row"].script.pk], "fingerprint": fingerprint})
    assert Mark.objects.get(submission=world.elevens[0]).is_complete


def test_a_teacher_with_no_part_cannot_accept(client, anchored, teacher, stranger):
    world = anchored
    client.force_login(teacher)
    page = client.get(url("results", world.session))
    script = rows_by_essay(page)[world.tens[1].pk]["row"].script.pk
    client.force_login(stranger)
    data = {"script": [script], "fingerprint": page.context["result"].fingerprint}
    assert client.post(url("accept", world.session), data).status_code == 403
    assert not Mark.objects.filter(submission=world.tens[1]).exists() and judgement_marks() == 0


def test_a_stale_page_accepts_nothing(client, anchored, teacher, head):
    world = anchored
    client.force_login(teacher)
    page = client.get(url("results", world.session))
    script = rows_by_essay(page)[world.tens[1].pk]["row"].script.pk
    assert judge_pairs(world.session, head, 1) == 1  # a new judgement moves the scale
    response = client.post(
        url("accept", world.session), {"script": [script], "fingerprint": page.context["result"].fingerprint}
    )
    assert any("nothing was accepted" in m for m in messages_of(response)), messages_of(response)
    assert not Mark.objects.filter(submission=world.tens[1]).exists() and judgement_marks() == 0


def test_released_marks_and_anchors_are_refused(client, anchored, teacher):
    world = anchored
    released = give_mark(world.tens[1], teacher, 2, 3, 2, release=True)
    client.force_login(teacher)
    # Released marks are anchors unless left out: leave it out, so only its release stops it.
    client.post(reverse("classroom:judging_anchor", args=[script_of(world.session, world.tens[1]).pk]), {"anchor": "0"})
    page = client.get(url("results", world.session))
    rows = rows_by_essay(page)
    assert "released" in rows[world.tens[1].pk]["refusal"]
    assert page.context["acceptable"] == 0
    fingerprint = page.context["result"].fingerprint
    anchor = Mark.objects.get(submission=world.tens[3])
    for essay, why in ((world.tens[1], "released"), (world.tens[3], "anchor")):
        data = {"script": [rows[essay.pk]["row"].script.pk], "fingerprint": fingerprint}
        response = client.post(url("accept", world.session), data)
        assert any(why in m and "Nothing was accepted" in m for m in messages_of(response)), messages_of(response)
    assert judgement_marks() == 0
    assert Mark.objects.get(pk=released.pk).revision == released.revision
    assert Mark.objects.get(pk=anchor.pk).revision == anchor.revision


# --- the owner's actions --------------------------------------------------------------------


def test_leaving_a_judge_out_and_bringing_them_back(client, world, teacher, co):
    mine, theirs = judge_pairs(world.session, teacher, 3), judge_pairs(world.session, co, 2)
    results_url, judges_url = url("results", world.session), url("judge_left_out", world.session)
    client.force_login(teacher)
    assert client.get(results_url).context["result"].judgements == mine + theirs
    response = client.post(judges_url, {"judge": co.pk, "left_out": "1"})
    assert response.status_code == 302 and response["Location"].endswith("#judges")
    page = client.get(results_url)
    assert page.context["result"].judgements == mine
    assert [j.left_out for j in page.context["result"].judges if j.judge == co] == [True]
    assert "left out" in page.content.decode()
    # A co-teacher may not bring themselves back.
    client.force_login(co)
    assert client.post(judges_url, {"judge": co.pk, "left_out": "0"}).status_code == 403
    assert client.get(results_url).context["result"].judgements == mine
    client.force_login(teacher)
    client.post(judges_url, {"judge": co.pk, "left_out": "0"})
    assert client.get(results_url).context["result"].judgements == mine + theirs


def test_anchor_toggle(client, anchored, teacher, co):
    world = anchored
    script = script_of(world.session, world.tens[2])
    anchor_url = reverse("classroom:judging_anchor", args=[script.pk])
    client.force_login(co)
    assert client.post(anchor_url, {"anchor": "0"}).status_code == 403
    client.force_login(teacher)
    response = client.post(anchor_url, {"anchor": "0"})
    assert response.status_code == 302 and response["Location"].endswith("#scripts")
    page = client.get(url("results", world.session))
    assert page.context["result"].anchors == 2
    assert rows_by_essay(page)[world.tens[2].pk]["refusal"] == ""  # its suggestion may now be accepted
    assert "Use as anchor" in page.content.decode()
    client.post(anchor_url, {"anchor": "1"})
    assert client.get(url("results", world.session)).context["result"].anchors == 3


def settings_post(world, **changes) -> dict:
    data = {"title": "Renamed", "target": "4", "peer_judging": "on", "judge_classes": [world.a11.school_class_id]}
    data.update(changes)
    return data


def test_settings_save_and_refuse_a_bad_target_or_title(client, world, teacher):
    client.force_login(teacher)
    settings_url = url("edit", world.session)
    for bad, message in (
        ({"target": "1"}, "greater than or equal to 2"),
        ({"target": "41"}, "less than or equal to 40"),
        ({"target": "ten"}, "Enter a whole number"),
        ({"title": "   "}, "This field is required"),
        ({"judge_classes": []}, "Tick the classes whose pupils are to judge"),
    ):
        response = client.post(settings_url, settings_post(world, **bad))
        assert response.status_code == 200 and message in response.content.decode(), bad
        world.session.refresh_from_db()
        assert (world.session.title, world.session.target) == ("Peer judged essays", 3), bad
    response = client.post(settings_url, settings_post(world, title="  Mock   essays "))
    assert response.status_code == 302 and response["Location"] == url("results", world.session)
    world.session.refresh_from_db()
    assert (world.session.title, world.session.target, world.session.peer_judging) == ("Mock essays", 4, True)
    # Peer judging off: no judge classes kept.
    client.post(settings_url, {"title": "Mock essays", "target": "4"})
    world.session.refresh_from_db()
    assert not world.session.peer_judging and not world.session.judge_classes.exists()


def test_settings_offer_each_class_once(client, world, teacher, co, school_class):
    """BUG (classroom/views/judging.py, judging_edit): the judge classes offered are the owner's
    classes OR'd (`|`) with the session's judge classes, which joins each class's teachers: a
    judge class with two teachers (10H: teacher and co) is offered twice, two tick boxes of
    the same class."""
    world.session.judge_classes.add(school_class)
    client.force_login(teacher)
    page = client.get(url("edit", world.session))
    offered = choice_values(page.context["form"].fields["judge_classes"])
    assert sorted(offered) == sorted([school_class.pk, world.a11.school_class_id]), offered


def test_close_reopen_and_add_new_essays(client, world, teacher, outsider, school_class):
    judge_url, settings_url = url("judge", world.session), url("edit", world.session)
    judge_pairs(world.session, teacher, 2)
    client.force_login(outsider)
    assert client.get(judge_url).status_code == 200  # the pupil has a pair waiting
    client.force_login(teacher)
    waiting = client.get(judge_url).context["judgement"]
    response = client.post(settings_url, {"action": "close"})
    assert response.status_code == 302 and response["Location"] == settings_url
    world.session.refresh_from_db()
    assert world.session.closed_at is not None
    assert not world.session.judgements.filter(decided_at__isnull=True).exists()  # pending pairs dropped
    assert world.session.judgements.count() == 2  # decided ones stay
    page = client.get(judge_url)
    assert "judgement" not in page.context and "has closed" in page.content.decode()
    late = client.post(judge_url, {"judgement": waiting.pk, "choice": "left"})
    assert any("no longer waiting" in m for m in messages_of(late))
    assert client.get(url("results", world.session)).status_code == 200
    client.force_login(outsider)
    assert client.get(judge_url).status_code == 404
    assert list(client.get(reverse("classroom:judging_list")).context["sessions"]) == []
    # Reopened: judging carries on.
    client.force_login(teacher)
    client.post(settings_url, {"action": "reopen"})
    world.session.refresh_from_db()
    assert world.session.closed_at is None
    assert "judgement" in client.get(judge_url).context
    # An essay handed in since is added on request.
    newcomer = StudentFactory(first_name="Yolanda", last_name=TEN_LAST)
    school_class.enrol(newcomer)
    essay = hand_in(world.a10, newcomer, text=essay_text("Yolanda", TEN_LAST, 8))
    assert client.get(settings_url).context["waiting"] == 1
    added = client.post(settings_url, {"action": "add"})
    assert any("Added 1 script" in m for m in messages_of(added))
    assert world.session.scripts.filter(submission=essay).exists() and world.session.scripts.count() == 8
    none = client.post(settings_url, {"action": "add"})
    assert any("No essays have been handed in since" in m for m in messages_of(none))
    assert world.session.scripts.count() == 8


# --- query budgets --------------------------------------------------------------------------


def queries(client, target) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(target)
    assert response.status_code == 200, target
    return len(captured)


def budget_session(school_class, other_class, teacher, co, outsider, size: int, judgements: int):
    """A peer-judged session of `size` 10H essays (on a question with two sources), with about
    `judgements` choices made by two teachers and the 11E pupil judge, none waiting."""
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    link_sources(prompt, [SourceFactory(), SourceFactory()])
    assignment = AssignmentFactory(school_class=school_class, prompt=prompt)
    for n in range(size):
        pupil = StudentFactory()
        school_class.enrol(pupil)
        essay = hand_in(assignment, pupil, text=essay_text(pupil.first_name, pupil.last_name, n))
        if n in (0, size // 2, size - 1):
            give_mark(essay, teacher, 1 + 3 * n // size, 1 + 5 * n // size, release=False)
    session = judging.create_session(
        teacher, f"Budget {size}", [assignment], target=4, peer_judging=True, judge_classes=[other_class]
    )
    share = judgements // 3
    judge_pairs(session, teacher, share)
    judge_pairs(session, co, share)
    judge_pairs(session, outsider, judgements - 2 * share)
    return session


# Each group of pages, and who opens them. At 6 scripts (9 judgements) the judging screen takes
# 17 queries for a teacher and 18 for a pupil judge, the list 5 and 6, whatever the numbers of
# scripts and judgements; the results (25 for a teacher, 24 for the head) and the CSV (47) grow
# with the number of scripts.
BUDGET_PAGES = {
    "judging screen": [("teacher", "judge"), ("outsider", "judge")],
    "list": [("teacher", "list"), ("outsider", "list")],
    "results": [("teacher", "results"), ("head", "results")],
    "csv": [("teacher", "csv"), ("head", "csv")],
}


@pytest.mark.parametrize("group", list(BUDGET_PAGES))
def test_query_budgets_do_not_grow(client, school_class, other_class, teacher, co, outsider, head, group):
    """The same number of queries with 6 scripts and 30 (and five times the judgements). The
    results and the CSV: BUG, see the report (a query or more per script)."""
    people = {"teacher": teacher, "outsider": outsider, "head": head}
    counts: dict[tuple[str, str], list[int]] = {}
    for size, made in ((6, 9), (30, 45)):
        session = budget_session(school_class, other_class, teacher, co, outsider, size, made)
        assert session.judgements.filter(decided_at__isnull=False).count() >= made - 1
        for who, page in BUDGET_PAGES[group]:
            client.force_login(people[who])
            target = reverse("classroom:judging_list") if page == "list" else url(page, session)
            counts.setdefault((who, page), []).append(queries(client, target))
    grew = {f"{page} ({who})": found for (who, page), found in counts.items() if found[0] != found[1]}
    assert not grew, f"queries grew with the data (6 scripts, then 30): {grew}"


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"judgement": "abc", "choice": "left"},
        {"judgement": "", "choice": "left"},
        {"judgement": "99999999999999999999", "choice": "left"},
        {"judgement": "-1", "choice": "left"},
        {"choice": "left"},
        {"judgement": "²", "choice": "right"},
        {},
    ],
)
def test_bad_judging_posts_are_refused_without_an_error(client, world, teacher, outsider, data):
    for judge in (teacher, outsider):
        client.force_login(judge)
        pair = client.get(url("judge", world.session)).context["judgement"]
        response = client.post(url("judge", world.session), data)
        assert response.status_code == 302
        assert messages_of(response)
        pair.refresh_from_db()
        assert pair.decided_at is None
    assert not world.session.judgements.filter(decided_at__isnull=False).exists()


@pytest.mark.parametrize(
    "data",
    [
        {"judge": "abc", "left_out": "1"},
        {"judge": "", "left_out": "1"},
        {"judge": "99999999999999999999", "left_out": "1"},
        {"left_out": "1"},
        {"judge": "JUDGE_WITHOUT_JUDGEMENTS", "left_out": "1"},
        {"judge": "123456", "left_out": "1"},
    ],
)
def test_bad_judges_posts_are_refused_without_an_error(client, world, teacher, co, data):
    judge_pairs(world.session, teacher, 1)
    if data.get("judge") == "JUDGE_WITHOUT_JUDGEMENTS":
        data = {**data, "judge": str(co.pk)}
    client.force_login(teacher)
    response = client.post(url("judge_left_out", world.session), data)
    assert response.status_code == 302
    assert any("has made no judgements in this session" in m for m in messages_of(response))
    assert not world.session.left_out_judges.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"script": ["abc", "99999999999999999999"], "fingerprint": "x"},
        {"script": ["-1"]},
        {},
        {"fingerprint": ""},
    ],
)
def test_bad_accept_posts_are_refused_without_an_error(client, anchored, teacher, data):
    client.force_login(teacher)
    response = client.post(url("accept", anchored.session), data)
    assert response.status_code == 302 and messages_of(response)
    assert judgement_marks() == 0


@pytest.mark.parametrize(
    "data",
    [
        {"action": "explode"},
        {"action": "close", "title": "x" * 5000},
        {"title": "Fine", "target": "99999999999999999999"},
        {"title": "Fine", "target": "4", "peer_judging": "on", "judge_classes": ["abc"]},
        {"title": "Fine", "target": "4", "peer_judging": "on", "judge_classes": ["99999999999999999999"]},
        {},
    ],
)
def test_bad_settings_posts_are_refused_without_an_error(client, world, teacher, data):
    client.force_login(teacher)
    response = client.post(url("edit", world.session), data)
    assert response.status_code in (200, 302)
    world.session.refresh_from_db()
    assert world.session.target == 3 and world.session.title in ("Peer judged essays",)
    if data.get("action") != "close":
        assert world.session.closed_at is None


def test_unknown_ids_in_urls_are_404(client, world, teacher, outsider):
    client.force_login(teacher)
    for name in ("results", "judge", "edit", "csv"):
        assert client.get(reverse(f"classroom:judging_{name}", args=[99999999])).status_code == 404
    for name in ("accept", "judge_left_out"):
        assert client.post(reverse(f"classroom:judging_{name}", args=[99999999]), {}).status_code == 404
    assert client.post(reverse("classroom:judging_anchor", args=[99999999]), {"anchor": "1"}).status_code == 404
    assert client.get("/classroom/judging/99999999999999999999/").status_code == 404
    client.force_login(outsider)
    assert client.get(reverse("classroom:judging_judge", args=[99999999])).status_code == 404


def test_a_teacher_sets_up_a_session_from_their_own_classes_only(client, world, teacher, stranger):
    client.force_login(teacher)
    offered = choice_values(client.get(reverse("classroom:judging_create")).context["form"].fields["assignments"])
    assert world.a10.pk in offered and world.a11.pk not in offered
    data = {"title": "Mine", "assignments": [world.a10.pk], "target": "3"}
    response = client.post(reverse("classroom:judging_create"), data)
    created = JudgingSession.objects.get(title="Mine")
    assert response.status_code == 302 and response["Location"] == url("results", created)
    assert created.created_by == teacher and created.scripts.count() == 4
    client.force_login(stranger)
    response = client.post(reverse("classroom:judging_create"), {**data, "title": "Not mine"})
    assert response.status_code == 200 and not JudgingSession.objects.filter(title="Not mine").exists()


def test_peer_judging_by_the_class_whose_essays_are_judged_is_refused_with_a_reason(
    client, world, teacher, school_class
):
    client.force_login(teacher)
    data = {"title": "Own class", "assignments": [world.a10.pk], "target": "3", "peer_judging": "on"}
    for judges, message in (
        ([school_class.pk], "Pupils never judge their own class&#x27;s essays, so 10H History would have nothing"),
        ([], "Tick the classes whose pupils are to judge, or turn peer judging off."),
    ):
        response = client.post(reverse("classroom:judging_create"), {**data, "judge_classes": judges})
        assert response.status_code == 200 and message in response.content.decode(), judges
    assert not JudgingSession.objects.filter(title="Own class").exists()

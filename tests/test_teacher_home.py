"""The teacher's home as a to-do list (issue 13, item 2): per class and assignment, scripts to
mark, responses to read, marks to release, late and missing work, upcoming deadlines, and one
click to the next script or response. Figures come from classroom/status.py's SQL twins, so
they agree with the markbook; the page's queries do not grow with classes, assignments or pupils.

The class (tests/helpers.py `build_class`): A1 due 20 days ago (Amy and Sam released, Ben marked
not released, Cat missing); A2 due 5 days ago (Amy and Sam released, Sam's task unanswered, Ben
handed in late and not marked, Cat a draft: missing); A3 due in 7 days (Sam drafting).
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from classroom import home, progress
from classroom.models import DirtResponse, Mark, Submission
from classroom.status import response_waiting, response_waiting_q
from tests.factories import AssignmentFactory, EssayPromptFactory, SchoolClassFactory, StudentFactory, marking_scheme
from tests.helpers import build_class, give_mark, hand_in

pytestmark = pytest.mark.django_db

DAYS = datetime.timedelta(days=1)


@pytest.fixture
def known(school_class, teacher, student):
    built = build_class(school_class, teacher, student)
    # Everyone was in the class before A1 was due (a pupil who joins later is not "missing").
    school_class.enrolments.update(joined_at=timezone.now() - 60 * DAYS)
    return built


def figures(school_class) -> dict[str, home.AssignmentTodo]:
    """{assignment title: its to-do figures}."""
    titles = dict(school_class.assignments.values_list("pk", "title"))
    return {titles[item.pk]: item for item in home.assignment_figures([school_class.pk], timezone.now())}


def answer_task(submission: Submission) -> DirtResponse:
    response = DirtResponse.for_mark(Mark.objects.get(submission=submission))
    response.save_text("I rewrote paragraph two.", response.revision)
    return response.submit()


def page(client, user) -> str:
    client.force_login(user)
    return " ".join(client.get(reverse("home")).content.decode().split())


# --- the figures ------------------------------------------------------------------------------


def test_each_assignment_counts_what_is_waiting(school_class, known):
    a1, a2, a3 = (figures(school_class)[t] for t in ("A1", "A2", "A3"))
    assert (a1.pupils, a1.handed_in, a1.to_mark, a1.to_release, a1.missing, a1.responses) == (4, 3, 0, 1, 1, 0)
    assert (a2.handed_in, a2.to_mark, a2.late, a2.to_release, a2.missing) == (3, 1, 1, 0, 1)
    assert (a3.handed_in, a3.to_mark, a3.missing) == (0, 0, 0)
    assert not a3.needs_action and a2.needs_action


def test_the_figures_agree_with_the_markbook(school_class, known):
    """One home for statuses: the to-do counts are the markbook's column counts."""
    book = progress.markbook(school_class)
    todo = {item.pk: item for item in home.assignment_figures([school_class.pk], timezone.now())}
    for column in book.columns:
        counts, item = column.counts, todo[column.assignment_id]
        assert item.to_mark == counts["submitted"] + counts["late"]
        assert item.late == counts["late"]
        assert item.to_release == counts["marked"]
        assert item.missing == counts["missing"]
        assert item.handed_in == sum(counts[k] for k in ("submitted", "late", "marked", "released"))


def test_a_response_waits_until_the_teacher_acknowledges_it(school_class, known, teacher):
    sam_a2 = known["a2"].submissions.get(student=known["sam"])
    response = answer_task(sam_a2)
    assert figures(school_class)["A2"].responses == 1
    response.acknowledge(by=teacher)
    assert figures(school_class)["A2"].responses == 0


@pytest.mark.parametrize("submitted", [False, True])
@pytest.mark.parametrize("acknowledged", [False, True])
def test_response_waiting_python_and_sql_agree(known, teacher, submitted, acknowledged):
    sam_a2 = known["a2"].submissions.get(student=known["sam"])
    response = DirtResponse.for_mark(Mark.objects.get(submission=sam_a2))
    response.save_text("My answer.", response.revision)
    if submitted:
        response.submit()
        if acknowledged:
            response.acknowledge(by=teacher)
    response.refresh_from_db()
    in_sql = DirtResponse.objects.filter(response_waiting_q(""), pk=response.pk).exists()
    assert (
        in_sql == response_waiting(response.submitted_at, response.acknowledged_at) == (submitted and not acknowledged)
    )


def test_pupils_who_left_are_not_counted(school_class, known):
    school_class.enrolments.get(student=known["cat"]).remove()
    a1 = figures(school_class)["A1"]
    assert (a1.pupils, a1.missing) == (3, 0)


def test_exempt_pupils_are_neither_missing_nor_expected(school_class, known, teacher):
    known["a1"].exempt(known["cat"], by=teacher)
    a1 = figures(school_class)["A1"]
    assert (a1.pupils, a1.missing) == (3, 0)


def test_a_pupil_who_joined_after_the_due_date_is_not_missing(school_class, known):
    school_class.enrolments.filter(student=known["cat"]).update(joined_at=timezone.now() - 10 * DAYS)
    found = figures(school_class)
    assert (found["A1"].missing, found["A2"].missing) == (0, 1)  # joined after A1 was due, before A2


def test_an_archived_assignment_stays_on_the_to_do_until_its_marking_is_done(client, teacher, school_class, known):
    """Archiving closes it to pupils (nothing is missing any more), but Ben's late script is
    still owed its marking: it stays, labelled archived, until marked and released."""
    a2 = known["a2"]
    a2.archive(by=teacher)
    item = figures(school_class)["A2"]
    assert (item.to_mark, item.late, item.missing, item.archived) == (1, 1, 0, True)
    html = page(client, teacher)
    assert reverse("classroom:assignment_detail", args=[a2.pk]) in html and f'data-archived="{a2.pk}"' in html
    ben_a2 = a2.submissions.get(student=known["ben"])
    assert f'data-todo="next-script" href="{reverse("classroom:mark_submission", args=[ben_a2.pk])}"' in html
    give_mark(ben_a2, teacher, 2, 3)  # marked and released: nothing left to do
    html = page(client, teacher)
    assert reverse("classroom:assignment_detail", args=[a2.pk]) not in html
    assert 'data-todo="next-script"' not in html


# --- the page ---------------------------------------------------------------------------------


def test_home_shows_the_totals_and_links_to_the_next_script(client, teacher, school_class, known):
    html = page(client, teacher)
    assert "1 script to mark" in re.sub(r"</?strong>", "", html)
    ben_a2 = known["a2"].submissions.get(student=known["ben"])
    mark_ben = reverse("classroom:mark_submission", args=[ben_a2.pk])
    assert f'data-todo="next-script" href="{mark_ben}"' in html
    assert "1 to mark (1 late)" in html and "1 to release" in html and "1 missing" in html
    assert f"{reverse('classroom:marking_queue', args=[known['a1'].pk])}?show=marked" in html
    assert "Due " in html and "1 of 4 handed in" not in html  # A3: nobody yet
    assert "0 of 4 handed in" in html
    assert 'data-todo="next-response"' not in html


def test_home_links_to_the_next_response_to_read(client, teacher, school_class, known):
    sam_a2 = known["a2"].submissions.get(student=known["sam"])
    answer_task(sam_a2)
    html = page(client, teacher)
    url = reverse("classroom:mark_submission", args=[sam_a2.pk]) + "#dirt"
    assert f'data-todo="next-response" href="{url}"' in html
    assert "1 response to read" in html


def test_next_script_follows_the_marking_queue_order(client, teacher, school_class):
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    assignment = AssignmentFactory(school_class=school_class, prompt=prompt, title="Queue essay")
    zoe = StudentFactory(first_name="Zoe", last_name="Zed")
    abe = StudentFactory(first_name="Abe", last_name="Adams")
    for pupil in (zoe, abe):
        school_class.enrol(pupil)
    zoe_essay = hand_in(assignment, zoe)  # candidate number 1
    abe_essay = hand_in(assignment, abe)  # candidate number 2
    html = page(client, teacher)
    assert f'data-todo="next-script" href="{reverse("classroom:mark_submission", args=[abe_essay.pk])}"' in html
    # Anonymous marking: the queue goes by candidate number, and so does "next".
    assignment.anonymous_marking = True
    assignment.save(update_fields=["anonymous_marking"])
    html = page(client, teacher)
    first = min((zoe_essay, abe_essay), key=lambda s: Submission.objects.get(pk=s.pk).candidate_number)
    assert f'data-todo="next-script" href="{reverse("classroom:mark_submission", args=[first.pk])}"' in html
    # Marked scripts are no longer "next".
    give_mark(first, teacher, 2, 3, release=False)
    other = abe_essay if first == zoe_essay else zoe_essay
    html = page(client, teacher)
    assert f'data-todo="next-script" href="{reverse("classroom:mark_submission", args=[other.pk])}"' in html


def test_an_assignment_with_nothing_to_do_leaves_the_list(client, teacher, school_class):
    now = timezone.now()
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    done = AssignmentFactory(
        school_class=school_class, prompt=prompt, title="All done", opens_at=now - 9 * DAYS, due_at=now - DAYS
    )
    pupil = school_class.active_students().get()
    give_mark(hand_in(done, pupil, at=now - 2 * DAYS), teacher, 2, 3)
    AssignmentFactory(school_class=school_class, title="Coming up", due_at=now + 3 * DAYS)
    html = page(client, teacher)
    assert "All done" not in html
    assert "Coming up" in html and "Nothing to do yet" in html


def test_an_empty_to_do_says_so(client, teacher, school_class):
    html = page(client, teacher)
    assert "Nothing to mark and no responses to read." in html
    assert "no work waiting and no deadlines coming up" in html
    assert school_class.name in html and school_class.join_code in html


def test_the_class_card_links_to_assignments_markbook_and_overview(client, teacher, school_class):
    html = page(client, teacher)
    for name in ("assignment_list", "markbook", "class_overview", "assignment_create"):
        assert reverse(f"classroom:{name}", args=[school_class.pk]) in html


# --- who sees what ----------------------------------------------------------------------------


def test_a_teacher_sees_only_their_own_classes_work(client, cast, school_class, other_class, known):
    html = page(client, cast["other_teacher"])
    assert other_class.name in html and school_class.name not in html
    # The title as a page's text, not the two letters anywhere (a CSRF token or CSP nonce may hold them).
    assert not re.search(r">\s*A2\s*<", html) and 'data-todo="next-script"' not in html


def test_a_head_gets_their_own_to_do_and_a_department_summary(client, cast, school_class, other_class, known):
    head = cast["head"]
    html = page(client, head)
    # The head teaches nothing: no to-do of their own, but every class in the summary.
    assert "You have no classes yet." in html and 'data-todo="next-script"' not in html
    row = re.search(rf'<tr data-class="{school_class.pk}">(.*?)</tr>', html).group(1)
    assert [int(n) for n in re.findall(r"<td>(\d+)</td>", row)] == [4, 1, 0, 1, 2]  # pupils, to mark, …
    assert f'<tr data-class="{other_class.pk}">' in html
    # Once they teach a class, its work is on their own to-do and it leaves the summary.
    school_class.add_teacher(head)
    html = page(client, head)
    assert 'data-todo="next-script"' in html and f'<tr data-class="{school_class.pk}">' not in html


@pytest.mark.parametrize(("who", "status"), [("student", 200), ("outsider", 200)])
def test_pupils_get_their_own_home_not_the_to_do(client, cast, known, who, status):
    client.force_login(cast[who])
    response = client.get(reverse("home"))
    assert response.status_code == status
    assert "scripts to mark" not in response.content.decode() and "home" not in response.context


def test_anonymous_users_go_to_log_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# --- query budget -----------------------------------------------------------------------------


def busy_class(teacher, pupils: int, assignments: int) -> None:
    """A class with work to mark, marks to release, responses to read and missing work on every
    assignment, and one assignment still to come."""
    now = timezone.now()
    students = [StudentFactory() for _ in range(pupils)]
    school_class = SchoolClassFactory(teachers=[teacher], students=students)
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    for i in range(assignments):
        assignment = AssignmentFactory(
            school_class=school_class, prompt=prompt, opens_at=now - (40 - i) * DAYS, due_at=now - (30 - i) * DAYS
        )
        answered = give_mark(hand_in(assignment, students[0], at=now - 31 * DAYS), teacher, 2, 3, improvement_task="Go")
        answer_task(answered.submission)
        give_mark(hand_in(assignment, students[1], at=now - 31 * DAYS), teacher, 2, 3, release=False)
        for student in students[2:4]:
            hand_in(assignment, student)
    AssignmentFactory(school_class=school_class, prompt=prompt, due_at=now + 3 * DAYS)


@pytest.mark.parametrize(("classes", "pupils", "assignments"), [(1, 4, 1), (4, 12, 5)])
def test_teacher_home_query_budget_does_not_grow(
    client, teacher, django_assert_num_queries, classes, pupils, assignments
):
    for _ in range(classes):
        busy_class(teacher, pupils, assignments)
    client.force_login(teacher)
    # session, user, classes (pupil counts, mine), figures per assignment, the listed assignments
    # with their next script and response
    with django_assert_num_queries(5):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    assert response.context["home"].to_mark == 2 * classes * assignments
    assert response.context["home"].responses == classes * assignments


@pytest.mark.parametrize("classes", [1, 4])
def test_head_home_query_budget_does_not_grow(client, head, teacher, django_assert_num_queries, classes):
    for _ in range(classes):
        busy_class(teacher, 4, 2)
    client.force_login(head)
    # session, user, classes, figures per assignment (no own classes: no next links)
    with django_assert_num_queries(4):
        response = client.get(reverse("home"))
    assert len(response.context["home"].department) == classes


# --- the class page and the assignment list ---------------------------------------------------


def test_the_class_page_links_to_its_assignments(client, teacher, school_class):
    client.force_login(teacher)
    html = client.get(reverse("classroom:class_detail", args=[school_class.pk])).content.decode()
    assert f'href="{reverse("classroom:assignment_list", args=[school_class.pk])}">Assignments</a>' in html


def test_the_assignment_list_shows_marking_progress(client, teacher, school_class, known):
    client.force_login(teacher)
    html = " ".join(client.get(reverse("classroom:assignment_list", args=[school_class.pk])).content.decode().split())
    for assignment, words in (
        (known["a1"], "0 to mark"),
        (known["a2"], "1 to mark"),
    ):
        cell = re.search(rf'<td data-marking="{assignment.pk}">(.*?)</td>', html).group(1)
        assert f'href="{reverse("classroom:marking_queue", args=[assignment.pk])}">{words}' in cell
    a1 = re.search(rf'<td data-marking="{known["a1"].pk}">(.*?)</td>', html).group(1)
    assert "1 marked, not released · 2 released" in a1

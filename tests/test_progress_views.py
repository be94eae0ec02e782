"""Progress pages: access for every page and export, query budgets, what the pages show."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from crisis.models import KnowledgeCheckAttempt
from tests.factories import (
    AssignmentFactory,
    EssayPromptFactory,
    LessonFactory,
    SchoolClassFactory,
    StudentFactory,
    marking_scheme,
)
from tests.helpers import build_class, draft, give_mark, hand_in

pytestmark = pytest.mark.django_db


def class_pages(school_class):
    return [
        reverse("classroom:markbook", args=[school_class.pk]),
        reverse("classroom:class_overview", args=[school_class.pk]),
        reverse("classroom:markbook_export", args=[school_class.pk]) + "?shape=long",
        reverse("classroom:markbook_export", args=[school_class.pk]) + "?shape=wide&separator=tab&bom=1",
    ]


# --- access ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("teacher", 200), ("head", 200), ("other_teacher", 404), ("student", 403), ("outsider", 403)]
)
def test_class_progress_pages_and_exports_access(client, cast, school_class, who, status):
    client.force_login(cast[who])
    for url in class_pages(school_class):
        assert client.get(url).status_code == status, url


def test_class_progress_pages_send_anonymous_users_to_log_in(client, school_class):
    for url in class_pages(school_class):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


@pytest.mark.parametrize(
    ("who", "status"), [("student", 200), ("teacher", 200), ("head", 200), ("other_teacher", 404), ("outsider", 404)]
)
def test_student_progress_access(client, cast, who, status):
    client.force_login(cast[who])
    url = reverse("classroom:student_progress", args=[cast["student"].pk])
    assert client.get(url).status_code == status


def test_student_progress_of_a_missing_student_is_404(client, cast):
    client.force_login(cast["head"])
    assert client.get(reverse("classroom:student_progress", args=[987654])).status_code == 404


def test_student_progress_anonymous_goes_to_log_in(client, cast):
    response = client.get(reverse("classroom:student_progress", args=[cast["student"].pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize(("who", "status"), [("student", 200), ("teacher", 403), ("head", 403)])
def test_my_progress_is_for_students(client, cast, who, status):
    client.force_login(cast[who])
    assert client.get(reverse("classroom:my_progress")).status_code == status


def test_my_progress_anonymous_goes_to_log_in(client):
    response = client.get(reverse("classroom:my_progress"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize(("who", "status"), [("head", 200), ("teacher", 403), ("other_teacher", 403), ("student", 403)])
def test_department_view_is_for_heads_only(client, cast, who, status):
    client.force_login(cast[who])
    assert client.get(reverse("classroom:department_progress")).status_code == status


def test_department_view_anonymous_goes_to_log_in(client):
    response = client.get(reverse("classroom:department_progress"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# --- what the pages show -----------------------------------------------------------------


@pytest.fixture
def known(school_class, teacher, student):
    return build_class(school_class, teacher, student)


def test_markbook_page_shows_marks_states_and_averages(client, teacher, school_class, known):
    client.force_login(teacher)
    html = client.get(reverse("classroom:markbook", args=[school_class.pk])).content.decode()
    assert "8/10" in html and "80%" in html
    assert "Missing" in html and "Late, to mark" in html and "Marked, not released" in html
    assert "70.0%" in html and "75.0%" in html  # Sam's and Amy's averages
    assert reverse("classroom:student_progress", args=[known["sam"].pk]) in html
    assert "Class average: <strong>72.5%</strong>" in html
    sam_a1 = known["a1"].submissions.get(student=known["sam"])
    assert f'<a href="{reverse("classroom:mark_submission", args=[sam_a1.pk])}">' in html


def test_markbook_page_sorts_by_average(client, teacher, school_class, known):
    client.force_login(teacher)
    html = client.get(reverse("classroom:markbook", args=[school_class.pk]) + "?sort=average").content.decode()
    assert html.index("Able, Amy") < html.index("Student, Sam") < html.index("Brown, Ben")


def test_markbook_page_ignores_an_unknown_sort(client, teacher, school_class, known):
    client.force_login(teacher)
    response = client.get(reverse("classroom:markbook", args=[school_class.pk]) + "?sort=%27;drop")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Able, Amy") < html.index("Brown, Ben") < html.index("Student, Sam")


def test_student_sees_their_own_progress_only_with_released_marks(client, student, known):
    client.force_login(student)
    html = client.get(reverse("classroom:my_progress")).content.decode()
    assert "8/10 (80.0%)" in html and "6/10 (60.0%)" in html
    assert "Rewrite paragraph two." in html
    assert "Thirteen days" in html
    assert 'aria-current="page" href="/progress/"' in html or "My progress" in html


def test_overview_page_lists_attention(client, teacher, school_class, known):
    client.force_login(teacher)
    html = client.get(reverse("classroom:class_overview", args=[school_class.pk])).content.decode()
    assert "Cat Cole" in html and "80.0% to 60.0%" in html
    assert "Level 2: 2" in html


def test_department_page_shows_each_class(client, head, school_class, known):
    client.force_login(head)
    html = client.get(reverse("classroom:department_progress") + f"?prompt={known['prompt'].pk}").content.decode()
    assert "10H History" in html and "72.5%" in html


def test_department_page_with_a_bad_prompt_says_so(client, head, known):
    client.force_login(head)
    response = client.get(reverse("classroom:department_progress") + "?prompt=abc")
    assert response.status_code == 200
    assert "Choose one of the essay questions" in response.content.decode()


def test_teacher_home_links_to_markbook_and_overview(client, teacher, school_class):
    client.force_login(teacher)
    html = client.get(reverse("home")).content.decode()
    assert reverse("classroom:markbook", args=[school_class.pk]) in html
    assert reverse("classroom:class_overview", args=[school_class.pk]) in html


# --- query budgets -----------------------------------------------------------------------


def make_class(teacher, students: int, assignments: int, prompt=None):
    """A class with released, unreleased, late and draft work on every assignment."""
    now = timezone.now()
    days = datetime.timedelta(days=1)
    pupils = [StudentFactory() for _ in range(students)]
    school_class = SchoolClassFactory(teachers=[teacher], students=pupils)
    prompt = prompt or EssayPromptFactory(mark_scheme=marking_scheme())
    lesson = LessonFactory()
    for i in range(assignments):
        assignment = AssignmentFactory(
            school_class=school_class, prompt=prompt, opens_at=now - (40 - i) * days, due_at=now - (30 - i) * days
        )
        strands = {"knowledge": 1 + i % 3, "analysis": 2, "judgement": 3}  # formative ticks on every mark
        give_mark(
            hand_in(assignment, pupils[0], at=now - (31 - i) * days),
            teacher,
            3,
            4,
            improvement_task="Redo",
            strands=strands,
        )
        give_mark(
            hand_in(assignment, pupils[1], at=now - (31 - i) * days), teacher, 2, 2, release=False, strands=strands
        )
        hand_in(assignment, pupils[2])
        draft(assignment, pupils[3])
    KnowledgeCheckAttempt.objects.create(student=pupils[0], lesson=lesson, score=2, total=3, answers={})
    return school_class, pupils[0]


@pytest.mark.parametrize(("students", "assignments"), [(5, 2), (50, 2), (5, 20)])
def test_progress_pages_query_budget_does_not_grow(client, teacher, django_assert_num_queries, students, assignments):
    school_class, first = make_class(teacher, students, assignments)
    client.force_login(teacher)
    # session, user, class; assignments, scheme maxima, rows, cells, column figures and
    # distribution, class mean
    with django_assert_num_queries(9):
        assert client.get(reverse("classroom:markbook", args=[school_class.pk])).status_code == 200
    # session, user, class; assignments, criterion levels, top levels, criterion means,
    # strand ratings, attention (missing, unanswered), falling marks (window)
    with django_assert_num_queries(10):
        assert client.get(reverse("classroom:class_overview", args=[school_class.pk])).status_code == 200
    # session, user, student; marks (+ assignment, class, prompt, DIRT, percentages),
    # criterion marks, strand ticks, knowledge checks
    with django_assert_num_queries(7):
        assert client.get(reverse("classroom:student_progress", args=[first.pk])).status_code == 200
    # session, user, class; the markbook's six figure queries; per-criterion levels
    with django_assert_num_queries(10):
        response = client.get(reverse("classroom:markbook_export", args=[school_class.pk]) + "?shape=long")
        assert response.status_code == 200


def test_markbook_keeps_anonymous_marking_anonymous(client, teacher, school_class, known):
    a1 = known["a1"]
    a1.anonymous_marking = True
    a1.save(update_fields=["anonymous_marking"])
    client.force_login(teacher)
    html = client.get(reverse("classroom:markbook", args=[school_class.pk])).content.decode()
    ben_a1 = a1.submissions.get(student=known["ben"])
    assert reverse("classroom:mark_submission", args=[ben_a1.pk]) not in html
    ben_cell = '<td class="markbook-cell cell-marked"><span class="cell-state">'
    assert ben_cell in html  # Ben's unreleased mark is not shown against his name
    a1.reveal_names(by=teacher)
    html = client.get(reverse("classroom:markbook", args=[school_class.pk])).content.decode()
    assert ben_cell not in html
    assert reverse("classroom:mark_submission", args=[ben_a1.pk]) in html


@pytest.mark.parametrize("classes", [1, 4])
def test_department_view_query_budget_does_not_grow(client, head, teacher, django_assert_num_queries, classes):
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    for _ in range(classes):
        make_class(teacher, 5, 2, prompt=prompt)
    client.force_login(head)
    # session, user; shipped prompts, scheme maxima, per-class totals, per-class criterion means
    with django_assert_num_queries(6):
        response = client.get(reverse("classroom:department_progress") + f"?prompt={prompt.pk}")
        assert response.status_code == 200
    assert len(response.context["view"].rows) == classes


def test_markbook_links_drafts_and_missing_drafts_to_the_essay(client, teacher, school_class, known):
    client.force_login(teacher)
    html = client.get(reverse("classroom:markbook", args=[school_class.pk])).content.decode()
    cat_a2 = known["a2"].submissions.get(student=known["cat"])  # a draft after the due date: missing
    assert reverse("classroom:submission_detail", args=[cat_a2.pk]) in html


def test_overview_page_says_which_way_each_skill_moved(client, teacher, school_class, known):
    client.force_login(teacher)
    html = " ".join(client.get(reverse("classroom:class_overview", args=[school_class.pk])).content.decode().split())
    assert 'level <span aria-hidden="true">▲</span> up 0.5; mark <span aria-hidden="true">▲</span> up 0.5' in html
    assert 'level no change; mark <span aria-hidden="true">▲</span> up 1.0' in html

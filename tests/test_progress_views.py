"""Progress pages: access for every page and export, query budgets, what the pages show."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from classroom import progress
from classroom.models import Mark
from crisis.models import Criterion, KnowledgeCheckAttempt, Level, MarkScheme
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
DAYS = datetime.timedelta(days=1)


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
    built = build_class(school_class, teacher, student)
    # Everyone was in the class before A1 was due (a pupil who joins later is not "missing").
    school_class.enrolments.update(joined_at=timezone.now() - 60 * datetime.timedelta(days=1))
    return built


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
    # session, user, class; assignments, scheme maxima, the cells (every figure is summed from them)
    with django_assert_num_queries(6):
        assert client.get(reverse("classroom:markbook", args=[school_class.pk])).status_code == 200
    # session, user, class; attention (missing, unanswered), assignments, criterion marks of
    # the two essays, top levels, strand ratings, falling marks (window)
    with django_assert_num_queries(9):
        assert client.get(reverse("classroom:class_overview", args=[school_class.pk])).status_code == 200
    # session, user, student; marks (+ assignment, class, prompt, DIRT, percentages),
    # criterion marks, strand ticks, knowledge checks, the access log's row
    with django_assert_num_queries(8):
        assert client.get(reverse("classroom:student_progress", args=[first.pk])).status_code == 200
    # session, user, class; the markbook's three queries; per-criterion levels; the access
    # log's one row for the class
    with django_assert_num_queries(8):
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
    # In percentage points of each mark's maximum, on the pupils marked on both (Amy and Sam):
    # AO1 (75% → 87.5%), AO2 (58.3% → 75%); both essays on one scheme, so levels compare too.
    ao1 = re.search(r'<tr data-skill="AO1">(.*?)</tr>', html).group(1)
    assert '<span aria-hidden="true">▲</span> up 12.5 percentage points ; level up 0.5' in ao1
    assert "on the 2 pupils marked on both" in ao1
    ao2 = re.search(r'<tr data-skill="AO2">(.*?)</tr>', html).group(1)
    assert '<span aria-hidden="true">▲</span> up 16.7 percentage points ; level no change' in ao2


# --- the class overview tells the truth (issue 13, item 4) ----------------------------------------


def overview_html(client, teacher, school_class) -> str:
    client.force_login(teacher)
    return " ".join(client.get(reverse("classroom:class_overview", args=[school_class.pk])).content.decode().split())


def test_overview_says_how_many_pupils_each_figure_covers(client, teacher, school_class, known):
    html = overview_html(client, teacher, school_class)
    assert "released marks for <strong>2 of 4</strong> pupils, compared with <strong>A1</strong> (2 of 4)" in html
    ao1 = re.search(r'<tr data-skill="AO1">(.*?)</tr>', html).group(1)
    assert "<td>2 of 4</td>" in ao1 and "3.5 / 4 (87.5%)" in ao1


def test_one_released_mark_does_not_make_an_essay_the_latest(client, teacher, school_class, known):
    """B6: releasing one mark on a new essay compared n = 1 against the class."""
    now = timezone.now()
    a4 = AssignmentFactory(
        school_class=school_class, prompt=known["prompt"], title="A4", opens_at=now - 4 * DAYS, due_at=now - 2 * DAYS
    )
    give_mark(hand_in(a4, known["amy"], at=now - 3 * DAYS), teacher, 1, 1)
    overview = progress.class_overview(school_class)
    assert overview.latest["title"] == "A2" and [a["title"] for a in overview.newer] == ["A4"]
    html = overview_html(client, teacher, school_class)
    assert "<strong>A4</strong> has released marks for only 1 of 4 pupils" in html


def test_a_change_needs_half_the_class_marked_on_both_essays(teacher, school_class, known):
    # A1 released for Amy and Ben instead of Amy and Sam: each essay still covers half the class,
    # but only Amy has released marks on both (1 of 4).
    Mark.objects.get(submission__assignment=known["a1"], submission__student=known["sam"]).withdraw_release()
    Mark.objects.get(submission__assignment=known["a1"], submission__student=known["ben"]).release(by=teacher)
    overview = progress.class_overview(school_class)
    assert overview.previous["title"] == "A1"
    crit = {c.code: c for c in overview.criteria}
    assert crit["AO1"].compared == 1 and not crit["AO1"].comparable
    assert crit["AO1"].percent_change is None and crit["AO1"].level_change is None


def _scheme_with_ao2_out_of(top: int):
    scheme = MarkScheme.objects.create(name=f"AO2 out of {top}")
    for order, (code, bands, spag) in enumerate(
        [("AO1", [(1, 2), (3, 4)], False), ("AO2", [(1, top)], False), ("SPAG", [(1, 2), (3, 4)], True)]
    ):
        criterion = Criterion.objects.create(scheme=scheme, order=order, code=code, name=code, is_spag=spag)
        for number, (low, high) in enumerate(bands, start=1):
            Level.objects.create(criterion=criterion, number=number, min_marks=low, max_marks=high, descriptor="d")
    return scheme


def test_essays_out_of_different_maxima_are_compared_in_percentages(client, teacher):
    now = timezone.now()
    pupils = [StudentFactory(), StudentFactory()]
    school_class = SchoolClassFactory(teachers=[teacher], students=pupils)
    earlier = AssignmentFactory(
        school_class=school_class,
        prompt=EssayPromptFactory(mark_scheme=_scheme_with_ao2_out_of(3)),
        opens_at=now - 20 * DAYS,
        due_at=now - 10 * DAYS,
    )
    later = AssignmentFactory(
        school_class=school_class,
        prompt=EssayPromptFactory(mark_scheme=marking_scheme()),  # AO2 out of 6, two levels
        opens_at=now - 9 * DAYS,
        due_at=now - 2 * DAYS,
    )
    for pupil in pupils:
        give_mark(hand_in(earlier, pupil, at=now - 11 * DAYS), teacher, 2, 3)  # AO2 3/3: 100%
        give_mark(hand_in(later, pupil, at=now - 3 * DAYS), teacher, 2, 3)  # AO2 3/6: 50%
    ao2 = {c.code: c for c in progress.class_overview(school_class).criteria}["AO2"]
    assert ao2.percent_change == -50.0
    assert ao2.marks_change is None and ao2.level_change is None  # 3 → 3 marks would read "no change"
    html = overview_html(client, teacher, school_class)
    row = re.search(r'<tr data-skill="AO2">(.*?)</tr>', html).group(1)
    assert "down 50.0 percentage points" in row and "; level" not in row


def test_needing_attention_follows_the_stated_rule(client, teacher, school_class, known):
    overview = progress.class_overview(school_class)
    # Cat: 2 missing essays; Sam: 80% → 60%. Sam's one unanswered task alone would not list him.
    assert [a.name for a in overview.attention] == ["Cat Cole", "Sam Student"]
    known["a1"].exempt(known["cat"], by=teacher)  # now one missing essay: not listed, but counted
    overview = progress.class_overview(school_class)
    assert [a.name for a in overview.attention] == ["Sam Student"] and overview.one_missing == 1
    html = overview_html(client, teacher, school_class)
    assert "2 or more missing essays" in html and "2 or more improvement tasks" in html
    assert "1 of 4 pupils." in html
    assert "Not listed: 1 pupil with one missing essay" in html


def test_one_unanswered_task_each_does_not_list_the_whole_class(teacher):
    """The review's class: everyone had one unanswered improvement task, and all were listed."""
    now = timezone.now()
    pupils = [StudentFactory() for _ in range(5)]
    school_class = SchoolClassFactory(teachers=[teacher], students=pupils)
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    essays = [
        AssignmentFactory(
            school_class=school_class, prompt=prompt, opens_at=now - d * DAYS, due_at=now - (d - 5) * DAYS
        )
        for d in (20, 10)
    ]
    for pupil in pupils:
        give_mark(hand_in(essays[0], pupil, at=now - 16 * DAYS), teacher, 3, 4)
        give_mark(hand_in(essays[1], pupil, at=now - 6 * DAYS), teacher, 3, 4, improvement_task="Redo it")
    overview = progress.class_overview(school_class)
    assert overview.attention == [] and overview.one_unanswered == 5
    # A second unanswered task puts a pupil on the list.
    third = AssignmentFactory(school_class=school_class, prompt=prompt, opens_at=now - 4 * DAYS, due_at=now - DAYS)
    give_mark(hand_in(third, pupils[0], at=now - 2 * DAYS), teacher, 3, 4, improvement_task="And this")
    (listed,) = progress.class_overview(school_class).attention
    assert listed.student_id == pupils[0].pk and listed.unanswered == 2

"""Progress figures on a small hand-made class with known answers (see tests/helpers.py)."""

from __future__ import annotations

import pytest

from classroom import progress
from classroom.models import DirtResponse, Mark
from crisis.models import EssayPrompt
from tests.factories import AssignmentFactory
from tests.helpers import build_class, give_mark, hand_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def known(school_class, teacher, student):
    return build_class(school_class, teacher, student)


def rows_by_name(book):
    return {row.given_name: row for row in book.rows}


def test_markbook_row_averages_count_only_released_marks(school_class, known):
    rows = rows_by_name(progress.markbook(school_class))
    assert rows["Sam"].mean_percent == 70.0  # (80 + 60) / 2
    assert rows["Amy"].mean_percent == 75.0  # (50 + 100) / 2
    assert rows["Ben"].mean_percent is None  # marked but not released
    assert rows["Cat"].mean_percent is None
    assert [rows[n].counted for n in ("Sam", "Amy", "Ben", "Cat")] == [2, 2, 0, 0]


def test_markbook_counts_missing_work_after_the_due_date_only(school_class, known):
    rows = rows_by_name(progress.markbook(school_class))
    assert rows["Cat"].missing == 2  # nothing for A1, only a draft for A2
    assert rows["Sam"].missing == 0  # A3's draft is not due yet
    assert rows["Ben"].missing == 0


def test_markbook_cells_show_each_state(school_class, known):
    rows = rows_by_name(progress.markbook(school_class))
    assert [c.kind for c in rows["Sam"].cells] == ["released", "released", "draft"]
    assert [c.kind for c in rows["Ben"].cells] == ["marked", "late", "not_started"]
    assert [c.kind for c in rows["Cat"].cells] == ["missing", "missing", "not_started"]
    sam_a1 = rows["Sam"].cells[0]
    assert (sam_a1.total, sam_a1.max_marks, sam_a1.percent) == (8, 10, 80)
    assert rows["Ben"].cells[0].total == 6  # the teacher sees the unreleased mark


def test_markbook_column_averages_counts_and_distribution(school_class, known):
    columns = {c.title: c for c in progress.markbook(school_class).columns}
    a1, a2, a3 = columns["A1"], columns["A2"], columns["A3"]
    assert (a1.counted, a1.mean_total, a1.mean_percent) == (2, 6.5, 65.0)
    assert (a2.counted, a2.mean_total, a2.mean_percent) == (2, 8.0, 80.0)
    assert a3.mean_total is None
    assert a1.counts["released"] == 2 and a1.counts["marked"] == 1 and a1.counts["missing"] == 1
    assert a2.counts["late"] == 1 and a2.counts["missing"] == 1
    assert a3.counts["draft"] == 1 and a3.counts["not_started"] == 3
    assert dict(a1.distribution) == {"0–39%": 0, "40–59%": 1, "60–79%": 0, "80–100%": 1}
    assert dict(a2.distribution) == {"0–39%": 0, "40–59%": 0, "60–79%": 1, "80–100%": 1}


def test_markbook_sorts_by_name_or_by_average(school_class, known):
    by_name = [r.given_name for r in progress.markbook(school_class, "name").rows]
    by_average = [r.given_name for r in progress.markbook(school_class, "average").rows]
    assert by_name == ["Amy", "Ben", "Cat", "Sam"]
    assert by_average == ["Amy", "Sam", "Ben", "Cat"]  # no marks last, by name
    assert progress.markbook(school_class, "nonsense").sort == "name"


def test_class_average_is_the_mean_of_every_released_percentage(school_class, known):
    assert progress.markbook(school_class).class_mean_percent == 72.5  # (80 + 50 + 60 + 100) / 4


def test_student_progress_per_criterion_over_time(known):
    report = progress.student_progress(known["sam"])
    assert [s.title for s in report.assignments] == ["A1", "A2"]
    assert [s.percent for s in report.assignments] == [80.0, 60.0]
    assert report.codes == ["AO1", "AO2", "SPAG"]
    assert [p.percent for p in report.points["AO1"]] == [100.0, 75.0]
    assert [p.percent for p in report.points["AO2"]] == [66.7, 50.0]
    assert [(p.level, p.marks, p.max_marks) for p in report.points["AO2"]] == [(2, 4, 6), (1, 3, 6)]


def test_student_progress_targets_latest_first_with_responses(known):
    report = progress.student_progress(known["sam"])
    assert [t.title for t in report.targets] == ["A2", "A1"]
    assert report.targets[0].improvement_task == "Rewrite paragraph two."
    assert report.targets[0].response_submitted_at is None
    mark = Mark.objects.get(submission__student=known["sam"], submission__assignment=known["a2"])
    response = DirtResponse.for_mark(mark)
    response.save_text("I rewrote it.", response.revision)
    response.submit()
    assert progress.student_progress(known["sam"]).targets[0].response == "I rewrote it."


def test_student_progress_ignores_unreleased_marks(known):
    report = progress.student_progress(known["ben"])
    assert report.assignments == [] and report.codes == []


def test_knowledge_checks_show_latest_and_best(known):
    (k,) = progress.student_progress(known["sam"]).knowledge
    assert (k.title, k.attempts, k.latest_score, k.latest_total, k.best_percent) == ("Thirteen days", 2, 1, 4, 75.0)


def test_overview_levels_on_the_latest_assignment_and_change(school_class, known):
    overview = progress.class_overview(school_class)
    assert overview.latest["title"] == "A2" and overview.previous["title"] == "A1"
    crit = {c.code: c for c in overview.criteria}
    assert crit["AO1"].levels == [("No level", 0), ("Level 1", 0), ("Level 2", 2)]
    assert (crit["AO1"].mean_level, crit["AO1"].mean_marks) == (2.0, 3.5)
    assert (crit["AO1"].level_change, crit["AO1"].marks_change) == (0.5, 0.5)
    assert crit["AO2"].levels == [("No level", 0), ("Level 1", 1), ("Level 2", 1)]
    assert (crit["AO2"].level_change, crit["AO2"].marks_change) == (0.0, 1.0)


def test_overview_lists_students_needing_attention(school_class, known):
    attention = {a.name: a for a in progress.class_overview(school_class).attention}
    assert list(attention) == ["Cat Cole", "Sam Student"]
    assert attention["Cat Cole"].missing == 2
    sam = attention["Sam Student"]
    assert sam.falling == (80.0, 60.0)  # 20 points down, threshold 10
    assert sam.unanswered == 1
    assert sam.missing == 0


def test_a_submitted_dirt_response_answers_the_task(school_class, known):
    mark = Mark.objects.get(submission__student=known["sam"], submission__assignment=known["a2"])
    response = DirtResponse.for_mark(mark)
    response.save_text("Done.", response.revision)
    response.submit()
    attention = {a.name: a for a in progress.class_overview(school_class).attention}
    assert attention["Sam Student"].unanswered == 0


def test_department_view_groups_a_prompt_with_its_copies(school_class, other_class, other_teacher, known):
    copy = known["prompt"].make_copy(other_teacher)
    assignment = AssignmentFactory(school_class=other_class, prompt=copy, title="Copy essay")
    outsider = other_class.active_students().get()
    give_mark(hand_in(assignment, outsider), other_teacher, 2, 3)
    view = progress.department(known["prompt"].pk)
    rows = {r.class_name: r for r in view.rows}
    assert set(rows) == {"10H History", "11E History"}
    assert (rows["10H History"].marks, rows["10H History"].mean_percent) == (4, 72.5)
    assert rows["10H History"].criteria["AO1"] == (3.25, 81.3)  # (4 + 2 + 3 + 4) / 4 of 4
    assert (rows["11E History"].marks, rows["11E History"].mean_percent) == (1, 50.0)
    assert view.codes == ["AO1", "AO2", "SPAG"]


def test_department_view_lists_only_shipped_prompts(known, other_teacher):
    copy = known["prompt"].make_copy(other_teacher)
    view = progress.department(copy.pk)
    assert view.prompt is None
    assert copy not in view.prompts
    assert set(view.prompts) == set(EssayPrompt.objects.shipped())


def test_round_half_up_is_the_same_everywhere():
    assert progress.round_half_up(2.5) == 3
    assert progress.round_half_up(81.25, 1) == 81.3
    assert progress.round_half_up(None) is None

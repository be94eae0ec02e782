"""The whole-class feedback sheet: one assignment's complete marks, counted for the class.

The figures are counted from the marks each time the sheet is shown: the level spread per
criterion, the comment-bank comments used most, how many essays mention each indicative point
(the marking page's hint, classroom/indicative.py) and the improvement (DIRT) tasks set. The
teacher's own words (common misconceptions, an exemplar paragraph) are its FeedbackSheet row.

The sheet names no pupil: every free text on it has the names on the class's roster taken out
(classroom.department.redact_names), whoever typed it and whenever the pupil joined.
Queries: a fixed number, whatever the number of pupils.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count

from classroom.department import pupil_names, redact_names, roster_of
from classroom.indicative import match_points
from classroom.models import Annotation, Assignment, CriterionMark, FeedbackSheet, Mark
from crisis.models import Criterion, IndicativePoint

MAX_COMMENTS = 6  # the sheet prints on one A4 page
MAX_TASKS = 6


@dataclass
class LevelCount:
    label: str
    count: int


@dataclass
class CriterionSpread:
    criterion: Criterion
    levels: list[LevelCount]

    @property
    def n(self) -> int:
        return sum(level.count for level in self.levels)


@dataclass
class CommentUse:
    code: str
    text: str
    uses: int
    pupils: int


@dataclass
class PointHits:
    point: IndicativePoint
    hits: int


@dataclass
class TaskCount:
    text: str
    count: int


@dataclass
class Sheet:
    assignment: Assignment
    n: int
    spreads: list[CriterionSpread]
    comments: list[CommentUse]
    points: list[PointHits]
    tasks: list[TaskCount]
    more_tasks: int
    misconceptions: list[str] = field(default_factory=list)
    exemplar_paragraph: str = ""
    record: FeedbackSheet | None = None


def build_sheet(assignment: Assignment) -> Sheet:
    """The sheet for `assignment` (its class and prompt loaded). Queries: the marks with their
    essays, the criteria, their levels, the level counts, the bank comments, the indicative
    points, the teacher's words, the roster's names."""
    marks = Mark.objects.filter(submission__assignment=assignment, completed_at__isnull=False)
    rows = list(marks.values_list("improvement_task", "submission__text"))
    names = pupil_names(roster_of(assignment.school_class))

    criteria = list(Criterion.objects.filter(scheme_id=assignment.prompt.mark_scheme_id).prefetch_related("levels"))
    counts: dict[tuple[int, int | None], int] = {
        (row["criterion_id"], row["level_id"]): row["n"]
        for row in CriterionMark.objects.filter(mark__in=marks)
        .values("criterion_id", "level_id")
        .annotate(n=Count("id"))
    }
    spreads = []
    for criterion in criteria:
        levels = [
            LevelCount(f"Level {level.number}", counts.get((criterion.pk, level.pk), 0))
            for level in criterion.levels.all()
        ]
        if counts.get((criterion.pk, None)):
            levels.insert(0, LevelCount("No level", counts[(criterion.pk, None)]))
        spreads.append(CriterionSpread(criterion, levels))

    used = (
        Annotation.objects.filter(mark__in=marks, bank_entry__isnull=False)
        .values("bank_entry_id", "bank_entry__code", "bank_entry__text")
        .annotate(uses=Count("id"), pupils=Count("mark", distinct=True))
        .order_by("-uses", "bank_entry__code")[:MAX_COMMENTS]
    )
    comments = [
        CommentUse(row["bank_entry__code"], redact_names(row["bank_entry__text"], names), row["uses"], row["pupils"])
        for row in used
    ]

    points = list(assignment.prompt.indicative_points.order_by("side", "order", "pk"))
    hits: Counter[int] = Counter()
    for _task, text in rows:
        for match in match_points(text, points):
            if match.mentioned and match.point_id is not None:
                hits[match.point_id] += 1

    tasks = Counter(redact_names(" ".join(task.split()), names) for task, _text in rows if task.strip())
    ranked = sorted(tasks.items(), key=lambda item: (-item[1], item[0]))

    record = FeedbackSheet.objects.filter(assignment=assignment).first()
    misconceptions = []
    if record is not None:
        misconceptions = [
            line.strip() for line in redact_names(record.misconceptions, names).splitlines() if line.strip()
        ]
    return Sheet(
        assignment=assignment,
        n=len(rows),
        spreads=spreads,
        comments=comments,
        points=[PointHits(point, hits[point.pk]) for point in points],
        tasks=[TaskCount(text, count) for text, count in ranked[:MAX_TASKS]],
        more_tasks=max(len(ranked) - MAX_TASKS, 0),
        misconceptions=misconceptions,
        exemplar_paragraph=redact_names(record.exemplar_paragraph, names) if record is not None else "",
        record=record,
    )

"""Progress figures: the markbook, a student's progress, the class overview, the department view.

The only place progress figures are computed. Every figure is an aggregate or annotation
in the database, in a fixed number of queries whatever the class size or the number of
assignments; the functions return plain dataclasses that templates and CSV exports render.
The same code gives the same numbers on PostgreSQL and SQLite: percentages are computed as
floats (explicit casts, so no integer division) and rounded in Python at the edge.

Definitions (the pages and the README say the same):
- A mark *counts* once the student can see it: released, or complete with its assignment's
  feedback date passed (classroom/status.py: `feedback_visible_q`). Marked-but-unreleased work shows
  in the teacher's markbook as "marked" and counts in no average.
- A percentage is the content total over the maximum the mark was given against, kept on
  the mark (`Mark.max_total`; a criterion's over `CriterionMark.max_marks`), never the
  scheme's current bands (SPaG is separate). "Out of" for an assignment with no marks yet
  is its scheme's content maximum.
- *Missing*: nothing handed in (no submission, not started or a draft) and the student's own
  due date (their extension, else the assignment's) has passed. Late work may still be
  accepted until the cut-off; it stops being missing when handed in.
- *Falling marks*: the latest counted percentage is at least FALLING_THRESHOLD percentage
  points below the one before it (assignments ordered by due date).
- *Unanswered improvement task*: a counted mark with an improvement task and no submitted
  DIRT response.
- Markbook distribution: counted marks per percentage band (DISTRIBUTION_BANDS).
- Class overview: levels per criterion code on the latest assignment with counted marks for at
  least COVERAGE_SHARE of the class's current pupils (no level = "no rewardable material", counted
  with level 0 as 0 in the mean), each figure with the pupils it covers; the change from the
  essay before it (also so covered) in percentage points, on the pupils marked on both, shown
  when they are at least COVERAGE_SHARE of the class (level and raw-mark changes only on the
  same scale). *Needing attention*: MISSING_ATTENTION or more missing essays, falling marks, or
  UNANSWERED_ATTENTION or more unanswered improvement tasks (see "class overview" below).
- Skill strands: the formative ratings a marker ticks (StrandTick: 1 "Not yet", 2
  "Developing", 3 "Secure"), counted like the mark they belong to. A student's page lists
  each strand's rating per essay in date order; the class overview counts the ratings on the
  latest essay and the change in mean rating from the one before on the pupils rated on both.
- Department view: a shipped prompt together with teachers' copies of it (and copies of
  those copies), grouped by class; criteria matched by code (AO1–AO4, SPAG).
- Long CSV export: `level` lists each criterion's level ("AO1 L3; AO2 L2; …"), `mark` is
  the content total, `percent` rounded to a whole number; unreleased marks are left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from typing import Any, overload

from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    FloatField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
    prefetch_related_objects,
)
from django.db.models.functions import Cast, Coalesce, Lead, NullIf, RowNumber
from django.utils import timezone

from classroom import agreement
from classroom.compiled import CompiledQuery
from classroom.department import within_tolerance
from classroom.models import (
    Assignment,
    CriterionMark,
    Enrolment,
    Exemption,
    Mark,
    ModerationSample,
    ReviewMark,
    SchoolClass,
    Standardisation,
    StrandTick,
    Submission,
    User,
)
from classroom.status import (
    HANDED_IN_KEYS,
    STATUSES,
    due_passed,
    feedback_date_passed,
    feedback_visible_q,
    status_case,
    status_key,
)
from crisis.models import Criterion, EssayPrompt, KnowledgeCheckAttempt, Level

FALLING_THRESHOLD = 10  # percentage points
DISTRIBUTION_BANDS = [(0, "0–39%"), (40, "40–59%"), (60, "60–79%"), (80, "80–100%")]
CRITERION_ORDER = ["AO1", "AO2", "AO3", "AO4", "SPAG"]


@overload
def round_half_up(value: float, places: int = 0) -> float: ...
@overload
def round_half_up(value: None, places: int = 0) -> None: ...
@overload
def round_half_up(value: float | None, places: int = 0) -> float | None: ...
def round_half_up(value: float | None, places: int = 0) -> float | int | None:
    """Round like a person would (2.5 → 3), the same on every database."""
    if value is None:
        return None
    quantum = Decimal(1).scaleb(-places)
    rounded = Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    return int(rounded) if places == 0 else float(rounded)


def criterion_sort_key(code: str) -> tuple[int, str]:
    """AO1–AO4 in order, then any other code (a holistic "AO1+AO2", "C1"…) by name, SPaG last."""
    if code == "SPAG":
        return (len(CRITERION_ORDER) + 1, code)
    return (CRITERION_ORDER.index(code) if code in CRITERION_ORDER else len(CRITERION_ORDER), code)


# --- building blocks -----------------------------------------------------------------------


def percent_of(marks: str, maximum) -> Cast:
    """marks * 100 / maximum as a float on both databases (NULL when the maximum is unknown)."""
    return Cast(marks, FloatField()) * Value(100.0) / maximum


def stored_percent(marks: str, maximum: str) -> Cast:
    """`marks` as a percentage of the maximum stored beside it (a mark's total over its
    max_total, a criterion mark's marks over its max_marks); NULL when that maximum is 0."""
    return percent_of(marks, NullIf(maximum, Value(0)))


@dataclass
class SchemeInfo:
    content_max: int = 0
    spag_max: int = 0
    criterion_max: dict[int, int] = field(default_factory=dict)  # criterion id → top mark
    criterion_code: dict[int, str] = field(default_factory=dict)


def _scheme_maxima_query(scheme_ids) -> QuerySet[Any, Any]:
    return (
        Criterion.objects.filter(scheme_id__in=scheme_ids)
        .annotate(top=Coalesce(Max("levels__max_marks"), 0))
        .values("pk", "scheme_id", "code", "is_spag", "top")
    )


_scheme_maxima_compiled = CompiledQuery(_scheme_maxima_query)


def scheme_maxima(scheme_ids) -> dict[int, SchemeInfo]:
    """Each scheme's maxima from its levels, in one query (compiled once for a list of ids)."""
    info: dict[int, SchemeInfo] = defaultdict(SchemeInfo)
    if isinstance(scheme_ids, QuerySet):
        rows: Iterable[Mapping[str, Any]] = _scheme_maxima_query(scheme_ids)
    else:
        rows = _scheme_maxima_compiled.rows(scheme_ids=sorted({pk for pk in scheme_ids if pk is not None}))
    for row in rows:
        scheme = info[row["scheme_id"]]
        scheme.criterion_max[row["pk"]] = row["top"]
        scheme.criterion_code[row["pk"]] = row["code"]
        if row["is_spag"]:
            scheme.spag_max += row["top"]
        else:
            scheme.content_max += row["top"]
    return dict(info)


def _grid_joins(school_class: SchoolClass | list[int]) -> QuerySet[Enrolment]:
    """One row per (active student, assignment) of the class, LEFT JOINed to the submission
    (`sub`), the student's extension (`ext`) and exemption (`exm`). Given a list of class ids
    instead, the same for all of them (the teacher's to-do)."""
    classes = Q(school_class_id__in=school_class) if isinstance(school_class, list) else Q(school_class=school_class)
    return (
        Enrolment.objects.filter(classes, removed_at__isnull=True)
        .filter(school_class__assignments__isnull=False)
        .annotate(
            sub=FilteredRelation(
                "student__submissions", condition=Q(student__submissions__assignment=F("school_class__assignments"))
            ),
            ext=FilteredRelation(
                "student__extensions", condition=Q(student__extensions__assignment=F("school_class__assignments"))
            ),
            exm=FilteredRelation(
                "student__exemptions", condition=Q(student__exemptions__assignment=F("school_class__assignments"))
            ),
        )
    )


def _grid(school_class: SchoolClass | list[int], now: datetime):
    """The grid (`_grid_joins`) annotated with each cell's kind (`status_case`), whether its
    mark counts, and its percentage, for figures grouped in the database."""
    assignment = "school_class__assignments__"
    counted = feedback_visible_q("sub__", assignment, now)
    return (
        _grid_joins(school_class)
        .annotate(
            a_id=F(f"{assignment}id"),
            due=Coalesce("ext__due_at", f"{assignment}due_at"),
            counted=Case(When(counted, then=Value(1)), default=Value(0), output_field=IntegerField()),
            pct=stored_percent("sub__mark__total", "sub__mark__max_total"),
        )
        .annotate(
            kind=status_case(
                state="sub__state",
                is_late="sub__is_late",
                due="due",
                release=f"{assignment}feedback_release",
                release_at=f"{assignment}feedback_release_at",
                now=now,
                joined="joined_at",
                exemption="exm__id",
            )
        )
    )


# --- the markbook --------------------------------------------------------------------------

KINDS = list(STATUSES)  # a cell's kind is its status key (classroom/status.py)


@dataclass
class Cell:
    kind: str
    total: int | None = None
    max_marks: int = 0
    percent: int | None = None
    submission_id: int | None = None
    is_late: bool = False
    url: str = ""  # set by the view: the marking page, where there is work to mark

    @property
    def label(self) -> str:
        return STATUSES[self.kind].teacher

    @property
    def icon(self) -> str:
        return STATUSES[self.kind].symbol

    @property
    def shows_mark(self) -> bool:
        return self.kind in ("released", "marked") and self.total is not None


@dataclass
class Column:
    assignment_id: int
    title: str
    due_at: datetime
    max_marks: int
    # Anonymous marking, names not yet revealed: unreleased marks are not shown against
    # names and cells do not link to the marking page (which would pair name and essay).
    names_hidden: bool = False
    counted: int = 0
    mean_total: float | None = None
    mean_percent: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    distribution: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Row:
    student_id: int
    family_name: str
    given_name: str
    username: str
    mean_percent: float | None = None
    counted: int = 0
    missing: int = 0
    cells: list[Cell] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        full = f"{self.given_name} {self.family_name}".strip()
        return full or self.username


@dataclass
class Markbook:
    school_class: SchoolClass
    columns: list[Column]
    rows: list[Row]
    sort: str
    class_mean_percent: float | None = None


SORTS = {"name", "average"}


def _class_assignments_query(school_class: int) -> QuerySet[Any, Any]:
    return (
        Assignment.objects.filter(school_class_id=school_class)
        .order_by("due_at", "pk")
        .values(
            "pk",
            "title",
            "due_at",
            "feedback_release",
            "feedback_release_at",
            "prompt__mark_scheme_id",
            "anonymous_marking",
            "names_revealed_at",
        )
    )


_class_assignments = CompiledQuery(_class_assignments_query)


# The markbook's grid, cell by cell: plain columns only. Its kinds, percentages and figures are
# worked out in Python (status_key, the rule status_case is the SQL twin of): a class is at
# most a few hundred cells, and compiling the grouped CASE expressions cost more than the SQL.
# The assignment's own dates come with the assignments rather than again with each cell.
_MARKBOOK_CELL = (
    "student_id",
    "student__last_name",
    "student__first_name",
    "student__username",
    "joined_at",
    "school_class__assignments__id",
    "ext__due_at",
    "exm__id",
    "sub__id",
    "sub__state",
    "sub__is_late",
    "sub__mark__total",
    "sub__mark__max_total",
)


_MARKBOOK_ORDER = ("student__last_name", "student__first_name", "student__username", "student_id")


def _markbook_cells_query(school_class: int) -> QuerySet[Any, Any]:
    return _grid_joins([school_class]).order_by(*_MARKBOOK_ORDER).values(*_MARKBOOK_CELL)


# Compiled once: the grid's three FilteredRelations cost the ORM more to build than the
# class's few hundred cells take PostgreSQL to find.
_markbook_cells = CompiledQuery(_markbook_cells_query)
_cell_values = itemgetter(*_MARKBOOK_CELL)


def markbook(school_class: SchoolClass, sort: str = "name", now: datetime | None = None) -> Markbook:
    """The class grid. Queries: assignments, scheme maxima, the cells (one row per pupil and
    assignment). Three, whatever the size; every figure is then summed from the cells.

    Marks and percentages are out of each mark's own maximum; a column is "out of" its marks'
    maximum, or its scheme's while nothing is marked. A pupil's, a column's and the class's
    means are over counted marks (classroom/status.py: released, or marked with the feedback
    date passed)."""
    now = now or timezone.now()
    sort = sort if sort in SORTS else "name"
    assignments = _class_assignments.rows(school_class=school_class.pk)
    schemes = scheme_maxima(a["prompt__mark_scheme_id"] for a in assignments) if assignments else {}
    maxima = {a["pk"]: schemes.get(a["prompt__mark_scheme_id"], SchemeInfo()).content_max for a in assignments}
    columns = [
        Column(
            assignment_id=a["pk"],
            title=a["title"],
            due_at=a["due_at"],
            max_marks=maxima[a["pk"]],
            names_hidden=a["anonymous_marking"] and a["names_revealed_at"] is None,
        )
        for a in assignments
    ]
    if not assignments:
        rows = [
            Row(student_id=pk, family_name=family, given_name=given, username=username)
            for family, given, username, pk in Enrolment.objects.filter(
                school_class=school_class, removed_at__isnull=True
            )
            .order_by(*_MARKBOOK_ORDER)
            .values_list(*_MARKBOOK_ORDER)
        ]
        return Markbook(school_class, columns, rows, sort)

    by_column = {column.assignment_id: column for column in columns}
    # Each assignment's dates once, not with each of its cells (read as datetimes, they cost).
    dates = {a["pk"]: (a["due_at"], a["feedback_release"], a["feedback_release_at"]) for a in assignments}
    rows_by_student: dict[int, Row] = {}
    row_percents: dict[int, list[float]] = defaultdict(list)
    column_totals: dict[int, list[float]] = defaultdict(list)
    column_percents: dict[int, list[float]] = defaultdict(list)
    # (pupil, assignment) → (kind, total, max_total, percent, submission, late): Cells once
    # every column's "out of" is known.
    found: dict[tuple[int, int], tuple[str, int | None, int | None, float | None, int | None, bool]] = {}
    for column in columns:
        column.counts = dict.fromkeys(KINDS, 0)
        column.distribution = [(label, 0) for _, label in DISTRIBUTION_BANDS]
    out_of: dict[int, int] = {}
    for (
        student_id,
        family,
        given,
        username,
        joined_at,
        assignment_id,
        own_due,
        exemption_id,
        submission_id,
        state,
        is_late,
        total,
        max_total,
    ) in map(_cell_values, _markbook_cells.rows(school_class=school_class.pk)):
        row = rows_by_student.get(student_id)
        if row is None:
            row = rows_by_student[student_id] = Row(
                student_id=student_id, family_name=family, given_name=given, username=username
            )
        column = by_column[assignment_id]
        class_due, release, release_at = dates[assignment_id]
        due = own_due or class_due
        kind = status_key(
            state,
            bool(is_late),
            due_passed(due, joined_at, now),
            feedback_date_passed(release, release_at, now),
            exempt=exemption_id is not None,
        )
        percent = total * 100.0 / max_total if total is not None and max_total else None
        column.counts[kind] += 1
        if max_total is not None:
            out_of[assignment_id] = max(out_of.get(assignment_id, max_total), max_total)
        if kind == "missing":
            row.missing += 1
        if kind == "released":  # counted: the pupil can see the mark
            row.counted += 1
            column.counted += 1
            if total is not None:
                column_totals[assignment_id].append(float(total))
            if percent is not None:
                row_percents[student_id].append(percent)
                column_percents[assignment_id].append(percent)
                band = next(i for i in reversed(range(len(DISTRIBUTION_BANDS))) if percent >= DISTRIBUTION_BANDS[i][0])
                label, count = column.distribution[band]
                column.distribution[band] = (label, count + 1)
        found[(student_id, assignment_id)] = (kind, total, max_total, percent, submission_id, bool(is_late))
    for assignment_id, top in out_of.items():
        by_column[assignment_id].max_marks = top
    for column in columns:
        column.mean_total = round_half_up(_mean(column_totals[column.assignment_id]), 1)
        column.mean_percent = round_half_up(_mean(column_percents[column.assignment_id]), 1)
    rows = list(rows_by_student.values())
    means = {row.student_id: _mean(row_percents[row.student_id]) for row in rows}
    for row in rows:
        row.mean_percent = round_half_up(means[row.student_id], 1)
        for column in columns:
            cell = found.get((row.student_id, column.assignment_id))
            if cell is None:  # cannot happen: the grid has every pair
                row.cells.append(Cell("not_started", max_marks=column.max_marks))
                continue
            kind, total, max_total, percent, submission_id, is_late = cell
            shows = kind == "released" or (kind == "marked" and not column.names_hidden)
            row.cells.append(
                Cell(
                    kind=kind,
                    total=total if shows else None,
                    max_marks=max_total if shows and max_total is not None else column.max_marks,
                    percent=int(round_half_up(percent)) if shows and percent is not None else None,
                    submission_id=submission_id,
                    is_late=is_late,
                )
            )
    if sort == "average":  # highest first, no average last; stable, so ties stay in name order
        rows.sort(key=lambda row: (means[row.student_id] is None, -(means[row.student_id] or 0.0)))
    class_mean = _mean([percent for percents in row_percents.values() for percent in percents])
    return Markbook(school_class, columns, rows, sort, class_mean_percent=round_half_up(class_mean, 1))


# --- exports -------------------------------------------------------------------------------

LONG_HEADER = [
    "student id",
    "family name",
    "given name",
    "class",
    "assignment",
    "date",
    "level",
    "mark",
    "max",
    "percent",
    "status",
]


def criterion_levels(school_class: SchoolClass, now: datetime | None = None) -> dict[tuple[int, int], str]:
    """(student, assignment) → "AO1 L3; AO2 L2; …" for counted marks, in one query."""
    now = now or timezone.now()
    rows = (
        CriterionMark.objects.filter(mark__submission__assignment__school_class=school_class)
        .filter(feedback_visible_q("mark__submission__", "mark__submission__assignment__", now))
        .values("mark__submission__student_id", "mark__submission__assignment_id", "criterion__code", "level__number")
    )
    levels: dict[tuple[int, int], list[tuple[str, int]]] = defaultdict(list)
    for r in rows:
        key = (r["mark__submission__student_id"], r["mark__submission__assignment_id"])
        levels[key].append((r["criterion__code"], r["level__number"] or 0))
    return {
        key: "; ".join(f"{code} L{n}" for code, n in sorted(items, key=lambda i: criterion_sort_key(i[0])))
        for key, items in levels.items()
    }


def export_long(book: Markbook, levels: dict[tuple[int, int], str]) -> list[list]:
    """One row per student per assignment (roster order, then date order)."""
    out = []
    for row in book.rows:
        for column, cell in zip(book.columns, row.cells, strict=True):
            counted = cell.kind == "released"
            out.append(
                [
                    row.student_id,
                    row.family_name,
                    row.given_name,
                    book.school_class.name,
                    column.title,
                    timezone.localtime(column.due_at).date().isoformat(),
                    levels.get((row.student_id, column.assignment_id), "") if counted else "",
                    cell.total if counted else None,
                    cell.max_marks,
                    cell.percent if counted else None,
                    cell.label,
                ]
            )
    return out


def export_wide(book: Markbook) -> tuple[list[str], list[list]]:
    """One row per student in roster (name) order, a column per assignment (counted marks only)."""
    header = ["student id", "family name", "given name", "class"]
    header += [
        f"{c.title} ({timezone.localtime(c.due_at).date().isoformat()}, out of {c.max_marks})" for c in book.columns
    ]
    header += ["average percent"]
    rows = []
    for row in sorted(book.rows, key=lambda r: (r.family_name, r.given_name, r.username, r.student_id)):
        marks = [cell.total if cell.kind == "released" else None for cell in row.cells]
        rows.append([row.student_id, row.family_name, row.given_name, book.school_class.name, *marks, row.mean_percent])
    return header, rows


# --- one student's progress ----------------------------------------------------------------


@dataclass
class CriterionPoint:
    assignment_id: int
    title: str
    due_at: datetime
    code: str
    level: int | None
    marks: int
    max_marks: int
    percent: float | None


@dataclass
class MarkSummary:
    assignment_id: int
    title: str
    class_name: str
    due_at: datetime
    total: int
    max_marks: int
    percent: float | None
    spag: int | None
    ebi: str
    improvement_task: str
    response: str
    response_submitted_at: datetime | None
    response_acknowledged_at: datetime | None


@dataclass
class KnowledgeScore:
    lesson_id: int
    title: str
    attempts: int
    latest_score: int
    latest_total: int
    best_percent: float | None


@dataclass
class StrandPoint:
    """One strand's formative rating on one essay."""

    assignment_id: int
    title: str
    due_at: datetime
    rating: int

    @property
    def label(self) -> str:
        return StrandTick.Rating(self.rating).label


@dataclass
class StrandHistory:
    """A skill strand's ratings across a student's essays, in date order (None: not rated)."""

    strand: str
    label: str
    ratings: list[StrandPoint | None]

    @property
    def rated(self) -> list[StrandPoint]:
        return [point for point in self.ratings if point is not None]


@dataclass
class StudentProgress:
    student: User
    codes: list[str]
    assignments: list[MarkSummary]
    points: dict[str, list[CriterionPoint]]  # code → points in date order
    table: list[tuple[MarkSummary, list[tuple[str, CriterionPoint | None]]]]  # cells in `codes` order
    targets: list[MarkSummary]
    knowledge: list[KnowledgeScore]
    strands: list[StrandHistory] = field(default_factory=list)  # only strands rated at least once


TARGETS_SHOWN = 3


def student_progress(student: User, now: datetime | None = None, teacher: int | None = None) -> StudentProgress:
    """Counted marks per criterion over time, skill-strand ratings, targets and DIRT, knowledge
    checks. `teacher`: only the marks from the classes that teacher (an id) teaches (None: every
    class; who sees which is permissions.progress_limited_to). Queries: marks, criterion marks,
    strand ticks, knowledge checks, each compiled to SQL once. Every mark is out of the maxima
    it was given against."""
    now = now or timezone.now()
    values: dict[str, Any] = {"student": student.pk, "now": now, "teacher": teacher}
    marks = _progress_marks.rows(**values)

    summaries = []
    for m in marks:
        summaries.append(
            MarkSummary(
                assignment_id=m["submission__assignment_id"],
                title=m["submission__assignment__title"],
                class_name=m["submission__assignment__school_class__name"],
                due_at=m["submission__assignment__due_at"],
                total=m["total"],
                max_marks=m["max_total"],
                percent=round_half_up(m["pct"], 1),
                spag=m["spag"],
                ebi=m["ebi"],
                improvement_task=m["improvement_task"],
                # (No response row: all three None.)
                response=m["dirt__text"] if m["dirt__submitted_at"] else "",
                response_submitted_at=m["dirt__submitted_at"],
                response_acknowledged_at=m["dirt__acknowledged_at"],
            )
        )
    by_assignment = {s.assignment_id: s for s in summaries}
    cells: dict[int, dict[str, CriterionPoint]] = defaultdict(dict)
    for r in _progress_criterion_marks.rows(**values):
        summary = by_assignment.get(r["mark__submission__assignment_id"])
        if summary is None:
            continue
        cells[summary.assignment_id][r["criterion__code"]] = CriterionPoint(
            assignment_id=summary.assignment_id,
            title=summary.title,
            due_at=summary.due_at,
            code=r["criterion__code"],
            level=r["level__number"],
            marks=r["marks"],
            max_marks=r["max_marks"],
            percent=round_half_up(r["pct"], 1),
        )
    codes = sorted({code for row in cells.values() for code in row}, key=criterion_sort_key)
    points = {
        code: [cells[s.assignment_id][code] for s in summaries if code in cells[s.assignment_id]] for code in codes
    }
    # Each row's cells in column order (None: not marked against that criterion), for the table.
    table = [(s, [(code, cells[s.assignment_id].get(code)) for code in codes]) for s in summaries]
    targets = [s for s in reversed(summaries) if s.ebi or s.improvement_task][:TARGETS_SHOWN]
    strands = _strand_histories(summaries, _progress_ticks.rows(**values)) if summaries else []

    knowledge = [
        KnowledgeScore(
            lesson_id=k["lesson_id"],
            title=k["lesson__title"],
            attempts=k["attempts"],
            latest_score=k["latest_score"],
            latest_total=k["latest_total"],
            best_percent=round_half_up(k["best"], 1),
        )
        for k in _progress_knowledge.rows(student=student.pk)
    ]
    return StudentProgress(student, codes, summaries, points, table, targets, knowledge, strands)


def _strand_histories(summaries: list[MarkSummary], ticks: list[dict[str, Any]]) -> list[StrandHistory]:
    """Each strand rated at least once, with its rating on every essay in `summaries` (date order)."""
    ratings: dict[str, dict[int, int]] = defaultdict(dict)
    for tick in ticks:
        ratings[tick["strand"]][tick["mark__submission__assignment_id"]] = tick["rating"]
    histories = []
    for strand, label in StrandTick.Strand.choices:
        if strand not in ratings:
            continue
        row = ratings[strand]
        points = [
            StrandPoint(s.assignment_id, s.title, s.due_at, row[s.assignment_id]) if s.assignment_id in row else None
            for s in summaries
        ]
        histories.append(StrandHistory(strand, label, points))
    return histories


def _progress_limit(queryset: QuerySet[Any], to_mark: str, teacher: int | None) -> QuerySet[Any]:
    """`queryset` (reaching the essay's assignment through `to_mark`) limited to the classes
    `teacher` teaches, unless None."""
    if teacher is None:
        return queryset
    taught = SchoolClass.objects.filter(teachers=teacher)
    return queryset.filter(**{f"{to_mark}submission__assignment__school_class__in": taught})


def _progress_marks_query(student: int, now: datetime, teacher: int | None) -> QuerySet[Mark, dict[str, Any]]:
    marks = (
        Mark.objects.filter(submission__student=student)
        .filter(feedback_visible_q("submission__", "submission__assignment__", now))
        .annotate(pct=stored_percent("total", "max_total"))
    )
    return (
        _progress_limit(marks, "", teacher)
        .order_by("submission__assignment__due_at", "submission__assignment_id")
        .values(
            *("total", "max_total", "pct", "spag", "ebi", "improvement_task", "submission__assignment_id"),
            *("submission__assignment__title", "submission__assignment__school_class__name"),
            *("submission__assignment__due_at", "dirt__text", "dirt__submitted_at", "dirt__acknowledged_at"),
        )
    )


def _progress_criterion_marks_query(
    student: int, now: datetime, teacher: int | None
) -> QuerySet[CriterionMark, dict[str, Any]]:
    marks = (
        CriterionMark.objects.filter(mark__submission__student=student)
        .filter(feedback_visible_q("mark__submission__", "mark__submission__assignment__", now))
        .annotate(pct=stored_percent("marks", "max_marks"))
    )
    return _progress_limit(marks, "mark__", teacher).values(
        "mark__submission__assignment_id", "criterion__code", "level__number", "marks", "max_marks", "pct"
    )


def _progress_ticks_query(student: int, now: datetime, teacher: int | None) -> QuerySet[StrandTick, dict[str, Any]]:
    ticks = StrandTick.objects.filter(mark__submission__student=student).filter(
        feedback_visible_q("mark__submission__", "mark__submission__assignment__", now)
    )
    return _progress_limit(ticks, "mark__", teacher).values("mark__submission__assignment_id", "strand", "rating")


def _progress_knowledge_query(student: int) -> QuerySet[Any, Any]:
    latest = KnowledgeCheckAttempt.objects.filter(student=student, lesson=OuterRef("lesson_id")).order_by(
        "-submitted_at", "-pk"
    )
    return (
        KnowledgeCheckAttempt.objects.filter(student=student)
        .values("lesson_id", "lesson__title", "lesson__order")
        .annotate(
            attempts=Count("pk"),
            best=Max(Case(When(total__gt=0, then=percent_of("score", F("total"))), default=None)),
            latest_score=Subquery(latest.values("score")[:1]),
            latest_total=Subquery(latest.values("total")[:1]),
        )
        .order_by("lesson__order", "lesson_id")
    )


_progress_marks = CompiledQuery(_progress_marks_query)
_progress_criterion_marks = CompiledQuery(_progress_criterion_marks_query)
_progress_ticks = CompiledQuery(_progress_ticks_query)
_progress_knowledge = CompiledQuery(_progress_knowledge_query)


# --- class overview ------------------------------------------------------------------------
#
# Every figure says how many pupils it covers, out of the class's current pupils. The latest
# essay is the latest with released marks for at least COVERAGE_SHARE of them (else, the latest
# with any: the page says how few). A change since the essay before is measured on the pupils
# with released marks on both, in percentage points of each mark's own maximum (so essays
# marked out of different maxima compare fairly), and only shown when those pupils are at
# least COVERAGE_SHARE of the class. A change in mean level or raw mark is given only when
# both essays have the same top level or maximum for that skill.

COVERAGE_SHARE = 0.5  # of the class's current pupils
MISSING_ATTENTION = 2  # missing essays that put a pupil on the attention list
UNANSWERED_ATTENTION = 2  # unanswered improvement tasks that do


def covers_enough(count: int, pupils: int) -> bool:
    """At least COVERAGE_SHARE of the class (and at least one pupil)."""
    return count > 0 and count >= COVERAGE_SHARE * pupils


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class CriterionChange:
    code: str
    levels: list[tuple[str, int]]  # ("Level 2", count) from no level (0) to the top
    count: int  # pupils with a released mark for this skill on the latest essay
    mean_level: float | None
    mean_marks: float | None
    out_of: int = 0  # the skill's maximum on the latest essay
    top_level: int = 0
    mean_percent: float | None = None
    compared: int = 0  # pupils with released marks for this skill on both essays
    comparable: bool = False  # enough of the class to show a change
    same_levels: bool = False  # both essays' schemes have the same top level for the skill
    same_maximum: bool = False  # and the same maximum
    # The means on the pupils marked on both essays: (latest, previous).
    paired_level: tuple[float, float] | None = None
    paired_marks: tuple[float, float] | None = None
    paired_percent: tuple[float, float] | None = None

    @property
    def previous_mean_level(self) -> float | None:
        return round_half_up(self.paired_level[1], 2) if self.paired_level else None

    @property
    def previous_mean_marks(self) -> float | None:
        return round_half_up(self.paired_marks[1], 2) if self.paired_marks else None

    @property
    def percent_change(self) -> float | None:
        """Percentage points, on the pupils marked on both essays."""
        if not self.comparable or self.paired_percent is None:
            return None
        return round_half_up(self.paired_percent[0] - self.paired_percent[1], 1)

    @property
    def level_change(self) -> float | None:
        if not (self.comparable and self.same_levels) or self.paired_level is None:
            return None
        return round_half_up(self.paired_level[0] - self.paired_level[1], 2)

    @property
    def marks_change(self) -> float | None:
        if not (self.comparable and self.same_maximum) or self.paired_marks is None:
            return None
        return round_half_up(self.paired_marks[0] - self.paired_marks[1], 2)


@dataclass
class StrandChange:
    """A skill strand on the latest essay: how many were rated at each rating, the mean
    rating (1–3) and the change in mean rating on the pupils rated on both essays."""

    strand: str
    label: str
    ratings: list[tuple[str, int]]  # ("Not yet", count) … ("Secure", count)
    count: int
    mean_rating: float | None
    previous_mean_rating: float | None = None  # on the pupils rated on both essays
    compared: int = 0
    comparable: bool = False
    paired_mean_rating: float | None = None  # the latest essay's, on those pupils

    @property
    def change(self) -> float | None:
        if not self.comparable or self.paired_mean_rating is None or self.previous_mean_rating is None:
            return None
        return round_half_up(self.paired_mean_rating - self.previous_mean_rating, 2)


@dataclass
class Attention:
    student_id: int
    name: str
    missing: int = 0
    falling: tuple[float, float] | None = None  # (previous %, latest %)
    unanswered: int = 0

    @property
    def needs_attention(self) -> bool:
        """The stated rule (shown on the page)."""
        return self.missing >= MISSING_ATTENTION or self.falling is not None or self.unanswered >= UNANSWERED_ATTENTION


@dataclass
class ClassOverview:
    school_class: SchoolClass
    latest: Mapping[str, Any] | None
    previous: Mapping[str, Any] | None
    criteria: list[CriterionChange]
    attention: list[Attention]  # the pupils the rule picks out
    threshold: int = FALLING_THRESHOLD
    strands: list[StrandChange] = field(default_factory=list)  # strands rated on the latest essay
    pupils: int = 0  # the class's current pupils
    newer: list[Mapping[str, Any]] = field(default_factory=list)  # later essays, too few marks released yet
    one_missing: int = 0  # pupils with exactly one missing essay (not listed)
    one_unanswered: int = 0  # pupils with one unanswered improvement task (not listed)
    missing_rule: int = MISSING_ATTENTION
    unanswered_rule: int = UNANSWERED_ATTENTION
    coverage_share: float = COVERAGE_SHARE

    @property
    def coverage_percent(self) -> int:
        return int(round_half_up(self.coverage_share * 100))


def _choose_essays(
    assignments: Sequence[Mapping[str, Any]], pupils: int
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None, list[Mapping[str, Any]]]:
    """(latest, previous, newer): see the notes above."""
    with_marks = [a for a in assignments if a["n_counted"]]
    enough = [a for a in with_marks if covers_enough(a["n_counted"], pupils)]
    latest: Mapping[str, Any] | None
    if enough:
        latest = enough[-1]
        previous = enough[-2] if len(enough) > 1 else None
    else:
        latest = with_marks[-1] if with_marks else None
        previous = None
    newer = [a for a in with_marks if latest is not None and (a["due_at"], a["pk"]) > (latest["due_at"], latest["pk"])]
    return latest, previous, newer


# class_overview's queries, each built from plain values and compiled to SQL once
# (classroom/compiled.py): their CASE and window expressions cost more to compile than to run.


def _active(class_id: int):
    """The class's current pupils (a subquery)."""
    return Enrolment.objects.filter(school_class_id=class_id, removed_at__isnull=True).values("student_id")


def _attention(class_id: int, now: datetime):
    """Each current pupil's missing work and unanswered improvement tasks, from the grid."""
    return (
        _grid(SchoolClass(pk=class_id), now)
        .values("student_id", "student__first_name", "student__last_name", "student__username")
        .annotate(
            n_missing=Count("pk", filter=Q(kind="missing")),
            n_unanswered=Count(
                "pk",
                filter=Q(counted=1)
                & ~Q(sub__mark__improvement_task="")
                & Q(sub__mark__dirt__submitted_at__isnull=True),
            ),
        )
        .order_by()
    )


def _counted(class_id: int, now: datetime):
    """The class's assignments with their numbers of counted marks of current pupils."""
    counted_mark = feedback_visible_q("submissions__", "", now) & Q(submissions__student__in=_active(class_id))
    return (
        Assignment.objects.filter(school_class_id=class_id)
        .annotate(n_counted=Count("submissions", filter=counted_mark))
        .order_by("due_at", "pk")
        .values("pk", "title", "due_at", "prompt__mark_scheme_id", "n_counted")
    )


def _latest_two(class_id: int, now: datetime):
    """Each current pupil's latest counted mark as a percentage, and the one before it."""
    order = [F("submission__assignment__due_at").desc(), F("submission__assignment_id").desc()]
    partition = [F("submission__student_id")]
    return (
        Mark.objects.filter(submission__assignment__school_class_id=class_id, submission__student__in=_active(class_id))
        .filter(feedback_visible_q("submission__", "submission__assignment__", now))
        .annotate(pct=stored_percent("total", "max_total"))
        .annotate(
            rn=Window(RowNumber(), partition_by=partition, order_by=order),
            before=Window(Lead("pct"), partition_by=partition, order_by=order),
        )
        .filter(rn=1)
        .values("submission__student_id", "pct", "before")
    )


def _criterion_marks(pair: list[int], class_id: int, now: datetime):
    """The counted criterion marks of current pupils on the essays `pair`."""
    return (
        CriterionMark.objects.filter(
            mark__submission__assignment_id__in=pair, mark__submission__student__in=_active(class_id)
        )
        .filter(feedback_visible_q("mark__submission__", "mark__submission__assignment__", now))
        .values(
            "mark__submission__assignment_id",
            "mark__submission__student_id",
            "criterion__code",
            "level__number",
            "marks",
            "max_marks",
        )
    )


def _strand_ratings(pair: list[int], class_id: int, now: datetime):
    """The counted strand ratings of current pupils on the essays `pair`."""
    return (
        StrandTick.objects.filter(
            mark__submission__assignment_id__in=pair, mark__submission__student__in=_active(class_id)
        )
        .filter(feedback_visible_q("mark__submission__", "mark__submission__assignment__", now))
        .values("mark__submission__assignment_id", "mark__submission__student_id", "strand", "rating")
    )


_attention_compiled = CompiledQuery(_attention)
_counted_compiled = CompiledQuery(_counted)
_latest_two_compiled = CompiledQuery(_latest_two)
_criterion_marks_compiled = CompiledQuery(_criterion_marks)
_strand_ratings_compiled = CompiledQuery(_strand_ratings)


def class_overview(school_class: SchoolClass, now: datetime | None = None) -> ClassOverview:
    """Queries: pupils' attention figures (grid), assignments (with counted-mark counts),
    criterion marks on the two essays, top levels, strand ratings, latest-versus-previous
    marks (window)."""
    now = now or timezone.now()

    # Pupils' figures: missing work and unanswered improvement tasks, from the grid (one row per
    # current pupil once the class has an assignment; before that there is nothing to show).
    figures: dict[int, Attention] = {}
    sort_keys: dict[int, tuple] = {}
    for s in _attention_compiled.rows(class_id=school_class.pk, now=now):
        pk = s["student_id"]
        name = f"{s['student__first_name']} {s['student__last_name']}".strip() or s["student__username"]
        figures[pk] = Attention(pk, name, missing=s["n_missing"] or 0, unanswered=s["n_unanswered"] or 0)
        sort_keys[pk] = (s["student__last_name"], s["student__first_name"], s["student__username"], pk)
    pupils = len(figures)

    assignments = _counted_compiled.rows(class_id=school_class.pk, now=now)
    latest, previous, newer = _choose_essays(assignments, pupils)

    criteria = _criterion_changes(latest, previous, school_class.pk, pupils, now) if latest else []
    strands = _strand_changes(latest, previous, school_class.pk, pupils, now) if latest else []

    with_marks = [a for a in assignments if a["n_counted"]]
    if len(with_marks) > 1:
        for r in _latest_two_compiled.rows(class_id=school_class.pk, now=now):
            if r["pct"] is None or r["before"] is None:
                continue
            if r["before"] - r["pct"] >= FALLING_THRESHOLD:
                found = figures.get(r["submission__student_id"])
                if found is not None:
                    found.falling = (round_half_up(r["before"], 1), round_half_up(r["pct"], 1))
    ordered = sorted(figures.values(), key=lambda a: sort_keys[a.student_id])
    return ClassOverview(
        school_class,
        latest,
        previous,
        criteria,
        [a for a in ordered if a.needs_attention],
        strands=strands,
        pupils=pupils,
        newer=newer,
        one_missing=sum(1 for a in ordered if not a.needs_attention and a.missing == 1),
        one_unanswered=sum(1 for a in ordered if not a.needs_attention and a.unanswered == 1),
    )


def _criterion_changes(
    latest: Mapping[str, Any], previous: Mapping[str, Any] | None, class_id: int, pupils: int, now: datetime
) -> list[CriterionChange]:
    """Per skill on the latest essay: pupils at each level, means, and the change since the
    previous essay on the pupils marked on both. Two queries: the criterion marks of the two
    essays (one row per pupil and skill: a class's worth), and the schemes' levels."""
    pair = [latest["pk"]] + ([previous["pk"]] if previous else [])
    rows = _criterion_marks_compiled.rows(pair=pair, class_id=class_id, now=now)
    # (assignment, code) → {student: (level, marks, max)}
    given: dict[tuple[int, str], dict[int, tuple[int, int, int]]] = defaultdict(dict)
    for r in rows:
        key = (r["mark__submission__assignment_id"], r["criterion__code"])
        given[key][r["mark__submission__student_id"]] = (r["level__number"] or 0, r["marks"], r["max_marks"])
    schemes = {latest["prompt__mark_scheme_id"]} | ({previous["prompt__mark_scheme_id"]} if previous else set())
    top_level: dict[tuple[int, str], int] = {}
    zero_band: set[str] = set()  # codes whose latest scheme has a level 0 (the 0 band)
    for scheme, code, top, bottom in (
        Level.objects.filter(criterion__scheme_id__in=schemes)
        .values("criterion__scheme_id", "criterion__code")
        .annotate(n=Max("number"), lowest=Min("number"))
        .values_list("criterion__scheme_id", "criterion__code", "n", "lowest")
    ):
        top_level[(scheme, code)] = top
        if bottom == 0 and scheme == latest["prompt__mark_scheme_id"]:
            zero_band.add(code)

    def pct(marks: int, maximum: int) -> float | None:
        return marks * 100.0 / maximum if maximum else None

    codes = {code for (a, code) in given if a == latest["pk"]}
    codes |= {code for (scheme, code) in top_level if scheme == latest["prompt__mark_scheme_id"]}
    changes = []
    for code in sorted(codes, key=criterion_sort_key):
        now_marks = given.get((latest["pk"], code), {})
        before = given.get((previous["pk"], code), {}) if previous else {}
        top = top_level.get((latest["prompt__mark_scheme_id"], code), 0)
        counts: dict[int, int] = defaultdict(int)
        for level, _, _ in now_marks.values():
            counts[level] += 1
        levels = [
            ("Level 0" if n == 0 and code in zero_band else "No level" if n == 0 else f"Level {n}", counts.get(n, 0))
            for n in range(0, max(top, max(counts, default=0)) + 1)
        ]
        both = [pk for pk in now_marks if pk in before]
        percents = [p for p in (pct(m, mx) for _, m, mx in now_marks.values()) if p is not None]
        change = CriterionChange(
            code=code,
            levels=levels,
            count=len(now_marks),
            mean_level=round_half_up(_mean([float(lv) for lv, _, _ in now_marks.values()]), 2),
            mean_marks=round_half_up(_mean([float(m) for _, m, _ in now_marks.values()]), 2),
            out_of=max((mx for _, _, mx in now_marks.values()), default=0),
            top_level=top,
            mean_percent=round_half_up(_mean(percents), 1),
            compared=len(both),
            comparable=covers_enough(len(both), pupils),
        )
        if both and previous:
            change.same_levels = top == top_level.get((previous["prompt__mark_scheme_id"], code))
            change.same_maximum = {now_marks[pk][2] for pk in both} == {before[pk][2] for pk in both} and len(
                {now_marks[pk][2] for pk in both}
            ) == 1
            change.paired_level = (
                _mean([float(now_marks[pk][0]) for pk in both]) or 0.0,
                _mean([float(before[pk][0]) for pk in both]) or 0.0,
            )
            change.paired_marks = (
                _mean([float(now_marks[pk][1]) for pk in both]) or 0.0,
                _mean([float(before[pk][1]) for pk in both]) or 0.0,
            )
            now_pct = [pct(now_marks[pk][1], now_marks[pk][2]) for pk in both]
            before_pct = [pct(before[pk][1], before[pk][2]) for pk in both]
            if None not in now_pct and None not in before_pct:
                change.paired_percent = (
                    _mean([p for p in now_pct if p is not None]) or 0.0,
                    _mean([p for p in before_pct if p is not None]) or 0.0,
                )
        changes.append(change)
    return changes


def _strand_changes(
    latest: Mapping[str, Any], previous: Mapping[str, Any] | None, class_id: int, pupils: int, now: datetime
) -> list[StrandChange]:
    """The strand ratings on the latest essay and the change in mean rating on the pupils rated
    on both essays, in one query (one row per pupil and strand)."""
    pair = [latest["pk"]] + ([previous["pk"]] if previous else [])
    ratings: dict[tuple[int, str], dict[int, int]] = defaultdict(dict)  # (assignment, strand) → {pupil: rating}
    for row in _strand_ratings_compiled.rows(pair=pair, class_id=class_id, now=now):
        key = (row["mark__submission__assignment_id"], row["strand"])
        ratings[key][row["mark__submission__student_id"]] = row["rating"]

    changes = []
    for strand, label in StrandTick.Strand.choices:
        now_ratings = ratings.get((latest["pk"], strand), {})
        if not now_ratings:
            continue
        before = ratings.get((previous["pk"], strand), {}) if previous else {}
        both = [pk for pk in now_ratings if pk in before]
        values = list(now_ratings.values())
        changes.append(
            StrandChange(
                strand=strand,
                label=label,
                ratings=[(words, values.count(value)) for value, words in StrandTick.Rating.choices],
                count=len(values),
                mean_rating=round_half_up(_mean([float(v) for v in values]), 2),
                previous_mean_rating=round_half_up(_mean([float(before[pk]) for pk in both]), 2),
                paired_mean_rating=round_half_up(_mean([float(now_ratings[pk]) for pk in both]), 2),
                compared=len(both),
                comparable=covers_enough(len(both), pupils),
            )
        )
    return changes


# --- head of department: one prompt across classes -----------------------------------------


@dataclass
class DepartmentRow:
    class_id: int
    class_name: str
    marks: int
    mean_percent: float | None
    criteria: dict[str, tuple[float | None, float | None]]  # code → (mean marks, mean %)
    cells: list[tuple[float | None, float | None] | None] = field(default_factory=list)  # criteria, in `codes` order


@dataclass
class DepartmentView:
    prompts: list[EssayPrompt]
    prompt: EssayPrompt | None
    codes: list[str]
    rows: list[DepartmentRow]
    criterion_max: dict[str, int]


def prompt_family(prompt_id: int) -> Q:
    """Assignments set from the prompt or from a copy of it (or a copy of a copy)."""
    return (
        Q(prompt_id=prompt_id) | Q(prompt__copied_from_id=prompt_id) | Q(prompt__copied_from__copied_from_id=prompt_id)
    )


def department(prompt_id: int | None, now: datetime | None = None) -> DepartmentView:
    """Every class's means per criterion on assignments from one shipped prompt (and copies).
    Percentages are of the maxima each mark was given against.
    Queries: prompts, scheme maxima, per-class totals, per-class criterion means."""
    now = now or timezone.now()
    prompts = list(EssayPrompt.objects.shipped().order_by("unit", "pk"))
    prompt = next((p for p in prompts if p.pk == prompt_id), None)
    if prompt is None:
        return DepartmentView(prompts, None, [], [], {})
    family = Assignment.objects.filter(prompt_family(prompt.pk))
    scheme_ids = family.values_list("prompt__mark_scheme_id", flat=True)
    schemes = scheme_maxima(scheme_ids)
    codes_max: dict[str, int] = {}
    for info in schemes.values():
        for pk, code in info.criterion_code.items():
            codes_max[code] = max(codes_max.get(code, 0), info.criterion_max[pk])

    marks = Mark.objects.filter(submission__assignment__in=family).filter(
        feedback_visible_q("submission__", "submission__assignment__", now)
    )
    rows: dict[int, DepartmentRow] = {}
    for r in (
        marks.values("submission__assignment__school_class_id", "submission__assignment__school_class__name")
        .annotate(
            n=Count("pk"),
            mean_pct=Avg(stored_percent("total", "max_total")),
        )
        .order_by("submission__assignment__school_class__name", "submission__assignment__school_class_id")
    ):
        pk = r["submission__assignment__school_class_id"]
        rows[pk] = DepartmentRow(
            pk, r["submission__assignment__school_class__name"], r["n"], round_half_up(r["mean_pct"], 1), {}
        )
    for c in (
        CriterionMark.objects.filter(mark__submission__assignment__in=family)
        .filter(feedback_visible_q("mark__submission__", "mark__submission__assignment__", now))
        .values("mark__submission__assignment__school_class_id", "criterion__code")
        .annotate(
            mean_marks=Avg(Cast("marks", FloatField())),
            mean_pct=Avg(stored_percent("marks", "max_marks")),
        )
        .order_by()
    ):
        row = rows.get(c["mark__submission__assignment__school_class_id"])
        if row is not None:
            row.criteria[c["criterion__code"]] = (round_half_up(c["mean_marks"], 2), round_half_up(c["mean_pct"], 1))
    codes = sorted({*codes_max, *(code for row in rows.values() for code in row.criteria)}, key=criterion_sort_key)
    for row in rows.values():
        row.cells = [row.criteria.get(code) for code in codes]
    return DepartmentView(prompts, prompt, codes, list(rows.values()), codes_max)


# --- head of department: the department overview -------------------------------------------
# Active classes and their opened, unarchived assignments, for the classes' current pupils (as
# the markbook and the teacher's to-do count them): per assignment, pupils expected to hand it
# in (not the exempt), handed in, marked (a complete mark, released or not), released (the
# pupils can see it) and the mean of the released marks, which rests on the released count.
# A co-taught class's assignments appear under each of its teachers. Per class: every released
# mark on those assignments, with the pupils they belong to. Standardisation: scripts with an
# agreed mark; a marker is done once they have marked all of them, and within tolerance when
# every one of their marks is (classroom.department.within_tolerance); active teachers who have
# marked none have not started. Moderation: per sample,
# the scripts drawn, those second-marked and those agreed.


@dataclass
class AssignmentProgress:
    pk: int
    title: str
    class_id: int
    class_name: str
    due_at: datetime
    pupils: int = 0
    handed_in: int = 0
    marked: int = 0
    released: int = 0
    mean_percent: float | None = None  # of the `released` marks


@dataclass
class TeacherProgress:
    teacher: User
    assignments: list[AssignmentProgress] = field(default_factory=list)


@dataclass
class ClassResults:
    school_class: SchoolClass
    teachers: list[User]
    pupils: int  # current pupils
    pupils_with_marks: int = 0  # of them, with at least one released mark
    marks: int = 0  # released marks
    mean_percent: float | None = None  # of those marks
    assignments: list[AssignmentProgress] = field(default_factory=list)


@dataclass
class StandardisationStatus:
    standardisation: Standardisation
    scripts: int  # with an agreed mark
    within: list[str] = field(default_factory=list)  # done, every mark within tolerance
    outside: list[str] = field(default_factory=list)  # done, some mark outside tolerance
    started: list[str] = field(default_factory=list)  # some scripts still to mark
    not_started: list[str] = field(default_factory=list)  # active teachers with none marked

    @property
    def done(self) -> int:
        return len(self.within) + len(self.outside)


@dataclass
class SampleStatus:
    sample: ModerationSample
    items: int
    second_marked: int
    agreed: int


@dataclass
class DepartmentOverview:
    teachers: list[TeacherProgress]
    classes: list[ClassResults]
    standardisations: list[StandardisationStatus]
    samples: list[SampleStatus]


def _overview_assignments(now: datetime, prefix: str = "") -> Q:
    """The assignments the overview counts, given their classes: opened and not archived
    (`prefix`: the path to the assignment, as "assignment__")."""
    return Q(**{f"{prefix}archived_at__isnull": True, f"{prefix}opens_at__lte": now})


def _current_pupil(student: str, school_class: str) -> Exists:
    """Whether the student is one of the class's current pupils (both OuterRef paths)."""
    return Exists(
        Enrolment.objects.filter(
            student_id=OuterRef(student), school_class_id=OuterRef(school_class), removed_at__isnull=True
        )
    )


def _exempt_pupils(now: datetime) -> Coalesce:
    """The assignment's (OuterRef "pk") current pupils whose status is "exempt" (status_case)."""
    # (At most one row: without the model's ordering, which would join the pupil and sort.)
    submission = Submission.objects.filter(
        assignment_id=OuterRef("assignment_id"), student_id=OuterRef("student_id")
    ).order_by()
    exempt = (
        Exemption.objects.filter(assignment_id=OuterRef("pk"))
        .filter(_current_pupil("student_id", "assignment__school_class_id"))
        .order_by()
        .annotate(sub_state=Subquery(submission.values("state")), sub_late=Subquery(submission.values("is_late")))
        .annotate(
            kind=status_case(
                state="sub_state",
                is_late="sub_late",
                due="assignment__due_at",
                release="assignment__feedback_release",
                release_at="assignment__feedback_release_at",
                now=now,
                exemption="pk",
            )
        )
        .filter(kind="exempt")
        .values("assignment_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(exempt), 0)


def _standardisation_status(standardisations: list[Standardisation]) -> list[StandardisationStatus]:
    """Who has marked each standardisation's agreed scripts, and who is within tolerance.
    Two queries: the agreed and trial marks, the teachers and markers."""
    if not standardisations:
        return []
    rows = agreement.standardisation_rows(Standardisation.objects.filter(pk__in=[s.pk for s in standardisations]))
    pairs = agreement.pair_trials(rows)
    # Every active teacher (as the standardisation pages list them) and anyone else who marked.
    markers = User.objects.filter(Q(role=User.Role.TEACHER, is_active=True) | Q(pk__in={p.marker_id for p in pairs}))
    names = {u.pk: u.display_name for u in markers}
    by_marker: dict[int, dict[int | None, list[agreement.TrialMarked]]] = defaultdict(lambda: defaultdict(list))
    for pair in pairs:
        by_marker[pair.standardisation_id][pair.marker_id].append(pair)
    agreed_scripts: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        if row["kind"] == ReviewMark.Kind.AGREED_STANDARD:
            agreed_scripts[row["standardisation_id"]].add(row["script_id"])
    result = []
    for standardisation in standardisations:
        scripts = agreed_scripts[standardisation.pk]
        status = StandardisationStatus(standardisation, len(scripts))
        for marker_id, marked in by_marker[standardisation.pk].items():
            name = names.get(marker_id, agreement.REMOVED) if marker_id is not None else agreement.REMOVED
            if {p.script_id for p in marked} < scripts:
                status.started.append(name)
            elif all(
                within_tolerance(
                    standardisation,
                    p.pair.second.total - p.pair.first.total,
                    agreement.level_differences(p.pair),
                )
                for p in marked
            ):
                status.within.append(name)
            else:
                status.outside.append(name)
        status.not_started = [name for pk, name in names.items() if pk not in by_marker[standardisation.pk]]
        for names_list in (status.within, status.outside, status.started, status.not_started):
            names_list.sort(key=str.casefold)
        result.append(status)
    return result


def _overview_classes(now: datetime) -> QuerySet[SchoolClass]:
    """The overview's classes with their current pupils and, of those, the pupils with a mark
    they can read in one of the overview's assignments: each counted in a subquery of its
    own, the second from the class's submissions (their covering index holds what it reads of
    them) rather than by looking up each enrolled pupil's submissions."""
    current = Enrolment.objects.filter(school_class_id=OuterRef("pk"), removed_at__isnull=True)
    with_marks = (
        Submission.objects.filter(
            _overview_assignments(now, "assignment__"),
            feedback_visible_q("", "assignment__", now),
            _current_pupil("student_id", "assignment__school_class_id"),
            assignment__school_class_id=OuterRef("pk"),
        )
        .order_by()  # (the model's ordering would join the pupils' accounts)
        .values("assignment__school_class_id")
        .annotate(n=Count("student_id", distinct=True))
        .values("n")
    )
    return (
        SchoolClass.objects.active()
        .annotate(
            pupils=Coalesce(
                Subquery(current.order_by().values("school_class_id").annotate(n=Count("pk")).values("n")), 0
            ),
            pupils_with_marks=Coalesce(Subquery(with_marks), 0),
        )
        .order_by("name", "pk")
    )


def _overview_assignment_rows(class_ids: list[int], now: datetime):
    """The overview's assignments in these classes, with the dates their statuses depend on
    and their exempt pupils."""
    return (
        Assignment.objects.filter(_overview_assignments(now), school_class_id__in=class_ids)
        .annotate(n_exempt=_exempt_pupils(now))
        .values("pk", "title", "school_class_id", "due_at", "feedback_release", "feedback_release_at", "n_exempt")
        .order_by()
    )


def _overview_submission_figures(class_ids: list[int], now: datetime):
    """The submissions to the overview's assignments counted by assignment, state, lateness and
    whether the pupil is current, with the percentages of their marks: the columns a
    submission's status (status_key) comes from, grouped as stored, so PostgreSQL reads them
    from the submissions' covering index and works no CASE out for each one; the status is
    worked out once a group, in Python, with the assignment's dates."""
    return (
        Submission.objects.filter(_overview_assignments(now, "assignment__"), assignment__school_class_id__in=class_ids)
        .annotate(
            current=_current_pupil("student_id", "assignment__school_class_id"),
            pct=stored_percent("mark__total", "mark__max_total"),
        )
        .values("assignment_id", "state", "is_late", "current")
        .annotate(n=Count("pk"), n_pct=Count("pct"), sum_pct=Sum("pct"))
        .order_by()
    )


# Compiled once a thread: building these (the exempt pupils' status CASE above all) costs the
# ORM more than PostgreSQL takes to answer them.
# Planned afresh each time: kept prepared, PostgreSQL's generic plans for them were slower.
_overview_classes_compiled = CompiledQuery(_overview_classes, prepare=False)
_overview_assignments_compiled = CompiledQuery(_overview_assignment_rows, prepare=False)
_overview_figures_compiled = CompiledQuery(_overview_submission_figures, prepare=False)


def department_overview(now: datetime | None = None) -> DepartmentOverview:
    """The head's overview (see the notes above). Eight queries whatever the numbers of
    classes, teachers, pupils and scripts: classes (with their pupils, and those with a
    released mark), their teachers, the assignments (with their exempt pupils), figures per
    assignment, standardisations, their agreed and trial marks, markers' names, moderation
    samples. The figures count submissions (a pupil who has none is neither handed in nor
    marked) rather than the markbook's grid of every pupil and assignment: the same
    statuses (status_key), in a fraction of the rows."""
    now = now or timezone.now()
    classes: list[Any] = _overview_classes_compiled.objects(now=now)  # with `pupils` and `pupils_with_marks`
    prefetch_related_objects(classes, "teachers")
    by_class = {c.pk: ClassResults(c, list(c.teachers.all()), c.pupils, c.pupils_with_marks) for c in classes}
    # The markbook's grid has a row per current pupil and assignment: a class without pupils has none.
    class_ids = [pk for pk, results in by_class.items() if results.pupils]
    items: dict[int, AssignmentProgress] = {}
    dates: dict[int, tuple[bool, bool]] = {}  # assignment → (due passed, feedback date passed)
    for a in _overview_assignments_compiled.rows(class_ids=class_ids, now=now) if class_ids else ():
        school_class = by_class[a["school_class_id"]]
        items[a["pk"]] = AssignmentProgress(
            pk=a["pk"],
            title=a["title"],
            class_id=a["school_class_id"],
            class_name=school_class.school_class.name,
            due_at=a["due_at"],
            pupils=school_class.pupils - a["n_exempt"],
        )
        dates[a["pk"]] = (
            due_passed(a["due_at"], None, now),
            feedback_date_passed(a["feedback_release"], a["feedback_release_at"], now),
        )
        school_class.assignments.append(items[a["pk"]])
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0])  # class → [sum of %, marks with a %]
    released: dict[int, list[float]] = defaultdict(lambda: [0.0, 0])  # assignment → [sum of %, marks with a %]
    for r in _overview_figures_compiled.rows(class_ids=class_ids, now=now) if class_ids else ():
        if not r["current"]:
            continue  # a former pupil's essay: not in the markbook's grid
        item = items[r["assignment_id"]]
        kind = status_key(r["state"], r["is_late"], *dates[item.pk])
        n = r["n"]
        if kind in HANDED_IN_KEYS:
            item.handed_in += n
        if kind in ("marked", "released"):
            item.marked += n
        if kind == "released":
            item.released += n
            by_class[item.class_id].marks += n
            if r["n_pct"]:
                for figures in (released[item.pk], sums[item.class_id]):
                    figures[0] += r["sum_pct"]
                    figures[1] += r["n_pct"]
    # The means of the released marks that have a percentage, as Avg would give them.
    for pk, (total, count) in released.items():
        items[pk].mean_percent = round_half_up(total / count, 1)
    for pk, (total, count) in sums.items():
        by_class[pk].mean_percent = round_half_up(total / count, 1)
    teachers: dict[int, TeacherProgress] = {}
    for results in by_class.values():
        results.assignments.sort(key=lambda a: (a.due_at, a.pk), reverse=True)
        for teacher in results.teachers:
            teachers.setdefault(teacher.pk, TeacherProgress(teacher)).assignments.extend(results.assignments)
    samples = [
        SampleStatus(s, s.n_items, s.n_second, s.n_agreed)
        for s in ModerationSample.objects.select_related("assignment__school_class").annotate(
            n_items=Count("items", distinct=True),
            n_second=Count(
                "items",
                filter=Q(
                    items__review_marks__kind=ReviewMark.Kind.SECOND, items__review_marks__completed_at__isnull=False
                ),
                distinct=True,
            ),
            n_agreed=Count("items", filter=Q(items__agreed_at__isnull=False), distinct=True),
        )
    ]
    return DepartmentOverview(
        teachers=sorted(teachers.values(), key=lambda t: (t.teacher.display_name.casefold(), t.teacher.pk)),
        classes=list(by_class.values()),
        standardisations=_standardisation_status(list(Standardisation.objects.select_related("prompt"))),
        samples=samples,
    )

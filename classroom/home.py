"""The home pages: the student's assignments, open and closed, each with its status; the
teacher's to-do list per class and assignment.

Status words and rules come from classroom/status.py, the one place for every page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, cast

from django.db import connection
from django.db.models import BooleanField, Case, Count, ExpressionWrapper, F, OuterRef, Q, Subquery, When
from django.utils import timezone

from classroom import permissions, progress
from classroom import status as status_rules
from classroom.compiled import CompiledQuery
from classroom.models import Assignment, AssignmentChange, SchoolClass, Submission, User
from classroom.status import (
    HANDED_IN_KEYS,
    OPEN_KEYS,
    TO_MARK_KEYS,
    State,
    Status,
    feedback_date_passed,
    response_waiting_q,
)
from crisis.models import EssayPrompt

if TYPE_CHECKING:
    from classroom.models import AssignmentWithStatus


@dataclass
class StudentAssignment:
    """One assignment as one student sees it on their home page."""

    assignment: Assignment
    due_at: datetime
    cutoff: datetime | None
    status: str
    status_words: str
    word_count: int
    sealed: bool = False  # a timed essay not started yet: its question stays hidden
    last_worked_at: datetime | None = None  # the pupil's last save of their essay, or its start
    change_fields: str = ""  # what the teacher's last change after opening changed, in words

    @property
    def title(self) -> str:
        return self.assignment.sealed_title if self.sealed else self.assignment.title

    @property
    def is_open(self) -> bool:
        """On the pupil's to-do: not archived, not exempt, and still to be worked on."""
        now = timezone.now()
        if self.assignment.is_archived or self.status == "exempt":
            return False
        if self.cutoff is not None and now > self.cutoff:
            return False
        return self.status in OPEN_KEYS or now <= self.due_at

    @property
    def changed_at(self) -> datetime | None:
        """When the teacher changed the assignment (after it opened), if the pupil should be
        told: they can still work on it (on their to-do, not handed in), and the change came
        after they last worked on it (their last save; starting counts as one). A pupil who
        has not started is told of any change: page views are not recorded, so they may have
        read the old version. None: nothing new. Needs no table of its own: both times come
        with the home page's one query."""
        changed = self.assignment.updated_at
        if changed is None or not self.is_open or self.status not in OPEN_KEYS:
            return None
        if self.last_worked_at is not None and changed <= self.last_worked_at:
            return None
        return changed


_ASSIGNMENT_FIELDS = [f.attname for f in Assignment._meta.concrete_fields]
_CLASS_FIELDS = [f.attname for f in SchoolClass._meta.concrete_fields]
_PROMPT_FIELDS = [f.attname for f in EssayPrompt._meta.concrete_fields]
_PUPIL_FIELDS = (  # Assignment.objects.with_status_for's, and the last change's
    *("ext_due_at", "ext_cutoff", "my_state", "my_word_count", "my_is_late", "my_submitted_at"),
    *("my_updated_at", "my_started_at", "my_cutoff", "my_exempt", "my_joined_at"),
)


def _pupil_assignments(student: int, now: datetime, superuser: bool = False):
    """student_assignments' query: the assignments the pupil sees, with their class, question,
    standing and essay, oldest due first. (`superuser`: an IT account, which has a pupil's
    role unless given another, sees every class's.)"""
    # visible_to and with_status_for read only the id, the role and whether a superuser
    pupil = User(pk=student, role=User.Role.STUDENT, is_superuser=superuser)
    return (
        Assignment.objects.visible_to(pupil, now=now)
        .with_status_for(pupil)
        .annotate(
            last_change_fields=Subquery(
                AssignmentChange.objects.filter(assignment=OuterRef("pk"))
                .order_by("-changed_at", "-pk")
                .values("fields")[:1]
            )
        )
        .order_by("due_at", "pk")
        .values(
            *_ASSIGNMENT_FIELDS,
            *(f"school_class__{name}" for name in _CLASS_FIELDS),
            *(f"prompt__{name}" for name in _PROMPT_FIELDS),
            *_PUPIL_FIELDS,
            "last_change_fields",
        )
    )


# Compiled once: the pages every pupil opens build it on each request.
_pupil_assignments_compiled = CompiledQuery(_pupil_assignments)


def _pupil_assignment_rows(student: User, now: datetime) -> list[tuple[AssignmentWithStatus, str]]:
    """The assignments of `_pupil_assignments`, each with its class and question loaded and
    the pupil's figures set, as `visible_to(...).with_status_for(...).select_related(...)`
    gives them; and with the fields its teacher's last change changed, in words ("" if none)."""
    alias = connection.alias
    assignments = []
    if student.is_superuser:  # not a pupil's shape: run as built
        rows = list(_pupil_assignments(student.pk, now, superuser=True))
    else:
        rows = _pupil_assignments_compiled.rows(student=student.pk, now=now)
    for row in rows:
        assignment = Assignment.from_db(alias, _ASSIGNMENT_FIELDS, [row[name] for name in _ASSIGNMENT_FIELDS])
        assignment.school_class = SchoolClass.from_db(
            alias, _CLASS_FIELDS, [row[f"school_class__{name}"] for name in _CLASS_FIELDS]
        )
        assignment.prompt = EssayPrompt.from_db(
            alias, _PROMPT_FIELDS, [row[f"prompt__{name}"] for name in _PROMPT_FIELDS]
        )
        for name in _PUPIL_FIELDS:
            setattr(assignment, name, row[name])
        assignments.append((cast("AssignmentWithStatus", assignment), row["last_change_fields"] or ""))
    return assignments


def student_assignments(student: User) -> tuple[list[StudentAssignment], list[StudentAssignment]]:
    """The student's open and closed assignments, in one query whatever their number."""
    rows = []
    now = timezone.now()
    for assignment, change_fields in _pupil_assignment_rows(student, now):
        due = assignment.ext_due_at or assignment.due_at
        date_passed = feedback_date_passed(assignment.feedback_release, assignment.feedback_release_at, now)
        mine = Status.of(
            assignment.my_state,
            assignment.my_is_late,
            due_passed=status_rules.due_passed(due, assignment.my_joined_at, now),
            date_passed=date_passed,
            exempt=assignment.my_exempt,
        )
        rows.append(
            StudentAssignment(
                assignment,
                due,
                assignment.my_cutoff,
                mine.key,
                mine.student_words,
                assignment.my_word_count or 0,
                sealed=assignment.question_sealed(assignment.my_started_at, assignment.my_state),
                last_worked_at=max(
                    (t for t in (assignment.my_updated_at, assignment.my_started_at) if t is not None), default=None
                ),
                change_fields=change_fields,
            )
        )
    open_rows = [row for row in rows if row.is_open]
    closed_rows = [row for row in rows if not row.is_open]
    closed_rows.reverse()  # most recent first
    return open_rows, closed_rows


# --- the teacher's home: a to-do list ------------------------------------------------------
#
# What a teacher has to do, per class and assignment, from the statuses in classroom/status.py
# (its SQL twins, over the markbook's grid: the same numbers as the markbook and the queue):
# - scripts to mark: handed in, no complete mark yet ("To mark", "Late, to mark");
# - marks to release: complete, not yet visible to the pupils ("Marked, not released");
# - responses to read: DIRT responses submitted and not yet acknowledged;
# - missing work: "Missing" (exempt pupils, and pupils who joined after the due date, are not);
# - upcoming deadlines: assignments not yet due.
# Pupils are the class's current pupils (as in the markbook). An assignment stays on the list
# while it has something to do or is not yet due. Archiving closes it to pupils, so it has no
# deadline and no missing work any more; but what they handed in is still owed its marking:
# an archived assignment stays on the list (labelled archived) while it has scripts to mark,
# marks to release or responses to read, and leaves once those are done.
# Heads of department get the same to-do for the classes they teach, and one summary row per
# other class in the department (counts only: that marking belongs to the class's teachers).
# Queries: classes, figures per assignment (one grouped query), next script and response.

TODO_LIMIT = 50  # assignments listed at most (lists take at most 50 rows)


@dataclass
class AssignmentTodo:
    """One assignment's figures for its class's current pupils."""

    pk: int
    class_id: int
    title: str = ""
    due_at: datetime | None = None
    pupils: int = 0  # pupils expected to hand it in (not the exempt)
    handed_in: int = 0
    to_mark: int = 0
    late: int = 0  # of those to mark, handed in after the due date
    to_release: int = 0
    missing: int = 0
    responses: int = 0
    next_script: int | None = None  # the submission to mark next, in marking-queue order
    next_response: int | None = None  # the submission whose response to read next
    upcoming: bool = False  # not yet due (never when archived: it takes no more work)
    archived: bool = False

    @property
    def needs_action(self) -> bool:
        return bool(self.to_mark or self.to_release or self.responses or self.missing)


@dataclass
class ClassTodo:
    school_class: SchoolClass
    mine: bool
    assignments: list[AssignmentTodo] = field(default_factory=list)
    to_mark: int = 0
    late: int = 0
    to_release: int = 0
    missing: int = 0
    responses: int = 0

    def add(self, item: AssignmentTodo) -> None:
        self.to_mark += item.to_mark
        self.late += item.late
        self.to_release += item.to_release
        self.missing += item.missing
        self.responses += item.responses


@dataclass
class TeacherHome:
    classes: list[ClassTodo]  # the classes the user teaches, each with its to-do
    department: list[ClassTodo]  # heads: every other active class, counts only
    next_script: AssignmentTodo | None = None
    next_response: AssignmentTodo | None = None
    left_off: int = 0  # assignments with something to do beyond TODO_LIMIT

    @property
    def to_mark(self) -> int:
        return sum(c.to_mark for c in self.classes)

    @property
    def responses(self) -> int:
        return sum(c.responses for c in self.classes)

    @property
    def to_release(self) -> int:
        return sum(c.to_release for c in self.classes)

    @property
    def missing(self) -> int:
        return sum(c.missing for c in self.classes)


def _figures(class_ids: list[int], now: datetime):
    """assignment_figures' grouped query: the grid's cells counted by assignment, kind and
    whether a response waits. Grouped by kind rather than one filtered count for each figure,
    so the status CASE is written (and planned, and worked out) once a cell, not once a figure."""
    return (
        progress._grid(class_ids, now)
        # (An annotation, so it reuses the grid's join to the assignment rather than a second.)
        .annotate(
            a_archived_at=F("school_class__assignments__archived_at"),
            waiting=ExpressionWrapper(response_waiting_q("sub__mark__dirt__"), output_field=BooleanField()),
        )
        .values("a_id", "school_class_id", "a_archived_at", "kind", "waiting")
        .annotate(n=Count("pk"))
        .order_by("a_id")
    )


# Compiled once: its CASE expressions cost the ORM more to compile than PostgreSQL to answer.
_figures_compiled = CompiledQuery(_figures)


def assignment_figures(class_ids: list[int], now: datetime) -> list[AssignmentTodo]:
    """Each live assignment of the classes with its to-do figures, in one grouped query
    (titles and due dates come with the next links: see `_describe`)."""
    if not class_ids:
        return []
    items: dict[int, AssignmentTodo] = {}
    for r in _figures_compiled.rows(class_ids=class_ids, now=now):
        item = items.get(r["a_id"])
        if item is None:
            item = items[r["a_id"]] = AssignmentTodo(
                pk=r["a_id"], class_id=r["school_class_id"], archived=r["a_archived_at"] is not None
            )
        kind, n = r["kind"], r["n"]
        if kind != "exempt":
            item.pupils += n
        if kind in HANDED_IN_KEYS:
            item.handed_in += n
        if kind in TO_MARK_KEYS:
            item.to_mark += n
        if kind == "late":
            item.late += n
        if kind == "marked":
            item.to_release += n
        if kind == "missing" and not item.archived:  # archived: closed to pupils (see the notes above)
            item.missing += n
        if r["waiting"]:
            item.responses += n
    return list(items.values())


def _first_in_queue(condition: Q, by_number: bool) -> Subquery:
    """The first current pupil's submission of the outer assignment meeting `condition`, in the
    marking queue's order (Submission.marking_order)."""
    queue = Submission.objects.filter(
        condition,
        assignment=OuterRef("pk"),
        student__enrolments__school_class=OuterRef("school_class"),
        student__enrolments__removed_at__isnull=True,
    )
    return Subquery(queue.order_by(*Submission.marking_order(by_number)).values("pk")[:1])


def _next_in_queue(condition: Q, wanted: list[int]) -> Case:
    """`_first_in_queue` in the queue's order of the outer assignment (by candidate number
    while its names are hidden: Assignment.names_hidden), only for the assignments `wanted`
    (NULL for the rest, whose subquery PostgreSQL then never runs)."""
    names_hidden = Q(anonymous_marking=True, names_revealed_at__isnull=True)
    in_order = Case(
        When(names_hidden, then=_first_in_queue(condition, by_number=True)),
        default=_first_in_queue(condition, by_number=False),
    )
    return Case(When(pk__in=wanted, then=in_order), default=None)


def _to_do(waiting: list[int], class_ids: list[int], now: datetime, scripts: list[int], responses: list[int]):
    """_describe's query: the assignments `waiting` and any live one of `class_ids` not yet due,
    with the next script of those in `scripts` and the next response of those in `responses`."""
    # "To mark" is status "submitted"/"late": the stored state SUBMITTED (classroom/status.py).
    return (
        Assignment.objects.filter(
            Q(pk__in=waiting) | Q(school_class_id__in=class_ids, due_at__gt=now, archived_at__isnull=True)
        )
        .annotate(
            next_script=_next_in_queue(Q(state=State.SUBMITTED), scripts),
            next_response=_next_in_queue(response_waiting_q("mark__dirt__"), responses),
        )
        .values("pk", "school_class_id", "title", "due_at", "archived_at", "next_script", "next_response")
    )


# Compiled once for each length of its lists: its subqueries cost the ORM more than PostgreSQL.
_to_do_compiled = CompiledQuery(_to_do)


def _describe(items: dict[int, AssignmentTodo], class_ids: list[int], now: datetime) -> list[AssignmentTodo]:
    """The to-do's assignments, in one query: those of `items` with something to do (archived
    or not) and any live one of `class_ids` not yet due, with their titles, due dates, next
    script and next response. Work waiting first (oldest due first), then deadlines to come
    (soonest first)."""
    if not class_ids:
        return []
    rows = _to_do_compiled.rows(
        waiting=[pk for pk, item in items.items() if item.needs_action],
        class_ids=class_ids,
        now=now,
        scripts=[pk for pk, item in items.items() if item.to_mark],
        responses=[pk for pk, item in items.items() if item.responses],
    )
    listed = []
    for r in rows:
        item = items.get(r["pk"]) or AssignmentTodo(r["pk"], r["school_class_id"])  # no pupils yet
        item.title, item.due_at, item.archived = r["title"], r["due_at"], r["archived_at"] is not None
        item.upcoming = r["due_at"] > now and not item.archived
        item.next_script, item.next_response = r["next_script"], r["next_response"]
        listed.append(item)
    listed.sort(key=lambda item: (not item.needs_action, item.due_at, item.pk))
    return listed


def teacher_home(user: User, now: datetime | None = None) -> TeacherHome:
    """The teacher's to-do (see the notes above). Four queries whatever the numbers of classes,
    assignments and pupils (three when there are no classes)."""
    now = now or timezone.now()
    classes = list(
        permissions.home_classes_for(user)
        .annotate(student_count=Count("enrolments", filter=Q(enrolments__removed_at__isnull=True), distinct=True))
        .order_by("name", "pk")
    )
    todos = {c.pk: ClassTodo(c, mine=bool(c.mine)) for c in classes}
    items = {item.pk: item for item in assignment_figures(list(todos), now)}
    for item in items.values():
        todos[item.class_id].add(item)
    own = [pk for pk, todo in todos.items() if todo.mine]
    own_items = {pk: item for pk, item in items.items() if todos[item.class_id].mine}
    listed = _describe(own_items, own, now)
    for item in listed[:TODO_LIMIT]:
        todos[item.class_id].assignments.append(item)
    return TeacherHome(
        classes=[todos[pk] for pk in own],
        department=[todo for todo in todos.values() if not todo.mine],
        next_script=next((item for item in listed if item.next_script), None),
        next_response=next((item for item in listed if item.next_response), None),
        left_off=max(0, len(listed) - TODO_LIMIT),
    )

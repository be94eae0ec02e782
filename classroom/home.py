"""The student's home page list: their assignments, open and closed, each with its status.

Status words come from classroom/status.py, the one place for every page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from classroom.models import Assignment, User
from classroom.status import OPEN_KEYS, Status, feedback_date_passed


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

    @property
    def title(self) -> str:
        return self.assignment.sealed_title if self.sealed else self.assignment.title

    @property
    def is_open(self) -> bool:
        now = timezone.now()
        if self.cutoff is not None and now > self.cutoff:
            return False
        return self.status in OPEN_KEYS or now <= self.due_at


def student_assignments(student: User) -> tuple[list[StudentAssignment], list[StudentAssignment]]:
    """The student's open and closed assignments, in one query whatever their number."""
    rows = []
    now = timezone.now()
    queryset = Assignment.objects.visible_to(student).with_status_for(student).select_related("school_class", "prompt")
    for assignment in queryset.order_by("due_at", "pk"):
        due = assignment.ext_due_at or assignment.due_at
        date_passed = feedback_date_passed(assignment.feedback_release, assignment.feedback_release_at, now)
        mine = Status.of(assignment.my_state, assignment.my_is_late, due_passed=due < now, date_passed=date_passed)
        rows.append(
            StudentAssignment(
                assignment,
                due,
                assignment.my_cutoff,
                mine.key,
                mine.student_words,
                assignment.my_word_count or 0,
                sealed=assignment.question_sealed(assignment.my_started_at, assignment.my_state),
            )
        )
    open_rows = [row for row in rows if row.is_open]
    closed_rows = [row for row in rows if not row.is_open]
    closed_rows.reverse()  # most recent first
    return open_rows, closed_rows

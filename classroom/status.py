"""Where a student's essay stands: the one table of submission statuses and their words.

Every page, export and script that names a submission's status reads it from here:
- `State`: the stored lifecycle of a submission (the `Submission.state` column) and which
  states the student may edit or the teacher may mark;
- `STATUSES`: the derived statuses, in markbook legend order, each with the words teachers
  and students see and the markbook symbol;
- `status_key()`: the Python rule, and `status_case()` beside it: the same rule as one SQL
  CASE for pages that count statuses in the database (progress, markbook). tests/test_status.py
  checks that the two agree for every state, late flag, due date and release setting;
- `feedback_visible()` and `feedback_visible_q()`: when the student may read the mark, the
  one rule in Python and in SQL.

The derivation, in order:
1. Feedback released by hand, or marked with the assignment's feedback date passed → released.
2. Marked (a complete mark the student cannot see yet) → marked.
3. Handed in and not yet marked → submitted, or late when handed in after the due date.
4. Returned for redraft → returned (never "missing": it was handed in once).
5. Nothing handed in and the teacher exempted the pupil from the assignment → exempt (never
   missing, and not counted among the pupils expected to hand it in).
6. Nothing handed in and the student's own due date (their extension, else the assignment's)
   has passed → missing, unless the pupil joined the class after that due date (they were
   never set it in time: not started or draft, as before the date). Late work may still be
   accepted until the cut-off. `due_passed()` is the Python rule, status_case's the SQL.
7. A draft → draft; otherwise (no submission yet, or opened but never saved) → not started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.db.models import Case, F, Q, Value, When


class State(models.TextChoices):
    """The stored lifecycle of one essay; changed only by Submission's guarded transitions."""

    NOT_STARTED = "not_started", "Not started"
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    RETURNED = "returned", "Returned for redraft"
    MARKED = "marked", "Marked"
    RELEASED = "released", "Feedback released"


class FeedbackRelease(models.TextChoices):
    """How an assignment's complete marks become visible to students."""

    MANUAL = "manual", "When I release it"
    AT_DATE = "at_date", "At a date and time"


# States in which the student may change the text, and in which the teacher may mark it.
EDITABLE_STATES = (State.NOT_STARTED, State.DRAFT, State.RETURNED)
MARKABLE_STATES = (State.SUBMITTED, State.MARKED, State.RELEASED)


@dataclass(frozen=True)
class Words:
    teacher: str
    student: str
    symbol: str


# The derived statuses in legend order. Teacher words are the same on every teacher page
# (markbook, assignment page, marking, exports). Until feedback is visible, marked work reads
# to the student as submitted: they learn nothing of the mark before release.
STATUSES: dict[str, Words] = {
    "released": Words("Released", "Marked — read your feedback", "✔"),
    "marked": Words("Marked, not released", "Submitted — your teacher is marking it", "◐"),
    "submitted": Words("To mark", "Submitted", "●"),
    "late": Words("Late, to mark", "Submitted late", "◷"),
    "returned": Words("Returned for redraft", "Returned for redraft", "↺"),
    "missing": Words("Missing", "Not handed in — past the due date", "✖"),
    "draft": Words("Draft", "Drafting", "✎"),
    "not_started": Words("Not started", "Not started", "–"),
    "exempt": Words("Exempt", "Exempt — your teacher has excused you from this one", "○"),
}
KEYS = tuple(STATUSES)
HANDED_IN_KEYS = frozenset({"submitted", "late", "marked", "released"})
# Statuses in which the student can still work on the essay (if their cut-off allows).
OPEN_KEYS = frozenset({"not_started", "draft", "missing", "returned"})


def feedback_date_passed(release: str, release_at: datetime | None, now: datetime) -> bool:
    """Release "at a date": complete marks are visible to students from that moment."""
    return release == FeedbackRelease.AT_DATE and release_at is not None and release_at <= now


def due_passed(due: datetime, joined_at: datetime | None, now: datetime) -> bool:
    """Whether a pupil's own due date counts as passed for "missing": it has passed, and they
    were in the class by then (`joined_at`: their enrolment's; None: unknown, so in time)."""
    return due < now and (joined_at is None or joined_at <= due)


def status_key(state: str | None, is_late: bool, due_passed: bool, date_passed: bool, exempt: bool = False) -> str:
    """The status of an essay in `state` (None: no submission yet); see the module docstring.
    `due_passed`: as `due_passed()` (the pupil's own due date, and when they joined)."""
    if exempt and state in (None, State.NOT_STARTED, State.DRAFT):
        return "exempt"
    match state:
        case State.RELEASED:
            return "released"
        case State.MARKED:
            return "released" if date_passed else "marked"
        case State.SUBMITTED:
            return "late" if is_late else "submitted"
        case State.RETURNED:
            return "returned"
        case None | State.NOT_STARTED | State.DRAFT:
            if due_passed:
                return "missing"
            return "draft" if state == State.DRAFT else "not_started"
    raise ValueError(f"Unknown submission state: {state!r}")


def status_case(
    *,
    state: str,
    is_late: str,
    due: str,
    release: str,
    release_at: str,
    now: datetime,
    joined: str | None = None,
    exemption: str | None = None,
) -> Case:
    """The SQL twin of status_key(): a CASE giving the status key, for the given field paths.

    `state` may be NULL (a LEFT JOIN with no submission); `due` is the student's own due date;
    `joined` the pupil's enrolment date (None: not known, as in time); `exemption` the id of
    their exemption from the assignment (NULL: none; None: exemptions not joined).
    """
    date_passed = Q(**{release: FeedbackRelease.AT_DATE, f"{release_at}__lte": now})
    not_handed_in = Q(**{f"{state}__isnull": True}) | Q(**{f"{state}__in": [State.NOT_STARTED, State.DRAFT]})
    exempt = [When(not_handed_in & Q(**{f"{exemption}__isnull": False}), then=Value("exempt"))] if exemption else []
    passed = Q(**{f"{due}__lt": now})
    if joined is not None:
        passed &= Q(**{f"{joined}__isnull": True}) | Q(**{f"{joined}__lte": F(due)})
    return Case(
        *exempt,
        When(Q(**{state: State.RELEASED}), then=Value("released")),
        When(Q(**{state: State.MARKED}) & date_passed, then=Value("released")),
        When(Q(**{state: State.MARKED}), then=Value("marked")),
        When(Q(**{state: State.SUBMITTED, is_late: True}), then=Value("late")),
        When(Q(**{state: State.SUBMITTED}), then=Value("submitted")),
        When(Q(**{state: State.RETURNED}), then=Value("returned")),
        When(passed, then=Value("missing")),
        When(Q(**{state: State.DRAFT}), then=Value("draft")),
        default=Value("not_started"),
        output_field=models.CharField(),
    )


def feedback_visible(state: str | None, date_passed: bool) -> bool:
    """May the student read the mark? Released, or marked with the feedback date passed."""
    return status_key(state, False, False, date_passed) == "released"


def feedback_visible_q(submission: str, assignment: str, now: datetime) -> Q:
    """The SQL twin of feedback_visible(), with `submission` and `assignment` path prefixes
    (e.g. "mark__submission__"; "" for the model itself)."""
    return Q(**{f"{submission}state": State.RELEASED}) | Q(
        **{
            f"{submission}state": State.MARKED,
            f"{assignment}feedback_release": FeedbackRelease.AT_DATE,
            f"{assignment}feedback_release_at__lte": now,
        }
    )


# Handed in and waiting for a complete mark ("To mark" and "Late, to mark"): the teacher's to-do.
TO_MARK_KEYS = frozenset({"submitted", "late"})


def response_waiting(submitted_at: datetime | None, acknowledged_at: datetime | None) -> bool:
    """A DIRT response the teacher still has to read: submitted, not yet acknowledged."""
    return submitted_at is not None and acknowledged_at is None


def response_waiting_q(dirt: str) -> Q:
    """The SQL twin of response_waiting(), with `dirt` the path prefix of the DirtResponse
    (e.g. "sub__mark__dirt__"; a missing response is NULL, so not waiting)."""
    return Q(**{f"{dirt}submitted_at__isnull": False, f"{dirt}acknowledged_at__isnull": True})


@dataclass(frozen=True)
class Status:
    """One essay's status, with the words each reader sees (`is_late` stays true through marking)."""

    key: str
    is_late: bool = False

    @classmethod
    def of(
        cls,
        state: str | None,
        is_late: bool | None,
        *,
        due_passed: bool = False,
        date_passed: bool = False,
        exempt: bool = False,
    ) -> Status:
        return cls(status_key(state, bool(is_late), due_passed, date_passed, exempt), bool(is_late))

    @property
    def feedback_ready(self) -> bool:
        return self.key == "released"

    @property
    def handed_in(self) -> bool:
        return self.key in HANDED_IN_KEYS

    @property
    def is_open(self) -> bool:
        return self.key in OPEN_KEYS

    @property
    def symbol(self) -> str:
        return STATUSES[self.key].symbol

    @property
    def label(self) -> str:
        """The teacher's short words (markbook cells, legends, counts)."""
        return STATUSES[self.key].teacher

    @property
    def teacher_words(self) -> str:
        words = STATUSES[self.key].teacher
        if self.is_late and self.key in ("returned", "marked", "released"):
            return f"{words} (submitted late)"
        return words

    @property
    def student_words(self) -> str:
        if self.key == "marked" and self.is_late:
            return "Submitted late — your teacher is marking it"
        return STATUSES[self.key].student


# The marking queue's filters: each groups statuses (an essay handed in and not marked is
# "in progress" once its marker has saved anything on it).
MARKING_FILTERS = {
    "to_mark": STATUSES["submitted"].teacher,
    "in_progress": "In progress",
    "marked": STATUSES["marked"].teacher,
    "released": STATUSES["released"].teacher,
}


def marking_filter(status: Status, has_mark: bool) -> str:
    """Which marking-queue filter an essay that has been handed in falls under."""
    if status.key in ("submitted", "late"):
        return "in_progress" if has_mark else "to_mark"
    return status.key

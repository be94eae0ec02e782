"""The writing page's share of a pupil's access arrangements and reading preferences
(classroom/views/assignments.py `_writing_context`; the rules themselves are on the models:
AccessArrangement, Submission.time_deadline and the rest break methods)."""

from __future__ import annotations

from datetime import datetime

from classroom.models import AccessArrangement, Assignment, Submission, User


def writing_aids(user: User, assignment: Assignment, submission: Submission | None, now: datetime) -> dict:
    """What the writing page needs from the pupil's arrangements and reading preferences: the
    arrangement (for the clock in words), whether spell check is off in the essay box, the read
    aloud buttons, and the rest break under way. One query (the arrangement), for pupils only."""
    arrangement = AccessArrangement.objects.filter(student=user).first() if user.is_student else None
    spell_check = arrangement is not None and arrangement.spell_check
    on_break = submission is not None and submission.is_editable and submission.on_break(now)
    hidden = {"sources": [], "instructions": ""} if on_break else {}  # no work during a rest break
    return {
        **hidden,
        "arrangement": arrangement,
        "spell_check_off": assignment.spell_check_off and not spell_check,
        "read_aloud": user.read_aloud or (arrangement is not None and arrangement.reader),
        "on_break": on_break,
        "break_ends_at": submission.break_ends_at() if on_break and submission else None,
        "break_minutes_used": _minutes(submission.break_seconds_used) if submission else 0,
        "break_minutes_left": _minutes(submission.break_seconds_left) if submission else 0,
        "break_allowed": bool(submission and submission.break_allowance_seconds),
        "extra_time_words": arrangement.extra_time_words if arrangement is not None else "",
    }


def _minutes(seconds: int) -> int:
    """Whole minutes, rounded up: a break that has started counts, and "0 minutes left" is
    said only when none is."""
    return -(-seconds // 60)

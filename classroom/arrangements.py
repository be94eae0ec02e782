"""The writing page's share of a pupil's access arrangements and reading preferences
(classroom/views/assignments.py `_writing_context`; the rules themselves are on the models:
AccessArrangement, Submission.time_deadline and the rest break methods)."""

from __future__ import annotations

from datetime import datetime

from classroom import lookups
from classroom.models import Assignment, Submission, User


def writing_aids(user: User, assignment: Assignment, submission: Submission | None, now: datetime) -> dict:
    """What the writing page needs from the pupil's arrangements and reading preferences: the
    arrangement (for the clock in words), whether spell check is off in the essay box, the read
    aloud buttons, and the rest break under way. One query (the arrangement), for pupils only."""
    arrangement = lookups.arrangement_of(user.pk) if user.is_student else None
    spell_check = arrangement is not None and arrangement.spell_check
    on_break = submission is not None and submission.is_editable and submission.on_break(now)
    hidden = {"sources": [], "instructions": ""} if on_break else {}  # no work during a rest break
    # Rest break time used: with the break under way (it stops the clock, or ran out by itself),
    # and before it (what the break page says was used before this one).
    used = before = allowance = 0
    if submission is not None:
        before = submission.break_seconds_used
        used = before + submission.current_break_seconds(now)
        allowance = submission.break_allowance_seconds
    return {
        **hidden,
        "arrangement": arrangement,
        "spell_check_off": assignment.spell_check_off and not spell_check,
        "read_aloud": user.read_aloud or (arrangement is not None and arrangement.reader),
        "on_break": on_break,
        "break_ends_at": submission.break_ends_at() if on_break and submission else None,
        "break_minutes_used": _minutes(before if on_break else used),
        "break_minutes_left": _minutes(allowance - used),
        "break_allowed": allowance > 0,
        "extra_time_words": arrangement.extra_time_words if arrangement is not None else "",
    }


def _minutes(seconds: int) -> int:
    """Whole minutes, rounded up: a break that has started counts, and "0 minutes left" is
    said only when none is."""
    return -(-seconds // 60)

"""Template helpers for assignments: due dates in words."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format

from crisis.wording import plural as _plural

register = template.Library()


def due_in_words(due: datetime | None, now: datetime | None = None) -> str:
    """Say "due in 2 days", "due tomorrow at 15:30", "overdue by 3 hours", in the school's time zone."""
    if due is None:
        return ""
    now = now or timezone.now()
    local_due, local_now = timezone.localtime(due), timezone.localtime(now)
    seconds = (due - now).total_seconds()
    if seconds < 0:
        late = -seconds
        if late < 3600:
            return f"overdue by {_plural(max(1, int(late // 60)), 'minute')}"
        if late < 86400:
            return f"overdue by {_plural(int(late // 3600), 'hour')}"
        return f"overdue by {_plural(int(late // 86400), 'day')}"
    days = (local_due.date() - local_now.date()).days
    clock = local_due.strftime("%H:%M")
    if seconds < 3600:
        return f"due in {_plural(max(1, int(seconds // 60)), 'minute')}"
    if days == 0:
        return f"due today at {clock}"
    if days == 1:
        return f"due tomorrow at {clock}"
    if days < 14:
        return f"due in {days} days"
    return f"due on {date_format(local_due, 'j F')}"


@register.filter(name="due_in_words")
def due_in_words_filter(due: datetime | None) -> str:
    return due_in_words(due)

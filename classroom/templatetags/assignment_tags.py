"""Template helpers for assignments: due dates in words, and the pupils' rows of an assignment's page."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape
from typing import Any

from django import template
from django.utils import dateformat, timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe

from classroom.templatetags.url_tags import url_pattern
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


def local_date(moment: datetime | None, format_string: str = "j M, H:i") -> str:
    """As the template's `{{ moment|date:format_string }}`, escaped: in the school's time zone,
    empty for no date. For the lists written in Python."""
    return "" if moment is None else escape(dateformat.format(timezone.localtime(moment), format_string))


@register.simple_tag
def pupil_rows(rows: Iterable[Any], assignment: Any) -> SafeString:
    """An assignment page's table body, a row a pupil (views/assignments.py's StudentRow): name
    and extension, status, words, last saved, handed in, and the links to read, mark or
    return the essay. Written in Python: a class of thirty through the template's nodes, three
    URLs reversed a row, cost most of the page. tests/test_assignment_tags.py holds it to the
    template loop it replaced."""
    read_url = escape(url_pattern("classroom:submission_detail"))
    mark_url = escape(url_pattern("classroom:mark_submission"))
    return_url = escape(url_pattern("classroom:submission_return"))
    names_hidden = assignment.names_hidden
    out = []
    for row in rows:
        name = escape(row.student.display_name)
        submission = row.submission
        extension = (
            f' <span class="badge text-bg-secondary">Extension to {local_date(row.extension.due_at)}</span>'
            if row.extension
            else ""
        )
        saved = submission is not None and bool(submission.revision)
        links = []
        if saved:
            links.append(
                f'<a href="{read_url.format(int(submission.pk))}">Read'
                f'<span class="visually-hidden"> {name}\'s essay</span></a>'
            )
        if submission is not None and submission.is_markable and not names_hidden:
            links.append(
                f'· <a href="{mark_url.format(int(submission.pk))}">Mark'
                f'<span class="visually-hidden"> {name}\'s essay</span></a>'
            )
        if submission is not None and submission.can_be_returned:
            links.append(
                f'· <a href="{return_url.format(int(submission.pk))}">Return for redraft'
                f'<span class="visually-hidden"> ({name})</span></a>'
            )
        words = submission.word_count if submission is not None else "—"
        updated = local_date(submission.updated_at) if saved else "—"
        handed_in = local_date(submission.submitted_at) if submission is not None and submission.submitted_at else "—"
        out.append(
            f'<tr><th scope="row">{name}{extension}</th>'
            f'<td><span class="status status-{escape(row.status)}">{escape(row.status_words)}</span></td>'
            f"<td>{words}</td><td>{updated}</td><td>{handed_in}</td>"
            f'<td class="text-nowrap">{" ".join(links)}</td></tr>'
        )
    if not out:
        return mark_safe('<tr><td colspan="6">No students in this class yet.</td></tr>')
    return mark_safe("\n".join(out))  # noqa: S308 - built from escaped pieces and numbers

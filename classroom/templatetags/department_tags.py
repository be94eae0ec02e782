"""The department overview's long tables rendered in Python: a row per class and assignment
(hundreds in a school) through template nodes, or even format_html per cell, costs tens of
ms (as the markbook's rows, classroom/templatetags/progress_tags.py). Every text is escaped
here, by the function Django's escape wraps; the numbers are ints and floats."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from html import escape

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from classroom.progress import AssignmentProgress

register = template.Library()


def _plural(count: int) -> str:
    return "" if count == 1 else "s"  # the pluralize filter's rule


@lru_cache(maxsize=1024)
def _day(day: date, language: str) -> str:
    """A day as the `date:"j M Y"` filter shows it in the language (its own formatter, without
    its look-up of "j M Y" among the named formats)."""
    return date_format(day, "j M Y")


def _dates(assignments: Iterable[AssignmentProgress]) -> dict[datetime, str]:
    """Each due date as the filter shows it (local time)."""
    language = get_language()
    return {due: _day(timezone.localtime(due).date(), language) for due in {a.due_at for a in assignments}}


@register.simple_tag
def marking_progress_rows(assignments: list[AssignmentProgress]) -> SafeString:
    """One teacher's table body: per assignment, the pupils expected, handed in, marked and
    released, and the mean of the released marks with the pupils it rests on."""
    dates = _dates(assignments)
    rows = []
    for a in assignments:
        released = f"{a.released} pupil{_plural(a.released)}"
        mean = (
            f'{a.mean_percent}% <span class="small text-body-secondary">({released})</span>'
            if a.mean_percent is not None
            else "–"
        )
        rows.append(
            f'<tr data-assignment="{a.pk}"><td>{escape(a.class_name)}</td><th scope="row">{escape(a.title)}</th>'
            f"<td>{dates[a.due_at]}</td><td>{a.pupils}</td><td>{a.handed_in}</td><td>{a.marked}</td>"
            f"<td>{a.released}</td><td>{mean}</td></tr>"
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - the only texts, class names and titles, are escaped


@register.simple_tag
def class_assignment_results(assignments: list[AssignmentProgress]) -> SafeString:
    """A class's assignments as list items: the mean of the released marks, each with the
    pupils it rests on, or that there are none yet."""
    items = []
    for a in assignments:
        pupils = f"{a.pupils} pupil{_plural(a.pupils)}"
        result = (
            f'{a.mean_percent}% <span class="small text-body-secondary">({a.released} of {pupils})</span>'
            if a.mean_percent is not None
            else f'<span class="small text-body-secondary">no released marks ({pupils})</span>'
        )
        items.append(f"<li>{escape(a.title)}: {result}</li>")
    return mark_safe("".join(items))  # noqa: S308 - the only text, the title, is escaped

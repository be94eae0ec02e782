"""Markbook rows rendered in Python: a 35 × 20 grid through template tags costs tens of ms,
and even format_html() for each of its cells costs several; so the cells are put together
from pieces escaped once (a state's words are the same in every cell)."""

from __future__ import annotations

from functools import cache
from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from classroom.status import STATUSES
from classroom.templatetags.url_tags import url_pattern

register = template.Library()


@cache
def _state(kind: str) -> str:
    """A state as an icon and words (never colour alone)."""
    words = STATUSES[kind]
    return (
        f'<span class="cell-state"><span aria-hidden="true">{escape(words.symbol)}</span> '
        f"{escape(words.teacher)}</span>"
    )


LATE = ' <span class="cell-late">(late)</span>'


def _cell(cell) -> str:
    """The inside of one markbook cell: mark and percentage (if shown), then the state, then
    "(late)"; a link when there is one. Escaped HTML."""
    mark = (
        f'<span class="cell-mark">{cell.total}/{cell.max_marks}</span> '
        f'<span class="cell-percent">{cell.percent}%</span><br>'
        if cell.shows_mark
        else ""
    )
    late = LATE if cell.is_late and cell.kind != "late" else ""
    body = f"{mark}{_state(cell.kind)}{late}"
    if cell.url:
        return f'<a href="{escape(cell.url)}">{body}</a>'
    return body


@register.filter
def markbook_cell(cell) -> SafeString:
    return mark_safe(_cell(cell))  # noqa: S308 - built from escaped pieces and numbers


@register.simple_tag
def markbook_rows(book) -> SafeString:
    """The markbook's body rows: the pupil (a link to their progress), their average, their cells."""
    progress_url = escape(url_pattern("classroom:student_progress"))
    no_marks = '<span class="text-body-secondary">no marks</span>'
    rows = []
    for row in book.rows:
        cells = "".join(f'<td class="markbook-cell cell-{escape(cell.kind)}">{_cell(cell)}</td>' for cell in row.cells)
        average = f"{row.mean_percent}%" if row.mean_percent is not None else no_marks
        rows.append(
            f'<tr><th scope="row" class="markbook-name"><a href="{progress_url.format(int(row.student_id))}">'
            f"{escape(row.family_name)}, {escape(row.given_name)}</a></th>"
            f'<td class="text-end" data-average>{average}</td>{cells}</tr>'
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - built from escaped pieces and numbers

"""Markbook cells rendered in Python: a 35 × 20 grid through template tags costs tens of ms."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def markbook_cell(cell) -> SafeString:
    """The inside of one markbook cell: mark and percentage (if shown), then the state as
    an icon and words, so the state never rests on colour alone; a link when there is one."""
    mark = (
        format_html(
            '<span class="cell-mark">{}/{}</span> <span class="cell-percent">{}%</span><br>',
            cell.total,
            cell.max_marks,
            cell.percent,
        )
        if cell.shows_mark
        else ""
    )
    late = format_html(' <span class="cell-late">{}</span>', "(late)") if cell.is_late and cell.kind != "late" else ""
    body = format_html(
        '{}<span class="cell-state"><span aria-hidden="true">{}</span> {}</span>{}', mark, cell.icon, cell.label, late
    )
    if cell.url:
        return format_html('<a href="{}">{}</a>', cell.url, body)
    return body

"""Markbook rows rendered in Python: a 35 × 20 grid through template tags costs tens of ms."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
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


@register.simple_tag
def markbook_rows(book) -> SafeString:
    """The markbook's body rows: the pupil (a link to their progress), their average, their cells."""
    progress_url = reverse("classroom:student_progress", args=[0]).replace("/0/", "/{}/")
    no_marks = format_html('<span class="text-body-secondary">{}</span>', "no marks")
    return format_html_join(
        "\n",
        '<tr><th scope="row" class="markbook-name"><a href="{}">{}, {}</a></th>'
        '<td class="text-end" data-average>{}</td>{}</tr>',
        (
            (
                progress_url.format(row.student_id),
                row.family_name,
                row.given_name,
                format_html("{}%", row.mean_percent) if row.mean_percent is not None else no_marks,
                format_html_join(
                    "",
                    '<td class="markbook-cell cell-{}">{}</td>',
                    ((cell.kind, markbook_cell(cell)) for cell in row.cells),
                ),
            )
            for row in book.rows
        ),
    )

"""Marking-queue rows and the marking page's comment bank rendered in Python: tags and a
`{% url %}` for every cell of every row cost more than the rest of the page."""

from __future__ import annotations

from collections.abc import Iterator

from django import template
from django.template.context import Context
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from classroom.models import CommentBankEntry, Mark
from classroom.templatetags.url_tags import url_pattern

register = template.Library()

ROW = (
    "<tr>\n"
    '<th scope="row"><a href="{}">{}</a></th>\n'
    '<td><span class="status status-{}">{}</span></td>\n'
    "<td>{}</td>\n"
    "<td>{}{}</td>\n"
    "<td>{}</td>\n"
    "<td>{}</td>\n"
    "</tr>"
)
ACKNOWLEDGE = (
    '<form method="post" action="{}" class="d-inline">{}'
    '<input type="hidden" name="from" value="queue">'
    ' Submitted <button type="submit" class="btn btn-sm btn-outline-primary">Acknowledge'
    '<span class="visually-hidden"> the response of {}</span></button></form>'
)


@register.simple_tag(takes_context=True)
def queue_rows(context: Context, rows: list) -> SafeString:
    """The marking queue's body rows (classroom.views.marking.QueueRow): the writer (a link to
    the marking page), the marking state, words, when handed in, the mark, and the response
    to the feedback (with its Acknowledge form while one waits)."""
    return format_html_join("\n", ROW, _cells(rows, context.get("csrf_token", "")))


def _cells(rows: list, csrf_token: object) -> Iterator[tuple[object, ...]]:
    mark_url = url_pattern("classroom:mark_submission")
    acknowledge_url = url_pattern("classroom:dirt_acknowledge")
    csrf = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', csrf_token)
    late = format_html(' <span class="badge text-bg-warning">{}</span>', "Late")
    for row in rows:
        submission, mark, dirt = row.submission, row.mark, row.dirt
        label = submission.marking_label
        if row.dirt_waiting:
            response: object = format_html(ACKNOWLEDGE, acknowledge_url.format(submission.pk), csrf, label)
        elif dirt is not None and dirt.acknowledged_at:
            response = "Acknowledged"
        elif dirt is not None and dirt.is_submitted:
            response = "Submitted"
        else:
            response = "—"
        score = "—" if mark is None else _score(mark)
        submitted = submission.submitted_at
        yield (
            mark_url.format(submission.pk),
            label,
            row.category,
            row.label,
            submission.word_count,
            format_date(timezone.localtime(submitted), "j M, H:i") if submitted else "",
            late if submission.is_late else "",
            score,
            response,
        )


def _score(mark: Mark) -> str:
    return f"{mark.total}" if mark.spag is None else f"{mark.total} + {mark.spag} SPaG"


BANK_ITEM = (
    '<li class="border-bottom py-1" data-criterion="{}" data-code="{}" data-pk="{}">\n'
    "<code>#{}</code>{}{}\n"
    '<span class="bank-text">{}</span>\n'
    '<button type="button" class="btn btn-sm btn-link bank-insert" data-text="{}" hidden>Insert'
    '<span class="visually-hidden"> #{}</span></button>\n'
    "</li>"
)
CRITERION_BADGE = ' <span class="badge text-bg-light">{}</span>'
DEPARTMENT_BADGE = SafeString(' <span class="badge text-bg-secondary">Department</span>')
MINE_BADGE = SafeString(' <span class="badge text-bg-info">Mine</span>')


@register.simple_tag
def bank_items(entries: list[CommentBankEntry]) -> SafeString:
    """The marking page's comment bank: an item per entry with its #code, its criterion, whose
    it is (the department's, the teacher's own; starter entries unmarked) and its text, and a
    button the page's script shows to insert it; or that the bank is empty."""
    if not entries:
        return SafeString("<li>Your bank is empty.</li>")
    return format_html_join(
        "\n",
        BANK_ITEM,
        (
            (
                e.criterion_code,
                e.code,
                e.pk,
                e.code,
                format_html(CRITERION_BADGE, e.criterion_code) if e.criterion_code else "",
                DEPARTMENT_BADGE if e.department else MINE_BADGE if not e.is_starter else "",
                e.text,
                e.text,
                e.code,
            )
            for e in entries
        ),
    )

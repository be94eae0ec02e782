"""The teacher's to-do list rendered in Python: up to fifty assignments, each a dozen template
nodes with several links, cost the template engine most of the home page's time. The markup
is what the template wrote (tests/test_home_tags.py holds the two to the same HTML)."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from classroom.home import AssignmentTodo
from classroom.templatetags.assignment_tags import due_in_words, local_date
from classroom.templatetags.url_tags import url_pattern

register = template.Library()


def _item(item: AssignmentTodo, urls: dict[str, str]) -> str:
    pk = int(item.pk)
    title = escape(item.title)
    if item.archived:
        when = "Archived: closed to pupils, here until its marking is done"
    elif item.upcoming:
        when = f"Due {local_date(item.due_at)} ({escape(due_in_words(item.due_at))})"
    else:
        when = f"Was due {local_date(item.due_at, 'j M Y')}"
    archived = f' <span class="badge text-bg-secondary" data-archived="{pk}">Archived</span>' if item.archived else ""
    queue = urls["queue"].format(pk)
    counts = []
    if item.to_mark:
        late = f" ({item.late} late)" if item.late else ""
        counts.append(f'<a href="{queue}?show=to_mark" data-count="to-mark">{item.to_mark} to mark{late}</a>')
    if item.responses:
        responses = f"{item.responses} response{'' if item.responses == 1 else 's'}"
        counts.append(f'<a href="{queue}?show=dirt" data-count="responses">{responses} to read</a>')
    if item.to_release:
        counts.append(f'<a href="{queue}?show=marked" data-count="to-release">{item.to_release} to release</a>')
    if item.missing:
        counts.append(f'<a href="{urls["assignment"].format(pk)}" data-count="missing">{item.missing} missing</a>')
    listed = "".join(f'<li class="list-inline-item">{count}</li>' for count in counts)
    if not item.needs_action:
        listed += '<li class="list-inline-item text-body-secondary">Nothing to do yet</li>'
    buttons = ""
    if item.next_script or item.next_response:
        mark = urls["mark"]
        if item.next_script:
            buttons += (
                f'<a class="btn btn-sm btn-primary" href="{mark.format(int(item.next_script))}">Mark next'
                f'<span class="visually-hidden"> script for {title}</span></a>'
            )
        if item.next_response:
            buttons += (
                f'<a class="btn btn-sm btn-outline-primary" href="{mark.format(int(item.next_response))}#dirt">'
                f'Read next response<span class="visually-hidden"> for {title}</span></a>'
            )
        buttons = f'<div class="d-flex flex-wrap gap-2 mt-2">{buttons}</div>'
    return (
        f'<li class="list-group-item px-0" data-assignment="{pk}">'
        f'<div class="d-flex flex-wrap justify-content-between gap-2"><div>'
        f'<a class="fw-semibold" href="{urls["assignment"].format(pk)}">{title}</a>{archived}'
        f'<span class="small text-body-secondary d-block">{when} · {item.handed_in} of {item.pupils} handed in</span>'
        f'</div><ul class="list-inline mb-0 small todo-counts">{listed}</ul></div>{buttons}</li>'
    )


@register.simple_tag
def todo_items(items: Iterable[AssignmentTodo]) -> SafeString:
    """A class's to-do assignments as the list's items: title and due date, handed in, the
    counts that link to the marking queue, and the next script or response to open."""
    urls = {
        "assignment": escape(url_pattern("classroom:assignment_detail")),
        "queue": escape(url_pattern("classroom:marking_queue")),
        "mark": escape(url_pattern("classroom:mark_submission")),
    }
    return mark_safe("\n".join(_item(item, urls) for item in items))  # noqa: S308 - built from escaped pieces and numbers

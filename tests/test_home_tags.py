"""`{% todo_items %}` writes the teacher's to-do items as the template loop it replaced did."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import timezone

from classroom.home import AssignmentTodo
from classroom.templatetags.home_tags import todo_items

# The template's loop before it became a tag (it was in templates/classroom/home_teacher.html).
LOOP = (Path(__file__).parent / "data" / "todo_items_loop.html").read_text()

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _items() -> list[AssignmentTodo]:
    """Items with every combination the markup branches on."""
    items = []
    flags = itertools.product([False, True], repeat=4)
    for n, (archived, upcoming, late, nexts) in enumerate(flags, start=1):
        counts = [0, 1, 2][n % 3]
        items.append(
            AssignmentTodo(
                pk=n,
                class_id=1,
                title=f'Essay <{n}> & "the crisis"',
                due_at=NOW + timedelta(days=3 if upcoming else -40, hours=n),
                pupils=25,
                handed_in=n,
                to_mark=counts,
                late=counts if late else 0,
                to_release=(counts + 1) % 3,
                missing=n % 2,
                responses=counts,
                next_script=100 + n if nexts else None,
                next_response=200 + n if nexts and n % 2 else None,
                upcoming=upcoming and not archived,
                archived=archived,
            )
        )
    items.append(AssignmentTodo(pk=99, class_id=1, title="Nothing yet", due_at=NOW + timedelta(days=20), upcoming=True))
    return items


@pytest.mark.parametrize("zone", ["Europe/London", "Pacific/Auckland"])
def test_the_tag_writes_what_the_template_loop_wrote(zone, monkeypatch):
    from classroom.templatetags import home_tags

    # due_in_words reads the clock: both sides get the same words for a due date.
    monkeypatch.setattr(home_tags, "due_in_words", lambda due: f"in words {due:%Y-%m-%d %H:%M}")
    monkeypatch.setattr(
        "classroom.templatetags.assignment_tags.due_in_words", lambda due: f"in words {due:%Y-%m-%d %H:%M}"
    )
    items = _items()
    with timezone.override(zone):
        expected = Template(LOOP).render(Context({"todo": {"assignments": items}}))
        ours = todo_items(items)
    assert parse_html(ours) == parse_html(expected)
    assert ours.count('<li class="list-group-item') == len(items)


def test_a_title_is_escaped_once():
    item = AssignmentTodo(pk=1, class_id=1, title="A & B <i>", due_at=NOW, next_script=5)
    html = todo_items([item])
    assert "A &amp; B &lt;i&gt;" in html
    assert "&amp;amp;" not in html

"""`{% pupil_rows %}` writes an assignment page's pupils as the template loop it replaced did."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import timezone

from classroom.models import Assignment, Extension, Submission, User
from classroom.status import State
from classroom.templatetags.assignment_tags import pupil_rows
from classroom.views.assignments import StudentRow

# The template's loop before it became a tag (it was in templates/classroom/assignments/detail.html).
LOOP = (Path(__file__).parent / "data" / "pupil_rows_loop.html").read_text()

WHEN = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)


def _rows() -> list[StudentRow]:
    """Unsaved rows with every combination the markup branches on."""
    rows = []
    states = [None, *State.values]
    for n, (state, revision, extension, submitted) in enumerate(
        itertools.product(states, [0, 3], [False, True], [False, True]), start=1
    ):
        student = User(pk=n, username=f"pupil{n}", first_name="Ann & <Bo>" if n % 2 else "", last_name=f"O'Neil {n}")
        submission = None
        if state is not None:
            submission = Submission(
                pk=1000 + n,
                state=state,
                revision=revision,
                word_count=n * 10,
                updated_at=WHEN - timedelta(hours=n),
                submitted_at=WHEN - timedelta(days=1, minutes=n) if submitted else None,
            )
        ext = Extension(due_at=WHEN + timedelta(days=2, hours=n)) if extension else None
        rows.append(StudentRow(student, submission, ext, state or "not_started", f"Words <{state}>"))
    return rows


@pytest.mark.parametrize("names_hidden", [False, True])
@pytest.mark.parametrize("zone", ["Europe/London", "Pacific/Auckland"])
def test_the_tag_writes_what_the_template_loop_wrote(names_hidden, zone):
    assignment = Assignment(anonymous_marking=names_hidden, names_revealed_at=None)
    rows = _rows()
    with timezone.override(zone):
        expected = Template(LOOP).render(Context({"rows": rows, "assignment": assignment}))
        ours = pupil_rows(rows, assignment)
    assert parse_html(ours) == parse_html(expected)
    assert ours.count("<tr>") == len(rows)


def test_no_pupils_says_so():
    assert parse_html(pupil_rows([], Assignment())) == parse_html(
        '<tr><td colspan="6">No students in this class yet.</td></tr>'
    )

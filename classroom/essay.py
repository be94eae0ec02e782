"""The essay as HTML, the same on every page that shows it (marking, feedback, the teacher's
submission page, the student's read-only copy).

Paragraphs and line breaks are kept and every character is escaped. Anchored comments get
numbered highlights and (for markers) indicative-content matches are marked. Each run of
text sits in a <span class="seg" data-start="N"> giving its offset in the stored text (in
characters, i.e. Unicode code points), so the browser can turn a selection back into
offsets (static/js/marking.js).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from classroom.models import Annotation, Submission

_LINE = re.compile(r"[^\r\n]+")


@dataclass
class _Piece:
    start: int
    end: int
    notes: tuple[int, ...]
    hit: bool
    line: int
    new_paragraph: bool


def render_essay(text: str, anchors: list[tuple[int, int, int]], hits: list[tuple[int, int]]) -> SafeString:
    """HTML for the essay. `anchors` are (number, start, end) of comments; `hits` (start, end)."""
    lines = list(_LINE.finditer(text))
    if not lines:
        return mark_safe('<p class="text-body-secondary">The essay is empty.</p>')
    cuts = {start for _, start, _ in anchors} | {end for _, _, end in anchors}
    cuts |= {start for start, _ in hits} | {end for _, end in hits}
    pieces: list[_Piece] = []
    previous_end = None
    for index, line in enumerate(lines):
        gap = text[previous_end : line.start()] if previous_end is not None else ""
        new_paragraph = previous_end is None or gap.count("\n") >= 2 or (gap.count("\n") == 0 and gap.count("\r") >= 2)
        points = sorted({line.start(), line.end()} | {c for c in cuts if line.start() < c < line.end()})
        for position, (a, b) in enumerate(zip(points, points[1:], strict=False)):
            notes = tuple(n for n, s, e in anchors if s <= a and b <= e)
            hit = any(s <= a and b <= e for s, e in hits)
            pieces.append(_Piece(a, b, notes, hit, index, new_paragraph and position == 0))
        previous_end = line.end()
    last_piece = {}
    for position, piece in enumerate(pieces):
        for note in piece.notes:
            last_piece[note] = position
    out: list[str] = []
    opened: set[int] = set()
    for position, piece in enumerate(pieces):
        if piece.new_paragraph:
            out.append("</p><p>" if out else "<p>")
        elif position and pieces[position - 1].line != piece.line:
            out.append("<br>")
        for note in piece.notes:
            if note not in opened:
                opened.add(note)
                out.append(f'<span class="visually-hidden">Start of comment {note}: </span>')
        html = f'<span class="seg" data-start="{piece.start}">{escape(text[piece.start : piece.end])}</span>'
        if piece.hit:
            html = f'<span class="indicative-hit">{html}</span>'
        if piece.notes:
            numbers = " ".join(str(n) for n in piece.notes)
            html = f'<mark class="annotation-mark" data-notes="{numbers}">{html}</mark>'
        out.append(html)
        for note in piece.notes:
            if last_piece[note] == position:
                out.append(
                    f'<a class="note-ref" href="#note-{note}" id="ref-{note}" aria-label="Comment {note}">'
                    f"<sup>{note}</sup></a>"
                )
    out.append("</p>")
    return mark_safe("".join(out))  # noqa: S308 - every piece of user text above is escaped


@dataclass
class Note:
    annotation: Annotation
    anchored: bool


def essay_with_notes(
    submission: Submission, annotations: list[Annotation], hits: Iterable[tuple[int, int]] = ()
) -> tuple[SafeString, list[Note]]:
    """The essay HTML and the numbered notes; comments whose anchor no longer fits are general."""
    notes = [Note(a, a.anchored_in(submission.text)) for a in annotations]
    anchors = [
        (n.annotation.number, n.annotation.start, n.annotation.end)
        for n in notes
        # An anchored note has both ends; the None checks say so to the type checker.
        if n.anchored and n.annotation.start is not None and n.annotation.end is not None
    ]
    return render_essay(submission.text, anchors, list(hits)), notes

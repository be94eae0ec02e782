"""Marking: the queue, the marking page, anchored comments, the comment bank, release, and
the student's feedback page with its DIRT response.

Access is checked on each view's first line through classroom.permissions; every change of
state goes through a model method (Submission.record_mark, Mark.complete / release /
withdraw_release / add_annotation, DirtResponse.save_text / submit / acknowledge).
Under anonymous marking, marking pages name students only by `Submission.marking_label`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from classroom import permissions
from classroom.comment_bank import entries_by_code, expand_codes
from classroom.forms_marking import NO_LEVEL, BankEntryForm, CommentEditForm, CommentForm, DirtForm, MarkForm
from classroom.indicative import match_points, merge_spans
from classroom.models import (
    Annotation,
    Assignment,
    CommentBankEntry,
    DirtResponse,
    Mark,
    MarkError,
    Submission,
    SubmissionError,
)
from crisis.models import Criterion, Level

# ----------------------------------------------------------------------------------------
# The essay as HTML: paragraphs and line breaks kept, every character escaped, numbered
# highlights for anchored comments and (for markers) indicative-content matches. Each run
# of text sits in a <span class="seg" data-start="N"> giving its offset in the stored
# text (in characters, i.e. Unicode code points), so the browser can turn a selection back
# into offsets (static/js/marking.js).

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


def essay_with_notes(submission: Submission, annotations: list[Annotation], hits=()) -> tuple[SafeString, list[Note]]:
    """The essay HTML and the numbered notes; comments whose anchor no longer fits are general."""
    notes = [Note(a, a.anchored_in(submission.text)) for a in annotations]
    anchors = [(n.annotation.number, n.annotation.start, n.annotation.end) for n in notes if n.anchored]
    return render_essay(submission.text, anchors, list(hits)), notes


# ----------------------------------------------------------------------------------------
# The queue


def marking_order(assignment: Assignment):
    """Candidate number while names are hidden (so the order gives nothing away), else name."""
    if assignment.names_hidden:
        return ["candidate_number", "pk"]
    return ["student__last_name", "student__first_name", "student__username", "pk"]


def category(submission: Submission) -> str:
    mark = getattr(submission, "mark", None)
    if mark is None:
        return "to_mark"
    if mark.is_released or (mark.is_complete and submission.assignment.feedback_date_passed):
        return "released"
    if mark.is_complete:
        return "marked"
    return "in_progress"


CATEGORIES = {
    "to_mark": "To mark",
    "in_progress": "In progress",
    "marked": "Marked, not released",
    "released": "Released",
}


def _markable(assignment: Assignment):
    return assignment.submissions.filter(state__in=Submission.MARKABLE_STATES)


@dataclass
class QueueRow:
    submission: Submission
    mark: Mark | None
    dirt: DirtResponse | None
    category: str

    @property
    def label(self) -> str:
        return CATEGORIES[self.category]

    @property
    def dirt_waiting(self) -> bool:
        return self.dirt is not None and self.dirt.is_submitted and self.dirt.acknowledged_at is None


@login_required
def marking_queue(request: HttpRequest, pk: int) -> HttpResponse:
    """The assignment's submitted essays by marking state, with counts and a filter."""
    assignment = permissions.assignment_for_teacher(request.user, pk)
    # Queries: session, user, assignment, submissions with their marks and DIRT responses.
    submissions = list(
        _markable(assignment)
        .select_related("student", "mark", "mark__dirt")
        .defer("text")
        .order_by(*marking_order(assignment))
    )
    for submission in submissions:
        submission.assignment = assignment
    assignment.give_candidate_numbers(submissions)
    if assignment.names_hidden:
        submissions.sort(key=lambda s: (s.candidate_number, s.pk))
    rows = []
    for submission in submissions:
        mark = getattr(submission, "mark", None)
        dirt = getattr(mark, "dirt", None) if mark is not None else None
        rows.append(QueueRow(submission, mark, dirt, category(submission)))
    counts = {key: sum(1 for row in rows if row.category == key) for key in CATEGORIES}
    counts["dirt"] = sum(1 for row in rows if row.dirt_waiting)
    show = request.GET.get("show", "all")
    if show in CATEGORIES:
        shown = [row for row in rows if row.category == show]
    elif show == "dirt":
        shown = [row for row in rows if row.dirt_waiting]
    else:
        show, shown = "all", rows
    filters = [("all", "All", len(rows))] + [(key, label, counts[key]) for key, label in CATEGORIES.items()]
    filters.append(("dirt", "Responses to acknowledge", counts["dirt"]))
    return render(
        request,
        "classroom/marking/queue.html",
        {
            "assignment": assignment,
            "rows": shown,
            "counts": counts,
            "filters": filters,
            "show": show,
            "categories": CATEGORIES,
            "nav": "classes",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def reveal_names(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then show students' names in marking for this assignment (cannot be undone)."""
    assignment = permissions.assignment_for_teacher(request.user, pk)
    if request.method == "POST":
        if request.POST.get("confirm") == "yes":
            assignment.reveal_names(by=request.user)
            messages.success(request, "Names are now shown in marking for this assignment.")
        else:
            messages.error(request, "Tick the box to confirm that you want to reveal the names.")
            return redirect("classroom:reveal_names", assignment.pk)
        return redirect("classroom:marking_queue", assignment.pk)
    return render(request, "classroom/marking/reveal_confirm.html", {"assignment": assignment, "nav": "classes"})


@login_required
@require_POST
def release_all(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = permissions.assignment_for_teacher(request.user, pk)
    count = Mark.release_all_complete(assignment, by=request.user)
    if count:
        messages.success(request, f"Released {count} mark{'s' if count != 1 else ''} to students.")
    else:
        messages.info(request, "There were no complete marks waiting to be released.")
    return redirect("classroom:marking_queue", assignment.pk)


# ----------------------------------------------------------------------------------------
# The marking page


def _criteria(submission: Submission) -> list[Criterion]:
    scheme = submission.assignment.prompt.mark_scheme
    return list(
        Criterion.objects.filter(scheme=scheme)
        .prefetch_related(Prefetch("levels", queryset=Level.objects.order_by("number")))
        .order_by("order", "pk")
    )


def _existing_mark(submission: Submission) -> Mark | None:
    return (
        Mark.objects.filter(submission=submission)
        .select_related("dirt")
        .prefetch_related(
            "criterion_marks",
            Prefetch("annotations", queryset=Annotation.objects.select_related("bank_entry").order_by("number")),
        )
        .first()
    )


def _initial(mark: Mark | None) -> dict:
    if mark is None:
        return {"base_revision": 0}
    initial = {"www": mark.www, "ebi": mark.ebi, "improvement_task": mark.improvement_task}
    initial["base_revision"] = mark.revision
    for cm in mark.criterion_marks.all():
        initial[f"level-{cm.criterion_id}"] = str(cm.level_id) if cm.level_id else NO_LEVEL
        initial[f"marks-{cm.criterion_id}"] = cm.marks
    return initial


def _neighbours(submission: Submission) -> tuple[Submission | None, Submission | None, int, int]:
    """Previous and next submission in queue order, this one's position and the count (one query)."""
    assignment = submission.assignment
    siblings = list(
        _markable(assignment)
        .select_related("student")
        .only(
            "pk",
            "candidate_number",
            "assignment_id",
            "student__first_name",
            "student__last_name",
            "student__username",
        )
        .order_by(*marking_order(assignment))
    )
    for sibling in siblings:
        sibling.assignment = assignment
    if assignment.names_hidden and any(s.candidate_number is None for s in siblings):
        assignment.give_candidate_numbers(siblings)
        siblings.sort(key=lambda s: (s.candidate_number, s.pk))
    ids = [s.pk for s in siblings]
    if submission.pk not in ids:
        return None, None, 0, len(ids)
    index = ids.index(submission.pk)
    previous = siblings[index - 1] if index > 0 else None
    following = siblings[index + 1] if index + 1 < len(siblings) else None
    return previous, following, index + 1, len(ids)


@dataclass
class CriterionRow:
    criterion: Criterion
    levels: list[Level]
    level_field: object
    marks_field: object
    chosen_level: str
    chosen_marks: object


def _marking_context(request: HttpRequest, submission: Submission, form: MarkForm, criteria, mark) -> dict:
    assignment = submission.assignment
    prompt = assignment.prompt
    sources = [link.source for link in prompt.source_links.select_related("source").order_by("order", "pk")]
    points = list(prompt.indicative_points.order_by("side", "order", "pk"))
    matches = match_points(submission.text, points)
    hit_spans = merge_spans([span for match in matches for span in match.spans])
    annotations = list(mark.annotations.all()) if mark else []
    essay_html, notes = essay_with_notes(submission, annotations, hit_spans)
    sides = []
    for value, label in type(points[0]).Side.choices if points else []:
        sides.append((label, [m for m in matches if m.side == value]))
    previous, following, position, count = _neighbours(submission)
    bank = list(permissions.bank_entries_for_teacher(request.user).filter(Q(prompt__isnull=True) | Q(prompt=prompt)))
    rows = []
    for criterion in criteria:
        level_field = form[f"level-{criterion.pk}"]
        rows.append(
            CriterionRow(
                criterion,
                list(criterion.levels.all()),
                level_field,
                form[f"marks-{criterion.pk}"],
                str(level_field.value() or ""),
                form[f"marks-{criterion.pk}"].value(),
            )
        )
    content_max = sum(c.max_marks for c in criteria if not c.is_spag)
    spag_max = sum(c.max_marks for c in criteria if c.is_spag)
    return {
        "submission": submission,
        "assignment": assignment,
        "prompt": prompt,
        "sources": sources,
        "form": form,
        "criterion_rows": rows,
        "mark": mark,
        "dirt": getattr(mark, "dirt", None) if mark else None,
        "essay_html": essay_html,
        "essay_text": submission.text,
        "notes": notes,
        "indicative_sides": sides,
        "has_indicative": bool(points),
        "previous": previous,
        "following": following,
        "position": position,
        "count": count,
        "bank": bank,
        "bank_criteria": CommentBankEntry.CRITERION_CODES,
        "content_max": content_max,
        "spag_max": spag_max,
        "comment_form": CommentForm(),
        "bank_form": BankEntryForm(owner=request.user, prefix="bank"),
        "editable": not (mark and mark.is_released),
        "nav": "classes",
    }


def _expand_feedback(request: HttpRequest, data: dict) -> dict:
    lookup = entries_by_code(permissions.bank_entries_for_teacher(request.user))
    return {name: expand_codes(data[name], lookup)[0] for name in ("www", "ebi", "improvement_task")}


@login_required
@require_http_methods(["GET", "POST"])
def mark_submission(request: HttpRequest, pk: int) -> HttpResponse:
    """The marking page. Without JavaScript every button is an ordinary POST that saves first."""
    submission = permissions.submission_for_marker(request.user, pk)
    assignment = submission.assignment
    if assignment.names_hidden and submission.candidate_number is None:
        assignment.give_candidate_numbers([submission])  # the others get theirs in _neighbours
    criteria = _criteria(submission)
    mark = _existing_mark(submission)
    status = 200
    if request.method == "POST":
        form = MarkForm(request.POST, criteria=criteria)
        action = request.POST.get("action", "save")
        if form.is_valid():
            try:
                mark = submission.record_mark(
                    request.user,
                    form.cleaned_data["scores"],
                    base_revision=form.cleaned_data["base_revision"],
                    **_expand_feedback(request, form.cleaned_data),
                )
                if action == "complete":
                    mark.complete(by=request.user)
            except Mark.Conflict:
                messages.error(
                    request,
                    "Not saved: this mark was changed in another tab or by another marker. "
                    "Your changes are still in the form below; reload to see the other version.",
                )
                status = 409
            except MarkError as error:
                messages.error(request, str(error))
                status = 400
            else:
                messages.success(request, "Mark complete." if action == "complete" else "Mark saved.")
                previous, following, _, _ = _neighbours(submission)
                target = {"next": following, "previous": previous}.get(action)
                if target is not None:
                    return redirect("classroom:mark_submission", target.pk)
                return redirect("classroom:mark_submission", submission.pk)
        else:
            messages.error(request, "The mark was not saved: " + " ".join(_form_errors(form)))
            status = 400
        mark = _existing_mark(submission)
    else:
        if not submission.is_markable:
            messages.info(request, "This essay has not been submitted, so it cannot be marked yet.")
        form = MarkForm(initial=_initial(mark), criteria=criteria)
    context = _marking_context(request, submission, form, criteria, mark)
    return render(request, "classroom/marking/mark.html", context, status=status)


def _form_errors(form) -> list[str]:
    return [str(error) for errors in form.errors.values() for error in errors]


@login_required
@require_POST
def mark_autosave(request: HttpRequest, pk: int) -> JsonResponse:
    """The marking page's autosave: 200 with the new revision and total, 409 on a conflict."""
    submission = permissions.submission_for_marker(request.user, pk)
    form = MarkForm(request.POST, criteria=_criteria(submission))
    if not form.is_valid():
        return JsonResponse({"error": " ".join(_form_errors(form))}, status=400)
    try:
        mark = submission.record_mark(
            request.user,
            form.cleaned_data["scores"],
            base_revision=form.cleaned_data["base_revision"],
            **_expand_feedback(request, form.cleaned_data),
        )
    except Mark.Conflict as error:
        return JsonResponse({"revision": error.revision, "error": "changed elsewhere"}, status=409)
    except MarkError as error:
        return JsonResponse({"error": str(error)}, status=400)
    saved = timezone.localtime(mark.updated_at)
    return JsonResponse(
        {"revision": mark.revision, "total": mark.total, "spag": mark.spag, "saved_at_display": saved.strftime("%H:%M")}
    )


def _back_to_marking(submission_pk: int, anchor: str = "") -> HttpResponse:
    return redirect(reverse("classroom:mark_submission", args=[submission_pk]) + anchor)


@login_required
@require_POST
def annotation_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a comment: anchored to the selected text (JS fills start/end/quote) or general."""
    submission = permissions.submission_for_marker(request.user, pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The comment was not added: " + " ".join(_form_errors(form)))
        return _back_to_marking(submission.pk, "#comments")
    data = form.cleaned_data
    comment, entry = expand_codes(data["comment"], permissions.bank_entries_for_teacher(request.user))
    if request.POST.get("bank_entry", "").isdigit():
        entry = permissions.bank_entries_for_teacher(request.user).filter(pk=request.POST["bank_entry"]).first()
    try:
        mark = Mark.for_submission(submission, request.user)
        annotation = mark.add_annotation(
            request.user, comment, start=data["start"], end=data["end"], quote=data["quote"] or "", bank_entry=entry
        )
    except MarkError as error:
        messages.error(request, str(error))
        return _back_to_marking(submission.pk, "#comments")
    if data["start"] is not None and annotation.start is None:
        messages.warning(
            request,
            f"Comment {annotation.number} added as a general comment: the selection did not match the essay.",
        )
    else:
        messages.success(request, f"Comment {annotation.number} added.")
    return _back_to_marking(submission.pk, f"#note-{annotation.number}")


@login_required
@require_POST
def annotation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    annotation = permissions.annotation_for_marker(request.user, pk)
    form = CommentEditForm(request.POST)
    submission_pk = annotation.mark.submission_id
    if form.is_valid():
        comment, _ = expand_codes(form.cleaned_data["comment"], permissions.bank_entries_for_teacher(request.user))
        try:
            annotation.edit(comment)
        except MarkError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Comment {annotation.number} changed.")
    else:
        messages.error(request, "The comment was not changed: " + " ".join(_form_errors(form)))
    return _back_to_marking(submission_pk, f"#note-{annotation.number}")


@login_required
@require_POST
def annotation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    annotation = permissions.annotation_for_marker(request.user, pk)
    submission_pk, number = annotation.mark.submission_id, annotation.number
    try:
        annotation.remove()
    except MarkError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Comment {number} deleted.")
    return _back_to_marking(submission_pk, "#comments")


@login_required
@require_POST
def mark_release(request: HttpRequest, pk: int) -> HttpResponse:
    submission = permissions.submission_for_marker(request.user, pk)
    mark = Mark.objects.filter(submission=submission).first()
    try:
        if mark is None:
            raise MarkError("Complete the mark before releasing it.")
        mark.release(by=request.user)
    except MarkError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Feedback released to {submission.marking_label}.")
    return _back_to_marking(submission.pk)


@login_required
@require_POST
def mark_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    submission = permissions.submission_for_marker(request.user, pk)
    mark = Mark.objects.filter(submission=submission).first()
    try:
        if mark is None:
            raise MarkError("This mark has not been released.")
        mark.withdraw_release()
    except MarkError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The release has been withdrawn: the student can no longer see this feedback.")
    return _back_to_marking(submission.pk)


@login_required
@require_http_methods(["GET", "POST"])
def mark_return(request: HttpRequest, pk: int) -> HttpResponse:
    """Return the essay for redraft from the marking page (confirmation first)."""
    submission = permissions.submission_for_marker(request.user, pk)
    if request.method == "POST":
        try:
            submission.return_for_redraft(by=request.user)
        except SubmissionError as error:
            messages.error(request, str(error))
            return _back_to_marking(submission.pk)
        messages.success(request, f"The essay of {submission.marking_label} has been returned for redraft.")
        return redirect("classroom:marking_queue", submission.assignment_id)
    return render(
        request,
        "classroom/marking/return_confirm.html",
        {"submission": submission, "assignment": submission.assignment, "nav": "classes"},
    )


@login_required
@require_POST
def dirt_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    submission = permissions.submission_for_marker(request.user, pk)
    response = DirtResponse.objects.filter(mark__submission=submission).first()
    try:
        if response is None:
            raise MarkError("The student has not submitted a response yet.")
        response.acknowledge(by=request.user)
    except MarkError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Response acknowledged.")
    if request.POST.get("from") == "queue":
        return redirect("classroom:marking_queue", submission.assignment_id)
    return _back_to_marking(submission.pk, "#dirt")


# ----------------------------------------------------------------------------------------
# The comment bank


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


@login_required
@require_http_methods(["GET", "POST"])
def comment_bank(request: HttpRequest) -> HttpResponse:
    """The teacher's own comments (add here or from the marking page) and the starter bank."""
    entries = permissions.bank_entries_for_teacher(request.user).select_related("prompt")
    form = BankEntryForm(request.POST or None, owner=request.user, prefix="bank")
    if request.method == "POST":
        if form.is_valid():
            entry = form.save()
            messages.success(request, f"#{entry.code} saved to your comment bank.")
            return redirect(_safe_next(request, reverse("classroom:comment_bank")))
        if request.POST.get("next"):
            messages.error(request, "Not saved to your bank: " + " ".join(_form_errors(form)))
            return redirect(_safe_next(request, reverse("classroom:comment_bank")))
    criterion = request.GET.get("criterion", "")
    if criterion in CommentBankEntry.CRITERION_CODES:
        entries = entries.filter(criterion_code=criterion)
    else:
        criterion = ""
    entries = list(entries)
    return render(
        request,
        "classroom/marking/bank.html",
        {
            "own": [e for e in entries if not e.is_starter],
            "starter": [e for e in entries if e.is_starter],
            "form": form,
            "criterion": criterion,
            "criteria": CommentBankEntry.CRITERION_CODES,
            "nav": "marking",
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def bank_entry_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = permissions.bank_entry_for_owner(request.user, pk)
    form = BankEntryForm(request.POST or None, instance=entry, owner=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"#{entry.code} updated.")
        return redirect("classroom:comment_bank")
    return render(request, "classroom/marking/bank_edit.html", {"form": form, "entry": entry, "nav": "marking"})


@login_required
@require_POST
def bank_entry_delete(request: HttpRequest, pk: int) -> HttpResponse:
    entry = permissions.bank_entry_for_owner(request.user, pk)
    code = entry.code
    entry.delete()
    messages.success(request, f"#{code} deleted from your comment bank.")
    return redirect("classroom:comment_bank")


# ----------------------------------------------------------------------------------------
# The student's feedback and DIRT response


def _feedback_context(mark: Mark, form: DirtForm | None = None) -> dict:
    submission = mark.submission
    criteria = _criteria(submission)
    by_criterion = {cm.criterion_id: cm for cm in mark.criterion_marks.select_related("level")}
    annotations = list(mark.annotations.order_by("number"))
    essay_html, notes = essay_with_notes(submission, annotations)
    results = [(criterion, by_criterion.get(criterion.pk)) for criterion in criteria]
    dirt = DirtResponse.for_mark(mark)
    return {
        "mark": mark,
        "submission": submission,
        "assignment": submission.assignment,
        "results": results,
        "essay_html": essay_html,
        "notes": notes,
        "content_max": sum(c.max_marks for c in criteria if not c.is_spag),
        "spag_max": sum(c.max_marks for c in criteria if c.is_spag),
        "dirt": dirt,
        "dirt_form": form or DirtForm(initial={"text": dirt.text, "base_revision": dirt.revision}),
        "nav": "work",
    }


@login_required
def feedback(request: HttpRequest, pk: int) -> HttpResponse:
    """The student's released feedback on their essay for assignment `pk`."""
    mark = permissions.feedback_for_student(request.user, pk)
    mark.record_seen()
    return render(request, "classroom/feedback/feedback.html", _feedback_context(mark))


@login_required
@require_POST
def dirt_save(request: HttpRequest, pk: int) -> HttpResponse:
    """Save (and with "submit", hand in) the DIRT response without JavaScript."""
    mark = permissions.feedback_for_student(request.user, pk)
    response = DirtResponse.for_mark(mark)
    form = DirtForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            response.save_text(form.cleaned_data["text"], form.cleaned_data["base_revision"])
            if request.POST.get("action") == "submit":
                response.submit()
                messages.success(request, "Your response has been sent to your teacher.")
            else:
                messages.success(request, "Your response has been saved.")
            return redirect(reverse("classroom:feedback", args=[pk]) + "#dirt")
        except DirtResponse.Conflict as error:
            if error.submitted:
                messages.error(request, "Your response has already been submitted, so it cannot be changed.")
            else:
                messages.error(request, "Not saved: your response was changed in another tab. Your text is below.")
            form = DirtForm(initial={"text": form.cleaned_data["text"], "base_revision": error.revision})
            status = 409
        except MarkError as error:
            messages.error(request, str(error))
    mark.refresh_from_db()
    return render(request, "classroom/feedback/feedback.html", _feedback_context(mark, form), status=status)


@login_required
@require_POST
def dirt_autosave(request: HttpRequest, pk: int) -> JsonResponse:
    mark = permissions.feedback_for_student(request.user, pk)
    response = DirtResponse.for_mark(mark)
    form = DirtForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"error": " ".join(_form_errors(form))}, status=400)
    try:
        response.save_text(form.cleaned_data["text"], form.cleaned_data["base_revision"])
    except DirtResponse.Conflict as error:
        return JsonResponse(
            {"revision": error.revision, "text": error.text, "submitted": error.submitted, "error": "conflict"},
            status=409,
        )
    except MarkError as error:
        return JsonResponse({"error": str(error)}, status=400)
    saved = timezone.localtime(response.updated_at)
    return JsonResponse({"revision": response.revision, "saved_at_display": saved.strftime("%H:%M")})

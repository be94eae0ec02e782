"""Marking: the queue, the marking page, anchored comments, the comment bank, release, and
the student's feedback page with its DIRT response.

Access is checked on each view's first line through classroom.permissions; every change of
state goes through a model method (Submission.record_mark, Mark.complete / release /
withdraw_release / add_annotation, DirtResponse.save_text / submit / acknowledge).
Under anonymous marking, marking pages name students only by `Submission.marking_label`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from classroom import autosave as autosave_json
from classroom import lookups, permissions, privacy, writing_process
from classroom.comment_bank import entries_by_code, expand_codes, usable_entries
from classroom.compiled import CompiledQuery
from classroom.department import set_bank_curators, standardisation_due
from classroom.essay import essay_with_notes
from classroom.forms import (
    NO_LEVEL,
    STRAND_PREFIX,
    BankCuratorsForm,
    BankEntryForm,
    CommentEditForm,
    CommentForm,
    DirtForm,
    MarkForm,
    whole_number,
)
from classroom.indicative import match_points, merge_spans
from classroom.models import (
    MAX_COMMENT_CHARS,
    MAX_FEEDBACK_CHARS,
    Annotation,
    Assignment,
    CommentBankEntry,
    DirtError,
    DirtResponse,
    Mark,
    MarkError,
    StrandTick,
    Submission,
    VersionConflict,
)
from classroom.status import MARKING_FILTERS, State, Status, marking_filter
from classroom.types import AuthedRequest
from crisis.models import Criterion, EssayPrompt, Level, MarkScheme

# ----------------------------------------------------------------------------------------
# The queue


def marking_order(assignment: Assignment) -> list[str]:
    """The queue's order for this assignment (Submission.marking_order, the one definition)."""
    return Submission.marking_order(by_number=assignment.names_hidden)


CATEGORIES = MARKING_FILTERS


def _markable(assignment: int) -> QuerySet[Submission]:
    """The essays of an assignment that the marking queue lists."""
    return Submission.objects.filter(assignment_id=assignment, state__in=Submission.MARKABLE_STATES)


# What the queue shows of each essay, its writer, mark and response (the texts stay behind).
QUEUE_FIELDS = (
    *("assignment_id", "student_id", "state", "word_count", "submitted_at", "is_late", "candidate_number"),
    *(WRITER_FIELDS := ("student__first_name", "student__last_name", "student__username")),
    *("mark__submission_id", "mark__total", "mark__spag"),
    *("mark__dirt__mark_id", "mark__dirt__submitted_at", "mark__dirt__acknowledged_at"),
)


def _queue_query(assignment: int, by_number: bool) -> QuerySet[Submission]:
    """The marking queue's essays in its order (Submission.marking_order: `by_number` while
    names are hidden), with what the queue shows of each."""
    return (
        _markable(assignment)
        .select_related("student", "mark", "mark__dirt")
        .only(*QUEUE_FIELDS)
        .order_by(*Submission.marking_order(by_number=by_number))
    )


_queue_by_number = CompiledQuery(lambda assignment: _queue_query(assignment, by_number=True))
_queue_by_name = CompiledQuery(lambda assignment: _queue_query(assignment, by_number=False))


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


def _standardise_first(request: AuthedRequest, prompt: EssayPrompt) -> HttpResponse | None:
    """Where a required standardisation on the question is due for the marker, the redirect to
    its scripts, saying why; None when they may mark (heads always may). The one gate in front
    of the marking queue and the marking page (classroom.department.standardisation_due)."""
    due = standardisation_due(request.user, prompt)
    if due is None:
        return None
    messages.warning(
        request,
        f"Before you mark work on this question, mark the standardisation scripts of “{due.title}”. "
        "Then you can open your marking again.",
    )
    return redirect("classroom:standardisation_take", due.pk)


@login_required
def marking_queue(request: AuthedRequest, pk: int) -> HttpResponse:
    """The assignment's submitted essays by marking state, with counts and a filter."""
    assignment = permissions.assignment_for_teacher(request.user, pk)
    if (held := _standardise_first(request, assignment.prompt)) is not None:
        return held
    # Queries: session, user, assignment, the standardisation check (not for heads),
    # submissions with their marks and DIRT responses (compiled once: _queue_query).
    queue = _queue_by_number if assignment.names_hidden else _queue_by_name
    submissions = queue.objects(assignment=assignment.pk)
    date_passed = assignment.feedback_date_passed
    rows = []
    for submission in submissions:
        submission.assignment = assignment
        mark = getattr(submission, "mark", None)
        dirt = getattr(mark, "dirt", None) if mark is not None else None
        theirs = Status.of(submission.state, submission.is_late, date_passed=date_passed)
        rows.append(QueueRow(submission, mark, dirt, marking_filter(theirs, mark is not None)))
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
def reveal_names(request: AuthedRequest, pk: int) -> HttpResponse:
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
def release_all(request: AuthedRequest, pk: int) -> HttpResponse:
    assignment = permissions.assignment_for_teacher(request.user, pk)
    count = Mark.release_all_complete(assignment, by=request.user)
    if count:
        messages.success(request, f"Released {count} mark{'s' if count != 1 else ''} to students.")
    else:
        messages.info(request, "There were no complete marks waiting to be released.")
    return redirect("classroom:marking_queue", assignment.pk)


# ----------------------------------------------------------------------------------------
# The marking page


def scheme_criteria(scheme: MarkScheme) -> list[Criterion]:
    """A scheme's criteria in order, each with its levels in order: what a level-and-mark form
    (CriterionLevelsMixin) and classroom/marking/_criteria.html are built from."""
    return list(
        Criterion.objects.filter(scheme=scheme)
        .prefetch_related(Prefetch("levels", queryset=Level.objects.order_by("number")))
        .order_by("order", "pk")
    )


def criterion_initial(scores: Iterable[tuple[int, int | None, int]]) -> dict[str, object]:
    """A level-and-mark form's starting values from (criterion id, level id or None, marks)."""
    initial: dict[str, object] = {}
    for criterion_id, level_id, marks in scores:
        initial[f"level-{criterion_id}"] = str(level_id) if level_id else NO_LEVEL
        initial[f"marks-{criterion_id}"] = marks
    return initial


def _criteria(submission: Submission) -> list[Criterion]:
    return scheme_criteria(submission.assignment.prompt.mark_scheme)


def _existing_mark(submission: Submission) -> Mark | None:
    return (
        Mark.objects.filter(submission=submission)
        .select_related("dirt")
        .prefetch_related(
            "criterion_marks",
            "strand_ticks",
            Prefetch("annotations", queryset=Annotation.objects.select_related("bank_entry").order_by("number")),
        )
        .first()
    )


def _initial(mark: Mark | None) -> dict:
    if mark is None:
        return {"base_revision": 0}
    initial: dict[str, object] = {"www": mark.www, "ebi": mark.ebi, "improvement_task": mark.improvement_task}
    initial["base_revision"] = mark.revision
    initial.update(criterion_initial((cm.criterion_id, cm.level_id, cm.marks) for cm in mark.criterion_marks.all()))
    for tick in mark.strand_ticks.all():
        initial[f"{STRAND_PREFIX}{tick.strand}"] = str(tick.rating)
    return initial


def _neighbours(submission: Submission) -> tuple[Submission | None, Submission | None, int, int]:
    """Previous and next submission in queue order, this one's position and the count (one query).

    "Next" is the next script that still needs marking (handed in, mark not complete), after
    this one in queue order and then from the start; failing that, simply the next one."""
    assignment = submission.assignment
    siblings = (_siblings_by_number if assignment.names_hidden else _siblings_by_name).objects(assignment=assignment.pk)
    for sibling in siblings:
        sibling.assignment = assignment
    ids = [s.pk for s in siblings]
    if submission.pk not in ids:
        return None, None, 0, len(ids)
    index = ids.index(submission.pk)
    previous = siblings[index - 1] if index > 0 else None
    later = siblings[index + 1 :] + siblings[:index]
    following = next((s for s in later if s.state == State.SUBMITTED), None)
    if following is None and index + 1 < len(siblings):
        following = siblings[index + 1]
    return previous, following, index + 1, len(ids)


def _siblings_query(assignment: int, by_number: bool) -> QuerySet[Submission]:
    """The essays of the marking queue (_queue_query) with what "previous" and "next" show."""
    return (
        _markable(assignment)
        .select_related("student")
        .only("pk", "state", "candidate_number", "assignment_id", *WRITER_FIELDS)
        .order_by(*Submission.marking_order(by_number=by_number))
    )


_siblings_by_number = CompiledQuery(lambda assignment: _siblings_query(assignment, by_number=True))
_siblings_by_name = CompiledQuery(lambda assignment: _siblings_query(assignment, by_number=False))


@dataclass
class CriterionRow:
    criterion: Criterion
    levels: list[Level]
    level_field: object
    marks_field: object
    chosen_level: str
    chosen_marks: object

    @property
    def offers_no_level(self) -> bool:
        """The "no rewardable material" choice: for a criterion without a level 0, or for a
        mark saved that way before its scheme had one (so it still shows and saves)."""
        return not any(level.number == 0 for level in self.levels) or self.chosen_level == NO_LEVEL


def criterion_rows(form, criteria) -> list[CriterionRow]:
    """The rows classroom/marking/_criteria.html draws, for any form with CriterionLevelsMixin."""
    rows = []
    for criterion in criteria:
        level_field = form[f"level-{criterion.pk}"]
        marks_field = form[f"marks-{criterion.pk}"]
        rows.append(
            CriterionRow(
                criterion,
                list(criterion.levels.all()),
                level_field,
                marks_field,
                str(level_field.value() or ""),
                marks_field.value(),
            )
        )
    return rows


@dataclass
class StrandRow:
    """One formative skill strand on the marking page: its radio group and what is chosen."""

    strand: str
    label: str
    field: object
    chosen: str


def _hit_spans(matches) -> list[tuple[int, int]]:
    """Where the essay is highlighted once the marker asks for indicative-content hints:
    each key term matched as a whole phrase (classroom/indicative.py)."""
    return merge_spans([span for match in matches for span in match.spans])


def _marking_context(request: AuthedRequest, submission: Submission, form: MarkForm, criteria, mark) -> dict:
    assignment = submission.assignment
    prompt = assignment.prompt
    sources = lookups.prompt_sources(prompt.pk)
    points = list(prompt.indicative_points.order_by("side", "order", "pk"))
    matches = match_points(submission.text, points)
    hit_spans = _hit_spans(matches)
    annotations = list(mark.annotations.all()) if mark else []
    essay_html, notes = essay_with_notes(submission, annotations, hit_spans)
    sides = []
    for value, label in type(points[0]).Side.choices if points else []:
        sides.append((label, [m for m in matches if m.side == value]))
    previous, following, position, count = _neighbours(submission)
    usable = usable_entries(permissions.bank_entries_for_teacher(request.user))
    bank = [entry for entry in usable if entry.prompt_id in (None, prompt.pk)]
    rows = criterion_rows(form, criteria)
    strands = []
    for strand, label in StrandTick.Strand.choices:
        field = form[f"{STRAND_PREFIX}{strand}"]
        strands.append(StrandRow(strand, label, field, str(field.value() or "")))
    if mark is not None:  # out of what it was given against (Mark.maxima_of)
        content_max, spag_max = mark.max_total, mark.max_spag
    else:
        content_max = sum(c.max_marks for c in criteria if not c.is_spag)
        spag_max = sum(c.max_marks for c in criteria if c.is_spag)
    return {
        "submission": submission,
        "assignment": assignment,
        "prompt": prompt,
        "sources": sources,
        "form": form,
        "criterion_rows": rows,
        "scheme": prompt.mark_scheme,
        "strand_rows": strands,
        "ratings": StrandTick.Rating.choices,
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
        # What `#code` expands to, for the comment box (the same rule as the server's).
        "bank_codes": {entry.code.lower(): entry.text for entry in usable},
        "bank_criteria": CommentBankEntry.CRITERION_CODES,
        "content_max": content_max,
        "spag_max": spag_max,
        "comment_form": CommentForm(),
        "bank_form": BankEntryForm(owner=request.user, prefix="bank"),
        "editable": not (mark and mark.is_released),
        # Where marking stands, in the queue's words (classroom/status.py).
        "marking_state": MARKING_FILTERS[marking_filter(submission.status(), mark is not None)]
        if submission.is_markable
        else "",
        "nav": "classes",
        # How it was written (classroom/writing_process.py): one line, linking to the record.
        "writing_summary": writing_process.summary_for(submission),
    }


def _expand_feedback(request: AuthedRequest, data: dict) -> dict:
    lookup = entries_by_code(permissions.bank_entries_for_teacher(request.user))
    return {
        name: expand_codes(data[name], lookup, MAX_FEEDBACK_CHARS)[0] for name in ("www", "ebi", "improvement_task")
    }


@login_required
@require_http_methods(["GET", "POST"])
def mark_submission(request: AuthedRequest, pk: int) -> HttpResponse:
    """The marking page. Without JavaScript every button is an ordinary POST that saves first."""
    submission = permissions.submission_for_marker(request.user, pk)
    if request.method == "GET" and (held := _standardise_first(request, submission.assignment.prompt)) is not None:
        return held  # (a save already under way is never lost to it)
    if request.method == "GET":
        privacy.log_access(request.user, submission.student, "Marking page", submission)
    criteria = _criteria(submission)
    mark = _existing_mark(submission)
    status = 200
    saved_revision: int | None = None
    invalid: dict[str, str] = {}
    if request.method == "POST":
        form = MarkForm(request.POST, criteria=criteria)
        action = request.POST.get("action", "save")
        try:
            mark, invalid = _save_mark(request, submission, form)
            saved_revision = mark.revision
            if invalid:
                raise MarkError("Saved, except: " + " ".join(invalid.values()) + " Correct it and save again.")
            if action == "complete":
                mark.complete(by=request.user)
        except VersionConflict as error:
            if _wants_json(request):
                return autosave_json.conflict(error)
            messages.error(request, f"Not saved: {error.message} Your changes are still in the form below.")
            status = 409
        except MarkError as error:
            if _wants_json(request):
                return _refused(str(error), revision=saved_revision)
            messages.error(request, str(error))
            status = 400
        else:
            if _wants_json(request) and action in ("save", "complete"):
                return _header_json(request, submission, "Mark complete." if action == "complete" else "Mark saved.")
            messages.success(request, "Mark complete." if action == "complete" else "Mark saved.")
            previous, following, _, _ = _neighbours(submission)
            target = {"next": following, "previous": previous}.get(action)
            if target is not None:
                return redirect("classroom:mark_submission", target.pk)
            return redirect("classroom:mark_submission", submission.pk)
        mark = _existing_mark(submission)
        if saved_revision is not None:
            # Part was saved (then a flagged mark or "complete" stopped it): that is the
            # current revision now; the form keeps what the marker typed. When nothing was
            # saved the posted base stays, so a newer version elsewhere is still a conflict.
            data = request.POST.copy()  # the form's data: request.POST, which is immutable
            data["base_revision"] = str(saved_revision)
            form.data = data
    else:
        if not submission.is_markable:
            messages.info(request, "This essay has not been submitted, so it cannot be marked yet.")
        form = MarkForm(initial=_initial(mark), criteria=criteria)
    context = _marking_context(request, submission, form, criteria, mark)
    # The form holds what the server did not save (static/js/autosave.js keeps it on the device).
    context["unsaved"] = status != 200 and (saved_revision is None or bool(invalid))
    return render(request, "classroom/marking/mark.html", context, status=status)


_form_errors = autosave_json.form_errors
SCORE_FIELDS = ("level-", "marks-")


def _save_mark(request: AuthedRequest, submission: Submission, form: MarkForm) -> tuple[Mark, dict[str, str]]:
    """Save what the marker entered that is valid; return the mark and {field: message} for
    the levels and marks that were not (each criterion with an error keeps its saved mark).

    MarkError (nothing saved) when anything else is wrong, e.g. no base revision.
    """
    form.is_valid()
    invalid = {
        name: " ".join(str(e) for e in errors) for name, errors in form.errors.items() if name.startswith(SCORE_FIELDS)
    }
    other = [str(e) for name, errors in form.errors.items() if not name.startswith(SCORE_FIELDS) for e in errors]
    if other:
        raise MarkError("The mark was not saved: " + " ".join(other))
    keep = {int(name.split("-", 1)[1]) for name in invalid}
    mark = submission.record_mark(
        request.user,
        form.cleaned_data["scores"],
        base_revision=form.cleaned_data["base_revision"],
        keep=keep,
        strands=form.cleaned_data["strands"],
        **_expand_feedback(request, form.cleaned_data),
    )
    return mark, invalid


@login_required
@require_POST
def mark_autosave(request: AuthedRequest, pk: int) -> JsonResponse:
    """The marking page's autosave (classroom/autosave.py's JSON, with the totals and the
    levels and marks that were not saved under "invalid")."""
    submission = permissions.submission_for_marker(request.user, pk)
    form = MarkForm(request.POST, criteria=_criteria(submission))
    try:
        mark, invalid = _save_mark(request, submission, form)
    except VersionConflict as error:
        return autosave_json.conflict(error)
    except MarkError as error:
        return autosave_json.invalid(str(error), autosave_json.field_errors(form))
    return autosave_json.saved(mark.revision, mark.updated_at, total=mark.total, spag=mark.spag, invalid=invalid)


def _back_to_marking(submission_pk: int, anchor: str = "") -> HttpResponse:
    return redirect(reverse("classroom:mark_submission", args=[submission_pk]) + anchor)


def _header_json(request: AuthedRequest, submission: Submission, message: str) -> JsonResponse:
    """After "Mark complete", a release or a withdrawal asked for by marking.js: where the
    mark now stands (the page's state line and buttons, re-drawn) and its revision."""
    mark = Mark.objects.filter(submission=submission).first()
    submission.refresh_from_db(fields=["state"])
    context = {
        "submission": submission,
        "mark": mark,
        "marking_state": MARKING_FILTERS[marking_filter(submission.status(), mark is not None)],
    }
    return JsonResponse(
        {
            "status": "ok",
            "message": message,
            "revision": mark.revision if mark else 0,
            "editable": not (mark and mark.is_released),
            "header_html": render_to_string("classroom/marking/_mark_header.html", context, request=request),
        }
    )


def _wants_json(request: AuthedRequest) -> bool:
    """static/js/marking.js asks for JSON; a plain form post (no JavaScript) gets a page."""
    return "application/json" in request.headers.get("Accept", "")


def _refused(message: str, revision: int | None = None) -> JsonResponse:
    """400 with the reason; `revision` when part of the mark was saved first (the page's
    autosave carries on from it instead of meeting its own save as a conflict)."""
    body: dict[str, object] = {"status": "invalid", "error": message}
    if revision is not None:
        body["revision"] = revision
    return JsonResponse(body, status=400)


def _comments_json(
    request: AuthedRequest, submission: Submission, status: str, annotation: Annotation | None, message: str
) -> JsonResponse:
    """The comments as they now are, for marking.js to swap in without a page load: the
    changed note, the essay re-drawn with its numbered highlights, and the list of notes.

    Queries: the comments, the mark's release state, the prompt's indicative points (a fixed
    number, whatever the number of comments)."""
    annotations = list(
        Annotation.objects.filter(mark__submission=submission).select_related("bank_entry").order_by("number")
    )
    mark = Mark.objects.filter(submission=submission).only("pk", "released_at", "submission_id").first()
    points = list(submission.assignment.prompt.indicative_points.order_by("side", "order", "pk"))
    essay_html, notes = essay_with_notes(submission, annotations, _hit_spans(match_points(submission.text, points)))
    editable = not (mark and mark.is_released)
    notes_html = render_to_string(
        "classroom/marking/_notes.html",
        {"notes": notes, "editable": editable, "submission": submission},
        request=request,
    )
    note = None
    if annotation is not None:
        shown = next((n for n in notes if n.annotation.pk == annotation.pk), None)
        note = {
            "pk": annotation.pk,
            "number": annotation.number,
            "comment": annotation.comment,
            "quote": annotation.quote,
            "anchored": bool(shown and shown.anchored),
        }
    return JsonResponse(
        {
            "status": status,
            "number": annotation.number if annotation is not None else None,
            "message": message,
            "note": note,
            "count": len(notes),
            "essay_html": str(essay_html),
            "notes_html": notes_html,
        }
    )


@login_required
@require_POST
def annotation_add(request: AuthedRequest, pk: int, redraw: bool = False) -> HttpResponse:
    """Add a comment: anchored to the selected text (JS fills start/end/quote) or general.

    At its JSON address (`redraw`, static/js/marking.js) it answers 200 {"status": "added",
    "number", "note", "essay_html", "notes_html", …}; asked for JSON at the form's address,
    just {"status": "added", "number"}; either way 400 {"status": "invalid", "error"} with
    nothing added. Without JavaScript it redirects back to the marking page.
    """
    submission = permissions.submission_for_marker(request.user, pk)
    wants_json = redraw or _wants_json(request)
    form = CommentForm(request.POST)
    if not form.is_valid():
        if wants_json:
            return _refused("The comment was not added: " + " ".join(_form_errors(form)))
        messages.error(request, "The comment was not added: " + " ".join(_form_errors(form)))
        return _back_to_marking(submission.pk, "#comments")
    data = form.cleaned_data
    bank_entries = permissions.bank_entries_for_teacher(request.user)
    comment, entry = expand_codes(data["comment"], bank_entries, MAX_COMMENT_CHARS)
    bank_pk = whole_number(request.POST.get("bank_entry"))
    if bank_pk is not None:
        entry = bank_entries.filter(pk=bank_pk).first()
    try:
        mark = Mark.for_submission(submission, request.user)
        annotation = mark.add_annotation(
            request.user, comment, start=data["start"], end=data["end"], quote=data["quote"] or "", bank_entry=entry
        )
    except MarkError as error:
        if wants_json:
            return _refused(str(error))
        messages.error(request, str(error))
        return _back_to_marking(submission.pk, "#comments")
    if data["start"] is not None and annotation.start is None:
        message = f"Comment {annotation.number} added as a general comment: the selection did not match the essay."
        level = messages.WARNING
    else:
        message, level = f"Comment {annotation.number} added.", messages.SUCCESS
    if redraw:
        return _comments_json(request, submission, "added", annotation, message)
    if wants_json:
        return JsonResponse({"status": "added", "number": annotation.number})
    messages.add_message(request, level, message)
    return _back_to_marking(submission.pk, f"#note-{annotation.number}")


@login_required
@require_POST
def annotation_edit(request: AuthedRequest, pk: int, redraw: bool = False) -> HttpResponse:
    """Change a comment's text (at its JSON address: 200 {"status": "changed", …} or 400)."""
    annotation = permissions.annotation_for_marker(request.user, pk)
    wants_json = redraw
    form = CommentEditForm(request.POST)
    submission_pk = annotation.mark.submission_id
    if not form.is_valid():
        message = "The comment was not changed: " + " ".join(_form_errors(form))
        if wants_json:
            return _refused(message)
        messages.error(request, message)
        return _back_to_marking(submission_pk, f"#note-{annotation.number}")
    bank = permissions.bank_entries_for_teacher(request.user)
    comment, _ = expand_codes(form.cleaned_data["comment"], bank, MAX_COMMENT_CHARS)
    try:
        annotation.edit(comment)
    except MarkError as error:
        if wants_json:
            return _refused(str(error))
        messages.error(request, str(error))
    else:
        message = f"Comment {annotation.number} changed."
        if wants_json:
            return _comments_json(request, annotation.mark.submission, "changed", annotation, message)
        messages.success(request, message)
    return _back_to_marking(submission_pk, f"#note-{annotation.number}")


@login_required
@require_POST
def annotation_delete(request: AuthedRequest, pk: int, redraw: bool = False) -> HttpResponse:
    """Delete a comment (at its JSON address: 200 {"status": "deleted", …} or 400)."""
    annotation = permissions.annotation_for_marker(request.user, pk)
    wants_json = redraw
    submission, number = annotation.mark.submission, annotation.number
    try:
        annotation.remove()
    except MarkError as error:
        if wants_json:
            return _refused(str(error))
        messages.error(request, str(error))
    else:
        if wants_json:
            return _comments_json(request, submission, "deleted", None, f"Comment {number} deleted.")
        messages.success(request, f"Comment {number} deleted.")
    return _back_to_marking(submission.pk, "#comments")


@login_required
@require_POST
def mark_release(request: AuthedRequest, pk: int) -> HttpResponse:
    submission = permissions.submission_for_marker(request.user, pk)
    mark = Mark.objects.filter(submission=submission).first()
    try:
        if mark is None:
            raise MarkError("Complete the mark before releasing it.")
        mark.release(by=request.user)
    except MarkError as error:
        if _wants_json(request):
            return _refused(str(error))
        messages.error(request, str(error))
    else:
        message = f"Feedback released to {submission.marking_label}."
        if _wants_json(request):
            return _header_json(request, submission, message)
        messages.success(request, message)
    return _back_to_marking(submission.pk)


@login_required
@require_POST
def mark_withdraw(request: AuthedRequest, pk: int) -> HttpResponse:
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
@require_POST
def dirt_acknowledge(request: AuthedRequest, pk: int) -> HttpResponse:
    submission = permissions.submission_for_marker(request.user, pk)
    response = DirtResponse.objects.filter(mark__submission=submission).first()
    if response is None:
        messages.error(request, "The student has not submitted a response yet.")
    else:
        try:
            response.acknowledge(by=request.user)
        except DirtError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Response acknowledged.")
    if request.POST.get("from") == "queue":
        return redirect("classroom:marking_queue", submission.assignment_id)
    return _back_to_marking(submission.pk, "#dirt")


# ----------------------------------------------------------------------------------------
# The comment bank


def _safe_next(request: AuthedRequest, fallback: str) -> str:
    """The page to go back to: a path on this site, never a bare word (which redirect() would
    look up as a view name: NoReverseMatch, a 500) nor another site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    hosts = {request.get_host()}
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, hosts, require_https=request.is_secure()):
        return target
    return fallback


@login_required
@require_http_methods(["GET", "POST"])
def comment_bank(request: AuthedRequest) -> HttpResponse:
    """The teacher's own comments (add here or from the marking page), the department bank
    (its curators add to it here) and the starter bank."""
    entries = permissions.bank_entries_for_teacher(request.user).select_related("prompt")
    to_department = request.method == "POST" and request.POST.get("bank") == "department"
    if to_department:
        permissions.require_bank_curator(request.user)
    data = request.POST if request.method == "POST" else None
    form = BankEntryForm(None if to_department else data, owner=request.user, prefix="bank")
    curating = permissions.can_curate_bank(request.user)
    department_form = (
        BankEntryForm(data if to_department else None, owner=request.user, department=True, prefix="dept")
        if curating
        else None
    )
    if request.method == "POST":
        posted = department_form if to_department and department_form is not None else form
        where = "the department bank" if to_department else "your comment bank"
        if posted.is_valid():
            entry = posted.save()
            messages.success(request, f"#{entry.code} saved to {where}.")
            return redirect(_safe_next(request, reverse("classroom:comment_bank")))
        if request.POST.get("next"):
            messages.error(request, f"Not saved to {where}: " + " ".join(_form_errors(posted)))
            return redirect(_safe_next(request, reverse("classroom:comment_bank")))
    everything = list(entries)
    in_use = {entry.pk for entry in usable_entries(everything)}  # the rule `#code` follows
    criterion = request.GET.get("criterion", "")
    if criterion not in CommentBankEntry.CRITERION_CODES:
        criterion = ""
    shown = [entry for entry in everything if not criterion or entry.criterion_code == criterion]
    curators_form = None
    if request.user.is_head:
        curators_form = BankCuratorsForm(candidates=permissions.bank_curator_candidates(request.user))
    return render(
        request,
        "classroom/marking/bank.html",
        {
            "own": [e for e in shown if not e.is_starter and not e.department],
            "department": [e for e in shown if e.department],
            "starter": [e for e in shown if e.is_starter],
            "form": form,
            "department_form": department_form,
            "curating": curating,
            "curators_form": curators_form,
            "in_use": in_use,
            "criterion": criterion,
            "criteria": CommentBankEntry.CRITERION_CODES,
            "nav": "marking",
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def bank_entry_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    entry = permissions.bank_entry_for_owner(request.user, pk)
    form = BankEntryForm(request.POST or None, instance=entry, owner=request.user, department=entry.department)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"#{entry.code} updated.")
        return redirect("classroom:comment_bank")
    return render(request, "classroom/marking/bank_edit.html", {"form": form, "entry": entry, "nav": "marking"})


@login_required
@require_POST
def bank_entry_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    entry = permissions.bank_entry_for_owner(request.user, pk)
    code = entry.code
    where = "the department bank" if entry.department else "your comment bank"
    entry.delete()
    messages.success(request, f"#{code} deleted from {where}.")
    return redirect("classroom:comment_bank")


@login_required
@require_POST
def bank_curators(request: AuthedRequest) -> HttpResponse:
    """The head names the teachers who keep the department bank with them."""
    candidates = permissions.bank_curator_candidates(request.user)
    form = BankCuratorsForm(request.POST, candidates=candidates)
    if form.is_valid():
        chosen = list(form.cleaned_data["curators"])
        set_bank_curators(candidates, chosen)
        if chosen:
            names = ", ".join(user.display_name for user in chosen)
            messages.success(request, f"The department bank is now kept by you and {names}.")
        else:
            messages.success(request, "Only heads of department can now change the department bank.")
    else:
        messages.error(request, "Nothing changed: " + " ".join(_form_errors(form)))
    return redirect(reverse("classroom:comment_bank") + "#curators")


# ----------------------------------------------------------------------------------------
# The student's feedback and DIRT response


def _feedback_context(mark: Mark, form: DirtForm | None = None) -> dict:
    """The mark as it was given: its criteria and maxima as stored, whatever the scheme says now."""
    submission = mark.submission
    annotations = lookups.annotations_of(mark)
    essay_html, notes = essay_with_notes(submission, annotations)
    dirt = DirtResponse.for_mark(mark)
    return {
        "mark": mark,
        "submission": submission,
        "assignment": submission.assignment,
        "results": mark.results(),
        "strands": StrandTick.for_pupil(lookups.strand_ticks_of(mark)),
        "essay_html": essay_html,
        "notes": notes,
        "content_max": mark.max_total,
        "spag_max": mark.max_spag,
        "dirt": dirt,
        "dirt_form": form or DirtForm(initial={"text": dirt.text, "base_revision": dirt.revision}),
        "nav": "work",
    }


@login_required
def feedback(request: AuthedRequest, pk: int) -> HttpResponse:
    """The student's released feedback on their essay for assignment `pk`."""
    mark = permissions.feedback_for_student(request.user, pk)
    return render(request, "classroom/feedback/feedback.html", _feedback_context(mark))


@login_required
@require_POST
def feedback_seen(request: AuthedRequest, pk: int) -> HttpResponse:
    """The feedback page reports that the student has opened it (a page view writes nothing).

    Sent by static/js/seen.js as the page loads; saving or submitting a response records it too.
    Once seen, a release can no longer be withdrawn.
    """
    mark = permissions.feedback_for_student(request.user, pk)
    mark.record_seen()
    return HttpResponse(status=204)


@login_required
@require_POST
def dirt_save(request: AuthedRequest, pk: int) -> HttpResponse:
    """Save (and with "submit", hand in) the DIRT response without JavaScript."""
    mark = permissions.feedback_for_student(request.user, pk)
    mark.record_seen()
    response = DirtResponse.for_mark(mark)
    form = DirtForm(request.POST)
    status = 400
    unsaved = True
    if form.is_valid():
        text = form.cleaned_data["text"]
        base = form.cleaned_data["base_revision"]
        try:
            response.save_text(text, base)
            base = response.revision  # saved: a refused submit below builds on it
            unsaved = False
            if request.POST.get("action") == "submit":
                response.submit()
                messages.success(request, "Your response has been sent to your teacher.")
            else:
                messages.success(request, "Your response has been saved.")
            return redirect(reverse("classroom:feedback", args=[pk]) + "#dirt")
        except VersionConflict as error:
            messages.error(request, f"Not saved: {error.message} Your text is below.")
            form = DirtForm(initial={"text": text, "base_revision": error.revision})
            status = 409
        except DirtError as error:
            messages.error(request, str(error))
            form = DirtForm(initial={"text": text, "base_revision": base})
    mark.refresh_from_db()
    # The box holds what the server did not save (autosave.js then keeps it on the device).
    context = {**_feedback_context(mark, form), "unsaved": unsaved}
    return render(request, "classroom/feedback/feedback.html", context, status=status)


@login_required
@require_POST
def dirt_autosave(request: AuthedRequest, pk: int) -> JsonResponse:
    """The response box's autosave (classroom/autosave.py's JSON)."""
    mark = permissions.feedback_for_student(request.user, pk)
    mark.record_seen()
    response = DirtResponse.for_mark(mark)
    form = DirtForm(request.POST)
    if not form.is_valid():
        return autosave_json.invalid_form(form)
    try:
        response.save_text(form.cleaned_data["text"], form.cleaned_data["base_revision"])
    except VersionConflict as error:
        return autosave_json.conflict(error)
    except DirtError as error:
        return autosave_json.invalid(str(error))
    return autosave_json.saved(response.revision, response.updated_at)

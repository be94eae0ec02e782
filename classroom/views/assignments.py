"""Setting assignments, writing essays (with autosave) and the teacher's view of the work.

Access is checked on each view's first line through classroom.permissions; every change of
state goes through a model method (Submission.save_draft / submit / return_for_redraft).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods, require_POST

from classroom import autosave as autosave_json
from classroom import lookups, permissions, privacy, writing_process
from classroom.arrangements import writing_aids
from classroom.compiled import CompiledQuery
from classroom.forms import AssignmentForm, EssayForm, ExemptionForm, ExtensionForm, OpenAssignmentForm, whole_number
from classroom.models import (
    Assignment,
    AssignmentError,
    Enrolment,
    Exemption,
    Extension,
    QueuedEmail,
    SchoolClass,
    Submission,
    SubmissionClosed,
    SubmissionError,
    User,
)
from classroom.status import KEYS, MARKABLE_STATES, Status, due_passed, feedback_date_passed, feedback_visible_q
from classroom.types import AuthedRequest
from crisis.models import MarkScheme

# Submitted, or further on (marked, feedback released…): every state the student cannot edit.
HANDED_IN = MARKABLE_STATES
ANONYMOUS_WORDS = "Handed in (names hidden while marking)"

# ----------------------------------------------------------------------------------------
# Teacher pages


LIST_LIMIT = 50  # rows per list (lists take at most 50 rows)


def _assignment_list_query(class_id: int, now: datetime, archived: bool) -> QuerySet[Assignment]:
    """A class's current (or archived) assignments, newest due first, each with its pupils'
    figures: drafting, handed in, late, to mark, marked, released, the exempt among the
    class's current pupils, and how many are on the other list."""
    current = Enrolment.objects.filter(school_class_id=class_id, removed_at__isnull=True)
    exempt = (
        Exemption.objects.filter(assignment=OuterRef("pk"), student__in=current.values("student"))
        .order_by()
        .values("assignment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    of_class = Assignment.objects.filter(school_class_id=class_id)
    chosen = of_class.archived() if archived else of_class.active()
    others = of_class.active() if archived else of_class.archived()
    # How many are on the other list (archived, or current), in the same query.
    other_count = others.order_by().values("school_class").annotate(n=Count("pk")).values("n")
    return (
        chosen.select_related("prompt")
        .annotate(
            # Being written: a draft, or a redraft after the teacher returned it.
            drafting=Count(
                "submissions", filter=Q(submissions__state__in=[Submission.State.DRAFT, Submission.State.RETURNED])
            ),
            submitted=Count("submissions", filter=Q(submissions__state__in=HANDED_IN)),
            late=Count(
                "submissions",
                filter=Q(submissions__state__in=HANDED_IN, submissions__is_late=True),
            ),
            # Marking progress (classroom/status.py): to mark = handed in, no complete mark;
            # released = feedback visible (its SQL twin); marked = complete, not yet visible.
            to_mark=Count("submissions", filter=Q(submissions__state=Submission.State.SUBMITTED)),
            released=Count("submissions", filter=feedback_visible_q("submissions__", "", now)),
            marked=Count(
                "submissions",
                filter=Q(submissions__state__in=[Submission.State.MARKED, Submission.State.RELEASED])
                & ~feedback_visible_q("submissions__", "", now),
            ),
            n_exempt=Coalesce(Subquery(exempt), 0),
            other_count=Coalesce(Subquery(other_count), 0),
        )
        .order_by("-due_at", "pk")
    )[: LIST_LIMIT + 1]


# Compiled once: its filtered counts cost the ORM more to build than PostgreSQL to answer.
_current_list = CompiledQuery(lambda class_id, now: _assignment_list_query(class_id, now, archived=False))
_archived_list = CompiledQuery(lambda class_id, now: _assignment_list_query(class_id, now, archived=True))


def _other_count(school_class: SchoolClass, archived: bool) -> int:
    """With nothing on this list, how many are on the other."""
    assignments = school_class.assignments
    return (assignments.active() if archived else assignments.archived()).count()


@login_required
def assignment_list(request: AuthedRequest, pk: int) -> HttpResponse:
    """A class's assignments with how many students have started and submitted, out of the
    pupils expected to (exempt pupils are not); `?archived=1`: the archived ones instead."""
    school_class = permissions.class_for_teacher(request.user, pk)
    archived = request.GET.get("archived") == "1"
    listed = _archived_list if archived else _current_list
    rows = listed.objects(class_id=school_class.pk, now=timezone.now())
    student_count = school_class.enrolments.filter(removed_at__isnull=True).count()
    for assignment in rows:
        assignment.expected = student_count - assignment.n_exempt  # type: ignore[attr-defined]
    context = {
        "school_class": school_class,
        "assignments": rows[:LIST_LIMIT],
        "more": len(rows) > LIST_LIMIT,
        "student_count": student_count,
        "archived": archived,
        "other_count": rows[0].other_count if rows else _other_count(school_class, archived),  # type: ignore[attr-defined]
        "nav": "classes",
    }
    return render(request, "classroom/assignments/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def assignment_create(request: AuthedRequest, pk: int) -> HttpResponse:
    school_class = permissions.class_for_teacher(request.user, pk)
    prompts = permissions.prompts_for_setter(request.user)
    # A sensible start: open now, due in a week at 09:00.
    week = timezone.localtime() + timedelta(days=7)
    initial: dict[str, object] = {"due_at": week.replace(hour=9, minute=0, second=0, microsecond=0)}
    if whole_number(request.GET.get("prompt")) is not None:
        initial["prompt"] = request.GET["prompt"]
    assignment = Assignment(school_class=school_class, created_by=request.user)
    classes = permissions.classes_for_setting(request.user, school_class)
    form = AssignmentForm(request.POST or None, instance=assignment, prompts=prompts, initial=initial, classes=classes)
    if request.method == "POST" and form.is_valid():
        made = _set_for_classes(form, list(form.cleaned_data["classes"]))
        here = next((a for a in made if a.school_class_id == school_class.pk), made[0])
        names = ", ".join(a.school_class.name for a in made)
        if len(made) > 1:
            messages.success(
                request, f"“{here.title}” is set for {len(made)} classes: {names}. Each class has its own copy."
            )
        else:
            messages.success(request, f"“{here.title}” is set for {names}.")
        return redirect("classroom:assignment_detail", here.pk)
    return render(
        request,
        "classroom/assignments/form.html",
        {"form": form, "school_class": school_class, "nav": "classes", "creating": True},
    )


def _set_for_classes(form: AssignmentForm, classes: list[SchoolClass]) -> list[Assignment]:
    """One Assignment per class, each with the form's settings, all or none."""
    template = form.instance
    made = []
    with transaction.atomic():
        for school_class in classes:
            copy = Assignment(**{f.attname: getattr(template, f.attname) for f in Assignment._meta.concrete_fields})
            copy.pk = None
            copy.school_class = school_class
            copy.save()
            QueuedEmail.queue_essay_set(copy)
            made.append(copy)
    return made


@login_required
@require_http_methods(["GET", "POST"])
def assignment_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Everything before the assignment opens. Afterwards the title, instructions and release
    settings still change (pupils see "Updated on … by …"), the deadlines only later, and what
    Assignment.locked_fields names not at all (shown disabled with the reason)."""
    assignment = permissions.assignment_for_teacher(request.user, pk)
    prompts = permissions.prompts_for_setter(request.user)
    form: AssignmentForm
    if assignment.is_editable():
        form = AssignmentForm(request.POST or None, instance=assignment, prompts=prompts)
        if request.method == "POST" and form.is_valid():
            with transaction.atomic():
                form.save()
                QueuedEmail.reschedule_essay_set(assignment)
            messages.success(request, "The assignment has been updated.")
            return redirect("classroom:assignment_detail", assignment.pk)
        locked: dict[str, str] = {}
    else:
        locked = assignment.locked_fields()
        edit_form = OpenAssignmentForm(request.POST or None, instance=assignment, prompts=prompts, locked=locked)
        form = edit_form
        if request.method == "POST" and edit_form.is_valid():
            try:
                record = assignment.save_edit(edit_form.changes, by=request.user)
            except ValidationError as error:
                edit_form.add_error(None, error)
            else:
                if record is None:
                    messages.info(request, "Nothing was changed.")
                else:
                    changed = f"The assignment has been updated ({record.fields}). Pupils see that it changed."
                    messages.success(request, changed)
                return redirect("classroom:assignment_detail", assignment.pk)
    context = {
        "form": form,
        "assignment": assignment,
        "school_class": assignment.school_class,
        "locked": [(form.fields[name].label, reason) for name, reason in locked.items() if name in form.fields],
        "nav": "classes",
    }
    return render(request, "classroom/assignments/form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def assignment_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    """Delete an assignment nobody has started, after a confirmation page; refused otherwise."""
    assignment = permissions.assignment_for_teacher(request.user, pk)
    started = assignment.has_work()
    if request.method == "POST":
        try:
            assignment.delete_unstarted()
        except AssignmentError as error:
            messages.error(request, str(error))
            return redirect("classroom:assignment_detail", assignment.pk)
        messages.success(request, f"“{assignment.title}” has been deleted.")
        return redirect("classroom:assignment_list", assignment.school_class_id)
    context = {"assignment": assignment, "started": started, "nav": "classes"}
    return render(request, "classroom/assignments/delete_confirm.html", context, status=409 if started else 200)


@login_required
@require_http_methods(["GET", "POST"])
def assignment_archive(request: AuthedRequest, pk: int) -> HttpResponse:
    """Archive, after a page saying what is still open: pupils who started and have not handed
    in (archiving closes the assignment to them), and work handed in but not yet marked or
    released (it stays on the to-do until done). Its work stays readable; restore reopens it."""
    assignment = permissions.assignment_for_teacher(request.user, pk)
    if request.method == "POST":
        assignment.archive(by=request.user)
        messages.success(
            request,
            f"“{assignment.title}” is archived: it has left your lists, and pupils can no longer change or hand in "
            "work on it. Work still to mark stays on your to-do until it is done.",
        )
        return redirect("classroom:assignment_detail", assignment.pk)
    if assignment.is_archived:
        return redirect("classroom:assignment_detail", assignment.pk)
    context = {"assignment": assignment, "work": assignment.unfinished_work(), "nav": "classes"}
    return render(request, "classroom/assignments/archive_confirm.html", context)


@login_required
@require_POST
def assignment_restore(request: AuthedRequest, pk: int) -> HttpResponse:
    assignment = permissions.assignment_for_teacher(request.user, pk)
    assignment.restore()
    messages.success(request, f"“{assignment.title}” is back in your lists, and open to pupils again.")
    return redirect("classroom:assignment_detail", assignment.pk)


# Each pupil's exception to the class's terms, on one page: their own due date (an extension)
# or being excused (an exemption). Each kind is granted and taken back by posting to its own
# address (the URLs of the two pages this replaced, kept), which also shows the page.
EXCEPTION_KINDS = ("extension", "exemption")


@login_required
@require_http_methods(["GET", "POST"])
def assignment_exceptions(request: AuthedRequest, pk: int, kind: str = "") -> HttpResponse:
    """Give pupils their own due dates, or excuse them (and take either back)."""
    assignment = permissions.assignment_for_teacher(request.user, pk)
    if request.method == "POST" and kind not in EXCEPTION_KINDS:
        return HttpResponseNotAllowed(["GET"])
    students = assignment.school_class.active_students().order_by("last_name", "first_name", "username")
    data = request.POST if request.method == "POST" else None
    extension_form = ExtensionForm(data if kind == "extension" else None, students=students, auto_id="extension-%s")
    exemption_form = ExemptionForm(data if kind == "exemption" else None, students=students, auto_id="exemption-%s")
    if request.method == "POST" and "remove" in request.POST:
        student_pk = whole_number(request.POST["remove"])
        if student_pk is not None:
            if kind == "extension":
                assignment.remove_extension(student_pk)
            else:
                assignment.remove_exemption(student_pk)
        messages.success(request, f"The {kind} has been removed.")
        return redirect("classroom:assignment_exceptions", assignment.pk)
    if kind == "extension" and extension_form.is_valid():
        given = extension_form.cleaned_data
        try:
            assignment.grant_extension(given["student"], given["due_at"], given["late_cutoff"], by=request.user)
        except ValidationError as error:
            extension_form.add_error(None, error)
        else:
            messages.success(request, f"{given['student'].display_name} now has their own due date.")
            return redirect("classroom:assignment_exceptions", assignment.pk)
    if kind == "exemption" and exemption_form.is_valid():
        student = exemption_form.cleaned_data["student"]
        try:
            assignment.exempt(student, by=request.user)
        except ValidationError as error:
            exemption_form.add_error(None, error)
        else:
            messages.success(request, f"{student.display_name} is exempt from this assignment.")
            return redirect("classroom:assignment_exceptions", assignment.pk)
    by_name = ("student__last_name", "student__first_name", "student__username")
    context = {
        "assignment": assignment,
        "extension_form": extension_form,
        "exemption_form": exemption_form,
        "extensions": assignment.extensions.select_related("student", "granted_by").order_by(*by_name),
        "exemptions": assignment.exemptions.select_related("student", "granted_by").order_by(*by_name),
        "nav": "classes",
    }
    return render(request, "classroom/assignments/exceptions.html", context)


@dataclass
class StudentRow:
    student: User
    submission: Submission | None
    extension: Extension | None
    status: str
    status_words: str
    # Anonymous marking, names not yet revealed: nothing beside the name that the marking
    # queue also shows (id, word count, times, late or marked) for work that was handed in.
    anonymous: bool = False


@login_required
def assignment_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """Every student of the class with the state of their essay, word count and last save."""
    assignment = permissions.assignment_for_teacher(request.user, pk)
    submissions = {s.student_id: s for s in assignment.submissions.defer("text")}
    extensions = {e.student_id: e for e in assignment.extensions.all()}
    enrolment = Enrolment.objects.filter(school_class=assignment.school_class, student=OuterRef("pk"))
    students = (
        User.objects.filter(
            Q(enrolments__school_class=assignment.school_class, enrolments__removed_at__isnull=True)
            | Q(pk__in=list(submissions))
        )
        .distinct()
        .annotate(
            joined_at=Subquery(enrolment.values("joined_at")[:1]),
            exempt=Exists(Exemption.objects.filter(assignment=assignment, student=OuterRef("pk"))),
        )
        .order_by("last_name", "first_name", "username")
    )
    now = timezone.now()
    date_passed = feedback_date_passed(assignment.feedback_release, assignment.feedback_release_at, now)
    rows = []
    counts: dict[str, int] = {}
    for student in students:
        submission = submissions.get(student.pk)
        extension = extensions.get(student.pk)
        due = extension.due_at if extension else assignment.due_at
        state, is_late = (submission.state, submission.is_late) if submission else (None, False)
        theirs = Status.of(
            state,
            is_late,
            due_passed=due_passed(due, student.joined_at, now),
            date_passed=date_passed,
            exempt=student.exempt,
        )
        counts[theirs.key] = counts.get(theirs.key, 0) + 1
        if assignment.names_hidden and theirs.handed_in:
            rows.append(StudentRow(student, None, extension, "submitted", ANONYMOUS_WORDS, anonymous=True))
        else:
            rows.append(StudentRow(student, submission, extension, theirs.key, theirs.teacher_words))
    # Every status in order, each student in exactly one, so the figures add up to the class.
    # (Exempt only when someone is: it is not one of the states of the work itself.)
    summary = [(key, Status(key).label, counts.get(key, 0)) for key in KEYS if key != "exempt" or counts.get(key)]
    # The record of changes since it opened (only if there are any: no query otherwise).
    changes = list(assignment.changes.select_related("changed_by")[:LIST_LIMIT]) if assignment.updated_at else []
    context = {
        "assignment": assignment,
        "rows": rows,
        "counts": counts,
        "summary": summary,
        "expected": len(rows) - counts.get("exempt", 0),
        "changes": changes,
        "nav": "classes",
    }
    return render(request, "classroom/assignments/detail.html", context)


@login_required
def submission_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """A student's essay, read-only with its paragraphs, and how it grew (revision history)."""
    submission = permissions.submission_for_teacher(request.user, pk)
    if submission.assignment.names_hidden and submission.is_markable:
        # This page names the writer: handed-in work is read anonymously on the marking page.
        return redirect("classroom:mark_submission", submission.pk)
    revisions = submission.revisions.order_by("-created_at", "-pk")
    privacy.log_access(request.user, submission.student, "Essay and its earlier versions", submission)
    return render(
        request,
        "classroom/assignments/submission.html",
        {"submission": submission, "assignment": submission.assignment, "revisions": revisions, "nav": "classes"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def submission_return(request: AuthedRequest, pk: int, from_marking: bool = False) -> HttpResponse:
    """Return submitted work for redraft, after a confirmation step.

    Reached from the assignment page and, as `mark_return` (`from_marking`), from the marking
    page: then the student is named as marking pages name them (a candidate number under
    anonymous marking) and the teacher goes back to the marking queue.
    """
    submission = permissions.submission_for_teacher(request.user, pk)
    writer = submission.marking_label if from_marking else submission.student.display_name
    if request.method == "POST":
        try:
            submission.return_for_redraft(by=request.user)
        except SubmissionError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"The essay of {writer} has been returned for redraft.")
        back = "classroom:marking_queue" if from_marking else "classroom:assignment_detail"
        return redirect(back, submission.assignment_id)
    context = {
        "submission": submission,
        "assignment": submission.assignment,
        "writer": writer,
        "from_marking": from_marking,
        "nav": "classes",
    }
    return render(request, "classroom/assignments/return_confirm.html", context)


# ----------------------------------------------------------------------------------------
# Writing


def _writing_context(request: AuthedRequest, assignment: Assignment, submission: Submission | None) -> dict:
    prompt = assignment.prompt
    sources = lookups.prompt_sources(prompt.pk)
    context = {
        "assignment": assignment,
        "prompt": prompt,
        "sources": sources,
        # Stored HTML (crisis/markdown.py): the assignment's own instructions, else the question's.
        "instructions": assignment.instructions_html if assignment.instructions else prompt.instructions_html,
        "submission": submission,
        # Changed after it opened: the page says so ("Updated on … by …", and what changed).
        "last_change": assignment.changes.select_related("changed_by").first() if assignment.updated_at else None,
        "nav": "work" if request.user.is_student else "classes",
        "large_insertion": writing_process.LARGE_INSERTION,  # for static/js/writing_process.js
    }
    # Extra time, rest breaks, spell check and read aloud (classroom/arrangements.py).
    context.update(writing_aids(request.user, assignment, submission, timezone.now()))
    if submission is not None:
        extension = lookups.extension_of(assignment.pk, submission.student_id)
        if extension is not None:
            extension.assignment = assignment
        due, cutoff = submission.deadlines(extension)
        now = timezone.now()
        # Open for writing, but the assignment takes no work (archived): the text is shown
        # read-only with the reason (Submission.work_refusal, the rule autosave and hand-in keep).
        closed = submission.work_refusal(at=now) if submission.is_editable else None
        context.update(
            due_at=due,
            cutoff=cutoff,
            extension=extension,
            time_deadline=submission.time_deadline(extension) if submission.is_editable and not closed else None,
            now=now,
            status=submission.status(due, now),
            closed=closed,
        )
    return context


@login_required
@require_http_methods(["GET", "POST"])
def write(request: AuthedRequest, pk: int) -> HttpResponse:
    """The writing page. Works without JavaScript: Save draft and Submit… are ordinary POSTs."""
    assignment = permissions.assignment_for_member(request.user, pk)
    if not request.user.is_student:
        # Teachers see the page as their students do, without an essay of their own.
        if request.method == "POST":
            permissions.require_student(request.user)
        context = _writing_context(request, assignment, None)
        context.update(_model_answers(request.user, assignment, None))
        context["shared_exemplars"] = permissions.exemplar_shares_for_page(request.user, assignment, None)
        return render(request, "classroom/assignments/write.html", context)
    closed = False  # a POST the assignment refused: it takes no work (archived); nothing changed
    if request.method == "POST":
        try:
            # "Start the timed essay" starts the clock; otherwise the first save makes the
            # submission (a page view writes nothing).
            submission = Submission.start(assignment, request.user)
        except SubmissionClosed:
            submission, closed = _own_submission(assignment, request.user), True
        else:
            if "start" in request.POST:
                return redirect("classroom:write", assignment.pk)
    else:
        submission = _own_submission(assignment, request.user)
    status = 200
    conflict = None
    if request.method == "POST" and submission.is_editable and not closed:
        form = EssayForm(request.POST)
        if form.is_valid():
            try:
                submission.save_draft(form.cleaned_data["text"], form.cleaned_data["base_revision"])
            except SubmissionClosed:
                closed = True
            except Submission.Conflict as error:
                conflict = error
                status = 409
                # Keep the writer's text in the box; the next save is based on the current version.
                form = EssayForm(initial={"text": form.cleaned_data["text"], "base_revision": error.revision})
            except SubmissionError as error:
                if "submit" in request.POST:
                    # e.g. time is up: the text already saved can still be handed in.
                    messages.warning(request, str(error))
                    return redirect("classroom:submit", assignment.pk)
                messages.error(request, str(error))
                status = 400
            else:
                if "submit" in request.POST:
                    return redirect("classroom:submit", assignment.pk)
                saved = timezone.localtime(submission.updated_at).strftime("%H:%M")
                messages.success(request, f"Draft saved at {saved}.")
                return redirect("classroom:write", assignment.pk)
        else:
            status = 400
    else:
        if request.method == "POST" and not closed:
            messages.error(request, "This essay has already been submitted, so it cannot be changed.")
            status = 409
        form = EssayForm(initial={"text": submission.text, "base_revision": submission.revision})
    unsaved_text = ""
    if closed:
        # The page says why (context "closed"); text sent with the refused save is shown for copying.
        status = 409
        sent = request.POST.get("text", "")
        unsaved_text = sent if sent.strip() and sent != submission.text else ""
        form = EssayForm(initial={"text": submission.text, "base_revision": submission.revision})
    context = _writing_context(request, assignment, submission)
    needs_start = submission.is_editable and assignment.question_sealed(submission.started_at, submission.state)
    if needs_start:
        context.update(sources=[], instructions="")  # sealed until Start (security review L9)
    context.update(_model_answers(request.user, assignment, submission.state))
    context["shared_exemplars"] = permissions.exemplar_shares_for_page(request.user, assignment, submission.state)
    # unsaved: the form holds text the server refused (static/js/autosave.js keeps it on the device).
    context.update(
        form=form, conflict=conflict, needs_start=needs_start, unsaved=status != 200, unsaved_text=unsaved_text
    )
    return render(request, "classroom/assignments/write.html", context, status=status)


def _model_answers(user: User, assignment: Assignment, state: str | None) -> dict:
    """The question's model answers, if `user` may read them here (permissions), with its mark
    scheme for what they are out of: model answer rows, then scheme, criteria and levels."""
    if not permissions.model_answers_released(user, assignment, state):
        return {"model_answers": []}
    answers = list(assignment.prompt.model_answers.all())
    if not answers:
        return {"model_answers": []}
    scheme = MarkScheme.objects.prefetch_related("criteria__levels").get(pk=assignment.prompt.mark_scheme_id)
    return {"model_answers": answers, "model_answer_scheme": scheme}


def _own_submission(assignment: Assignment, student: User) -> Submission:
    """The student's submission as it stands, or an unsaved empty one: reading writes nothing."""
    submission = lookups.own_essay(assignment.pk, student.pk) or Submission()
    submission.assignment, submission.student = assignment, student
    return submission


@login_required
@require_POST
def autosave(request: AuthedRequest, pk: int) -> JsonResponse:
    """The browser's autosave of the essay (the JSON shape is classroom/autosave.py's).

    An essay already begun is found, with the right to write it, in one query; the first
    save of an essay goes the longer way, which makes it (and starts a timed essay's clock)."""
    submission = permissions.own_essay_for_saving(request.user, pk)
    if submission is None:
        assignment = permissions.assignment_for_writer(request.user, pk)
        try:
            submission = Submission.start(assignment, request.user)
        except SubmissionClosed as error:
            return autosave_json.closed(str(error))
    else:
        submission.student = request.user
    form = EssayForm(request.POST)
    if not form.is_valid():
        return autosave_json.invalid_form(form)
    # The writing-process record sent with it: recorded with the text, or left out if malformed.
    process = writing_process.read_process(request.POST.get("process", ""), submission)
    try:
        submission.save_draft(form.cleaned_data["text"], form.cleaned_data["base_revision"], process=process.events)
    except SubmissionClosed as error:
        return autosave_json.closed(str(error), submission.revision)
    except Submission.Conflict as error:
        return autosave_json.conflict(error)
    except SubmissionError as error:
        return autosave_json.invalid(str(error))
    return autosave_json.saved(
        submission.revision, submission.updated_at, word_count=submission.word_count, process=process.acknowledged
    )


@login_required
@require_http_methods(["GET", "POST"])
def submit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Confirm, then hand in the saved text (one atomic step; a double click is harmless)."""
    assignment = permissions.assignment_for_writer(request.user, pk)
    if request.method == "POST":
        try:
            submission = Submission.start(assignment, request.user)
            submission.submit(by=request.user)
        except SubmissionClosed:
            return redirect("classroom:write", assignment.pk)  # the page says why, text read-only
        except SubmissionError as error:
            messages.error(request, str(error))
            return redirect("classroom:write", assignment.pk)
        when = date_format(timezone.localtime(submission.submitted_at), "H:i \\o\\n j F")
        late = " (late)" if submission.is_late else ""
        messages.success(request, f"Your essay has been submitted at {when}{late}.")
        return redirect("classroom:write", assignment.pk)
    submission = _own_submission(assignment, request.user)
    if not submission.is_editable or submission.pk is None:
        return redirect("classroom:write", assignment.pk)
    context = _writing_context(request, assignment, submission)
    now = context["now"]
    context["will_be_late"] = not submission.has_been_returned and now > context["due_at"]
    # Why it cannot be handed in (archived, or past the pupil's cut-off), as submit() refuses it.
    context["refusal"] = submission.work_refusal(hand_in=True, at=now, cutoff=context["cutoff"])
    return render(request, "classroom/assignments/submit_confirm.html", context)

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
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods, require_POST

from classroom import permissions
from classroom.forms_assignments import AssignmentForm, DeadlinesForm, EssayForm, ExtensionForm
from classroom.models import Assignment, Extension, Submission, SubmissionError, SubmissionStatus, User

# Submitted, or further on (marked, feedback released…): every state the student cannot edit.
HANDED_IN = [state for state in Submission.State.values if state not in Submission.EDITABLE_STATES]

# ----------------------------------------------------------------------------------------
# The student home. Status words come from SubmissionStatus (classroom/models.py), the one
# place for the home list, the writing page and the teacher's assignment page.


@dataclass
class StudentAssignment:
    """One assignment as one student sees it on their home page."""

    assignment: Assignment
    due_at: datetime
    cutoff: datetime | None
    status: str
    status_words: str
    word_count: int

    @property
    def is_open(self) -> bool:
        now = timezone.now()
        if self.cutoff is not None and now > self.cutoff:
            return False
        return self.status in ("not_started", "draft", "returned") or now <= self.due_at


def student_assignments(student: User) -> tuple[list[StudentAssignment], list[StudentAssignment]]:
    """The student's open and closed assignments, in one query whatever their number."""
    rows = []
    queryset = Assignment.objects.visible_to(student).with_status_for(student).select_related("school_class")
    for assignment in queryset.order_by("due_at", "pk"):
        due = assignment.ext_due_at or assignment.due_at
        status = SubmissionStatus.of(assignment.my_state, assignment.my_is_late, assignment.feedback_date_passed)
        rows.append(
            StudentAssignment(
                assignment, due, assignment.my_cutoff, status.key, status.student_words, assignment.my_word_count or 0
            )
        )
    open_rows = [row for row in rows if row.is_open]
    closed_rows = [row for row in rows if not row.is_open]
    closed_rows.reverse()  # most recent first
    return open_rows, closed_rows


# ----------------------------------------------------------------------------------------
# Teacher pages


@login_required
def assignment_list(request: HttpRequest, pk: int) -> HttpResponse:
    """A class's assignments with how many students have started and submitted."""
    school_class = permissions.class_for_teacher(request.user, pk)
    assignments = (
        school_class.assignments.select_related("prompt")
        .annotate(
            drafting=Count("submissions", filter=Q(submissions__state=Submission.State.DRAFT)),
            submitted=Count("submissions", filter=Q(submissions__state__in=HANDED_IN)),
            late=Count(
                "submissions",
                filter=Q(submissions__state__in=HANDED_IN, submissions__is_late=True),
            ),
        )
        .order_by("-due_at", "pk")
    )
    student_count = school_class.enrolments.filter(removed_at__isnull=True).count()
    return render(
        request,
        "classroom/assignments/list.html",
        {"school_class": school_class, "assignments": assignments, "student_count": student_count, "nav": "classes"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def assignment_create(request: HttpRequest, pk: int) -> HttpResponse:
    school_class = permissions.class_for_teacher(request.user, pk)
    prompts = permissions.prompts_for_setter(request.user)
    # A sensible start: open now, due in a week at 09:00.
    week = timezone.localtime() + timedelta(days=7)
    initial = {"due_at": week.replace(hour=9, minute=0, second=0, microsecond=0)}
    if request.GET.get("prompt", "").isdigit():
        initial["prompt"] = request.GET["prompt"]
    assignment = Assignment(school_class=school_class, created_by=request.user)
    form = AssignmentForm(request.POST or None, instance=assignment, prompts=prompts, initial=initial)
    if request.method == "POST" and form.is_valid():
        assignment = form.save()
        messages.success(request, f"“{assignment.title}” is set for {school_class.name}.")
        return redirect("classroom:assignment_detail", assignment.pk)
    return render(
        request,
        "classroom/assignments/form.html",
        {"form": form, "school_class": school_class, "nav": "classes", "creating": True},
    )


@login_required
@require_http_methods(["GET", "POST"])
def assignment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything before the assignment opens; afterwards only the deadlines, and only later."""
    assignment = permissions.assignment_for_teacher(request.user, pk)
    if assignment.is_editable():
        prompts = permissions.prompts_for_setter(request.user)
        form = AssignmentForm(request.POST or None, instance=assignment, prompts=prompts)
        if request.method == "POST" and form.is_valid():
            form.save()
            messages.success(request, "The assignment has been updated.")
            return redirect("classroom:assignment_detail", assignment.pk)
    else:
        initial = {"due_at": timezone.localtime(assignment.due_at)}
        if assignment.late_cutoff:
            initial["late_cutoff"] = timezone.localtime(assignment.late_cutoff)
        form = DeadlinesForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                assignment.extend_deadlines(form.cleaned_data["due_at"], form.cleaned_data["late_cutoff"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "The deadlines have been moved.")
                return redirect("classroom:assignment_detail", assignment.pk)
    return render(
        request,
        "classroom/assignments/form.html",
        {"form": form, "assignment": assignment, "school_class": assignment.school_class, "nav": "classes"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def assignment_extensions(request: HttpRequest, pk: int) -> HttpResponse:
    """Give students their own due dates (and remove them again)."""
    assignment = permissions.assignment_for_teacher(request.user, pk)
    students = assignment.school_class.active_students().order_by("last_name", "first_name", "username")
    form = ExtensionForm(request.POST or None, students=students)
    if request.method == "POST" and "remove" in request.POST:
        if request.POST["remove"].isdigit():
            assignment.remove_extension(int(request.POST["remove"]))
        messages.success(request, "The extension has been removed.")
        return redirect("classroom:assignment_extensions", assignment.pk)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assignment.grant_extension(data["student"], data["due_at"], data["late_cutoff"], by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{data['student'].display_name} now has their own due date.")
            return redirect("classroom:assignment_extensions", assignment.pk)
    extensions = assignment.extensions.select_related("student").order_by("student__last_name", "student__first_name")
    return render(
        request,
        "classroom/assignments/extensions.html",
        {"assignment": assignment, "form": form, "extensions": extensions, "nav": "classes"},
    )


@dataclass
class StudentRow:
    student: User
    submission: Submission | None
    extension: Extension | None
    status: str
    status_words: str


@login_required
def assignment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Every student of the class with the state of their essay, word count and last save."""
    assignment = permissions.assignment_for_teacher(request.user, pk)
    submissions = {s.student_id: s for s in assignment.submissions.defer("text")}
    extensions = {e.student_id: e for e in assignment.extensions.all()}
    students = (
        User.objects.filter(
            Q(enrolments__school_class=assignment.school_class, enrolments__removed_at__isnull=True)
            | Q(pk__in=list(submissions))
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
    feedback_date_passed = assignment.feedback_date_passed
    rows = []
    counts: dict[str, int] = {}
    for student in students:
        submission = submissions.get(student.pk)
        if submission is None:
            status = SubmissionStatus.of(None, False)
        else:
            status = SubmissionStatus.of(submission.state, submission.is_late, feedback_date_passed)
        counts[status.key] = counts.get(status.key, 0) + 1
        rows.append(StudentRow(student, submission, extensions.get(student.pk), status.key, status.teacher_words))
    # Every state in order, each student in exactly one, so the figures add up to the class.
    summary = [(key, SubmissionStatus(key).teacher_words, counts.get(key, 0)) for key in SubmissionStatus.KEYS]
    return render(
        request,
        "classroom/assignments/detail.html",
        {"assignment": assignment, "rows": rows, "counts": counts, "summary": summary, "nav": "classes"},
    )


@login_required
def submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A student's essay, read-only with its paragraphs, and how it grew (revision history)."""
    submission = permissions.submission_for_teacher(request.user, pk)
    revisions = submission.revisions.order_by("-created_at", "-pk")
    return render(
        request,
        "classroom/assignments/submission.html",
        {"submission": submission, "assignment": submission.assignment, "revisions": revisions, "nav": "classes"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def submission_return(request: HttpRequest, pk: int) -> HttpResponse:
    """Return submitted work for redraft, after a confirmation step."""
    submission = permissions.submission_for_teacher(request.user, pk)
    if request.method == "POST":
        try:
            submission.return_for_redraft(by=request.user)
        except SubmissionError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"{submission.student.display_name}'s essay has been returned for redraft.")
        return redirect("classroom:assignment_detail", submission.assignment_id)
    return render(
        request,
        "classroom/assignments/return_confirm.html",
        {"submission": submission, "assignment": submission.assignment, "nav": "classes"},
    )


# ----------------------------------------------------------------------------------------
# Writing


def _writing_context(request: HttpRequest, assignment: Assignment, submission: Submission | None) -> dict:
    prompt = assignment.prompt
    sources = [link.source for link in prompt.source_links.select_related("source").order_by("order", "pk")]
    context = {
        "assignment": assignment,
        "prompt": prompt,
        "sources": sources,
        "instructions": assignment.instructions or prompt.instructions,
        "submission": submission,
        "nav": "work" if request.user.is_student else "classes",
    }
    if submission is not None:
        extension = assignment.extensions.filter(student=submission.student).first()
        due, cutoff = submission.deadlines(extension)
        context.update(
            due_at=due,
            cutoff=cutoff,
            extension=extension,
            time_deadline=submission.time_deadline(extension) if submission.is_editable else None,
            now=timezone.now(),
        )
    return context


@login_required
@require_http_methods(["GET", "POST"])
def write(request: HttpRequest, pk: int) -> HttpResponse:
    """The writing page. Works without JavaScript: Save draft and Submit… are ordinary POSTs."""
    assignment = permissions.assignment_for_member(request.user, pk)
    if not request.user.is_student:
        # Teachers see the page as their students do, without an essay of their own.
        if request.method == "POST":
            permissions.require_student(request.user)
        return render(request, "classroom/assignments/write.html", _writing_context(request, assignment, None))
    submission = Submission.start(assignment, request.user)
    status = 200
    conflict = None
    if request.method == "POST" and submission.is_editable:
        form = EssayForm(request.POST)
        if form.is_valid():
            try:
                submission.save_draft(form.cleaned_data["text"], form.cleaned_data["base_revision"])
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
        if request.method == "POST":
            messages.error(request, "This essay has already been submitted, so it cannot be changed.")
            status = 409
        form = EssayForm(initial={"text": submission.text, "base_revision": submission.revision})
    context = _writing_context(request, assignment, submission)
    context.update(form=form, conflict=conflict)
    return render(request, "classroom/assignments/write.html", context, status=status)


@login_required
@require_POST
def autosave(request: HttpRequest, pk: int) -> JsonResponse:
    """The browser's autosave: 200 with the new revision, 409 if the essay changed elsewhere."""
    assignment = permissions.assignment_for_writer(request.user, pk)
    submission = Submission.start(assignment, request.user)
    form = EssayForm(request.POST)
    if not form.is_valid():
        message = " ".join(error for errors in form.errors.values() for error in errors)
        return JsonResponse({"error": message}, status=400)
    try:
        submission.save_draft(form.cleaned_data["text"], form.cleaned_data["base_revision"])
    except Submission.Conflict as error:
        return JsonResponse(
            {
                "revision": error.revision,
                "text": error.text,
                "state": error.state,
                "error": "already submitted"
                if error.state not in Submission.EDITABLE_STATES
                else "This essay was changed in another tab or device.",
            },
            status=409,
        )
    except SubmissionError as error:
        return JsonResponse({"error": str(error), "state": submission.state}, status=400)
    saved = timezone.localtime(submission.updated_at)
    return JsonResponse(
        {
            "revision": submission.revision,
            "saved_at": saved.isoformat(),
            "saved_at_display": saved.strftime("%H:%M"),
            "word_count": submission.word_count,
        }
    )


@login_required
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then hand in the saved text (one atomic step; a double click is harmless)."""
    assignment = permissions.assignment_for_writer(request.user, pk)
    submission = Submission.start(assignment, request.user)
    if request.method == "POST":
        try:
            submission.submit(by=request.user)
        except SubmissionError as error:
            messages.error(request, str(error))
            return redirect("classroom:write", assignment.pk)
        when = date_format(timezone.localtime(submission.submitted_at), "H:i \\o\\n j F")
        late = " (late)" if submission.is_late else ""
        messages.success(request, f"Your essay has been submitted at {when}{late}.")
        return redirect("classroom:write", assignment.pk)
    if not submission.is_editable:
        return redirect("classroom:write", assignment.pk)
    context = _writing_context(request, assignment, submission)
    now = context["now"]
    context["will_be_late"] = not submission.has_been_returned and now > context["due_at"]
    context["too_late"] = not submission.has_been_returned and context["cutoff"] is not None and now > context["cutoff"]
    return render(request, "classroom/assignments/submit_confirm.html", context)

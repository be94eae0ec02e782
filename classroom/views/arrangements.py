"""Access arrangements (extra time, rest breaks, spell check, a reader) and reading preferences.

Teachers set a pupil's arrangements from their class's page and list a class's for the
invigilator; everyone sets their own reading preferences, and a pupil reads their own
arrangements there. Rest breaks stop a timed essay's clock (Submission.start_break /
end_break). Access is checked on each view's first line through classroom.permissions.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from classroom import permissions
from classroom.forms import AccessArrangementForm, EssayForm, ReadingPreferencesForm
from classroom.models import AccessArrangement, Submission, SubmissionError
from classroom.types import AuthedRequest
from classroom.views import assignments


@login_required
@require_http_methods(["GET", "POST"])
def arrangement_edit(request: AuthedRequest, pk: int, student_pk: int) -> HttpResponse:
    """A pupil's access arrangements and reading preferences, set by their teacher."""
    school_class, student = permissions.pupil_for_arrangements(request.user, pk, student_pk)
    arrangement = AccessArrangement.objects.filter(student=student).select_related("updated_by").first()
    arrangement = arrangement or AccessArrangement(student=student)
    data = request.POST if request.method == "POST" else None
    form = AccessArrangementForm(data, instance=arrangement)
    reading = ReadingPreferencesForm(data, instance=student, prefix="reading")
    if request.method == "POST" and form.is_valid() and reading.is_valid():
        form.instance.save_by(request.user)
        reading.save()
        messages.success(request, f"Access arrangements for {student.display_name} saved.")
        return redirect("classroom:class_arrangements", school_class.pk)
    context = {
        "school_class": school_class,
        "student": student,
        "arrangement": arrangement,
        "form": form,
        "reading": reading,
        "nav": "classes",
    }
    status = 400 if form.errors or reading.errors else 200
    return render(request, "classroom/arrangements/edit.html", context, status=status)


@login_required
def class_arrangements(request: AuthedRequest, pk: int) -> HttpResponse:
    """The access arrangements of a class's pupils, as an invigilator needs them for a mock."""
    school_class, pupils = permissions.arrangements_for_class(request.user, pk)
    rows = [(pupil, getattr(pupil, "access_arrangement", None)) for pupil in pupils]
    with_arrangements = [row for row in rows if row[1] is not None and not row[1].is_empty]
    context = {
        "school_class": school_class,
        "rows": rows,
        "with_arrangements": with_arrangements,
        "nav": "classes",
    }
    return render(request, "classroom/arrangements/class_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def reading_settings(request: AuthedRequest) -> HttpResponse:
    """The person's own reading preferences; a pupil also sees their access arrangements."""
    user = permissions.reading_preferences_for(request.user)
    arrangement = permissions.own_arrangement_for(user)
    form = ReadingPreferencesForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Reading settings saved: they apply on every page.")
        return redirect("classroom:reading_settings")
    context = {"form": form, "arrangement": arrangement, "nav": ""}
    return render(request, "classroom/arrangements/reading.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def rest_break(request: AuthedRequest, pk: int) -> HttpResponse:
    """Start a rest break ("action=start", sent by the essay form with the text, which is saved
    first) or end it ("action=end": carry on writing). A save that is refused is handed to the
    writing page, which keeps the text in the box and says why; the break does not start."""
    assignment = permissions.assignment_for_writer(request.user, pk)
    submission = Submission.objects.filter(assignment=assignment, student=request.user).first()
    if submission is None:
        messages.error(request, "Start the timed essay first.")
        return redirect("classroom:write", assignment.pk)
    submission.assignment, submission.student = assignment, request.user
    if request.POST.get("action") == "end":
        submission.end_break()
        messages.success(request, "The clock is running again: carry on writing.")
        return redirect("classroom:write", assignment.pk)
    if "text" in request.POST and submission.is_editable:
        form = EssayForm(request.POST)
        if not form.is_valid():
            return assignments.write(request, pk)
        try:
            submission.save_draft(form.cleaned_data["text"], form.cleaned_data["base_revision"])
        except (SubmissionError, Submission.Conflict):
            return assignments.write(request, pk)  # the same save again, shown with the text kept
    try:
        submission.start_break()
    except SubmissionError as error:
        messages.error(request, str(error))
    else:
        messages.info(request, "Rest break started: the clock is stopped and your essay is saved.")
    return redirect("classroom:write", assignment.pk)

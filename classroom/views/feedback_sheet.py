"""The whole-class feedback sheet of an assignment: on screen with the teacher's form, printed
on one A4 page, or projected in large type (`?view=projector`). It names no pupil on any of
them; the figures come from classroom/feedback_sheet.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from classroom import permissions
from classroom.autosave import form_errors
from classroom.department import NamedPupilError, save_feedback_sheet
from classroom.feedback_sheet import build_sheet
from classroom.forms import FeedbackSheetForm
from classroom.types import AuthedRequest


@login_required
@require_http_methods(["GET", "POST"])
def feedback_sheet(request: AuthedRequest, pk: int) -> HttpResponse:
    assignment = permissions.assignment_for_feedback_sheet(request.user, pk)
    status = 200
    form = None
    if request.method == "POST":
        form = FeedbackSheetForm(request.POST)
        if form.is_valid():
            try:
                save_feedback_sheet(assignment, request.user, **form.cleaned_data)
            except NamedPupilError as error:
                messages.error(request, str(error))
                status = 400
            else:
                messages.success(request, "The feedback sheet has been saved.")
                return redirect("classroom:feedback_sheet", assignment.pk)
        else:
            messages.error(request, "Not saved: " + " ".join(form_errors(form)))
            status = 400
    sheet = build_sheet(assignment)
    if form is None:
        record = sheet.record
        form = FeedbackSheetForm(
            initial={
                "misconceptions": record.misconceptions if record else "",
                "exemplar_paragraph": record.exemplar_paragraph if record else "",
            }
        )
    projector = request.GET.get("view") == "projector" and request.method == "GET"
    context = {"assignment": assignment, "sheet": sheet, "form": form, "projector": projector, "nav": "classes"}
    return render(request, "classroom/department/feedback_sheet/sheet.html", context, status=status)

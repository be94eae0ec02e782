"""The department's exemplars: a marked script promoted to an exemplar at its level, with the
marker's comments and the teacher's commentary; the library per question; sharing one with an
assignment; and the pupil's page for one shared with them.

Access: classroom/permissions.py ("department: comment bank and exemplars"). Writes:
classroom/department.py (promote_exemplar, update_exemplar, share_exemplar, unshare_exemplar).
"""

from __future__ import annotations

import re
from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString
from django.views.decorators.http import require_http_methods, require_POST

from classroom import permissions
from classroom.autosave import form_errors
from classroom.department import (
    NamedPupilError,
    exemplar_notes,
    exemplar_pupils,
    level_choices,
    levels_of,
    promote_exemplar,
    roster_of,
    script_roster,
    share_exemplar,
    suggested_level,
    unshare_exemplar,
    update_exemplar,
)
from classroom.essay import render_essay
from classroom.forms import ExemplarForm, ExemplarShareForm
from classroom.models import Exemplar, ExemplarShare, Mark, ReviewMark, SchoolClass
from classroom.types import AuthedRequest
from classroom.views.agreement import department_nav
from crisis.models import EssayPrompt, MarkScheme

_NUMBER = re.compile(r"\d+")


def _level_order(label: str) -> int:
    """The number in a level's label (-1 for "No level"): the library shows the highest first."""
    found = _NUMBER.search(label)
    return int(found.group()) if found else -1


def exemplar_html(exemplar: Exemplar) -> tuple[SafeString, list[dict]]:
    """The exemplar's text with its numbered notes highlighted (as on the marking page), and the notes."""
    notes = list(exemplar.notes or [])
    length = len(exemplar.text)
    anchors = [
        (note["number"], note["start"], note["end"])
        for note in notes
        if isinstance(note.get("start"), int)
        and isinstance(note.get("end"), int)
        and 0 <= note["start"] < note["end"] <= length
    ]
    return render_essay(exemplar.text, anchors, []), notes


def _scheme(prompt_scheme_id: int) -> MarkScheme:
    return MarkScheme.objects.prefetch_related("criteria__levels").get(pk=prompt_scheme_id)


# ----------------------------------------------------------------------------------------
# The library


@login_required
def exemplar_library(request: AuthedRequest) -> HttpResponse:
    """Every question the department has exemplars for, with how many."""
    exemplars = permissions.exemplars_for_teacher(request.user)
    counts = {row["prompt_id"]: row["n"] for row in exemplars.order_by().values("prompt_id").annotate(n=Count("pk"))}
    prompts = list(EssayPrompt.objects.filter(pk__in=list(counts)).select_related("unit").order_by("unit__title", "pk"))
    rows = [(prompt, counts[prompt.pk]) for prompt in prompts]
    context = {
        "rows": rows,
        "nav": "exemplars",
        "department_nav": department_nav(request.user, "classroom:exemplar_library"),
    }
    return render(request, "classroom/department/exemplars/library.html", context)


@login_required
def exemplar_question(request: AuthedRequest, prompt_pk: int) -> HttpResponse:
    """One question's exemplars, grouped by level, the highest first."""
    exemplars = permissions.exemplars_for_teacher(request.user)
    prompt = permissions.content_for_reader(request.user, EssayPrompt.objects.all(), prompt_pk)
    shown = sorted(
        exemplars.filter(prompt=prompt).select_related("promoted_by").annotate(share_count=Count("shares")),
        key=lambda exemplar: (-_level_order(exemplar.level_name), exemplar.level_name, -exemplar.total, exemplar.pk),
    )
    groups = [(label, list(items)) for label, items in groupby(shown, key=lambda exemplar: exemplar.level_name)]
    context = {"prompt": prompt, "groups": groups, "nav": "exemplars"}
    return render(request, "classroom/department/exemplars/question.html", context)


@login_required
def exemplar_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """One exemplar as pupils would see it, where the user has shared it, and the share form."""
    exemplar = permissions.exemplar_for_teacher(request.user, pk)
    essay_html, notes = exemplar_html(exemplar)
    assignments = list(
        permissions.assignments_for_sharing(request.user, exemplar)
        .select_related("school_class")
        .order_by("school_class__name", "title", "pk")
    )
    shares = list(
        exemplar.shares.filter(assignment__school_class__in=SchoolClass.objects.taught_by(request.user))
        .select_related("assignment__school_class")
        .order_by("assignment__school_class__name", "assignment__title")
    )
    context = {
        "exemplar": exemplar,
        "essay_html": essay_html,
        "notes": notes,
        "shares": shares,
        "share_form": ExemplarShareForm(assignments=assignments) if assignments else None,
        "can_edit": permissions.can_edit_exemplar(request.user, exemplar),
        "nav": "exemplars",
    }
    return render(request, "classroom/department/exemplars/detail.html", context)


# ----------------------------------------------------------------------------------------
# Promoting a script, changing and deleting an exemplar


def _promote_page(request: AuthedRequest, context: dict, status: int = 200) -> HttpResponse:
    return render(
        request, "classroom/department/exemplars/promote.html", {**context, "nav": "exemplars"}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def exemplar_promote(request: AuthedRequest, submission_pk: int) -> HttpResponse:
    """Promote a pupil's marked essay: a copy of its text (the teacher takes the names out),
    its level and total, the marker's anchored comments, and the commentary."""
    submission = permissions.submission_for_marker(request.user, submission_pk)
    mark = Mark.objects.filter(submission=submission).prefetch_related("annotations", "criterion_marks__level").first()
    if mark is None or not mark.is_complete:
        messages.error(request, "Complete the mark before making this essay an exemplar.")
        return redirect("classroom:mark_submission", submission.pk)
    assignment = submission.assignment
    scheme = _scheme(assignment.prompt.mark_scheme_id)
    level = suggested_level(scheme, levels_of(mark))
    notes = exemplar_notes(mark, submission.text)
    initial = {
        "title": f"{level or 'An'} answer, {mark.total} out of {mark.max_total}",
        "level_name": level,
        "text": submission.text,
        "notes": [note["number"] for note in notes],
    }
    form = ExemplarForm(request.POST or None, initial=initial, levels=level_choices(scheme), notes=notes)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                exemplar = promote_exemplar(
                    by=request.user,
                    prompt=assignment.prompt,
                    title=data["title"],
                    text=data["text"],
                    level_name=data["level_name"],
                    total=mark.total,
                    max_total=mark.max_total,
                    commentary=data["commentary"],
                    notes=[note for note in notes if note["number"] in data["notes"]],
                    pupils=roster_of(assignment.school_class),
                    submission=submission,
                )
            except NamedPupilError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, f"“{exemplar.title}” is now one of the department's exemplars.")
                return redirect("classroom:exemplar_detail", exemplar.pk)
        else:
            messages.error(request, "Not saved: " + " ".join(form_errors(form)))
    context = {
        "form": form,
        "source": submission.marking_label,
        "assignment": assignment,
        "back": ("classroom:mark_submission", submission.pk),
        "total": mark.total,
        "max_total": mark.max_total,
    }
    return _promote_page(request, context, status)


@login_required
@require_http_methods(["GET", "POST"])
def exemplar_promote_script(request: AuthedRequest, script_pk: int) -> HttpResponse:
    """The head promotes a standardisation script, at its agreed mark, with its rationale."""
    script = permissions.script_for_exemplar(request.user, script_pk)
    agreed = (
        ReviewMark.objects.filter(script=script, kind=ReviewMark.Kind.AGREED_STANDARD, completed_at__isnull=False)
        .prefetch_related("criterion_marks__level")
        .first()
    )
    if agreed is None:
        messages.error(request, f"Agree the mark of {script.label} before making it an exemplar.")
        return redirect("classroom:exemplar_library")
    prompt = script.standardisation.prompt
    scheme = _scheme(prompt.mark_scheme_id)
    level = suggested_level(scheme, levels_of(agreed))
    initial = {
        "title": f"{level or 'An'} answer, {agreed.total} out of {agreed.max_total}",
        "level_name": level,
        "text": script.text,
        "commentary": script.rationale,
    }
    form = ExemplarForm(request.POST or None, initial=initial, levels=level_choices(scheme))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                exemplar = promote_exemplar(
                    by=request.user,
                    prompt=prompt,
                    title=data["title"],
                    text=data["text"],
                    level_name=data["level_name"],
                    total=agreed.total,
                    max_total=agreed.max_total,
                    commentary=data["commentary"],
                    notes=[],
                    pupils=script_roster(script.submission),
                    script=script,
                )
            except NamedPupilError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, f"“{exemplar.title}” is now one of the department's exemplars.")
                return redirect("classroom:exemplar_detail", exemplar.pk)
        else:
            messages.error(request, "Not saved: " + " ".join(form_errors(form)))
    context = {
        "form": form,
        "source": script.label,
        "assignment": None,
        "back": ("classroom:exemplar_library", None),
        "total": agreed.total,
        "max_total": agreed.max_total,
    }
    return _promote_page(request, context, status)


@login_required
@require_http_methods(["GET", "POST"])
def exemplar_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    exemplar = permissions.exemplar_for_editor(request.user, pk)
    levels = level_choices(_scheme(exemplar.prompt.mark_scheme_id))
    if exemplar.level_name not in levels:
        levels.append(exemplar.level_name)  # filed before the scheme changed
    initial = {"title": exemplar.title, "level_name": exemplar.level_name, "commentary": exemplar.commentary}
    form = ExemplarForm(request.POST or None, initial=initial, levels=levels, with_text=False)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                update_exemplar(exemplar, pupils=exemplar_pupils(exemplar), **form.cleaned_data)
            except NamedPupilError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, "Exemplar saved.")
                return redirect("classroom:exemplar_detail", exemplar.pk)
        else:
            messages.error(request, "Not saved: " + " ".join(form_errors(form)))
    context = {"exemplar": exemplar, "form": form, "nav": "exemplars"}
    return render(request, "classroom/department/exemplars/edit.html", context, status=status)


@login_required
@require_POST
def exemplar_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    exemplar = permissions.exemplar_for_editor(request.user, pk)
    prompt_pk, title = exemplar.prompt_id, exemplar.title
    exemplar.delete()
    messages.success(request, f"“{title}” deleted: pupils no longer see it anywhere.")
    return redirect("classroom:exemplar_question", prompt_pk)


# ----------------------------------------------------------------------------------------
# Sharing with an assignment, and the pupil's page


@login_required
@require_POST
def exemplar_share(request: AuthedRequest, pk: int) -> HttpResponse:
    exemplar = permissions.exemplar_for_teacher(request.user, pk)
    assignments = {
        assignment.pk: assignment
        for assignment in permissions.assignments_for_sharing(request.user, exemplar).select_related("school_class")
    }
    form = ExemplarShareForm(request.POST, assignments=list(assignments.values()))
    if form.is_valid():
        assignment = assignments[form.cleaned_data["assignment"]]
        share = share_exemplar(exemplar, assignment, form.cleaned_data["when"], by=request.user)
        messages.success(
            request,
            f"Shared with {assignment.school_class.name}: {assignment.title}. "
            f"Pupils see it {share.get_when_display().lower()}.",
        )
    else:
        messages.error(request, "Not shared: " + " ".join(form_errors(form)))
    return redirect("classroom:exemplar_detail", exemplar.pk)


@login_required
@require_POST
def exemplar_unshare(request: AuthedRequest, pk: int, assignment_pk: int) -> HttpResponse:
    exemplar = permissions.exemplar_for_teacher(request.user, pk)
    assignment = permissions.assignment_for_teacher(request.user, assignment_pk)
    if unshare_exemplar(exemplar, assignment):
        messages.success(request, f"{assignment.school_class.name} no longer sees this exemplar on {assignment.title}.")
    else:
        messages.info(request, f"This exemplar was not shared with {assignment.title}.")
    return redirect("classroom:exemplar_detail", exemplar.pk)


@login_required
def exemplar_for_pupil(request: AuthedRequest, assignment_pk: int, pk: int) -> HttpResponse:
    """An exemplar shared with one of the pupil's assignments, once it is released to them."""
    share: ExemplarShare = permissions.exemplar_share_for_member(request.user, assignment_pk, pk)
    exemplar = share.exemplar
    essay_html, notes = exemplar_html(exemplar)
    context = {
        "share": share,
        "assignment": share.assignment,
        "exemplar": exemplar,
        "essay_html": essay_html,
        "notes": notes,
        "nav": "work" if request.user.is_student else "classes",
    }
    return render(request, "classroom/department/exemplars/for_pupil.html", context)

"""Standardisation (issue 14, item 2): the head's agreed scripts for a question, each marker's
blind marks of them, and how close each marker came to the agreed marks.

Access is checked on each view's first line through classroom.permissions ("department:
standardisation"); every write goes through classroom.department ("standardisation"). A
marker's pages never receive a script's agreed mark or rationale before they have marked it
(the context holds neither), nor the pupil or class it came from.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from classroom import department, permissions
from classroom.department import NamedPupilError, ScriptError
from classroom.forms import AddScriptForm, ReviewMarkForm, ScriptTextForm, StandardisationForm, whole_number
from classroom.models import (
    MarkError,
    ReviewMark,
    Standardisation,
    Submission,
    User,
)
from classroom.types import AuthedRequest
from classroom.views.agreement import department_nav
from classroom.views.marking import criterion_initial, criterion_rows, marking_order, scheme_criteria
from crisis.models import Criterion, EssayPrompt
from crisis.wording import plural

AGREED = ReviewMark.Kind.AGREED_STANDARD
TRIAL = ReviewMark.Kind.TRIAL


def _initial(review: ReviewMark | None, note: str = "") -> dict[str, object]:
    """ReviewMarkForm's starting values from a review mark (criterion_marks loaded)."""
    rows = review.criterion_marks.all() if review is not None else []
    return {"note": note, **criterion_initial((row.criterion_id, row.level_id, row.marks) for row in rows)}


def _nav(user: User) -> list[tuple[str, str, bool]]:
    return department_nav(user, "classroom:standardisation_list")


# ----------------------------------------------------------------------------------------
# Every teacher: the list, and marking the scripts blind


@login_required
def standardisation_list(request: AuthedRequest) -> HttpResponse:
    """Heads: every standardisation, to set up. Teachers: those with scripts to mark, and how
    far they have got."""
    user = request.user
    # Queries: session, user, standardisations with their counts.
    standardisations = list(
        permissions.standardisations_for_teacher(user)
        .select_related("prompt")
        .annotate(
            script_count=Count("scripts", distinct=True),
            ready=Count("scripts", filter=Q(scripts__review_marks__kind=AGREED), distinct=True),
            done=Count(
                "scripts",
                filter=Q(scripts__review_marks__kind=TRIAL, scripts__review_marks__marker=user),
                distinct=True,
            ),
        )
        .order_by("-created_at", "-pk")
    )
    if not user.is_head:
        standardisations = [s for s in standardisations if s.ready]
    return render(
        request,
        "classroom/department/standardisation/list.html",
        {"standardisations": standardisations, "department_nav": _nav(user), "nav": "department"},
    )


def _progress(request: AuthedRequest, standardisation: Standardisation) -> list[department.AgreedScript]:
    return department.agreed_scripts_with_marks(standardisation, marker=request.user)


@login_required
def standardisation_take(request: AuthedRequest, pk: int) -> HttpResponse:
    """The marker's scripts: which they have marked and, for those, how close they came."""
    standardisation = permissions.standardisation_for_marker(request.user, pk)
    # Queries: session, user, standardisation, scripts, review marks, criterion marks, criteria.
    scripts = _progress(request, standardisation)
    criteria = scheme_criteria(standardisation.prompt.mark_scheme)
    rows = []
    for item in scripts:
        trial = item.trials.get(request.user.pk)
        # The agreed mark leaves this function only inside a comparison with the marker's own.
        comparison = (
            None if trial is None else department.compare_with_agreed(standardisation, criteria, trial, item.agreed)
        )
        rows.append((item.script, comparison))
    done = sum(1 for _script, comparison in rows if comparison is not None)
    return render(
        request,
        "classroom/department/standardisation/take.html",
        {
            "standardisation": standardisation,
            "rows": rows,
            "done": done,
            "all_done": bool(rows) and done == len(rows),
            "rule": department.tolerance_rule(standardisation),
            "department_nav": _nav(request.user),
            "nav": "department",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def standardisation_trial(request: AuthedRequest, pk: int) -> HttpResponse:
    """Mark one script blind (label, question and text only); once marked, the agreed mark,
    the rationale and the difference. A mark once given is final."""
    script = permissions.script_for_marker(request.user, pk)
    standardisation = script.standardisation
    criteria = scheme_criteria(standardisation.prompt.mark_scheme)
    own = ReviewMark.objects.filter(script=script, kind=TRIAL, marker=request.user)
    trial = own.prefetch_related("criterion_marks__level").first()
    status = 200
    form = None
    if trial is not None:
        if request.method == "POST":
            messages.error(
                request, f"You have already marked {script.label}, and your mark stands: it was not changed."
            )
            return redirect("classroom:standardisation_trial", script.pk)
    elif request.method == "POST":
        form = ReviewMarkForm(request.POST, criteria=criteria)
        if form.is_valid():
            try:
                department.record_trial_mark(script, request.user, form.cleaned_data["scores"])
            except MarkError as error:
                messages.error(request, str(error))
                status = 400
            else:
                messages.success(request, f"Your mark of {script.label} is saved. Here is the agreed mark beside it.")
                return redirect("classroom:standardisation_trial", script.pk)
        else:
            messages.error(request, "Your mark was not saved: correct the levels and marks shown below.")
            status = 400
    else:
        form = ReviewMarkForm(criteria=criteria)
    context: dict[str, object] = {
        "standardisation": standardisation,
        "script": script,
        "prompt": standardisation.prompt,
        "department_nav": _nav(request.user),
        "nav": "department",
    }
    if trial is None:
        assert form is not None
        context.update(form=form, criterion_rows=criterion_rows(form, criteria), editable=True)
    else:
        agreed = (
            ReviewMark.objects.filter(script=script, kind=AGREED).prefetch_related("criterion_marks__level").first()
        )
        assert agreed is not None  # script_for_marker only finds scripts with one
        context.update(
            comparison=department.compare_with_agreed(standardisation, criteria, trial, agreed),
            rationale=script.rationale,
            rule=department.tolerance_rule(standardisation),
            following=department.agreed_scripts()
            .filter(standardisation=standardisation)
            .exclude(review_marks__kind=TRIAL, review_marks__marker=request.user)
            .order_by("order", "pk")
            .first(),
        )
    return render(request, "classroom/department/standardisation/trial.html", context, status=status)


# ----------------------------------------------------------------------------------------
# The head: setting a standardisation up


def _prompt_choices() -> list[tuple[int, str]]:
    prompts = EssayPrompt.objects.select_related("owner").order_by("question", "pk")
    return [
        (
            prompt.pk,
            prompt.question if prompt.owner is None else f"{prompt.question} ({prompt.owner.display_name}’s copy)",
        )
        for prompt in prompts
    ]


@login_required
@require_http_methods(["GET", "POST"])
def standardisation_create(request: AuthedRequest) -> HttpResponse:
    permissions.require_head(request.user)
    form = StandardisationForm(request.POST or None, prompts=_prompt_choices())
    if request.method == "POST" and form.is_valid():
        standardisation = form.save(commit=False)
        standardisation.prompt_id = form.cleaned_data["prompt"]
        standardisation.created_by = request.user
        standardisation.save()
        messages.success(request, "Standardisation set up. Now pick its scripts.")
        return redirect("classroom:standardisation_add_script", standardisation.pk)
    return render(
        request,
        "classroom/department/standardisation/form.html",
        {"form": form, "department_nav": _nav(request.user), "nav": "department"},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def standardisation_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    standardisation = permissions.standardisation_for_head(request.user, pk)
    form = StandardisationForm(request.POST or None, instance=standardisation)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Changes saved.")
        return redirect("classroom:standardisation_detail", standardisation.pk)
    return render(
        request,
        "classroom/department/standardisation/form.html",
        {"form": form, "standardisation": standardisation, "department_nav": _nav(request.user), "nav": "department"},
        status=400 if form.is_bound else 200,
    )


@login_required
def standardisation_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """The head's page: the scripts, their agreed totals, and how many markers have marked each."""
    standardisation = permissions.standardisation_for_head(request.user, pk)
    agreed = ReviewMark.objects.filter(script=OuterRef("pk"), kind=AGREED)
    # Queries: session, user, standardisation, scripts with their sources and counts.
    scripts = list(
        standardisation.scripts.select_related("submission__assignment__school_class")
        .annotate(
            agreed_total=Subquery(agreed.values("total")[:1]),
            agreed_max=Subquery(agreed.values("max_total")[:1]),
            trial_count=Count("review_marks", filter=Q(review_marks__kind=TRIAL)),
        )
        .order_by("order", "pk")
    )
    return render(
        request,
        "classroom/department/standardisation/detail.html",
        {
            "standardisation": standardisation,
            "scripts": scripts,
            "rule": department.tolerance_rule(standardisation),
            "department_nav": _nav(request.user),
            "nav": "department",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def standardisation_add_script(request: AuthedRequest, pk: int) -> HttpResponse:
    """Pick a handed-in essay (marked or not) from any class's assignment on the question: it
    is copied in as the next script. A copy naming a pupil of that class is refused until the
    head takes the names out of it here."""
    standardisation = permissions.standardisation_for_head(request.user, pk)
    essays = permissions.essays_for_standardisation(request.user, standardisation)
    fixing: AddScriptForm | None = None
    named = ""
    if request.method == "POST":
        form = AddScriptForm(request.POST)
        submission = None
        if form.is_valid():
            submission = (
                essays.filter(pk=form.cleaned_data["submission"]).select_related("assignment__school_class").first()
            )
        if submission is None:
            problem = " ".join(str(e) for e in form.errors.get("text", [])) if form.errors else ""
            messages.error(
                request,
                f"Nothing was added: {problem}"
                if problem
                else "That essay cannot be picked: choose a handed-in essay on this question.",
            )
            return redirect("classroom:standardisation_add_script", standardisation.pk)
        text = form.cleaned_data["text"] or submission.text
        try:
            script = department.add_script(standardisation, submission, text)
        except NamedPupilError as error:
            named = str(error)
            fixing = AddScriptForm(initial={"submission": submission.pk, "text": text})
        except ScriptError as error:
            messages.error(request, str(error))
            return redirect(
                reverse("classroom:standardisation_add_script", args=[standardisation.pk])
                + f"?assignment={submission.assignment_id}"
            )
        else:
            messages.success(request, f"Added {script.label}. Now set its agreed mark and rationale.")
            return redirect("classroom:standardisation_script", script.pk)
    # Queries: session, user, standardisation, the assignments; once one is chosen: the
    # scripts already picked and its essays with their pupils and marks.
    assignments = list(
        permissions.assignments_for_standardisation(request.user, standardisation)
        .select_related("school_class")
        .order_by("school_class__name", "title", "pk")
    )
    chosen_pk = whole_number(request.GET.get("assignment"))
    chosen = next((a for a in assignments if a.pk == chosen_pk), None)
    rows: list[tuple[Submission, str]] = []
    if chosen is not None and fixing is None:
        picked = dict(standardisation.scripts.filter(submission__isnull=False).values_list("submission_id", "label"))
        for essay in (
            essays.filter(assignment=chosen)
            .select_related("student", "mark")
            .defer("text")
            .order_by(*marking_order(chosen))
        ):
            essay.assignment = chosen
            rows.append((essay, picked.get(essay.pk, "")))
    return render(
        request,
        "classroom/department/standardisation/add_script.html",
        {
            "standardisation": standardisation,
            "assignments": assignments,
            "chosen": chosen,
            "rows": rows,
            "fixing": fixing,
            "named": named,
            "department_nav": _nav(request.user),
            "nav": "department",
        },
        status=400 if fixing is not None else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def standardisation_script(request: AuthedRequest, pk: int) -> HttpResponse:
    """The head's script page: the copy (to take names out of), the agreed mark and rationale."""
    script = permissions.script_for_head(request.user, pk)
    standardisation = script.standardisation
    criteria = scheme_criteria(standardisation.prompt.mark_scheme)
    agreed = ReviewMark.objects.filter(script=script, kind=AGREED).prefetch_related("criterion_marks").first()
    text_form = ScriptTextForm(initial={"text": script.text}, prefix="copy")
    mark_form = _agreed_form(criteria, initial=_initial(agreed, script.rationale))
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "text":
                text_form = ScriptTextForm(request.POST, prefix="copy")
                if not text_form.is_valid():
                    raise ScriptError("The copy was not saved: see below.")
                department.change_script_text(script, text_form.cleaned_data["text"])
                messages.success(request, "The copy is saved.")
                return redirect("classroom:standardisation_script", script.pk)
            if action == "agree":
                mark_form = _agreed_form(criteria, data=request.POST)
                if not mark_form.is_valid():
                    raise MarkError("The agreed mark was not saved: correct the levels and marks shown below.")
                scores, rationale = mark_form.cleaned_data["scores"], mark_form.cleaned_data["note"]
                department.set_agreed_mark(script, request.user, scores, rationale)
                messages.success(request, f"The agreed mark of {script.label} is saved.")
                return redirect("classroom:standardisation_script", script.pk)
            raise ScriptError("Nothing was saved: use one of the buttons on the page.")
        except (MarkError, NamedPupilError, ScriptError) as error:
            messages.error(request, str(error))
            status = 400
    trial_count = ReviewMark.objects.filter(script=script, kind=TRIAL).count()
    source = script.submission.assignment if script.submission is not None else None
    return render(
        request,
        "classroom/department/standardisation/script.html",
        {
            "standardisation": standardisation,
            "script": script,
            "source": source,
            "agreed": agreed,
            "text_form": text_form,
            "form": mark_form,
            "criterion_rows": criterion_rows(mark_form, criteria),
            "editable": True,
            "trial_count": trial_count,
            "department_nav": _nav(request.user),
            "nav": "department",
        },
        status=status,
    )


def _agreed_form(criteria: list[Criterion], **kwargs) -> ReviewMarkForm:
    return ReviewMarkForm(
        criteria=criteria,
        note_label="Rationale: why this is the agreed mark (markers read it once they have marked the script)",
        note_required=True,
        **kwargs,
    )


@login_required
@require_POST
def standardisation_script_remove(request: AuthedRequest, pk: int) -> HttpResponse:
    """Take a script out (with every marker's mark of it), once the head ticks to confirm."""
    script = permissions.script_for_head(request.user, pk)
    if request.POST.get("confirm") != "yes":
        messages.error(
            request, f"Tick the box to confirm that you want to take out {script.label}. Nothing was changed."
        )
        return redirect("classroom:standardisation_script", script.pk)
    script.delete()
    messages.success(request, f"{script.label} is taken out, with the markers' marks of it.")
    return redirect("classroom:standardisation_detail", script.standardisation_id)


@login_required
def standardisation_results(request: AuthedRequest, pk: int) -> HttpResponse:
    """Each marker: scripts marked, their differences from the agreed marks, and whether they
    are within tolerance (the rule is on the page)."""
    standardisation = permissions.standardisation_for_head(request.user, pk)
    # Queries: session, user, standardisation, scripts, review marks, criterion marks (with
    # levels), criteria, markers: the same for any number of scripts and markers.
    scripts = department.agreed_scripts_with_marks(standardisation)
    criteria = scheme_criteria(standardisation.prompt.mark_scheme)
    results = department.marker_results(standardisation, criteria, scripts)
    within = sum(1 for result in results if result.within)
    return render(
        request,
        "classroom/department/standardisation/results.html",
        {
            "standardisation": standardisation,
            "scripts": scripts,
            "results": results,
            "summary": f"{plural(within, 'marker')} within tolerance, of {plural(len(results), 'marker')}.",
            "rule": department.tolerance_rule(standardisation),
            "department_nav": _nav(request.user),
            "nav": "department",
        },
    )

"""Comparative judgement: the sessions, the judging screen, the results with their
suggested marks, and the CSV.

Access is checked on each view's first line through classroom.permissions ("comparative
judgement"); every write goes through classroom.judging. The judging screen's context holds
two anonymised scripts, the question and its sources: never a name, a class, a score or
another judge's choice.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from classroom import judging, lookups, permissions, privacy
from classroom.csvsafe import write_csv
from classroom.forms import JudgingSessionForm, whole_number
from classroom.judging import JudgingError, Results, ScriptResult
from classroom.models import Assignment, JudgingSession, SchoolClass, User
from classroom.status import MARKABLE_STATES
from classroom.types import AuthedRequest
from classroom.views.agreement import department_nav
from crisis.wording import plural

# An infit above this marks a script the judges disagreed on, or a judge out of step with the rest.
MISFIT = 1.2


def _nav(user: User) -> list[tuple[str, str, bool]]:
    return department_nav(user, "classroom:judging_list")


def _session_rows(user: User, sessions) -> list[JudgingSession]:
    """Sessions with their counts (`script_count`, `made`, `mine`) and classes, in one query
    plus one for the classes."""
    return list(
        sessions.select_related("prompt")
        .prefetch_related(
            Prefetch("assignments", queryset=Assignment.objects.select_related("school_class").order_by("pk"))
        )
        .annotate(
            script_count=Count("scripts", distinct=True),
            made=Count("judgements", filter=Q(judgements__decided_at__isnull=False), distinct=True),
            mine=Count(
                "judgements",
                filter=Q(judgements__decided_at__isnull=False, judgements__judge=user),
                distinct=True,
            ),
        )
        .order_by("-created_at", "-pk")
    )


@login_required
def judging_list(request: AuthedRequest) -> HttpResponse:
    """Teachers: every session, to judge in, with links to results and settings where theirs.
    Pupils: the sessions they may judge in, and how many judgements they have made."""
    user = request.user
    if user.is_student:
        sessions = _session_rows(user, permissions.sessions_for_pupil_judge(user))
        return render(request, "classroom/judging/list_pupil.html", {"sessions": sessions})
    sessions = _session_rows(user, permissions.judging_sessions_for_teacher(user))
    taught = set(permissions.classes_visible_to(user).filter(teachers=user).values_list("pk", flat=True))
    for session in sessions:
        session.needed = (session.script_count * session.target + 1) // 2  # type: ignore[attr-defined]
        session.can_read = (  # type: ignore[attr-defined]
            user.is_head
            or session.created_by_id == user.pk
            or any(a.school_class_id in taught for a in session.assignments.all())
        )
        session.can_manage = permissions.can_manage_judging(user, session)  # type: ignore[attr-defined]
    return render(
        request,
        "classroom/judging/list.html",
        {"sessions": sessions, "department_nav": _nav(user), "nav": "department"},
    )


@login_required
def judging_create(request: AuthedRequest) -> HttpResponse:
    user = request.user
    assignments = (
        permissions.assignments_for_judging(user)
        .active()
        .select_related("school_class", "prompt")
        .annotate(handed_in=Count("submissions", filter=Q(submissions__state__in=MARKABLE_STATES)))
        .order_by("school_class__name", "-due_at", "pk")
    )
    initial: dict[str, object] = {}
    chosen = whole_number(request.GET.get("assignment"))
    if chosen is not None:
        assignment = assignments.filter(pk=chosen).first()
        if assignment is not None:
            initial = {"assignments": [assignment.pk], "title": assignment.title}
    form = JudgingSessionForm(
        request.POST or None,
        initial=initial,
        assignments=assignments,
        judge_classes=permissions.judge_classes_for(user).order_by("name"),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = judging.create_session(
                user,
                data["title"],
                list(data["assignments"]),
                target=data["target"],
                peer_judging=data["peer_judging"],
                judge_classes=data["judge_classes"] if data["peer_judging"] else [],
            )
        except JudgingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Session set up with {plural(session.scripts.count(), 'script')}.")
            return redirect("classroom:judging_results", session.pk)
    return render(
        request,
        "classroom/judging/form.html",
        {"form": form, "creating": True, "department_nav": _nav(user), "nav": "department"},
    )


@login_required
def judging_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Settings (title, target, peer judging), closing and reopening, and bringing in essays
    handed in since the session began."""
    user = request.user
    session = permissions.session_for_owner(user, pk)
    action = request.POST.get("action", "")
    if request.method == "POST" and action in ("close", "reopen", "add"):
        if action == "close":
            judging.close_session(session)
            messages.success(request, "Judging has closed; the results stay.")
        elif action == "reopen":
            judging.reopen_session(session)
            messages.success(request, "Judging has reopened.")
        else:
            added = judging.add_scripts(session)
            messages.success(
                request, f"Added {plural(added, 'script')}." if added else "No essays have been handed in since."
            )
        return redirect("classroom:judging_edit", session.pk)
    form = JudgingSessionForm(
        request.POST or None,
        initial={
            "title": session.title,
            "target": session.target,
            "peer_judging": session.peer_judging,
            "judge_classes": list(session.judge_classes.values_list("pk", flat=True)),
        },
        # The classes the user may choose, and those already chosen (perhaps by a head), once each.
        judge_classes=SchoolClass.objects.filter(
            Q(pk__in=permissions.judge_classes_for(user).values("pk")) | Q(pk__in=session.judge_classes.values("pk"))
        ).order_by("name"),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            judging.update_session(
                session,
                title=data["title"],
                target=data["target"],
                peer_judging=data["peer_judging"],
                judge_classes=data["judge_classes"] if data["peer_judging"] else [],
            )
        except JudgingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Settings saved.")
            return redirect("classroom:judging_results", session.pk)
    return render(
        request,
        "classroom/judging/form.html",
        {
            "form": form,
            "session": session,
            "waiting": judging.essays_to_add(session).count(),
            "department_nav": _nav(user),
            "nav": "department",
        },
    )


@login_required
def judging_judge(request: AuthedRequest, pk: int) -> HttpResponse:
    """The judging screen: the pair this judge is to compare (GET), and their choice (POST,
    then back to the next pair)."""
    user = request.user
    session = permissions.session_for_judge(user, pk)
    if request.method == "POST":
        # Only a pair of this session: the access check above was for this session alone.
        judgement = session.judgements.filter(pk=whole_number(request.POST.get("judgement")) or 0).first()
        try:
            if judgement is None:
                raise JudgingError("That pair is no longer waiting for you: here is your next one.")
            judging.decide(judgement, user, request.POST.get("choice", ""), request.POST.get("note", ""))
        except JudgingError as error:
            messages.error(request, str(error))
        return redirect("classroom:judging_judge", session.pk)
    pair = judging.pair_for(session, user)
    context: dict[str, object] = {"session": session, "made": judging.judgements_by(session, user)}
    if not user.is_student:
        context["progress"] = judging.session_progress(session)
        context["can_read_results"] = permissions.can_read_judging_results(user, session)
        context["department_nav"] = _nav(user)
        context["nav"] = "department"
    if pair is None:
        return render(request, "classroom/judging/done.html", context)
    prompt = session.prompt
    sources = lookups.prompt_sources(prompt.pk)
    scripts = {
        s.pk: s for s in session.scripts.filter(pk__in=[pair.left_id, pair.right_id]).only("pk", "number", "text")
    }
    context.update(
        judgement=pair,
        left=scripts[pair.left_id],
        right=scripts[pair.right_id],
        prompt=prompt,
        sources=sources,
        note_max=judging.MAX_JUDGEMENT_NOTE_CHARS,
    )
    return render(request, "classroom/judging/judge.html", context)


def out_of(result: Results, row: ScriptResult) -> int | None:
    """What the script's marks are out of (its question's scheme's content total)."""
    scheme = result.schemes.get(row.script.submission.assignment.prompt.mark_scheme_id)
    return scheme.total_marks if scheme is not None else None


def _names(user: User, session: JudgingSession, result: Results) -> dict[int, str]:
    named = permissions.judging_scripts_named_for(user, session)
    return {
        row.script.pk: row.script.submission.student.display_name for row in result.scripts if row.script.pk in named
    }


def _pupil_judges_named(user: User, result: Results) -> set[int]:
    """Pupil judges the reader may see named: pupils of classes they teach (heads: all)."""
    pupils = [j.judge.pk for j in result.judges if j.by_pupil and j.judge is not None]
    if user.is_head or not pupils:
        return set(pupils)
    return set(
        User.objects.filter(
            pk__in=pupils, enrolments__school_class__teachers=user, enrolments__removed_at__isnull=True
        ).values_list("pk", flat=True)
    )


@login_required
def judging_results(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    session = permissions.session_for_results(user, pk)
    result = judging.results(session)
    allowed = permissions.judging_scripts_taught_by(user, session)
    names = _names(user, session, result)
    named_judges = _pupil_judges_named(user, result)
    rows = []
    for row in result.scripts:
        refusal = judging.acceptance_refusal(row)
        if not refusal and row.script.pk not in allowed:
            refusal = "Not a class you teach."
        rows.append(
            {
                "row": row,
                "name": names.get(row.script.pk, ""),
                "refusal": refusal,
                "out_of": out_of(result, row),
                "misfit": row.infit is not None and row.infit > MISFIT,
                "disagrees": row.disagreement is not None and abs(row.disagreement) > 2,
            }
        )
    judges = []
    pupil_number = 0
    for judge in result.judges:
        if judge.judge is None:
            label = "A former account"
        elif judge.by_pupil and judge.judge.pk not in named_judges:
            pupil_number += 1
            label = f"Pupil judge {pupil_number}"
        else:
            label = judge.judge.display_name + (" (pupil)" if judge.by_pupil else "")
        judges.append({"judge": judge, "label": label, "misfit": judge.infit is not None and judge.infit > MISFIT})
    return render(
        request,
        "classroom/judging/results.html",
        {
            "session": session,
            "result": result,
            "rows": rows,
            "judges": judges,
            "acceptable": sum(1 for r in rows if not r["refusal"]),
            "can_manage": permissions.can_manage_judging(user, session),
            "department_nav": _nav(user),
            "nav": "department",
        },
    )


@login_required
def judging_csv(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    session = permissions.session_for_results(user, pk)
    result = judging.results(session)
    names = _names(user, session, result)
    privacy.log_access(user, None, "Comparative judgement results (CSV)", session)
    header = [
        "rank",
        "script",
        "pupil",
        "class",
        "true_score",
        "se",
        "infit",
        "judgements",
        "wins",
        "agreed_mark",
        "agreed_from",
        "anchor",
        "suggested_mark",
        "suggested_low",
        "suggested_high",
        "predicted_level",
        "out_of",
    ]
    lines = []
    for row in result.scripts:
        suggestion = row.suggestion
        lines.append(
            [
                row.rank,
                row.script.label,
                names.get(row.script.pk, ""),
                row.script.submission.assignment.school_class.name,
                round(row.score, 3) if row.judgements else "",
                round(row.standard_error, 3) if row.judgements else "",
                None if row.infit is None else round(row.infit, 2),
                row.judgements,
                row.wins,
                "" if row.agreed is None else row.agreed.total,
                "" if row.agreed is None else row.agreed.source,
                "yes" if row.is_anchor else "",
                "" if suggestion is None else suggestion.total,
                "" if suggestion is None else suggestion.low,
                "" if suggestion is None else suggestion.high,
                "" if suggestion is None or suggestion.level_number is None else suggestion.level_number,
                out_of(result, row) if suggestion is not None else "",
            ]
        )
    response = HttpResponse(write_csv(lines, header), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="judging-{session.pk}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def judging_accept(request: AuthedRequest, pk: int) -> HttpResponse:
    """Put the ticked scripts' suggested marks into the markbook."""
    user = request.user
    session = permissions.session_for_results(user, pk)
    allowed = permissions.judging_scripts_taught_by(user, session)
    chosen = {n for n in (whole_number(v) for v in request.POST.getlist("script")) if n is not None}
    try:
        labels = judging.accept(session, user, chosen, request.POST.get("fingerprint", ""), allowed)
    except JudgingError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Accepted {plural(len(labels), 'suggested mark')} into the markbook ({', '.join(labels)}): "
            "complete, not yet released to pupils.",
        )
    return redirect(reverse("classroom:judging_results", args=[session.pk]) + "#scripts")


@login_required
@require_POST
def judging_anchor(request: AuthedRequest, pk: int) -> HttpResponse:
    """Use a script's agreed mark as an anchor, or leave it out."""
    script = permissions.judging_script_for_owner(request.user, pk)
    anchor = request.POST.get("anchor") == "1"
    judging.set_anchor(script, anchor)
    messages.success(
        request,
        f"{script.label} {'is an anchor again' if anchor else 'is no longer an anchor'}: the suggestions moved.",
    )
    return redirect(reverse("classroom:judging_results", args=[script.session_id]) + "#scripts")


@login_required
@require_POST
def judging_judge_left_out(request: AuthedRequest, pk: int) -> HttpResponse:
    """Leave a judge's judgements out of the results, or bring them back."""
    session = permissions.session_for_owner(request.user, pk)
    judge_pk = whole_number(request.POST.get("judge"))
    judge = User.objects.filter(pk=judge_pk or 0, pk__in=session.judgements.values("judge_id")).first()
    if judge is None:
        messages.error(request, "That judge has made no judgements in this session.")
    else:
        left_out = request.POST.get("left_out") == "1"
        judging.set_judge_left_out(session, judge, left_out)
        messages.success(
            request,
            "Their judgements are left out of the results." if left_out else "Their judgements count again.",
        )
    return redirect(reverse("classroom:judging_results", args=[session.pk]) + "#judges")

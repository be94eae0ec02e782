"""Blind second marking and moderation: drawing a sample of an assignment's marks,
the second marker's blind pages, the moderator's side-by-side page and agreed mark, and the
head's audit trail of marks.

Access is checked on each view's first line through classroom.permissions; every write goes
through classroom.department (draw_sample, record_second_mark, agree_mark). The second
marker's pages never receive the first mark, its comments, the first marker's name or the
pupil's name or candidate number: the context holds none of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from classroom import department, permissions
from classroom.forms import ReviewMarkForm, SampleForm
from classroom.models import MarkChange, MarkError, ModerationItem, ModerationSample, ReviewMark, User
from classroom.types import AuthedRequest
from classroom.views.agreement import department_nav
from classroom.views.marking import criterion_initial, criterion_rows, scheme_criteria
from crisis.models import Criterion
from crisis.wording import plural


def _label_order(label: str) -> tuple[int, str]:
    """ "Script 2" before "Script 10"."""
    found = re.search(r"(\d+)$", label)
    return (int(found.group(1)) if found else 0, label)


def _initial(levels: dict[int, tuple[int | None, int | None, int]], note: str = "") -> dict[str, object]:
    """The form's starting values from criterion id → (level id, level number, marks)."""
    return {"note": note, **criterion_initial((cid, level_id, marks) for cid, (level_id, _n, marks) in levels.items())}


def _review(item: ModerationItem, kind: str) -> ReviewMark | None:
    return (
        item.review_marks.filter(kind=kind, completed_at__isnull=False)
        .select_related("marker")
        .prefetch_related("criterion_marks__level")
        .first()
    )


# ----------------------------------------------------------------------------------------
# The teacher's list: scripts to second-mark, samples to moderate


@login_required
def moderation_home(request: AuthedRequest) -> HttpResponse:
    """The scripts the teacher is named to second-mark (by label only) and the samples they
    moderate (heads: every sample)."""
    second_done = ReviewMark.objects.filter(
        item=OuterRef("pk"), kind=ReviewMark.Kind.SECOND, completed_at__isnull=False
    )
    # Queries: session, user, the teacher's scripts (+ sample, question), the samples (+ counts).
    items = list(
        permissions.second_marking_for(request.user)
        .select_related("sample__assignment__prompt")
        .annotate(second_done=Exists(second_done))
    )
    items.sort(key=lambda item: (-item.sample.created_at.timestamp(), item.sample_id, _label_order(item.label)))
    samples = (
        permissions.samples_for_moderator(request.user)
        .select_related("assignment__school_class", "created_by")
        .annotate(
            scripts=Count("items", distinct=True),
            agreed=Count("items", filter=Q(items__agreed_at__isnull=False), distinct=True),
            second_marked=Count(
                "items__review_marks",
                filter=Q(
                    items__review_marks__kind=ReviewMark.Kind.SECOND, items__review_marks__completed_at__isnull=False
                ),
                distinct=True,
            ),
        )
        .order_by("-created_at", "-pk")
    )
    return render(
        request,
        "classroom/department/moderation/home.html",
        {
            "items": items,
            "samples": list(samples),
            "waiting": sum(1 for item in items if not item.second_done and item.agreed_at is None),
            "department_nav": department_nav(request.user, "classroom:moderation_home"),
        },
    )


# ----------------------------------------------------------------------------------------
# Drawing a sample


def _first_markers(by_marker: dict[int | None, list[tuple[int, int]]]) -> list[tuple[int | None, str, int]]:
    users = User.objects.in_bulk([pk for pk in by_marker if pk is not None])
    rows = []
    for marker_id in sorted(by_marker, key=department._marker_order):
        user = users.get(marker_id) if marker_id is not None else None
        name = user.display_name if user is not None else "a marker who has left"
        rows.append((marker_id, name, len(by_marker[marker_id])))
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def sample_draw(request: AuthedRequest, pk: int) -> HttpResponse:
    """Draw a sample of the assignment's complete marks, per first marker, for blind second marking."""
    assignment = permissions.assignment_for_sampling(request.user, pk)
    by_marker = department.sampleable_marks(assignment)
    first_markers = _first_markers(by_marker)
    # Who can second-mark blind (department.draw_sample checks again): teachers from outside
    # the class; heads of department see every class's marks.
    candidates = list(
        User.objects.filter(role=User.Role.TEACHER, is_active=True)
        .exclude(pk__in=assignment.school_class.teachers.values("pk"))
        .order_by("last_name", "first_name", "username")
    )
    form = SampleForm(request.POST or None, first_markers=first_markers, candidates=candidates)
    status = 200
    if request.method == "POST":
        if not first_markers:
            messages.error(
                request, "No marks on this assignment are complete (or all have been moderated): nothing to sample."
            )
            status = 400
        elif form.is_valid():
            by_id = {user.pk: user for user in candidates}
            data = form.cleaned_data
            try:
                sample = department.draw_sample(
                    assignment,
                    request.user,
                    data["size"],
                    {marker: by_id[second] for marker, second in data["second_marker_for"].items()},
                    random_extra=data["random_extra"],
                    tolerance_marks=data["tolerance_marks"],
                )
            except MarkError as error:
                messages.error(request, str(error))
                status = 400
            else:
                messages.success(
                    request,
                    f"Sample drawn: {plural(sample.items.count(), 'script')}. "
                    "The second markers find them under Second marking.",
                )
                return redirect("classroom:moderation_sample", sample.pk)
        else:
            messages.error(request, "The sample was not drawn: correct the form below.")
            status = 400
    samples = [
        (sample, permissions.can_moderate(request.user, sample))
        for sample in ModerationSample.objects.filter(assignment=assignment)
        .select_related("created_by")
        .annotate(scripts=Count("items"))
    ]
    context = {
        "assignment": assignment,
        "form": form,
        "first_markers": first_markers,
        "second_fields": [form[SampleForm.field_name(marker_id)] for marker_id, _name, _count in first_markers],
        "samples": samples,
        "nav": "department",
    }
    return render(request, "classroom/department/moderation/draw.html", context, status=status)


# ----------------------------------------------------------------------------------------
# Blind second marking


@login_required
@require_http_methods(["GET", "POST"])
def second_mark(request: AuthedRequest, pk: int) -> HttpResponse:
    """The second marker's blind page: the question, the essay and the level/mark form. Nothing
    of the first mark, the pupil or the first marker is in its context."""
    item = permissions.item_for_second_marker(request.user, pk)
    submission = item.submission
    prompt = submission.assignment.prompt
    criteria = scheme_criteria(prompt.mark_scheme)
    mine = _review(item, ReviewMark.Kind.SECOND)
    editable = item.agreed_at is None
    status = 200
    if request.method == "POST":
        form = ReviewMarkForm(request.POST, criteria=criteria, note_label="Note for the moderator (optional)")
        if not editable:
            messages.error(request, "This script has been moderated, so its second mark can no longer change.")
            status = 400
        elif form.is_valid():
            try:
                review = department.record_second_mark(
                    item, request.user, form.cleaned_data["scores"], note=form.cleaned_data["note"]
                )
            except MarkError as error:
                messages.error(request, str(error))
                status = 400
            else:
                messages.success(
                    request, f"Second mark saved for {item.label}: {review.total} out of {review.max_total}."
                )
                return redirect("classroom:moderation_home")
        else:
            messages.error(request, "Not saved: give a level and a mark for every skill.")
            status = 400
    else:
        initial = _initial(department.levels_of(mine), mine.note) if mine else {}
        form = ReviewMarkForm(initial=initial, criteria=criteria, note_label="Note for the moderator (optional)")
    context = {
        "item": item,
        "prompt": prompt,
        # The writer's own name, if they typed it into the essay, is masked too: the second
        # marker marks blind. (Only theirs: "Johnson" may be a pupil and a President.)
        "essay_text": department.redact_names(submission.text, department.pupil_names([submission.student])),
        "form": form,
        "criterion_rows": criterion_rows(form, criteria),
        "editable": editable,
        "mine": mine,
    }
    return render(request, "classroom/department/moderation/second_mark.html", context, status=status)


# ----------------------------------------------------------------------------------------
# Moderation


@dataclass
class ItemRow:
    """One sampled script on the moderation page."""

    item: ModerationItem
    first: department.FirstMark | None
    second: ReviewMark | None
    agreed: ReviewMark | None
    beyond: bool

    @property
    def difference(self) -> int | None:
        if self.first is None or self.second is None:
            return None
        return self.second.total - self.first.total

    @property
    def order(self) -> tuple[int, tuple[int, str]]:
        """Beyond tolerance and not agreed first, then the rest waiting for agreement, then
        those waiting for their second mark, then those agreed."""
        if self.item.agreed_at is not None:
            rank = 3
        elif self.second is None:
            rank = 2
        else:
            rank = 0 if self.beyond else 1
        return (rank, _label_order(self.item.label))


def _rows(sample: ModerationSample, items: list[ModerationItem]) -> list[ItemRow]:
    reviews: dict[tuple[int | None, str], ReviewMark] = {
        (review.item_id, review.kind): review
        for review in ReviewMark.objects.filter(item__sample=sample, completed_at__isnull=False)
    }
    firsts = department.first_marks(item.submission_id for item in items)
    rows = []
    for item in items:
        second = reviews.get((item.pk, ReviewMark.Kind.SECOND))
        # The first mark is shown only beside a complete second mark (the page may be open
        # to someone who second-marks in this sample too).
        first = firsts.get(item.submission_id) if second is not None else None
        beyond = (
            first is not None and second is not None and department.beyond_tolerance(sample, first.total, second.total)
        )
        rows.append(ItemRow(item, first, second, reviews.get((item.pk, ReviewMark.Kind.MODERATED)), beyond))
    rows.sort(key=lambda row: row.order)
    return rows


@login_required
def moderation_sample(request: AuthedRequest, pk: int) -> HttpResponse:
    """The moderator's page: each script's first and second mark side by side, those beyond the
    sample's tolerance first, with a link to agree each mark."""
    sample = permissions.sample_for_moderator(request.user, pk)
    # Queries: session, user, sample; items (+ markers), review marks, first marks, moderation changes.
    items = list(sample.items.select_related("first_marker", "second_marker", "agreed_by"))
    rows = _rows(sample, items)
    context = {
        "sample": sample,
        "assignment": sample.assignment,
        "rows": rows,
        "counts": {
            "scripts": len(rows),
            "second_marked": sum(1 for row in rows if row.second is not None),
            "beyond": sum(1 for row in rows if row.beyond),
            "agreed": sum(1 for row in rows if row.item.agreed_at is not None),
        },
        "nav": "department",
    }
    return render(request, "classroom/department/moderation/sample.html", context)


@dataclass
class CriterionComparison:
    criterion: Criterion
    first: tuple[int | None, int | None, int] | None
    second: tuple[int | None, int | None, int] | None
    agreed: tuple[int | None, int | None, int] | None


@login_required
@require_http_methods(["GET", "POST"])
def moderation_agree(request: AuthedRequest, pk: int) -> HttpResponse:
    """One sampled script for the moderator: the essay, the first and second marks criterion by
    criterion, and the agreed mark with its reason, which then becomes the pupil's mark."""
    item = permissions.item_for_moderator(request.user, pk)
    sample = item.sample
    submission = item.submission
    criteria = scheme_criteria(submission.assignment.prompt.mark_scheme)
    second = _review(item, ReviewMark.Kind.SECOND)
    agreed = _review(item, ReviewMark.Kind.MODERATED)
    first = department.first_marks([submission.pk]).get(submission.pk) if second is not None else None
    status = 200
    note_label = "Reason for the agreed mark"
    if request.method == "POST":
        form = ReviewMarkForm(request.POST, criteria=criteria, note_label=note_label, note_required=True)
        if second is None:
            messages.error(request, "The second mark is not in yet: the agreed mark comes after it.")
            status = 400
        elif form.is_valid():
            try:
                review, changes = department.agree_mark(
                    item, request.user, form.cleaned_data["scores"], form.cleaned_data["note"]
                )
            except MarkError as error:
                messages.error(request, str(error))
                status = 400
            else:
                changed_ids = {change.criterion_id for change in changes}
                changed = [criterion.code for criterion in criteria if criterion.pk in changed_ids]
                outcome = (
                    f"the pupil's mark changed on {', '.join(changed)}."
                    if changed
                    else "the pupil's mark was already that."
                )
                mark = submission.mark
                if changed and mark.is_released:
                    outcome += " Their feedback was already released: it now shows the agreed mark."
                messages.success(
                    request, f"{item.label}: agreed mark {review.total} out of {review.max_total} saved; {outcome}"
                )
                return redirect("classroom:moderation_sample", sample.pk)
        else:
            messages.error(request, "Not saved: give a level and a mark for every skill, and the reason.")
            status = 400
    else:
        if agreed is not None:
            initial = _initial(department.levels_of(agreed), agreed.note)
        elif first is not None:
            initial = _initial(first.levels)
        else:
            initial = {}
        form = ReviewMarkForm(initial=initial, criteria=criteria, note_label=note_label, note_required=True)
    second_levels = department.levels_of(second) if second is not None else {}
    agreed_levels = department.levels_of(agreed) if agreed is not None else {}
    comparison = [
        CriterionComparison(
            criterion,
            first.levels.get(criterion.pk) if first is not None else None,
            second_levels.get(criterion.pk),
            agreed_levels.get(criterion.pk),
        )
        for criterion in criteria
    ]
    context = {
        "item": item,
        "sample": sample,
        "assignment": submission.assignment,
        "prompt": submission.assignment.prompt,
        "essay_text": submission.text,
        "first": first,
        "second": second,
        "agreed": agreed,
        "comparison": comparison,
        "beyond": first is not None
        and second is not None
        and department.beyond_tolerance(sample, first.total, second.total),
        "form": form,
        "criterion_rows": criterion_rows(form, criteria),
        "editable": second is not None,
        "nav": "department",
    }
    return render(request, "classroom/department/moderation/agree.html", context, status=status)


# ----------------------------------------------------------------------------------------
# The audit trail


@login_required
def mark_audit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Every recorded change to the assignment's marks, newest first: who, when, which
    criterion, before and after, and why. Heads only."""
    assignment = permissions.assignment_for_audit(request.user, pk)
    # Queries: session, user, assignment, changes (+ who, criterion, levels, essay and pupil).
    changes = list(
        MarkChange.objects.filter(mark__submission__assignment=assignment)
        .select_related("changed_by", "criterion", "level_before", "level_after", "mark__submission__student")
        .defer("mark__submission__text")
        .order_by("-changed_at", "-pk")
    )
    for change in changes:
        change.mark.submission.assignment = assignment
    return render(
        request,
        "classroom/department/moderation/audit.html",
        {"assignment": assignment, "changes": changes, "nav": "department"},
    )

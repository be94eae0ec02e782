"""The school's class lists from a OneRoster 1.1 CSV zip, for heads of department: upload,
preview (what will happen to each class and person), apply, and the history of imports.

The reading, checking and applying live in classroom/oneroster.py, shared with the
`import_oneroster` command; access in classroom/permissions.py ("OneRoster import").
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from classroom import oneroster, permissions
from classroom.forms import OneRosterUploadForm
from classroom.models import OneRosterImport
from classroom.types import AuthedRequest
from classroom.views.agreement import department_nav
from crisis.wording import plural

NAV = "department"
HISTORY_LENGTH = 20
OPEN_GROUP_LIMIT = 50  # a group of rows longer than this starts folded


@login_required
def oneroster_imports(request: AuthedRequest) -> HttpResponse:
    """Upload a zip (then the preview), and the latest imports."""
    imports = permissions.oneroster_imports_for(request.user)
    form = OneRosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        record = OneRosterImport.objects.create(
            uploaded_by=request.user,
            file_name=(upload.name or "roster.zip")[:255],
            data=upload.read(),
            only=form.cleaned_data["only"].strip(),
        )
        return redirect("classroom:oneroster_preview", record.pk)
    history = imports.defer("data").select_related("uploaded_by", "applied_by")[:HISTORY_LENGTH]
    context = {
        "form": form,
        "imports": history,
        "nav": NAV,
        "department_nav": department_nav(request.user, "classroom:oneroster_imports"),
    }
    return render(request, "classroom/department/oneroster/imports.html", context)


def _plan_for(record: OneRosterImport) -> oneroster.Plan:
    return oneroster.make_plan(oneroster.read_zip(bytes(record.data), record.file_name), only=record.only)


def _groups(items: list, kinds: tuple[str, ...] = oneroster.ACTIONS) -> list[dict]:
    groups = []
    for action in kinds:
        rows = [item for item in items if item.action == action]
        if rows:
            groups.append(
                {"action": action, "rows": rows, "open": action != "unchanged" and len(rows) <= OPEN_GROUP_LIMIT}
            )
    return groups


def _preview(request: AuthedRequest, record: OneRosterImport, *, changed: bool = False) -> HttpResponse:
    context: dict = {"record": record, "nav": NAV, "changed": changed}
    if record.applied_at is None:
        try:
            plan = _plan_for(record)
        except oneroster.OneRosterInvalid as exc:
            context.update(errors=exc.errors, more_errors=exc.more)
        else:
            if not changed and record.preview != plan.summary():
                record.preview = plan.summary()
                record.save(update_fields=["preview"])
            pupils = [person for person in plan.people if person.is_pupil]
            teachers = [person for person in plan.people if not person.is_pupil]
            context.update(
                plan=plan,
                counts=plan.counts(),
                class_groups=_groups(plan.classes),
                pupil_groups=_groups(pupils),
                teacher_groups=_groups(teachers),
            )
    return render(request, "classroom/department/oneroster/preview.html", context)


@login_required
def oneroster_preview(request: AuthedRequest, pk: int) -> HttpResponse:
    """What applying the zip would do (nothing is changed), or what it did."""
    record = permissions.oneroster_import_for(request.user, pk)
    return _preview(request, record)


@login_required
@require_POST
def oneroster_apply(request: AuthedRequest, pk: int) -> HttpResponse:
    """Work the plan out again and apply it, all or nothing; if it is not what the head saw
    (the classes or accounts changed since), show the new preview instead."""
    record = permissions.oneroster_import_for(request.user, pk)
    with transaction.atomic():
        record = OneRosterImport.objects.select_for_update().get(pk=record.pk)
        if record.applied_at is not None:
            messages.info(request, "This file has already been imported.")
            return redirect("classroom:oneroster_preview", record.pk)
        try:
            plan = _plan_for(record)
            # Applied only if it is exactly what the page the head pressed Import on showed.
            if request.POST.get("fingerprint", "") != plan.fingerprint:
                record.preview = plan.summary()
                record.save(update_fields=["preview"])
                changed = True
            else:
                oneroster.apply_plan(plan)
                changed = False
        except oneroster.OneRosterInvalid:
            changed = True
        if not changed:
            record.applied_at = timezone.now()
            record.applied_by = request.user
            record.result = plan.summary()
            record.data = b""  # the file's personal data is not kept once applied; the counts are
            record.save(update_fields=["applied_at", "applied_by", "result", "data"])
    if changed:
        return _preview(request, record, changed=True)
    messages.success(request, f"Imported: {plural(plan.changes, 'change')} to classes and people.")
    return redirect("classroom:oneroster_imports")

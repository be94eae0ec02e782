"""The Data protection pages, for the head of department: find a pupil, export their data
(subject access), erase it, read the access log, and see the retention policy.

What is exported and erased is classroom/privacy.py's registry; access is in permissions.py.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from classroom import permissions, privacy
from classroom.models import ErasureRecord, User
from classroom.types import AuthedRequest
from classroom.views.agreement import department_nav

NAV = "department"
FOUND_SHOWN = 50
ERASURES_SHOWN = 20
LOG_PAGE = 100


def _context(request: AuthedRequest, **extra) -> dict:
    return {"nav": NAV, "department_nav": department_nav(request.user, "classroom:privacy"), **extra}


@login_required
def privacy_home(request: AuthedRequest) -> HttpResponse:
    permissions.privacy_for_head(request.user)
    # A NUL cannot be in any name (and PostgreSQL refuses it in a query): dropped.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    found: list[User] = []
    if query:
        words = Q()
        for word in query.split()[:4]:
            words &= Q(username__icontains=word) | Q(first_name__icontains=word) | Q(last_name__icontains=word)
        pupils = User.objects.filter(words, role=User.Role.STUDENT, is_staff=False, is_superuser=False)
        found = list(pupils.order_by("last_name", "first_name", "username")[: FOUND_SHOWN + 1])
    context = _context(
        request,
        query=query,
        found=found[:FOUND_SHOWN],
        more=len(found) > FOUND_SHOWN,
        years=settings.RETENTION_YEARS_AFTER_LEAVING,
        log_days=settings.ACCESS_LOG_RETENTION_DAYS,
        past_retention=privacy.pupils_past_retention().count(),
        old_log=privacy.old_access_log().count(),
        erasures=list(permissions.erasures_for_head(request.user)[:ERASURES_SHOWN]),
    )
    return render(request, "classroom/privacy/home.html", context)


@login_required
def privacy_pupil(request: AuthedRequest, pk: int) -> HttpResponse:
    pupil = permissions.pupil_for_privacy(request.user, pk)
    rows = privacy.row_counts(pupil)
    context = _context(
        request,
        pupil=pupil,
        rows=[row for row in rows if row[1]],
        erased=ErasureRecord.objects.filter(reference=pupil.username).first(),
        left=privacy.left_pupils().filter(pk=pupil.pk).values_list("left_at", flat=True).first(),
    )
    return render(request, "classroom/privacy/pupil.html", context)


@login_required
@require_POST
def privacy_export(request: AuthedRequest, pk: int) -> FileResponse:
    pupil = permissions.pupil_for_privacy(request.user, pk)
    out = privacy.export_to_file(pupil)
    privacy.log_access(request.user, pupil, "Subject-access export")
    name = privacy.export_file_name(pupil, timezone.localtime())
    return FileResponse(out, as_attachment=True, filename=name, content_type="application/zip")


@login_required
def privacy_erase(request: AuthedRequest, pk: int) -> HttpResponse:
    pupil = permissions.pupil_for_privacy(request.user, pk)
    back = reverse("classroom:privacy_pupil", args=[pupil.pk])
    try:
        privacy.check_erasable(pupil)
    except privacy.ErasureError as error:
        messages.error(request, str(error))
        return redirect(back)
    if request.method == "POST":
        if request.POST.get("confirm", "").strip().lower() != pupil.username.lower():
            messages.error(request, "Type the pupil’s username exactly to confirm: nothing was erased.")
            return redirect(request.path)
        name = pupil.display_name
        try:
            record = privacy.erase_pupil(pupil, by=request.user, how=ErasureRecord.How.PAGE)
        except privacy.ErasureError as error:
            messages.error(request, str(error))
            return redirect(back)
        messages.success(request, f"{name}’s personal data was erased. The account is now {record.reference}.")
        return redirect("classroom:privacy")
    context = _context(
        request,
        title=f"Erase {pupil.display_name}’s data",
        question=(
            f"This removes {pupil.display_name}’s name, email and username, the text of their essays and every "
            "earlier version, and the words of their feedback, comments and responses. Their marks stay with the "
            "anonymised account, so class figures do not change. It cannot be undone, and backups keep the data "
            "until they expire."
        ),
        confirm_label=f"Type the username, {pupil.username}, to confirm",
        button="Erase their data",
        button_class="btn-danger",
        cancel_url=back,
        crumbs=[("Data protection", reverse("classroom:privacy")), (pupil.display_name, back)],
        crumb_here="Erase",
    )
    return render(request, "classroom/confirm.html", context)


@login_required
def privacy_log(request: AuthedRequest) -> HttpResponse:
    entries = permissions.access_log_for_head(request.user)
    pupil = None
    raw = request.GET.get("pupil", "")
    if raw:
        try:
            pupil = permissions.pupil_for_privacy(request.user, int(raw))
        except (ValueError, OverflowError):
            messages.error(request, "That is not a pupil: showing everyone.")
        if pupil is not None:
            entries = entries.filter(pupil=pupil)
    page = Paginator(entries, LOG_PAGE).get_page(request.GET.get("page"))
    context = _context(
        request, page=page, entries=list(page.object_list), pupil=pupil, log_days=settings.ACCESS_LOG_RETENTION_DAYS
    )
    return render(request, "classroom/privacy/log.html", context)

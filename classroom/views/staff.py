"""Staff accounts for the head of department: the list of teachers and heads, adding one
(with a one-time code shown once), changing their details and role, deactivating and
reactivating them, and resetting a password to a one-time code.

The rules on what may change live in classroom/staff.py; access in classroom/permissions.py.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from classroom import permissions, staff
from classroom.forms import StaffForm
from classroom.models import User
from classroom.types import AuthedRequest
from classroom.views.agreement import department_nav

NAV = "department"


def _context(request: AuthedRequest, **extra) -> dict:
    return {"nav": NAV, "department_nav": department_nav(request.user, "classroom:staff_list"), **extra}


def _confirm(request: AuthedRequest, member: User, *, title: str, question: str, button: str, **extra) -> HttpResponse:
    staff_url = reverse("classroom:staff_list")
    context = _context(
        request,
        member=member,
        title=title,
        question=question,
        button=button,
        cancel_url=staff_url,
        crumbs=[("Staff", staff_url)],
        crumb_here=member.display_name,
        **extra,
    )
    return render(request, "classroom/confirm.html", context)


def _code_page(request: AuthedRequest, member: User, code: str, *, new: bool) -> HttpResponse:
    """The one and only showing of a one-time code: rendered from the POST that made it,
    never stored, never cached."""
    context = _context(request, member=member, code=code, new=new, lifetime_days=settings.ONE_TIME_CODE_LIFETIME.days)
    response = render(request, "classroom/staff/code.html", context)
    add_never_cache_headers(response)
    return response


@login_required
def staff_list(request: AuthedRequest) -> HttpResponse:
    members = list(permissions.staff_for_head(request.user))
    for member in members:
        member.manageable = permissions.may_manage_member(request.user, member)  # type: ignore[attr-defined]
    context = _context(
        request,
        active=[member for member in members if member.is_active],
        inactive=[member for member in members if not member.is_active],
    )
    return render(request, "classroom/staff/list.html", context)


@login_required
def staff_create(request: AuthedRequest) -> HttpResponse:
    permissions.require_staff_manager(request.user)
    form = StaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member, code = staff.create_member(form.details(), by=request.user)
        except staff.StaffError as exc:
            form.add_error(None, str(exc))
        else:
            return _code_page(request, member, code, new=True)
    return render(request, "classroom/staff/form.html", _context(request, form=form, member=None))


@login_required
def staff_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    member = permissions.staff_member_for_head(request.user, pk)
    form = StaffForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        try:
            changed = staff.update_member(member, form.details(), by=request.user)
        except staff.StaffError as exc:
            form.add_error(None, str(exc))
        else:
            if changed:
                messages.success(request, f"{member.display_name}: {', '.join(changed)} saved.")
            else:
                messages.info(request, f"Nothing to change for {member.display_name}.")
            return redirect("classroom:staff_list")
    return render(request, "classroom/staff/form.html", _context(request, form=form, member=member))


@login_required
def staff_deactivate(request: AuthedRequest, pk: int) -> HttpResponse:
    member = permissions.staff_member_for_head(request.user, pk)
    if not member.is_active:
        messages.info(request, f"{member.display_name}’s account is already deactivated.")
        return redirect("classroom:staff_list")
    if request.method == "POST":
        try:
            staff.deactivate(member, by=request.user)
        except staff.StaffError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                f"{member.display_name}’s account is deactivated: they can no longer sign in. "
                "Their classes, assignments and marks are kept.",
            )
        return redirect("classroom:staff_list")
    return _confirm(
        request,
        member,
        title=f"Deactivate {member.display_name}’s account",
        question=(
            f"{member.display_name} will be signed out and will no longer be able to sign in. Their classes, "
            "the assignments they set and the marks they gave are kept, and you can reactivate the account later."
        ),
        button="Deactivate account",
        button_class="btn-danger",
    )


@login_required
@require_POST
def staff_reactivate(request: AuthedRequest, pk: int) -> HttpResponse:
    member = permissions.staff_member_for_head(request.user, pk)
    staff.reactivate(member, by=request.user)
    messages.success(request, f"{member.display_name} can sign in again with their password.")
    return redirect("classroom:staff_list")


@login_required
def staff_reset_password(request: AuthedRequest, pk: int) -> HttpResponse:
    member = permissions.staff_member_for_head(request.user, pk)
    if member.pk == request.user.pk:
        messages.info(request, "Change your own password from the menu under your name.")
        return redirect("password_change")
    if not member.is_active:
        messages.info(request, f"{member.display_name}’s account is deactivated: reactivate it first.")
        return redirect("classroom:staff_list")
    if request.method == "POST":
        try:
            code = staff.reset_password(member, by=request.user)
        except staff.StaffError as exc:
            messages.error(request, str(exc))
            return redirect("classroom:staff_list")
        return _code_page(request, member, code, new=False)
    return _confirm(
        request,
        member,
        title=f"Reset {member.display_name}’s password",
        question=(
            f"{member.display_name}’s password will be replaced by a one-time code, shown to you once. They will "
            "be signed out everywhere and must choose a new password when they sign in with the code."
        ),
        button="Reset password",
    )

"""Access requests from people the school's sign-in service vouched for but who have no
account here (SIGNIN_REQUEST_ACCESS): the head of department approves (choosing the role)
or declines."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from classroom import permissions
from classroom.models import AccessRequest, AccessRequestError, User
from classroom.types import AuthedRequest
from classroom.views.agreement import department_nav

DECIDED_SHOWN = 50
ROLES_GIVEN = {User.Role.STUDENT.value: "pupil", User.Role.TEACHER.value: "teacher"}


@login_required
def access_requests(request: AuthedRequest) -> HttpResponse:
    requests = permissions.access_requests_for_head(request.user)
    context = {
        "waiting": list(requests.filter(outcome=AccessRequest.Outcome.PENDING).order_by("created_at", "pk")),
        "decided": list(requests.exclude(outcome=AccessRequest.Outcome.PENDING)[:DECIDED_SHOWN]),
        "roles": ROLES_GIVEN,
        # Why the list may stay empty: requests are made only when both are on.
        "requests_on": settings.SIGNIN_REQUEST_ACCESS and bool(settings.SIGNIN_APPS),
        "department_nav": department_nav(request.user, "classroom:access_requests"),
        "nav": "department",
    }
    return render(request, "classroom/signin/access_requests.html", context)


@login_required
@require_POST
def access_request_decide(request: AuthedRequest, pk: int) -> HttpResponse:
    access_request = permissions.access_request_for_head(request.user, pk)
    action = request.POST.get("action")
    role = request.POST.get("role", "")
    who = str(access_request)
    try:
        if action == "approve":
            if role not in ROLES_GIVEN:
                messages.error(request, "Choose whether the account is a pupil's or a teacher's.")
                return redirect("classroom:access_requests")
            user = access_request.approve(role, by=request.user)
            messages.success(
                request, f"{who} now has a {ROLES_GIVEN[role]}'s account (username {user.username}) and can sign in."
            )
        elif action == "decline":
            access_request.decline(by=request.user)
            messages.success(request, f"{who}'s request was declined.")
        else:
            messages.error(request, "Choose Approve or Decline.")
    except AccessRequestError as error:
        messages.error(request, str(error))
    return redirect("classroom:access_requests")

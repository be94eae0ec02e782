from __future__ import annotations

from typing import Any

from axes.models import AccessFailureLog
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from classroom import permissions, signin
from classroom.forms import ChangePasswordForm, LoginForm, NewPasswordForm
from classroom.home import student_assignments, teacher_home
from classroom.models import ReadinessProbe
from classroom.types import AuthedRequest
from crisis.client_ip import client_ip


@login_required
def home(request: AuthedRequest) -> HttpResponse:
    """Students land on their work, teachers on their classes."""
    user = request.user
    if user.is_teacher:
        # The to-do for the classes they teach (heads: plus a summary of the department).
        return render(request, "classroom/home_teacher.html", {"home": teacher_home(user)})
    classes = permissions.pupil_classes(user)
    open_assignments, closed_assignments = student_assignments(user)
    return render(
        request,
        "classroom/home_student.html",
        {
            "classes": classes,
            "open_assignments": open_assignments,
            "closed_assignments": closed_assignments,
            # Peer judging the pupil's teacher has turned on (comparative judgement).
            "judging": permissions.judging_for_pupil_home(user),
        },
    )


@login_required
def password_change(request: AuthedRequest) -> HttpResponse:
    """Change one's password. Signed in with a one-time code (a new account's first log-in,
    or after a teacher's reset), only the new password is asked for, twice: the code was
    typed a moment ago to sign in."""
    user = request.user
    forced = user.must_change_password
    first_login = user.first_password_is_one_time_code
    form_class = NewPasswordForm if forced else ChangePasswordForm
    form = form_class(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        user.password_changed()
        update_session_auth_hash(request, user)
        messages.success(request, "Your password has been changed.")
        return redirect("home")
    context = {"form": form, "forced": forced, "first_login": first_login}
    return render(request, "registration/password_change_form.html", context)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up. Touches no database, so a DB outage does not restart workers."""
    return HttpResponse("ok\n", content_type="text/plain")


_migrations_checked = False


def _migrations_applied() -> bool:
    global _migrations_checked
    if _migrations_checked:
        return True
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    _migrations_checked = not plan
    return _migrations_checked


@require_GET
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready for traffic: the database answers, accepts a write, and no migration is waiting.

    The write is a probe row inserted and rolled back, so the check keeps nothing. The body
    says only ready / not ready; details go to the log, not to the internet.
    """
    try:
        with transaction.atomic():
            ReadinessProbe.objects.create(checked_at=timezone.now())
            transaction.set_rollback(True)
        ready = _migrations_applied()
    except DatabaseError:
        ready = False
    if ready:
        return HttpResponse("ready\n", content_type="text/plain")
    return HttpResponse("not ready\n", content_type="text/plain", status=503)


def too_many_failures_from(request: HttpRequest) -> bool:
    """Password spraying: LOGIN_ADDRESS_FAILURE_LIMIT failed log-ins from this address,
    whatever the usernames, within the lock-out time (counted in the database, so the limit
    is exact across workers and restarts). The per-pupil lock-out is django-axes's; attempts
    it already refused are not counted, so one pupil hammering one account (at most
    LOGIN_FAILURE_LIMIT failures) can never pause a whole school's address."""
    address = client_ip(request)
    if address is None:
        return False
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    recent = AccessFailureLog.objects.filter(ip_address=address, attempt_time__gte=since, locked_out=False)
    failures = recent.count()
    return failures >= settings.LOGIN_ADDRESS_FAILURE_LIMIT


class SignInView(LoginView):
    """Django's sign-in page. Malformed input (e.g. an over-long username) is a 400 with the
    form's message; a wrong password stays an ordinary page (200) saying so."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if too_many_failures_from(request):
            return render(request, "registration/locked_out.html", {"whole_address": True}, status=429)
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["signin_providers"] = signin.configured_providers()
        context["password_off_roles"] = signin.password_off_roles_text()
        return context

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if any(form.errors.get(name) for name in form.fields):
            response.status_code = 400
        return response

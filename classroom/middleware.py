from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control


class ForcePasswordChangeMiddleware:
    """After a teacher resets a pupil's password to a one-time code, the pupil must choose
    a new password before doing anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "must_change_password", False):
            allowed = {reverse("password_change"), reverse("logout"), reverse("healthz"), reverse("readyz")}
            if request.path not in allowed and not request.path.startswith("/static/"):
                return redirect("password_change")
        return self.get_response(request)


class PrivatePagesMiddleware:
    """Pages for a signed-in user are never stored by the browser or a proxy: on a shared
    classroom computer, Back after logging out must not show the last pupil's feedback or a
    teacher's markbook from the back/forward cache (Cache-Control: private, no-store)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith("/static/"):
            patch_cache_control(response, private=True, no_store=True)
        return response

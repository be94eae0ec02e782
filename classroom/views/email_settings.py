"""Email settings: each person's own choices, and the one-click unsubscribe link in every email."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from classroom import permissions
from classroom.forms import EmailPreferenceForm
from classroom.models import EmailPreference
from classroom.types import AuthedRequest


@login_required
@require_http_methods(["GET", "POST"])
def email_preferences(request: AuthedRequest) -> HttpResponse:
    """Turn each kind of email on or off, for oneself."""
    preference = permissions.email_preferences_for(request.user)
    # All boxes unticked posts nothing at all, which is still a choice to save.
    form = EmailPreferenceForm(request.POST if request.method == "POST" else None, preference=preference)
    if request.method == "POST" and form.is_valid():
        EmailPreference.choose(request.user, form.cleaned_data)
        messages.success(request, "Your email settings have been saved.")
        return redirect("classroom:email_preferences")
    return render(request, "classroom/email_preferences.html", {"form": form, "preference": preference})


# Mail programs offer "Unsubscribe" by POSTing here with no cookie and no CSRF token (RFC 8058,
# List-Unsubscribe-Post). The signed token is the only key, and all it can do is stop an email.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def email_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks to confirm (a link scanner following links must not unsubscribe anyone); POST stops it."""
    found = permissions.unsubscribe_from(token)
    if found is None:
        return render(request, "classroom/email_unsubscribe.html", {"invalid": True}, status=400)
    person, kind = found
    done = request.method == "POST"
    if done:
        EmailPreference.turn_off(person, kind)
    context = {"kind": kind, "done": done, "token": token, "signed_in": request.user.is_authenticated}
    return render(request, "classroom/email_unsubscribe.html", context)

"""Types the views share."""

from __future__ import annotations

from django.http import HttpRequest

from classroom.models import User


class AuthedRequest(HttpRequest):
    """The request a view behind `@login_required` receives: `request.user` is a signed-in User.

    Only an annotation (the django-stubs pattern): Django never builds one, and nothing checks
    it at run time. It says what `login_required` guarantees, so the views need no casts.
    """

    user: User

"""The one JSON shape of every autosave endpoint (essay, mark, response to feedback).

static/js/autosave.js reads it:
- 200 {"status": "saved", "revision", "saved_at", "saved_at_display", …page extras}
- 409 {"status": "conflict", "revision", "editable", "text", "error"}: changed elsewhere
  (editable true) or no longer editable (submitted, released): nothing was saved; with
  "closed" (the words to show) when nothing can be saved here at all (an archived assignment);
- 400 {"status": "invalid", "error", "errors": {field: [messages]}}: nothing was saved.
A save without a base revision is invalid (400), never last-writer-wins.
"""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.http import JsonResponse
from django.utils import timezone

from classroom.models import VersionConflict


def saved(revision: int, saved_at: datetime, **extras: object) -> JsonResponse:
    local = timezone.localtime(saved_at)
    return JsonResponse(
        {
            "status": "saved",
            "revision": revision,
            "saved_at": local.isoformat(),
            "saved_at_display": local.strftime("%H:%M"),
            **extras,
        }
    )


def conflict(error: VersionConflict) -> JsonResponse:
    return JsonResponse(
        {
            "status": "conflict",
            "revision": error.revision,
            "editable": error.editable,
            "text": error.text,
            "error": error.message,
        },
        status=409,
    )


def closed(message: str, revision: int | None = None) -> JsonResponse:
    """Nothing can be saved here any more (e.g. the assignment was archived): a 409 that is not
    editable, so the page stops saving and keeps the text on the device; nothing was saved."""
    return JsonResponse(
        {
            "status": "conflict",
            "revision": revision,
            "editable": False,
            "text": None,
            "error": message,
            "closed": message,
        },
        status=409,
    )


def invalid(message: str, errors: dict[str, list[str]] | None = None) -> JsonResponse:
    return JsonResponse({"status": "invalid", "error": message, "errors": errors or {}}, status=400)


def form_errors(form: forms.BaseForm) -> list[str]:
    """Every error of a form as a flat list of sentences."""
    return [str(error) for errors in form.errors.values() for error in errors]


def field_errors(form: forms.BaseForm) -> dict[str, list[str]]:
    return {name: [str(error) for error in errors] for name, errors in form.errors.items()}


def invalid_form(form: forms.BaseForm) -> JsonResponse:
    return invalid(" ".join(form_errors(form)), field_errors(form))

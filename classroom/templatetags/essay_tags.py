"""`{{ text|essay }}`: an essay's text as HTML, rendered as on the marking and feedback pages."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from classroom.essay import render_essay

register = template.Library()


@register.filter
def essay(text: str) -> SafeString:
    return render_essay(text or "", [], [])

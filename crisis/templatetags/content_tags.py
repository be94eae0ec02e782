from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from crisis.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str | None) -> SafeString:
    """`{{ lesson.body|markdown }}`: Markdown rendered to sanitised HTML."""
    return render_markdown(text)

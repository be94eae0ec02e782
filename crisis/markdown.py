"""Markdown to HTML that is safe to put in a page.

Lesson bodies, overviews and instructions are written by teachers in Markdown. Markdown
passes raw HTML through, so the rendered HTML is cleaned with nh3 against an allow-list:
no scripts, no event-handler attributes, no styles, and links only to http(s), mailto or
relative addresses.
"""

from __future__ import annotations

from functools import lru_cache

import markdown as python_markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "h2", "h3", "h4", "h5", "h6", "p", "br", "hr",
    "ul", "ol", "li", "em", "strong", "blockquote", "a", "code", "pre",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def clean_html(html: str) -> str:
    """Keep only the allow-listed tags and attributes; scripts are removed with their content."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener",
        strip_comments=True,
    )


@lru_cache(maxsize=512)
def _render(text: str) -> str:
    html = python_markdown.markdown(text, extensions=["sane_lists", "tables"], output_format="html")
    return clean_html(html)


def render_markdown(text: str | None) -> SafeString:
    """Sanitised HTML for a Markdown string (cached: the same text renders the same way)."""
    return mark_safe(_render(text or ""))  # noqa: S308 - cleaned by nh3 against the allow-list

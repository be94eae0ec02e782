"""URLs of views without arguments or with one object's id, reversed once rather than once
a link.

`{% url %}` resolves the view's pattern afresh every time; a page listing dozens of
assignments with several links each spent a few milliseconds doing so. The URL with `{}`
where the id goes is the same for every object (for as long as the site's path prefix is),
so it is worked out once a process and filled in per link; the links every page's menu
carries are worked out once as they are.
"""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.urls import get_script_prefix, reverse

register = template.Library()


def url_pattern(name: str) -> str:
    """`name`'s URL with `{}` where the object's id goes (the view takes one id)."""
    return _url_pattern(name, get_script_prefix())


@lru_cache(maxsize=256)
def _url_pattern(name: str, prefix: str) -> str:
    url = reverse(name, args=[0])
    if url.split("/").count("0") != 1 or "/0/" not in url or "{" in url:
        raise ValueError(f"{name} does not take one id as a path segment of its own: use {{% url %}}.")
    return url.replace("/0/", "/{}/")


@register.simple_tag
def id_url(name: str, pk: int) -> str:
    """`{% url name pk %}` for a view taking one id: `{% id_url 'classroom:class_detail' c.pk %}`."""
    return url_pattern(name).format(int(pk))


@register.simple_tag
def fixed_url(name: str) -> str:
    """`{% url name %}` for a view without arguments: `{% fixed_url 'content:units' %}`."""
    return _fixed_url(name, get_script_prefix())


@lru_cache(maxsize=256)
def _fixed_url(name: str, prefix: str) -> str:
    return reverse(name)

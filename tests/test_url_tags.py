"""classroom/templatetags/url_tags.py: URLs of one-id views, reversed once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix

from classroom.templatetags.url_tags import fixed_url, id_url

TEACHER_HOME = Path(settings.BASE_DIR) / "templates" / "classroom" / "home_teacher.html"
TODO_ITEMS = Path(settings.BASE_DIR) / "classroom" / "templatetags" / "home_tags.py"  # the home's to-do items
NAMES = sorted(
    set(re.findall(r"\{% id_url '([a-z_:]+)'", TEACHER_HOME.read_text()))
    | set(re.findall(r'url_pattern\("([a-z_:]+)"\)', TODO_ITEMS.read_text()))
)
BASE = Path(settings.BASE_DIR) / "templates" / "base.html"
MENU = sorted(set(re.findall(r"\{% fixed_url '([a-z_:]+)'", BASE.read_text())))


def test_the_teacher_home_uses_it_for_its_links():
    assert len(NAMES) >= 8


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("pk", [1, 7, 40, 123456789])
def test_the_same_url_as_reverse(name, pk):
    assert id_url(name, pk) == reverse(name, args=[pk])


@pytest.mark.parametrize("prefix", ["/school/", "/trust/crisis/", "/"])
def test_a_site_under_a_path_gets_its_own_prefix(prefix):
    try:
        set_script_prefix(prefix)
        assert id_url("classroom:class_detail", 9) == reverse("classroom:class_detail", args=[9])
        assert id_url("classroom:class_detail", 9).startswith(prefix)
    finally:
        clear_script_prefix()
    assert id_url("classroom:class_detail", 9) == reverse("classroom:class_detail", args=[9])


def test_in_a_template_as_the_url_tag_writes_it():
    html = Template("{% load url_tags %}<a href=\"{% id_url 'classroom:markbook' c %}\">").render(Context({"c": 31}))
    assert html == f'<a href="{reverse("classroom:markbook", args=[31])}">'


@pytest.mark.parametrize("pk", ["31/../../admin", "x", None])
def test_only_a_whole_number_is_put_in(pk):
    with pytest.raises((ValueError, TypeError)):
        id_url("classroom:markbook", pk)


@pytest.mark.parametrize("name", ["classroom:class_create", "home"])
def test_a_view_without_an_id_is_refused(name):
    with pytest.raises(NoReverseMatch):
        id_url(name, 3)


def test_a_url_whose_id_cannot_be_told_apart_is_refused_rather_than_given_a_wrong_url(monkeypatch):
    from classroom.templatetags import url_tags

    # A view taking two ids given the same one twice: "/0/" comes twice.
    monkeypatch.setattr(url_tags, "reverse", lambda name, args: "/library/for/0/0/")
    url_tags._url_pattern.cache_clear()
    try:
        with pytest.raises(ValueError, match="does not take one id"):
            id_url("classroom:exemplar_for_pupil", 3)
    finally:
        url_tags._url_pattern.cache_clear()


def test_every_pages_menu_uses_the_fixed_urls():
    assert "{% url " not in BASE.read_text()
    assert len(MENU) >= 10


@pytest.mark.parametrize("name", MENU)
@pytest.mark.parametrize("prefix", ["/", "/school/"])
def test_a_fixed_url_is_reverse_for_the_sites_prefix(name, prefix):
    try:
        set_script_prefix(prefix)
        assert fixed_url(name) == reverse(name)
        assert fixed_url(name).startswith(prefix)
    finally:
        clear_script_prefix()


def test_a_view_that_needs_an_argument_is_not_a_fixed_url():
    with pytest.raises(NoReverseMatch):
        fixed_url("classroom:markbook")

"""Markdown from teachers becomes sanitised HTML: formatting kept, anything executable removed."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from crisis.markdown import render_markdown
from tests.factories import LessonFactory


def test_markdown_formatting_is_kept():
    html = render_markdown("## The Hotline\n\nA **teleprinter** link, *not* a telephone.\n\n- one\n- two\n\n> quoted")
    assert "<h2>The Hotline</h2>" in html
    assert "<strong>teleprinter</strong>" in html
    assert "<em>not</em>" in html
    assert "<li>one</li>" in html
    assert "<blockquote>" in html


def test_script_tags_are_removed_with_their_content():
    html = render_markdown("Before\n\n<script>alert('x')</script>\n\nAfter")
    assert "<script" not in html
    assert "alert(" not in html
    assert "Before" in html and "After" in html


def test_event_handler_attributes_are_removed():
    html = render_markdown('<p onclick="steal()">Hi</p> <a href="https://example.org" onmouseover="x()">link</a>')
    assert "onclick" not in html
    assert "onmouseover" not in html
    assert "steal()" not in html
    assert 'href="https://example.org"' in html


def test_javascript_links_lose_their_href():
    html = render_markdown('[click](javascript:alert(1)) <a href="JavaScript:alert(2)">two</a>')
    assert "javascript:" not in html.lower()
    assert "click" in html and "two" in html


def test_allowed_links_keep_href_and_get_noopener():
    html = render_markdown("[a](https://example.org) [b](mailto:head@school.example) [c](/learn/)")
    assert 'href="https://example.org"' in html
    assert 'href="mailto:head@school.example"' in html
    assert 'href="/learn/"' in html
    assert html.count('rel="noopener"') == 3


def test_images_styles_and_iframes_are_not_allowed():
    html = render_markdown(
        '<img src="x" onerror="alert(1)"><iframe src="https://e.org"></iframe><p style="color:red">t</p>'
    )
    assert "<img" not in html
    assert "<iframe" not in html
    assert "style=" not in html


@pytest.mark.django_db
def test_stored_html_shows_in_a_template_and_escapes_nothing_twice():
    lesson = LessonFactory(body="**bold** & <script>bad()</script>")
    lesson.refresh_from_db()  # as a page reads it
    html = Template("{{ lesson.body_html }}").render(Context({"lesson": lesson}))
    assert "<strong>bold</strong>" in html
    assert "&amp;" in html and "&amp;amp;" not in html
    assert "<script" not in html and "bad()" not in html


def test_empty_text_renders_empty():
    assert render_markdown(None) == ""
    assert render_markdown("") == ""

"""The marking page's comment bank, written in Python ({% bank_items %}), says what the
template it replaced said, for every kind of entry."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test.html import parse_html

from classroom.models import CommentBankEntry, User
from classroom.templatetags.marking_tags import bank_items

# The loop the marking page had before, as it was.
TEMPLATE = """{% for entry in bank %}
          <li class="border-bottom py-1" data-criterion="{{ entry.criterion_code }}" data-code="{{ entry.code }}" data-pk="{{ entry.pk }}">
            <code>#{{ entry.code }}</code>{% if entry.criterion_code %} <span class="badge text-bg-light">{{ entry.criterion_code }}</span>{% endif %}{% if entry.department %} <span class="badge text-bg-secondary">Department</span>{% elif not entry.is_starter %} <span class="badge text-bg-info">Mine</span>{% endif %}
            <span class="bank-text">{{ entry.text }}</span>
            <button type="button" class="btn btn-sm btn-link bank-insert" data-text="{{ entry.text }}" hidden>Insert<span class="visually-hidden"> #{{ entry.code }}</span></button>
          </li>
        {% empty %}
          <li>Your bank is empty.</li>
        {% endfor %}"""  # noqa: E501


def entries() -> list[CommentBankEntry]:
    teacher = User(pk=7, username="t")
    return [
        CommentBankEntry(pk=1, code="prov", text="Use the source's provenance.", criterion_code="AO3"),  # starter
        CommentBankEntry(pk=2, code="mine", text='Say "why" <b>& how</b>', owner=teacher),
        CommentBankEntry(pk=3, code="dept", text="Department's own.\nTwo lines.", owner=teacher, department=True),
        CommentBankEntry(pk=4, code="d-ao1", text="x", criterion_code="AO1", owner=teacher, department=True),
    ]


@pytest.mark.parametrize("bank", [entries(), entries()[:1], []])
def test_bank_items_match_the_template_they_replace(bank):
    old = Template(TEMPLATE).render(Context({"bank": bank}))
    assert parse_html(bank_items(bank)) == parse_html(old)


def test_bank_items_escape_every_text_and_mark_whose_an_entry_is():
    html = bank_items(entries())
    assert 'data-text="Say &quot;why&quot; &lt;b&gt;&amp; how&lt;/b&gt;"' in html
    assert html.count("Department</span>") == 2
    assert html.count(">Mine</span>") == 1
    assert '<span class="badge text-bg-light">AO3</span>' in html


def test_the_comparison_can_fail():
    bank = entries()
    old = Template(TEMPLATE).render(Context({"bank": bank}))
    assert parse_html(bank_items(bank).replace("text-bg-info", "text-bg-warning")) != parse_html(old)

"""`|lean_crispy` writes the same form markup as crispy's `|crispy`, only faster."""

from __future__ import annotations

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from django import forms
from django.test.html import parse_html

from classroom.forms import DateTimeLocalInput
from classroom.templatetags.form_tags import lean_crispy

CHOICES = [("", "---------"), ("a", "Apple & pear"), ("b", "Banana")]


class PlainForm(forms.Form):
    title = forms.CharField(max_length=50, help_text="Shown <em>everywhere</em>.")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    count = forms.IntegerField(min_value=0, initial=3)
    fruit = forms.ChoiceField(choices=CHOICES, initial="b")
    agreed = forms.BooleanField(required=False, initial=True, help_text="Tick to agree.")
    opens = forms.DateTimeField(widget=DateTimeLocalInput(), required=False)
    secret = forms.CharField(widget=forms.HiddenInput, initial="x", required=False)
    styled = forms.CharField(required=False, label="", widget=forms.TextInput(attrs={"class": "wide"}))


class MixedForm(PlainForm):
    several = forms.MultipleChoiceField(choices=CHOICES[1:], widget=forms.CheckboxSelectMultiple, required=False)
    one = forms.ChoiceField(choices=CHOICES[1:], widget=forms.RadioSelect, required=False)


def same_html(form_class, *args, **kwargs) -> None:
    ours, crispys = form_class(*args, **kwargs), form_class(*args, **kwargs)
    assert parse_html(lean_crispy(ours)) == parse_html(as_crispy_form(crispys))


def test_a_plain_form_matches_crispy():
    same_html(PlainForm)
    same_html(PlainForm, initial={"title": 'Say "hi" <b>', "notes": "Line one\n\nLine two", "agreed": False})


def test_a_form_with_radio_buttons_and_checkbox_lists_matches_crispy():
    same_html(MixedForm)


@pytest.mark.parametrize("data", [{"title": "", "count": "-1"}, {"title": "ok", "count": "2", "fruit": "a"}])
def test_a_submitted_form_matches_crispy(data):
    same_html(PlainForm, data)


def test_a_form_with_errors_goes_to_crispy():
    form = PlainForm({"count": "x"})
    html = lean_crispy(form)
    assert "is-invalid" in html
    assert parse_html(html) == parse_html(as_crispy_form(PlainForm({"count": "x"})))


def test_the_lean_markup_differs_from_a_wrong_one():
    """The comparison above can fail: a missing label class is noticed."""
    html = lean_crispy(PlainForm()).replace('class="form-label requiredField"', 'class="form-label"', 1)
    assert parse_html(html) != parse_html(as_crispy_form(PlainForm()))

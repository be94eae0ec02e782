"""`|lean_crispy` writes the same form markup as crispy's `|crispy`, only faster."""

from __future__ import annotations

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from django import forms
from django.test.html import parse_html

from classroom.forms import DateTimeLocalInput
from classroom.templatetags.form_tags import lean_crispy, widget_html

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


# --- the knowledge check ---------------------------------------------------------------------

# The template the lesson page used before `knowledge_check_fields`: the markup it must keep.
KNOWLEDGE_CHECK_TEMPLATE = """{% for field in form %}{% with errors=field.errors %}
<div id="div_{{ field.auto_id }}" class="mb-3"><fieldset{% if field.aria_describedby %} aria-describedby="{{ field.aria_describedby }}"{% endif %}>
<legend class="form-label requiredField fs-6">{{ field.label }}<span class="asteriskField">*</span></legend>
<div>{% for option in field.subwidgets %}
<div class="form-check"><input type="radio" class="form-check-input{% if errors %} is-invalid{% endif %}" name="{{ field.html_name }}" value="{{ option.data.value }}" id="{{ option.data.attrs.id }}" required{% if errors %} aria-invalid="true"{% endif %}{% if option.data.selected %} checked{% endif %}><label for="{{ option.data.attrs.id }}" class="form-check-label">{{ option.choice_label }}</label>{% if errors and forloop.last %}
<div id="{{ field.auto_id }}_error" class="invalid-feedback">{% for error in errors %}<p id="error_{{ forloop.counter }}_{{ field.auto_id }}"><strong>{{ error }}</strong></p>{% endfor %}</div>{% endif %}</div>{% endfor %}
</div>{% if field.help_text %}
<div id="{{ field.auto_id }}_helptext" class="form-text">{{ field.help_text }}</div>{% endif %}
</fieldset></div>{% endwith %}{% endfor %}"""  # noqa: E501


def _questions():
    from crisis.models import KnowledgeQuestion, Lesson

    earlier = Lesson(pk=3, title='Thirteen days & "after"')
    here = Lesson(pk=4, title="Back channels")
    asked = [
        KnowledgeQuestion(
            pk=11,
            lesson=here,
            question="Who sent the letter of 26 <October>?",
            choices=["Khrushchev", "Kennedy & Rusk", "U Thant"],
            answer=0,
        ),
        KnowledgeQuestion(
            pk=12, lesson=here, question="Where were the Jupiters?", choices=["Turkey", "Italy"], answer=0
        ),
        KnowledgeQuestion(
            pk=7,
            lesson=earlier,
            question="What was ExComm?",
            choices=["A <committee>", "A ship", "A treaty", "A missile"],
            answer=0,
        ),
    ]
    for question in asked:
        question.is_review = question.lesson is earlier
    return asked


@pytest.mark.parametrize(
    "data",
    [None, {"q11": "1", "q12": "0", "q7": "3"}, {"q11": "2"}, {"q11": "9", "q12": "x"}, {}],
    ids=["unanswered", "all answered", "some missing", "out of range", "none sent"],
)
def test_the_knowledge_check_keeps_the_markup_of_its_template(data):
    from django.template import Context, Template

    from classroom.templatetags.form_tags import knowledge_check_fields
    from crisis.forms import KnowledgeCheckForm

    ours = KnowledgeCheckForm(_questions(), data)
    theirs = KnowledgeCheckForm(_questions(), data)
    if data is not None:
        assert ours.is_valid() == theirs.is_valid()
    expected = Template(KNOWLEDGE_CHECK_TEMPLATE).render(Context({"form": theirs}))
    assert knowledge_check_fields(ours) == expected
    assert parse_html(knowledge_check_fields(ours)) == parse_html(expected)


def test_the_knowledge_check_comparison_can_fail():
    from django.template import Context, Template

    from classroom.templatetags.form_tags import knowledge_check_fields
    from crisis.forms import KnowledgeCheckForm

    form = KnowledgeCheckForm(_questions(), {"q11": "1"})
    expected = Template(KNOWLEDGE_CHECK_TEMPLATE).render(Context({"form": form}))
    assert 'value="1" id="id_q11_1" required aria-invalid' not in expected  # q11 is answered: valid
    assert "checked" in expected and "&lt;October&gt;" in expected and "&lt;committee&gt;" in expected
    assert knowledge_check_fields(form).replace(" checked", "", 1) != expected


def _widget_forms():
    from classroom.forms import BankEntryForm, MarkForm
    from classroom.models import User

    owner = User(pk=1, username="t")
    return [
        PlainForm(),
        PlainForm(initial={"title": 'Say "hi" <b>', "notes": "Line one\n\nLine two", "agreed": False}),
        PlainForm({"title": "", "count": "x", "fruit": "a"}),
        MixedForm(),
        MarkForm(
            initial={"www": 'Clear <b>argument</b> & "sources"', "ebi": "", "improvement_task": "Redraft"}, criteria=[]
        ),
        MarkForm({"www": "Posted back", "ebi": "x" * 3}, criteria=[]),
        BankEntryForm(owner=owner, prefix="bank"),
        BankEntryForm(
            {"bank-code": "a&b", "bank-text": "<i>", "bank-criterion_code": "AO1"}, owner=owner, prefix="bank"
        ),
    ]


def test_widget_html_writes_exactly_what_the_field_itself_does():
    """`{{ field|widget_html }}` in place of `{{ field }}` (the marking page's feedback boxes and
    bank form): the same characters, values escaped, errors' aria attributes included; a
    select's options without the blank lines between them (the same HTML)."""
    fields = [field for form in _widget_forms() for field in form]
    assert len(fields) > 20
    for field in fields:
        ours, django = widget_html(field), str(field)
        if isinstance(field.field.widget, forms.Select):
            assert parse_html(ours) == parse_html(django), field.html_name
            assert ours == "\n".join(line for line in django.split("\n") if line.strip())
        else:
            assert ours == django, field.html_name


def test_widget_html_comparison_can_fail():
    field = PlainForm()["notes"]
    assert widget_html(field).replace('rows="3"', 'rows="4"') != str(field)

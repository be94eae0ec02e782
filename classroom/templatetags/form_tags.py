"""`{{ form|lean_crispy }}`: crispy-forms' Bootstrap 5 markup for a plain form, built in Python.

crispy renders every field through a dozen nested templates, tens of milliseconds for a form
page. For a form without errors whose fields are text, number, date, textarea, select and
checkbox inputs, this writes the same markup directly (the widget itself is still Django's);
anything else (errors, radio buttons, file inputs, multi-widgets, formsets) goes to crispy,
so the page looks the same either way. tests/test_form_tags.py holds the two to the same HTML.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from crispy_forms.utils import TEMPLATE_PACK
from django import forms, template
from django.forms.boundfield import BoundField
from django.forms.widgets import Input
from django.template.loader import get_template
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_SIMPLE = (Input, forms.Textarea, forms.Select)
_NOT_SIMPLE = (forms.FileInput, forms.RadioSelect, forms.CheckboxSelectMultiple, forms.MultiWidget)


def _simple(field: BoundField) -> bool:
    widget = field.field.widget
    return (
        field.is_hidden
        or isinstance(widget, _SIMPLE)
        and not isinstance(widget, _NOT_SIMPLE)
        and not hasattr(widget, "widget")
        and not field.use_fieldset
    )


# Django's widget templates (django/forms/templates/django/forms/widgets/) written out in Python
# for the plain widgets: each of these only includes input.html.
_INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in ("checkbox", "date", "datetime", "email", "hidden", "number", "password", "text", "time", "url")
)
_TEXTAREA = "django/forms/widgets/textarea.html"
_SELECT = "django/forms/widgets/select.html"
_OPTION = "django/forms/widgets/select_option.html"


def _attrs(attrs: dict[str, object]) -> SafeString:
    """django/forms/widgets/attrs.html."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items()
            if value is not False
        ),
    )


def _option(option: dict[str, Any]) -> SafeString:
    return format_html('<option value="{}"{}>{}</option>', option["value"], _attrs(option["attrs"]), option["label"])


def _render_widget(field: BoundField) -> SafeString:
    """str(field) (BoundField.as_widget), with the plain widgets' templates done in Python."""
    widget = field.field.widget
    if field.field.show_hidden_initial or field.field.localize:
        return SafeString(str(field))
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    template_name = context["template_name"]
    if template_name in _INPUT_TEMPLATES:
        value = context["value"]
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            context["type"],
            context["name"],
            format_html(' value="{}"', value) if value is not None else "",
            _attrs(context["attrs"]),
        )
    if template_name == _TEXTAREA:
        return format_html(
            '<textarea name="{}"{}>\n{}</textarea>', context["name"], _attrs(context["attrs"]), context["value"] or ""
        )
    if template_name == _SELECT and all(
        not group_name and all(option["template_name"] == _OPTION for option in options)
        for group_name, options, _index in context["optgroups"]
    ):
        options = format_html_join(
            "", "\n  {}", ((_option(option),) for _name, group, _index in context["optgroups"] for option in group)
        )
        return format_html('<select name="{}"{}>{}\n</select>', context["name"], _attrs(context["attrs"]), options)
    return SafeString(str(field))


@register.filter
def widget_html(field: BoundField) -> SafeString:
    """`{{ field|widget_html }}`: the same HTML as `{{ field }}`, the plain widgets written in
    Python rather than through Django's widget templates."""
    return _render_widget(field)


def _widget(field: BoundField, bootstrap_class: str) -> SafeString:
    """The widget with crispy's classes: its own, its type's name, then Bootstrap's."""
    widget = field.field.widget
    type_class = widget.__class__.__name__.lower()
    classes = widget.attrs.get("class", "")
    if not classes:
        classes = type_class
    elif type_class not in classes:
        classes += f" {type_class}"
    if bootstrap_class not in classes.split():
        classes += f" {bootstrap_class}"
    widget.attrs["class"] = classes
    return _render_widget(field)


def _label(field: BoundField) -> SafeString:
    if field.field.required:
        return format_html('{}<span class="asteriskField">*</span>', field.label)
    return format_html("{}", field.label)


def _help(field: BoundField) -> SafeString | str:
    if not field.help_text:
        return ""
    help_text = mark_safe(field.help_text)  # noqa: S308 - crispy shows help text unescaped too (|safe)
    if field.auto_id:
        return format_html('<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, help_text)
    return format_html('<div class="form-text">{}</div>', help_text)


def _field(field: BoundField) -> SafeString:
    if field.is_hidden:
        return SafeString(str(field))
    required = " requiredField" if field.field.required else ""
    extra = f" {field.css_classes()}" if field.css_classes() else ""
    if isinstance(field.field.widget, forms.CheckboxInput):
        check_label = format_html(
            '<label for="{}" class="form-check-label{}">{}</label>', field.id_for_label, required, _label(field)
        )
        return format_html(
            '<div class="mb-3"><div id="div_{}" class="form-check{}">{} {} {}</div></div>',
            field.auto_id,
            extra,
            _widget(field, "form-check-input"),
            check_label,
            _help(field),
        )
    label: SafeString | str = ""
    if field.label:
        label = format_html(
            '<label{} class="form-label{}">{}</label>',
            format_html(' for="{}"', field.id_for_label) if field.id_for_label else "",
            required,
            _label(field),
        )
    bootstrap = "form-select" if isinstance(field.field.widget, forms.Select) else "form-control"
    return format_html(
        '<div id="div_{}" class="mb-3{}">{} {} {}</div>',
        field.auto_id,
        extra,
        label,
        _widget(field, bootstrap),
        _help(field),
    )


@lru_cache
def _crispy_field_template() -> Any:
    return get_template(f"{TEMPLATE_PACK}/field.html")


def _crispy_field(field: BoundField, form: forms.BaseForm) -> SafeString:
    """One field as `form|crispy` renders it (crispy's field template and context)."""
    context = {
        "field": field,
        "form": form,
        "field_class": "",
        "field_template": f"{TEMPLATE_PACK}/field.html",
        "form_show_errors": True,
        "form_show_labels": True,
        "label_class": "",
    }
    return SafeString(_crispy_field_template().render(context))


@register.filter
def lean_crispy(form: forms.BaseForm) -> SafeString:
    """`form|crispy`, faster for a form without errors (see above): its plain fields written
    here, any other through crispy's own field template."""
    if not isinstance(form, forms.BaseForm) or form.errors:
        return as_crispy_form(form)
    return SafeString(" ".join(_field(field) if _simple(field) else _crispy_field(field, form) for field in form))


# --- the knowledge check ----------------------------------------------------------------------
# Each question a required radio group (crisis.forms.KnowledgeCheckForm), written out as
# crispy-forms' Bootstrap 5 layout writes a radio field, with the question as a legend.
# Every pupil opens it in every lesson; through templates (a node per option and attribute,
# and Django's widget machinery per choice) it cost more than the rest of the lesson page.
# tests/test_form_tags.py holds it to the template it replaced.

_QUESTION = (
    '\n<div id="div_{id}" class="mb-3"><fieldset{described}>\n'
    '<legend class="form-label requiredField fs-6">{label}<span class="asteriskField">*</span></legend>\n'
    "<div>{options}\n</div>{help}\n</fieldset></div>"
)
_CHOICE = (
    '\n<div class="form-check"><input type="radio" class="form-check-input{invalid}" name="{name}" value="{value}" '
    'id="{id}" required{aria_invalid}{checked}><label for="{id}" class="form-check-label">{label}</label>{errors}</div>'
)


def _question(field: BoundField) -> str:
    errors = [conditional_escape(str(error)) for error in field.errors]
    auto_id = conditional_escape(field.auto_id)
    value = field.value()
    chosen = None if value is None else str(value)
    choices = list(field.field.choices)  # type: ignore[attr-defined]
    options = []
    for index, (choice, label) in enumerate(choices):
        error_list = ""
        if errors and index == len(choices) - 1:
            error_list = (
                f'\n<div id="{auto_id}_error" class="invalid-feedback">'
                + "".join(f'<p id="error_{n}_{auto_id}"><strong>{e}</strong></p>' for n, e in enumerate(errors, 1))
                + "</div>"
            )
        options.append(
            _CHOICE.format(
                invalid=" is-invalid" if errors else "",
                name=conditional_escape(field.html_name),
                value=conditional_escape(choice),
                id=f"{auto_id}_{index}",
                aria_invalid=' aria-invalid="true"' if errors else "",
                checked=" checked" if chosen is not None and str(choice) == chosen else "",
                label=conditional_escape(label),
                errors=error_list,
            )
        )
    described = field.aria_describedby
    return _QUESTION.format(
        id=auto_id,
        described=f' aria-describedby="{conditional_escape(described)}"' if described else "",
        label=conditional_escape(field.label),
        options="".join(options),
        help=f'\n<div id="{auto_id}_helptext" class="form-text">{conditional_escape(field.help_text)}</div>'
        if field.help_text
        else "",
    )


@register.filter
def knowledge_check_fields(form: forms.BaseForm) -> SafeString:
    """The knowledge check's questions (see above): every text escaped, the rest our own markup."""
    return mark_safe("".join(_question(field) for field in form))  # noqa: S308 - every text escaped above

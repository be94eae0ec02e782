"""Forms for reading (the knowledge check) and for teachers' authoring."""

from __future__ import annotations

from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.text import slugify

from classroom.forms import IdsField
from crisis.models import (
    Criterion,
    EssayPrompt,
    IndicativePoint,
    KeyTerm,
    KnowledgeQuestion,
    Lesson,
    Level,
    MarkScheme,
    ModelAnswer,
    PromptSource,
    SchemeInUse,
    Source,
    TimelineEvent,
    Unit,
    model_answer_problems,
    validate_bands,
)

# The browser's date picker reads and sends ISO dates, whatever the locale's display format.
DATE_PICKER = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# Rows one list of a page (key terms, questions, sources, levels…) takes at once. A page
# says how many rows it sends; without a cap a forged count makes the server build and
# render 2,000 forms per list, minutes of work, past the worker's timeout (security review L2).
MAX_ROWS = 50


class AuthoringForm(forms.ModelForm):
    """Browsers send a textarea's line breaks as CRLF; text is stored with LF (as the unit's
    files load it), so saving a form unchanged leaves every field as it was."""

    def _post_clean(self):  # ModelForm's hook after clean(), before the instance is built
        for name, value in self.cleaned_data.items():
            if isinstance(value, str) and "\r" in value:
                self.cleaned_data[name] = value.replace("\r\n", "\n").replace("\r", "\n")
        super()._post_clean()  # type: ignore[misc]  # missing from django-stubs


class KnowledgeCheckForm(forms.Form):
    """One radio group per question; every question must be answered. A review question
    (from an earlier lesson, Lesson.check_questions) says so under its choices."""

    def __init__(self, questions: list[KnowledgeQuestion], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for number, question in enumerate(questions, start=1):
            self.fields[f"q{question.pk}"] = forms.TypedChoiceField(
                label=f"{number}. {question.question}",
                choices=list(enumerate(question.choices)),
                coerce=int,
                widget=forms.RadioSelect,
                help_text=f"From an earlier lesson: {question.lesson.title}" if question.is_review else "",
                error_messages={"required": "Choose an answer to this question."},
            )

    def answers(self) -> dict[int, int]:
        return {int(name[1:]): value for name, value in self.cleaned_data.items()}


def _unique_slug(text: str, fallback: str) -> str:
    return (slugify(text)[:90] or fallback).strip("-") or fallback


# --- lessons ---------------------------------------------------------------------------------


class LessonForm(AuthoringForm):
    class Meta:
        model = Lesson
        fields = ["title", "summary", "order", "objectives", "body", "sources"]
        widgets = {
            "objectives": forms.Textarea(attrs={"rows": 4}),
            "body": forms.Textarea(attrs={"rows": 18}),
            "sources": forms.CheckboxSelectMultiple,
        }
        field_classes = {"sources": IdsField}
        labels = {"objectives": "Learning objectives", "body": "Lesson text (Markdown)"}

    def __init__(self, *args, unit: Unit, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit = unit
        sources_field = cast(forms.ModelMultipleChoiceField, self.fields["sources"])
        sources_field.queryset = unit.sources.select_related("owner").order_by("owner_id", "label", "pk")
        # A per-instance override of the label method: django-stubs types it as a method, not an attribute.
        sources_field.label_from_instance = lambda s: (  # type: ignore[method-assign,assignment]
            f"{s.label}: {s.title}" + (f" ({s.owner.display_name}'s copy)" if s.owner_id else "")
        )

    def save(self, commit: bool = True) -> Lesson:
        lesson = super().save(commit=False)
        lesson.unit = self.unit
        if not lesson.slug:
            lesson.slug = _unique_slug(lesson.title, "lesson")
        if commit:
            lesson.save()
            self.save_m2m()
        return lesson


KeyTermFormSet = forms.inlineformset_factory(
    Lesson,
    KeyTerm,
    form=AuthoringForm,
    fields=["order", "term", "definition"],
    widgets={"definition": forms.Textarea(attrs={"rows": 2})},
    extra=1,
    can_delete=True,
    max_num=MAX_ROWS,
    absolute_max=MAX_ROWS,
)

TimelineFormSet = forms.inlineformset_factory(
    Lesson,
    TimelineEvent,
    form=AuthoringForm,
    fields=["sort_date", "when", "event"],
    widgets={"sort_date": DATE_PICKER, "event": forms.Textarea(attrs={"rows": 2})},
    labels={"sort_date": "Date (for ordering)", "when": "Date as shown"},
    extra=1,
    can_delete=True,
    max_num=MAX_ROWS,
    absolute_max=MAX_ROWS,
)


class QuestionForm(AuthoringForm):
    """Choices are typed one per line; the correct answer is given by its line number."""

    choices_text = forms.CharField(
        label="Choices (one per line)", widget=forms.Textarea(attrs={"rows": 4}), required=True
    )
    answer_number = forms.IntegerField(label="Number of the correct choice", min_value=1)

    class Meta:
        model = KnowledgeQuestion
        fields = ["order", "question", "explanation"]
        widgets = {"question": forms.Textarea(attrs={"rows": 2}), "explanation": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("choices_text", "\n".join(self.instance.choices))
            self.initial.setdefault("answer_number", self.instance.answer + 1)

    def clean(self):
        super().clean()
        data = self.cleaned_data
        choices = [line.strip() for line in (data.get("choices_text") or "").splitlines() if line.strip()]
        if "choices_text" in data and len(choices) < 2:
            self.add_error("choices_text", "Give at least two choices, one per line.")
        number = data.get("answer_number")
        if number is not None and choices and number > len(choices):
            self.add_error("answer_number", f"There are only {len(choices)} choices.")
        self.instance.choices = choices
        if number:
            self.instance.answer = number - 1
        return data

    # KnowledgeQuestion.clean() names the model's fields; this form asks for them as these.
    MODEL_FIELDS = {"choices": "choices_text", "answer": "answer_number"}

    def add_error(self, field, error):
        """The model's own check (errors on `choices`, `answer`) lands on the boxes the teacher
        typed in, once: Django refuses errors for fields a form does not have (ValueError, a
        500 for a question with one choice)."""
        if field is None and isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            renamed = {self.MODEL_FIELDS.get(name, name): errors for name, errors in error.error_dict.items()}
            error = ValidationError({name: errors for name, errors in renamed.items() if not self.has_error(name)})
            if not error.error_dict:
                return
        super().add_error(field, error)


QuestionFormSet = forms.inlineformset_factory(
    Lesson, KnowledgeQuestion, form=QuestionForm, extra=1, can_delete=True, max_num=MAX_ROWS, absolute_max=MAX_ROWS
)


# --- sources ---------------------------------------------------------------------------------


class SourceForm(AuthoringForm):
    class Meta:
        model = Source
        fields = [
            "label", "title", "kind", "author", "date", "date_label",
            "origin", "purpose", "audience", "excerpt", "citation", "licence", "shows",
        ]  # fmt: skip
        widgets = {
            "date": DATE_PICKER,
            "origin": forms.Textarea(attrs={"rows": 2}),
            "purpose": forms.Textarea(attrs={"rows": 2}),
            "audience": forms.Textarea(attrs={"rows": 2}),
            "excerpt": forms.Textarea(attrs={"rows": 8}),
            "citation": forms.Textarea(attrs={"rows": 2}),
            "shows": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"date_label": "Date as shown", "shows": "What it shows (notes)"}

    def __init__(self, *args, unit: Unit, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit = unit

    def save(self, commit: bool = True) -> Source:
        source = super().save(commit=False)
        source.unit = self.unit
        if not source.slug:
            source.slug = _unique_slug(f"{source.label} {source.title}", "source")
        if commit:
            source.save()
        return source


# --- prompts ---------------------------------------------------------------------------------


class PromptForm(AuthoringForm):
    class Meta:
        model = EssayPrompt
        fields = [
            "question", "question_type", "instructions", "own_knowledge", "suggested_minutes", "word_min",
            "word_max", "mark_scheme",
        ]  # fmt: skip
        widgets = {"instructions": forms.Textarea(attrs={"rows": 6})}
        labels = {
            "instructions": "Instructions (Markdown)",
            "suggested_minutes": "Suggested time (minutes)",
            "word_min": "Words: at least",
            "word_max": "Words: at most",
            "question_type": "Question type",
        }
        help_texts = {"question_type": "The exam board's form of question: it chooses the writing help pupils see."}

    def __init__(self, *args, unit: Unit, mark_schemes, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit = unit
        # Left out of a post (an older form), the question keeps its type.
        self.fields["question_type"].required = False
        cast(forms.ModelChoiceField, self.fields["mark_scheme"]).queryset = mark_schemes
        marked = self.instance.marked_essays()
        if marked:
            self.fields["mark_scheme"].help_text = (
                f"Fixed: {marked} essay{'s' if marked != 1 else ''} set from this question "
                f"{'have' if marked != 1 else 'has'} been marked with this scheme."
            )

    def clean_question_type(self) -> str:
        return self.cleaned_data.get("question_type") or self.instance.question_type or EssayPrompt.QuestionType.OTHER

    def clean(self):
        super().clean()
        data = self.cleaned_data
        word_min, word_max = data.get("word_min") or 0, data.get("word_max") or 0
        if word_max and word_min > word_max:
            self.add_error("word_max", "The most words must be at least the fewest.")
        if data.get("mark_scheme") is not None:
            try:
                self.instance.check_scheme_change(data["mark_scheme"].pk)
            except SchemeInUse as error:
                self.add_error("mark_scheme", str(error))
        return data

    def save(self, commit: bool = True) -> EssayPrompt:
        prompt = super().save(commit=False)
        prompt.unit = self.unit
        if not prompt.slug:
            prompt.slug = _unique_slug(prompt.question, "prompt")
        if commit:
            prompt.save()
        return prompt


class _PromptSourceFormSetBase(forms.BaseInlineFormSet):
    def __init__(self, *args, sources=None, **kwargs):
        self.source_choices = sources
        super().__init__(*args, **kwargs)

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if self.source_choices is not None:
            form.fields["source"].queryset = self.source_choices
            form.fields["source"].label_from_instance = lambda s: (
                f"{s.label}: {s.title}" + (f" ({s.owner.display_name}'s copy)" if s.owner_id else "")
            )


PromptSourceFormSet = forms.inlineformset_factory(
    EssayPrompt,
    PromptSource,
    formset=_PromptSourceFormSetBase,
    fields=["order", "source"],
    labels={"order": "Position"},
    extra=2,
    can_delete=True,
    max_num=MAX_ROWS,
    absolute_max=MAX_ROWS,
)

IndicativePointFormSet = forms.inlineformset_factory(
    EssayPrompt,
    IndicativePoint,
    form=AuthoringForm,
    fields=["side", "order", "text", "key_terms"],
    widgets={"text": forms.Textarea(attrs={"rows": 2})},
    labels={"text": "Point", "key_terms": "Key terms (comma-separated)"},
    extra=2,
    can_delete=True,
    max_num=MAX_ROWS,
    absolute_max=MAX_ROWS,
)


class ModelAnswerFormSetBase(forms.BaseInlineFormSet):
    """Each answer's level and marks must fit the question's mark scheme: `scheme`, set by the
    view to the one chosen on the form (None: no check, e.g. the form has errors)."""

    scheme: MarkScheme | None = None

    def clean(self):
        super().clean()
        if self.scheme is None:
            return
        bands, spag_max = self.scheme.answer_bands()
        for form in self.forms:
            data = form.cleaned_data
            if not data or data.get("DELETE") or form.errors:
                continue
            problems = model_answer_problems(data["level"], data["marks"], data.get("spag"), bands, spag_max)
            for name, message in problems.items():
                form.add_error(name, message)


ModelAnswerFormSet = forms.inlineformset_factory(
    EssayPrompt,
    ModelAnswer,
    form=AuthoringForm,
    formset=ModelAnswerFormSetBase,
    fields=["order", "level", "marks", "spag", "text", "commentary"],
    widgets={"text": forms.Textarea(attrs={"rows": 8}), "commentary": forms.Textarea(attrs={"rows": 4})},
    labels={"order": "Position", "spag": "SPaG marks", "text": "The answer", "commentary": "Examiner's commentary"},
    extra=1,
    can_delete=True,
    max_num=MAX_ROWS,
    absolute_max=MAX_ROWS,
)


# --- mark schemes ----------------------------------------------------------------------------


class MarkSchemeForm(AuthoringForm):
    """The view passes an instance with its owner set, even for a new scheme: the name must
    differ from every scheme that owner can choose for a question (shipped ones and their own)."""

    class Meta:
        model = MarkScheme
        fields = ["name", "qualification", "guidance"]
        widgets = {"guidance": forms.Textarea(attrs={"rows": 4})}
        labels = {"guidance": "Marking guidance (best fit)"}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        choosable = MarkScheme.objects.filter(Q(owner__isnull=True) | Q(owner_id=self.instance.owner_id))
        if choosable.filter(name=name).exclude(pk=self.instance.pk).exists():
            raise ValidationError(
                "You already have a mark scheme with this name (or one ships with it): choose another."
            )
        return name


class _CriterionFormSetBase(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        spag = [f for f in self.forms if f.cleaned_data.get("is_spag") and not f.cleaned_data.get("DELETE", False)]
        if len(spag) > 1:
            raise ValidationError("A mark scheme can have only one SPaG criterion.")


CriterionFormSet = forms.inlineformset_factory(
    MarkScheme,
    Criterion,
    form=AuthoringForm,
    formset=_CriterionFormSetBase,
    fields=["order", "code", "assessment_objectives", "name", "description", "is_spag"],
    widgets={"description": forms.Textarea(attrs={"rows": 2})},
    labels={"is_spag": "SPaG (spelling, punctuation and grammar)", "assessment_objectives": "Assessment objectives"},
    extra=1,
    can_delete=True,
    max_num=MAX_ROWS,
    absolute_max=MAX_ROWS,
)


class _LevelFormSetBase(forms.BaseInlineFormSet):
    """Levels are checked together (validate_bands): numbered 1, 2, 3… after an optional
    level 0 of 0 marks, bands contiguous and non-overlapping."""

    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms):
            return
        bands = [
            (f.cleaned_data["number"], f.cleaned_data["min_marks"], f.cleaned_data["max_marks"])
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE", False)
        ]
        validate_bands(bands, what="Mark bands")


LevelFormSet = forms.inlineformset_factory(
    Criterion,
    Level,
    form=AuthoringForm,
    formset=_LevelFormSetBase,
    fields=["number", "min_marks", "max_marks", "descriptor"],
    widgets={"descriptor": forms.Textarea(attrs={"rows": 3})},
    labels={"min_marks": "Lowest mark", "max_marks": "Highest mark"},
    extra=1,
    can_delete=True,
    max_num=MAX_ROWS,
    absolute_max=MAX_ROWS,
)

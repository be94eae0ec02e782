"""Forms for marking: levels and marks per criterion, feedback, comments, the comment bank, DIRT."""

from __future__ import annotations

from django import forms

from classroom.models import MAX_COMMENT_CHARS, MAX_FEEDBACK_CHARS, CommentBankEntry

NO_LEVEL = "0"  # "No rewardable material": no level, 0 marks


def _feedback_box() -> forms.Textarea:
    # .bank-target: static/js/marking.js inserts comment-bank text and expands #codes here.
    return forms.Textarea(attrs={"rows": 3, "class": "form-control bank-target"})


class MarkForm(forms.Form):
    """One level (radio) and one mark per criterion, then the written feedback.

    The form checks that each chosen level is one of its criterion's levels and that the
    mark lies in the level's band; `Submission.record_mark` checks again and totals.
    """

    www = forms.CharField(label="What went well", required=False, max_length=MAX_FEEDBACK_CHARS, widget=_feedback_box())
    ebi = forms.CharField(label="Even better if", required=False, max_length=MAX_FEEDBACK_CHARS, widget=_feedback_box())
    improvement_task = forms.CharField(
        label="Improvement task (optional)",
        required=False,
        max_length=MAX_FEEDBACK_CHARS,
        widget=_feedback_box(),
        help_text="Something specific for the student to do in response (DIRT).",
    )
    base_revision = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, criteria: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for criterion in criteria:
            levels = list(criterion.levels.all())
            choices = [(NO_LEVEL, "No rewardable material (0 marks)")] + [
                (str(level.pk), f"Level {level.number} ({level.band})") for level in levels
            ]
            self.fields[f"level-{criterion.pk}"] = forms.ChoiceField(
                label=f"{criterion.code} level", choices=choices, required=False, widget=forms.RadioSelect
            )
            self.fields[f"marks-{criterion.pk}"] = forms.IntegerField(
                label=f"{criterion.code} mark", required=False, min_value=0, max_value=criterion.max_marks
            )

    def clean(self):
        data = super().clean()
        scores: dict[int, tuple[int | None, int]] = {}
        for criterion in self.criteria:
            level_key, marks_key = f"level-{criterion.pk}", f"marks-{criterion.pk}"
            if level_key in self.errors or marks_key in self.errors:
                continue
            level_value, marks = data.get(level_key) or "", data.get(marks_key)
            if not level_value:
                if marks is not None:
                    self.add_error(level_key, f"{criterion.code}: choose the level first, then a mark in its band.")
                continue
            if level_value == NO_LEVEL:
                if marks not in (None, 0):
                    self.add_error(marks_key, f"{criterion.code}: with no rewardable material the mark is 0.")
                    continue
                scores[criterion.pk] = (None, 0)
                continue
            level = next(lv for lv in criterion.levels.all() if str(lv.pk) == level_value)
            if marks is None:
                if level.min_marks != level.max_marks:
                    message = f"{criterion.code}: choose a mark in level {level.number} ({level.band})."
                    self.add_error(marks_key, message)
                    continue
                marks = level.min_marks
            if not level.min_marks <= marks <= level.max_marks:
                self.add_error(marks_key, f"{criterion.code}: level {level.number} allows {level.band}, not {marks}.")
                continue
            scores[criterion.pk] = (level.pk, marks)
        data["scores"] = scores
        return data


class CommentForm(forms.Form):
    """A comment on the essay: anchored when start/end/quote come with it (from selected text)."""

    comment = forms.CharField(
        label="Comment",
        max_length=MAX_COMMENT_CHARS,
        widget=_feedback_box(),
        help_text="Type #code to insert a comment from the bank.",
    )
    start = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    end = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    quote = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)


class CommentEditForm(forms.Form):
    comment = forms.CharField(label="Comment", max_length=MAX_COMMENT_CHARS, widget=_feedback_box())


class BankEntryForm(forms.ModelForm):
    class Meta:
        model = CommentBankEntry
        fields = ["code", "text", "criterion_code"]
        labels = {"code": "Short code", "text": "Text of the bank comment", "criterion_code": "Criterion"}
        widgets = {
            "code": forms.TextInput(attrs={"class": "form-control"}),
            "text": forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
            "criterion_code": forms.Select(attrs={"class": "form-select"}),
        }

    def __init__(self, *args, owner, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].lower()
        clash = CommentBankEntry.objects.filter(owner=self.owner, code=code)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(f"You already have a comment with the code #{code}.")
        return code

    def save(self, commit: bool = True) -> CommentBankEntry:
        self.instance.owner = self.owner
        return super().save(commit=commit)


class DirtForm(forms.Form):
    text = forms.CharField(
        label="Your response",
        required=False,
        max_length=MAX_FEEDBACK_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "form-control"}),
    )
    base_revision = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

"""Forms for setting assignments and writing essays."""

from __future__ import annotations

from django import forms

from classroom.models import MAX_ESSAY_CHARS, Assignment, User

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    """The browser's own date-and-time picker, in the school's time zone."""

    input_type = "datetime-local"

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs=attrs, format=DATETIME_FORMAT)


class AssignmentForm(forms.ModelForm):
    """Set (or, before it opens, edit) an assignment. The model's clean() checks the dates."""

    title = forms.CharField(
        max_length=200, required=False, help_text="Leave empty to use the essay question as the title."
    )

    class Meta:
        model = Assignment
        fields = [
            "prompt",
            "title",
            "instructions",
            "opens_at",
            "due_at",
            "late_cutoff",
            "time_limit_minutes",
            "anonymous_marking",
            "feedback_release",
            "feedback_release_at",
        ]
        labels = {
            "prompt": "Essay question",
            "opens_at": "Opens at",
            "due_at": "Due at",
            "late_cutoff": "Late work cut-off",
            "time_limit_minutes": "Time limit (minutes)",
            "anonymous_marking": "Mark anonymously (hide names while marking)",
            "feedback_release": "Release feedback",
            "feedback_release_at": "Release feedback at",
        }
        help_texts = {
            "instructions": "Optional, Markdown. Leave empty to use the essay question's own instructions.",
            "time_limit_minutes": "Optional. A timed essay ends this many minutes after a student first opens it.",
        }
        widgets = {
            "instructions": forms.Textarea(attrs={"rows": 4}),
            "opens_at": DateTimeLocalInput(),
            "due_at": DateTimeLocalInput(),
            "late_cutoff": DateTimeLocalInput(),
            "feedback_release_at": DateTimeLocalInput(),
        }

    def __init__(self, *args, prompts=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if prompts is not None:
            self.fields["prompt"].queryset = prompts
        self.fields["prompt"].empty_label = None

    def clean(self) -> dict:
        cleaned = super().clean()
        if not cleaned.get("title") and cleaned.get("prompt"):
            cleaned["title"] = cleaned["prompt"].question[:200]
            self.instance.title = cleaned["title"]
        if not cleaned.get("title"):
            self.add_error("title", "Give the assignment a title.")
        return cleaned


class DeadlinesForm(forms.Form):
    """After an assignment opens, only its deadlines can move (later)."""

    due_at = forms.DateTimeField(label="Due at", widget=DateTimeLocalInput())
    late_cutoff = forms.DateTimeField(
        label="Late work cut-off",
        required=False,
        widget=DateTimeLocalInput(),
        help_text="Empty: late work is accepted at any time.",
    )


class ExtensionForm(forms.Form):
    student = forms.ModelChoiceField(queryset=User.objects.none(), label="Student", empty_label=None)
    due_at = forms.DateTimeField(label="Their due date", widget=DateTimeLocalInput())
    late_cutoff = forms.DateTimeField(
        label="Their late cut-off",
        required=False,
        widget=DateTimeLocalInput(),
        help_text="Optional. Empty: the later of the class cut-off and their due date.",
    )

    def __init__(self, *args, students=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if students is not None:
            self.fields["student"].queryset = students

    def clean(self) -> dict:
        cleaned = super().clean()
        due, cutoff = cleaned.get("due_at"), cleaned.get("late_cutoff")
        if due and cutoff and cutoff < due:
            self.add_error("late_cutoff", "The cut-off cannot be before the due date.")
        return cleaned


class EssayForm(forms.Form):
    """The essay box, with the revision the writer last saw (for the version check)."""

    text = forms.CharField(
        label="Your essay",
        required=False,
        strip=False,
        max_length=MAX_ESSAY_CHARS,
        widget=forms.Textarea(attrs={"rows": 20, "spellcheck": "true"}),
        error_messages={"max_length": f"The essay is too long to save (over {MAX_ESSAY_CHARS:,} characters)."},
    )
    base_revision = forms.IntegerField(
        min_value=0,
        widget=forms.HiddenInput(),
        error_messages={
            "invalid": "The page sent a broken version number: reload the page (your text is kept below).",
            "required": "The page did not say which version it saved: reload the page.",
        },
    )

"""Forms, in the order of the view modules: classes and rosters, assignments and writing, marking."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, SetPasswordForm, UsernameField
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db.models import QuerySet
from django.utils.text import Truncator

from classroom import roster, staff
from classroom.department import MAX_RANDOM_EXTRA, MAX_SAMPLE_SIZE
from classroom.models import (
    MAX_BANK_CHARS,
    MAX_COMMENT_CHARS,
    MAX_ESSAY_CHARS,
    MAX_FEEDBACK_CHARS,
    MAX_JUDGING_TARGET,
    MIN_JUDGING_TARGET,
    AccessArrangement,
    Assignment,
    CommentBankEntry,
    EmailPreference,
    ExemplarShare,
    SchoolClass,
    Standardisation,
    StrandTick,
    User,
    same_minute,
)
from classroom.signin import password_signin_allowed
from crisis.wording import plural


def whole_number(value: object) -> int | None:
    """A number sent as text (an id in a query string or a button), or None. Only ASCII
    digits count: str.isdigit() also accepts "²", which int() then refuses."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,18}", value):
        return int(value)
    return None


class IdsField(forms.ModelMultipleChoiceField):
    """Ticked boxes of ids. An id no row can have ("99999999999999999999") is an invalid
    choice, not a lookup: SQLite cannot compare it with a column (OverflowError, a 500)."""

    def clean(self, value):
        for pk in value if isinstance(value, list | tuple) else []:
            if whole_number(pk) is None:
                message = self.error_messages["invalid_pk_value"]
                raise ValidationError(message, code="invalid_pk_value", params={"pk": pk})
        return super().clean(value)


# --- signing in ---


def refuse_password_signin_if_off(form: AuthenticationForm, user) -> None:
    """PASSWORD_SIGNIN_ROLES, on every form that signs in with a password. Checked once the
    password is found right, and then answered exactly as a wrong password is (the log-in page
    says which roles use the school's account), so the answer never tells anyone that the
    password was right. django-axes counts it as a failed attempt like a wrong one, so the
    lockout comes no later either."""
    if not password_signin_allowed(user):
        credentials = {"username": form.cleaned_data.get("username")}
        user_login_failed.send(sender=__name__, credentials=credentials, request=form.request)
        raise form.get_invalid_login_error()


class LoginForm(AuthenticationForm):
    """Django's sign-in form with the username's length checked before anything is looked up
    (an over-long name is a form error, never a database error), refusing an expired
    one-time code.

    The expiry is checked after the code has been found correct, so it is not a failed
    log-in to django-axes (no `user_login_failed`): typing an expired code again and again
    never locks the pupil out, and says each time what to do."""

    username = UsernameField(
        max_length=User._meta.get_field("username").max_length,
        widget=forms.TextInput(attrs={"autofocus": True}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "code_expired": (
            "This one-time code has expired: codes work for %(days)s. "
            "Ask your teacher to reset your password for a new code."
        ),
    }

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        refuse_password_signin_if_off(self, user)
        if user.one_time_code_expired:
            days = plural(settings.ONE_TIME_CODE_LIFETIME.days, "day")
            raise forms.ValidationError(self.error_messages["code_expired"], code="code_expired", params={"days": days})


def _relabel_new_password(form: SetPasswordForm) -> None:
    form.fields["new_password2"].label = "Type the new password again"
    form.fields["new_password2"].help_text = ""


def _clean_new_password(form: SetPasswordForm) -> dict:
    """Django's checks, but a password the rules refuse ("too short") is reported under the
    new password itself, not under its repetition."""
    form.validate_passwords("new_password1", "new_password2")
    form.validate_password_for_user(form.user, "new_password1")
    return form.cleaned_data


class NewPasswordForm(SetPasswordForm):
    """The new password, typed twice, for a user signed in with a one-time code: they have just
    typed the code to sign in, so it is not asked for again."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].widget.attrs["autofocus"] = True
        _relabel_new_password(self)

    def clean(self) -> dict:
        return _clean_new_password(self)


class ChangePasswordForm(PasswordChangeForm):
    """Changing a password one chose oneself: the old one first, then the new one twice."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _relabel_new_password(self)

    def clean(self) -> dict:
        return _clean_new_password(self)


# --- classes and rosters ---


class SchoolClassForm(forms.ModelForm):
    year_group = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=13,
        help_text="For example 10. Leave blank for a mixed-year group.",
    )

    class Meta:
        model = SchoolClass
        fields = ["name", "year_group"]
        labels = {"name": "Class name"}
        help_texts = {"name": "As your students know it, for example “10H History”."}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the class a name.")
        return name


class CoTeacherForm(forms.Form):
    username = forms.CharField(
        label="Teacher's username",
        max_length=150,
        widget=forms.TextInput(attrs={"list": "teacher-usernames", "autocomplete": "off"}),
    )

    def __init__(self, *args, candidates: QuerySet[User], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = candidates

    def clean_username(self) -> User:
        username = self.cleaned_data["username"].strip()
        teacher = self.candidates.filter(username__iexact=username).first()
        if teacher is None:
            raise forms.ValidationError(f"No teacher has the username “{username}”.")
        return teacher


class JoinClassForm(forms.Form):
    code = forms.CharField(
        label="Join code",
        max_length=40,
        help_text="The code your teacher gave you, for example CUBA6228.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )

    def __init__(self, *args, student: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.student = student
        self.school_class: SchoolClass | None = None

    def clean_code(self) -> str:
        if roster.join_attempts_blocked(self.student):
            raise forms.ValidationError(
                "Too many wrong codes in the last hour. Wait a while, or ask your teacher to add you."
            )
        raw = self.cleaned_data["code"]
        code = roster.normalise_join_code(raw)
        school_class = SchoolClass.objects.filter(join_code=code).first() if code else None
        if school_class is None:
            roster.record_wrong_join_code(self.student)
            raise forms.ValidationError(
                f"No class has the code “{raw.strip()}”. Check it with your teacher: "
                "codes are 8 letters and digits, such as CUBA6228."
            )
        if school_class.archived:
            raise forms.ValidationError(
                f"{school_class.name} has been archived, so you cannot join it. Ask your teacher for a current code."
            )
        if school_class.enrolments.filter(student=self.student, removed_at__isnull=False).exists():
            # A teacher removed this pupil: only a teacher can add them back (the class page).
            raise forms.ValidationError(
                f"Your teacher removed you from {school_class.name}, so the code cannot add you back. "
                "Ask your teacher if you should be in it."
            )
        self.school_class = school_class
        return code


class StudentForm(forms.Form):
    """One new student account; the same checks as a line of a CSV import."""

    given_name = forms.CharField(label="Given name", max_length=roster.NAME_MAX_LENGTH)
    family_name = forms.CharField(label="Family name", max_length=roster.NAME_MAX_LENGTH)
    username = forms.CharField(
        label="Username",
        required=False,
        max_length=roster.USERNAME_MAX_LENGTH,
        help_text="Optional: leave blank to make one from the name, such as amelia.brown.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    # Names are kept exactly as typed, apart from surrounding spaces.
    field_order = ["given_name", "family_name", "username"]

    def __init__(self, *args, school_class: SchoolClass | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.school_class = school_class

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned
        row = roster.RosterRow(
            line=0,
            given_name=cleaned["given_name"],
            family_name=cleaned["family_name"],
            requested_username=cleaned.get("username", ""),
        )
        roster.validate_rows([row], self.school_class)
        for field_name, message in row.errors:
            self.add_error(field_name, message)
        self.row = row
        return cleaned


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            "First line: given_name,family_name,username (username optional). "
            f"UTF-8, comma or semicolon separated, at most {roster.MAX_ROWS} students."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, school_class: SchoolClass | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.school_class = school_class

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > roster.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The file is larger than {roster.MAX_UPLOAD_BYTES // 1024} KB.")
        try:
            self.rows = roster.validate_rows(roster.parse_csv(upload.read()), self.school_class)
        except roster.RosterError as exc:
            raise forms.ValidationError(str(exc)) from None
        return upload


# --- assignments and writing ---

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
            "spell_check_off",
            "anonymous_marking",
            "feedback_release",
            "feedback_release_at",
            "model_answers",
        ]
        labels = {
            "prompt": "Essay question",
            "opens_at": "Opens at",
            "due_at": "Due at",
            "late_cutoff": "Late work cut-off",
            "time_limit_minutes": "Time limit (minutes)",
            "spell_check_off": "Turn off spell check in the essay box (as in an exam)",
            "anonymous_marking": "Mark anonymously (hide names while marking)",
            "feedback_release": "Release feedback",
            "feedback_release_at": "Release feedback at",
            "model_answers": "Show pupils the model answers",
        }
        help_texts = {
            "model_answers": (
                "The question's annotated answers at each level. Teachers always see them on the question's page; "
                "pupils see them on this assignment's page only as you choose here, and never before starting a "
                "timed essay."
            ),
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

    def __init__(self, *args, prompts=None, classes: QuerySet[SchoolClass] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        prompt_field = cast(forms.ModelChoiceField, self.fields["prompt"])
        if prompts is not None:
            prompt_field.queryset = prompts
        prompt_field.empty_label = None
        self.fields["model_answers"].required = False  # left out: unchanged (new: hidden)
        if classes is not None:
            # Setting it: for this class and, if the teacher ticks them, their other classes.
            self.fields["classes"] = IdsField(
                queryset=classes,
                label="Set it for",
                widget=forms.CheckboxSelectMultiple,
                initial=[self.instance.school_class_id],
                help_text="Tick every class to set it for: each gets its own copy, with the same settings.",
                required=False,
            )
            # Shown with the checkboxes: an empty choice is then an error, not "this class".
            self.fields["classes_shown"] = forms.BooleanField(required=False, widget=forms.HiddenInput, initial=True)
            self.order_fields(["classes"])

    def clean_classes(self) -> list[SchoolClass]:
        """The chosen classes; a post without the checkboxes (an older page) sets it for this
        class only, as before."""
        chosen = list(self.cleaned_data.get("classes") or [])
        if chosen or "classes_shown" in self.data:
            if not chosen:
                raise forms.ValidationError("Choose at least one class.")
            return chosen
        return [self.instance.school_class]

    def clean_model_answers(self) -> str:
        return self.cleaned_data.get("model_answers") or self.instance.model_answers

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        if not cleaned.get("title") and cleaned.get("prompt"):
            cleaned["title"] = cleaned["prompt"].question[:200]
            self.instance.title = cleaned["title"]
        if not cleaned.get("title"):
            self.add_error("title", "Give the assignment a title.")
        return cleaned


class OpenAssignmentForm(AssignmentForm):
    """Edit an assignment after it opens (Assignment.locked_fields says what may not change:
    those fields are shown disabled, with the reason, and anything posted for them is
    ignored). A field left out of the post (an older page) stays as it is; dates posted back
    unchanged to the minute (as the form shows them) keep their stored seconds. `changes`
    holds what is to change, for Assignment.save_edit."""

    def __init__(self, *args, locked: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.before = {name: getattr(self.instance, name) for name in Assignment.EDIT_LABELS}
        for name, reason in locked.items():
            self.fields[name].disabled = True
            self.fields[name].help_text = reason
        if self.is_bound:
            for name, field in self.fields.items():
                if name not in self.data and not isinstance(field.widget, forms.CheckboxInput):
                    field.required = False
        self.changes: dict[str, object] = {}

    def clean(self) -> dict:
        for name in self.fields:
            if name not in self.data and name in self.before and name != "anonymous_marking":
                self.cleaned_data[name] = self.before[name]
        cleaned = super().clean()
        for name, old in self.before.items():
            if name not in cleaned or self.fields[name].disabled:
                continue
            new = cleaned[name]
            if isinstance(new, datetime) and isinstance(old, datetime) and same_minute(new, old):
                cleaned[name] = new = old
            if new != old:
                self.changes[name] = new
        for name, error in self.instance.edit_refusals(self.changes).items():
            self.add_error(name if name in self.fields else None, error)
        return cleaned


class ExemptionForm(forms.Form):
    student = forms.ModelChoiceField(queryset=User.objects.none(), label="Pupil", empty_label=None)

    def __init__(self, *args, students: QuerySet[User] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if students is not None:
            cast(forms.ModelChoiceField, self.fields["student"]).queryset = students


class ExtensionForm(forms.Form):
    student = forms.ModelChoiceField(queryset=User.objects.none(), label="Pupil", empty_label=None)
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
            cast(forms.ModelChoiceField, self.fields["student"]).queryset = students

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        due, cutoff = cleaned.get("due_at"), cleaned.get("late_cutoff")
        if due and cutoff and cutoff < due:
            self.add_error("late_cutoff", "The cut-off cannot be before the due date.")
        return cleaned


class VersionedForm(forms.Form):
    """A form saved with a version check (classroom.models.Versioned): it must say which
    revision the editor last saw, or nothing is saved."""

    base_revision = forms.IntegerField(
        min_value=0,
        widget=forms.HiddenInput(),
        error_messages={
            "invalid": "The page sent a broken version number: reload the page (your text is kept below).",
            "required": "The page did not say which version it saved: reload the page.",
        },
    )


class EssayForm(VersionedForm):
    """The essay box, with the revision the writer last saw (for the version check)."""

    text = forms.CharField(
        label="Your essay",
        required=False,
        strip=False,
        max_length=MAX_ESSAY_CHARS,
        widget=forms.Textarea(attrs={"rows": 20, "spellcheck": "true"}),
        error_messages={"max_length": f"The essay is too long to save (over {MAX_ESSAY_CHARS:,} characters)."},
    )


# --- marking, the comment bank and DIRT ---

NO_LEVEL = "0"  # "No rewardable material": no level, 0 marks
STRAND_PREFIX = "strand-"  # the marking form's formative skill-strand ratings (StrandTick)


def _feedback_box() -> forms.Textarea:
    # .bank-target: static/js/marking.js inserts comment-bank text and expands #codes here.
    return forms.Textarea(attrs={"rows": 3, "class": "form-control bank-target"})


class CriterionLevelsMixin:
    """One level (radio) and one mark per criterion of a mark scheme, checked together: each
    chosen level must be one of its criterion's levels and the mark must lie in its band.
    `cleaned_data["scores"]` maps criterion id to (level id or None, marks), as
    `classroom.models.validate_scores` takes it. Used by the marking page (MarkForm) and by
    every mark given outside it (standardisation, second marking, moderation: ReviewMarkForm).
    """

    if TYPE_CHECKING:  # what forms.Form gives the classes that mix this in
        fields: dict
        cleaned_data: dict
        add_error: Any

        @property
        def errors(self) -> Any: ...

    def add_criterion_fields(self, criteria: list) -> None:
        self.criteria = criteria
        for criterion in criteria:
            levels = list(criterion.levels.all())
            # "No level" stays a choice even beside a level 0, so marks given before schemes
            # had a 0 band still load and save; the page offers it only where it is needed.
            choices = [(NO_LEVEL, "No rewardable material (0 marks)")] + [
                (str(level.pk), f"Level {level.number} ({level.band})") for level in levels
            ]
            self.fields[f"level-{criterion.pk}"] = forms.ChoiceField(
                label=f"{criterion.code} level", choices=choices, required=False, widget=forms.RadioSelect
            )
            self.fields[f"marks-{criterion.pk}"] = forms.IntegerField(
                label=f"{criterion.code} mark", required=False, min_value=0, max_value=criterion.max_marks
            )

    def clean_scores(self, require_all: bool = False) -> dict[int, tuple[int | None, int]]:
        data = self.cleaned_data
        scores: dict[int, tuple[int | None, int]] = {}
        for criterion in self.criteria:
            level_key, marks_key = f"level-{criterion.pk}", f"marks-{criterion.pk}"
            if level_key in self.errors or marks_key in self.errors:
                continue
            level_value, marks = data.get(level_key) or "", data.get(marks_key)
            if not level_value:
                if marks is not None:
                    self.add_error(level_key, f"{criterion.code}: choose the level first, then a mark in its band.")
                elif require_all:
                    self.add_error(level_key, f"{criterion.code}: choose a level and a mark.")
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
        return scores


class MarkForm(CriterionLevelsMixin, VersionedForm):
    """One level (radio) and one mark per criterion (CriterionLevelsMixin), then the written feedback.

    `Submission.record_mark` checks the scores again and totals.
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

    def __init__(self, *args, criteria: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.add_criterion_fields(criteria)
        for strand, label in StrandTick.Strand.choices:
            self.fields[f"{STRAND_PREFIX}{strand}"] = forms.TypedChoiceField(
                label=label,
                choices=[("", "Not rated"), *((str(value), words) for value, words in StrandTick.Rating.choices)],
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )

    def clean(self):
        super().clean()
        data = self.cleaned_data
        data["scores"] = self.clean_scores()
        # Only the strands the page sent change: a page (or an autosave) without them keeps the ticks.
        data["strands"] = {
            strand: data.get(f"{STRAND_PREFIX}{strand}")
            for strand in StrandTick.Strand.values
            if f"{STRAND_PREFIX}{strand}" in self.data and f"{STRAND_PREFIX}{strand}" not in self.errors
        }
        return data


class ReviewMarkForm(CriterionLevelsMixin, forms.Form):
    """A whole mark given outside the pupil's own mark (classroom.models.ReviewMark): a level
    and mark for every criterion, and a note (the rationale or the moderator's reason)."""

    note = forms.CharField(
        label="Note", required=False, max_length=MAX_FEEDBACK_CHARS, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, criteria: list, note_label: str = "Note", note_required: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.add_criterion_fields(criteria)
        self.fields["note"].label = note_label
        self.fields["note"].required = note_required

    def clean(self):
        super().clean()
        self.cleaned_data["scores"] = self.clean_scores(require_all=True)
        return self.cleaned_data


class SampleForm(forms.Form):
    """Drawing a moderation sample: how many scripts per marker, how many more at random, the
    tolerance, and the second marker for each first marker's scripts (`second-<marker id>`,
    `second-none` for a marker who has left). `cleaned_data["second_marker_for"]` maps first
    marker id to the chosen teacher's id."""

    size = forms.IntegerField(
        label="Scripts per marker",
        min_value=1,
        max_value=MAX_SAMPLE_SIZE,
        initial=3,
        help_text="Taken in turn from the top, the bottom and the middle of each marker's totals.",
    )
    random_extra = forms.IntegerField(
        label="Extra scripts at random, per marker", min_value=0, max_value=MAX_RANDOM_EXTRA, initial=1
    )
    tolerance_marks = forms.IntegerField(
        label="Tolerance (± marks)",
        min_value=0,
        max_value=100,
        initial=2,
        help_text="A second mark further than this from the first is flagged for moderation.",
    )

    def __init__(self, *args, first_markers: list[tuple[int | None, str, int]], candidates: list[User], **kwargs):
        super().__init__(*args, **kwargs)
        self.first_markers = first_markers
        choices = [("", "Choose a teacher"), *((user.pk, user.display_name) for user in candidates)]
        for marker_id, name, count in first_markers:
            self.fields[self.field_name(marker_id)] = forms.TypedChoiceField(
                label=f"Second marker for {name} ({plural(count, 'marked script')})",
                choices=choices,
                coerce=int,
                error_messages={"required": f"Choose a second marker for the scripts marked by {name}."},
            )

    @staticmethod
    def field_name(marker_id: int | None) -> str:
        return f"second-{marker_id if marker_id is not None else 'none'}"

    def clean(self):
        super().clean()
        data = self.cleaned_data
        chosen: dict[int | None, int] = {}
        for marker_id, name, _count in self.first_markers:
            second = data.get(self.field_name(marker_id))
            if second is None:
                continue
            if second == marker_id:
                self.add_error(
                    self.field_name(marker_id),
                    f"{name} marked these scripts first, so cannot second-mark them: choose another teacher.",
                )
            chosen[marker_id] = second
        data["second_marker_for"] = chosen
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

    def __init__(self, *args, owner, department: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.department = department  # an entry of the department bank (its curators' form)
        # A bank entry is pasted into comments, possibly many times: keep it short.
        text = self.fields["text"]
        text.validators.append(MaxLengthValidator(MAX_BANK_CHARS))
        text.widget.attrs["maxlength"] = str(MAX_BANK_CHARS)

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].lower()
        if self.department:
            clash = CommentBankEntry.objects.filter(department=True, code=code)
            message = f"The department bank already has a comment with the code #{code}."
        else:
            clash = CommentBankEntry.objects.filter(owner=self.owner, department=False, code=code)
            message = f"You already have a comment with the code #{code}."
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(message)
        return code

    def save(self, commit: bool = True) -> CommentBankEntry:
        if self.instance.pk is None or not self.department:
            self.instance.owner = self.owner  # a department entry keeps who added it
        self.instance.department = self.department
        return super().save(commit=commit)


class DirtForm(VersionedForm):
    text = forms.CharField(
        label="Your response",
        required=False,
        max_length=MAX_FEEDBACK_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "form-control"}),
    )


# --- the department: standardisation ---


class StandardisationForm(forms.ModelForm):
    """A standardisation's title, tolerance and whether markers must do it first; its question
    only when it is set up (`prompts`: (pk, label) pairs), as the scripts are marked against
    that question's scheme."""

    prompt = forms.TypedChoiceField(label="Essay question", coerce=int)
    tolerance_marks = forms.IntegerField(
        label="Tolerance on the total (± marks)", min_value=0, max_value=100, initial=2
    )
    tolerance_levels = forms.IntegerField(
        label="Tolerance on each criterion (± levels)", min_value=0, max_value=10, initial=1
    )
    required = forms.BooleanField(
        label="Markers must mark these scripts before they mark work on this question",
        required=False,
        initial=True,
    )

    class Meta:
        model = Standardisation
        fields = ["title", "tolerance_marks", "tolerance_levels", "required"]
        labels = {"title": "Title"}
        help_texts = {"title": "What markers see, e.g. “Year 10 mock: how far essay”."}

    def __init__(self, *args, prompts: list[tuple[int, str]] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if prompts is None:
            del self.fields["prompt"]
        else:
            cast(forms.ChoiceField, self.fields["prompt"]).choices = prompts
            self.order_fields(["prompt"])


class ScriptTextForm(forms.Form):
    """The head's copy of a standardisation script: the essay with every pupil's name taken out."""

    text = forms.CharField(
        label="The script (a copy: the pupil's own essay does not change)",
        max_length=MAX_ESSAY_CHARS,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Take out every pupil's name (first or last) before you save it.",
    )


class AddScriptForm(ScriptTextForm):
    """Pick a handed-in essay as a script; `text` only when the head edits the copy first."""

    submission = forms.IntegerField(min_value=1, max_value=10**18, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].required = False


# --- the department: comment bank curators, exemplars, the whole-class feedback sheet ---

MAX_SHEET_CHARS = 1_200  # each of the teacher's boxes on the sheet: it prints on one A4 page


class TeachersField(IdsField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.display_name


class BankCuratorsForm(forms.Form):
    """The teachers the head names to keep the department comment bank with them."""

    curators = TeachersField(
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Teachers who may change the department bank",
    )

    def __init__(self, *args, candidates: QuerySet[User], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(TeachersField, self.fields["curators"]).queryset = candidates
        if not self.is_bound:
            teachers = list(candidates)
            self.has_candidates = bool(teachers)
            self.initial["curators"] = [user.pk for user in teachers if user.curates_bank]


class ExemplarForm(forms.Form):
    """Promoting a marked script to a department exemplar (`notes`: the marker's comments to
    copy, `with_text`: the copy of the essay), or changing one (title, level, commentary)."""

    title = forms.CharField(label="Title", max_length=200)
    level_name = forms.ChoiceField(label="The level it shows")
    text = forms.CharField(
        label="The essay (a copy: the pupil's own essay does not change)",
        max_length=MAX_ESSAY_CHARS,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Take out every pupil's name before you save it.",
    )
    commentary = forms.CharField(
        label="Why this level, not the next",
        max_length=MAX_FEEDBACK_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    notes = forms.TypedMultipleChoiceField(
        label="Comments to copy with it", required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, levels: list[str], notes: list[dict] | None = None, with_text: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["level_name"]).choices = [(label, label) for label in levels]
        if not with_text:
            del self.fields["text"]
        if notes is None:
            del self.fields["notes"]
        else:
            cast(forms.ChoiceField, self.fields["notes"]).choices = [
                (note["number"], f"{note['number']}. “{Truncator(note['quote']).chars(60)}”: {note['comment']}")
                for note in notes
            ]


class ExemplarShareForm(forms.Form):
    """Share an exemplar with one of the teacher's assignments on its question."""

    assignment = forms.TypedChoiceField(label="Assignment", coerce=int)
    when = forms.ChoiceField(
        label="Pupils see it",
        choices=ExemplarShare.When.choices,
        initial=ExemplarShare.When.AFTER_SUBMIT,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, assignments: list[Assignment], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["assignment"]).choices = [
            (assignment.pk, f"{assignment.school_class.name}: {assignment.title}") for assignment in assignments
        ]


class FeedbackSheetForm(forms.Form):
    """The teacher's own words on the whole-class feedback sheet."""

    misconceptions = forms.CharField(
        label="Common misconceptions",
        required=False,
        max_length=MAX_SHEET_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One a line: the sheet lists them.",
    )
    exemplar_paragraph = forms.CharField(
        label="An exemplar paragraph",
        required=False,
        max_length=MAX_SHEET_CHARS,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="A strong paragraph for the class to learn from, with no pupil's name.",
    )


# --- comparative judgement -------------------------------------------------------


def assignment_label(assignment: Assignment) -> str:
    return f"{assignment.school_class.name}: {assignment.title}"


class JudgingSessionForm(forms.Form):
    """A judging session's settings; `assignments` (the essays to judge) only when it is set
    up. The querysets come from classroom/permissions.py."""

    title = forms.CharField(
        max_length=200, help_text="What judges see, e.g. “Year 10 mock: how far did the crisis improve relations?”"
    )
    assignments = IdsField(
        queryset=Assignment.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="One assignment, or several classes’ assignments on the same question.",
    )
    target = forms.IntegerField(
        label="Judgements per script",
        min_value=MIN_JUDGING_TARGET,
        max_value=MAX_JUDGING_TARGET,
        initial=10,
        help_text="Ten is the figure the research recommends; more gives a more reliable scale. With four or "
        "fewer, every pair is chosen at random, so the order stays rough.",
    )
    peer_judging = forms.BooleanField(
        label="Pupils judge too (peer judging)",
        required=False,
        help_text="Pupils of the classes ticked below judge anonymised scripts from other classes, never their own "
        "class’s, once they have handed in their own essay on the question. They never see names or results.",
    )
    judge_classes = IdsField(
        label="Classes whose pupils judge",
        queryset=SchoolClass.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(
        self,
        *args,
        assignments: QuerySet[Assignment] | None = None,
        judge_classes: QuerySet[SchoolClass],
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        if assignments is None:
            del self.fields["assignments"]
        else:
            field = cast(forms.ModelMultipleChoiceField, self.fields["assignments"])
            field.queryset = assignments
            field.label_from_instance = assignment_label  # type: ignore[assignment,method-assign]
        cast(forms.ModelMultipleChoiceField, self.fields["judge_classes"]).queryset = judge_classes


# --- staff accounts --------------------------------------------------------------------------


class StaffForm(forms.Form):
    """A teacher's or head's account, new or changed. Names and usernames are checked as a
    pupil's are (classroom.roster); the email address must be no other member of staff's,
    whatever its capitals. A blank username on a new account is made from the name."""

    first_name = forms.CharField(label="First name", max_length=roster.NAME_MAX_LENGTH)
    last_name = forms.CharField(label="Last name", max_length=roster.NAME_MAX_LENGTH)
    email = forms.EmailField(label="Email address", max_length=254)
    username = forms.CharField(
        label="Username",
        required=False,
        max_length=roster.USERNAME_MAX_LENGTH,
        help_text="Leave blank to make one from the name, such as amelia.brown.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    role = forms.ChoiceField(
        label="Role",
        choices=[(User.Role.TEACHER, "Teacher"), (User.Role.HEAD, "Head of department")],
        initial=User.Role.TEACHER,
        widget=forms.RadioSelect,
        help_text="A head of department sees every class and manages staff accounts.",
    )

    def __init__(self, *args, instance: User | None = None, **kwargs) -> None:
        self.instance = instance
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "first_name": instance.first_name,
                    "last_name": instance.last_name,
                    "email": instance.email,
                    "username": instance.username,
                    "role": instance.role,
                },
            )
        super().__init__(*args, **kwargs)
        if instance is not None:
            self.fields["username"].required = True
            self.fields["username"].help_text = "What they type to sign in."

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        others = User.objects.filter(role__in=[User.Role.TEACHER, User.Role.HEAD], email__iexact=email)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        holder = others.first()
        if holder is not None:
            raise ValidationError(f"{holder.display_name} already has the email address {email}.")
        return email

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        if any(name in self.errors for name in ("first_name", "last_name", "username")):
            return cleaned
        requested = cleaned.get("username", "").strip().lower()
        current = self.instance.username if self.instance is not None else None
        # An unchanged username is kept as it is, even one made before today's rules (capitals).
        keep = current is not None and requested == current.lower()
        row = roster.RosterRow(
            line=0,
            given_name=cleaned["first_name"],
            family_name=cleaned["last_name"],
            requested_username="" if keep else requested,
        )
        roster.validate_rows([row])
        labels = {"given_name": "first_name", "family_name": "last_name", "username": "username"}
        for field_name, message in row.errors:
            message = message.replace("Given name", "First name").replace("Family name", "Last name")
            self.add_error(labels[field_name], message)
        cleaned["first_name"], cleaned["last_name"] = row.given_name, row.family_name
        cleaned["username"] = current if keep else row.username
        return cleaned

    def details(self) -> staff.StaffDetails:
        data = self.cleaned_data
        return staff.StaffDetails(
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            username=data["username"],
            role=data["role"],
        )


# --- OneRoster import ---

ONEROSTER_UPLOAD_MAX_BYTES = 5 * 1024 * 1024  # the web server's limit (deploy/nginx-crisis-classroom.conf)


class OneRosterUploadForm(forms.Form):
    file = forms.FileField(
        label="OneRoster zip file",
        help_text="The OneRoster 1.1 CSV export from the school's information system (a .zip, at most 5 MB).",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )
    only = forms.CharField(
        label="Only classes matching",
        required=False,
        max_length=100,
        help_text="Import only classes whose title, class code, subjects or course contain this, e.g. “History”. "
        "Empty: every class in the file.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > ONEROSTER_UPLOAD_MAX_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB. Import it with the import_oneroster command.")
        return upload


class EmailPreferenceForm(forms.Form):
    """One on/off switch per kind of email the person can receive (EmailPreference.kinds_for)."""

    def __init__(self, *args: Any, preference: EmailPreference, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in EmailPreference.kinds_for(preference.user):
            self.fields[kind.value] = forms.BooleanField(
                label=kind.label, required=False, initial=preference.wants(kind)
            )


class AdminLoginForm(AdminAuthenticationForm):
    """The admin site's sign-in, with the same per-role password rule as the log-in page."""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        refuse_password_signin_if_off(self, user)


class AccessArrangementForm(forms.ModelForm):
    """A pupil's access arrangements, set by their teacher (AccessArrangement.save_by saves)."""

    class Meta:
        model = AccessArrangement
        fields = ["extra_time", "extra_minutes", "rest_break_minutes", "spell_check", "reader", "notes"]
        labels = {
            "extra_time": "Extra time on timed essays",
            "extra_minutes": "Extra minutes",
            "rest_break_minutes": "Rest breaks: minutes per essay (0: none)",
            "spell_check": "Word processor with spell check allowed",
            "reader": "Computer reader (read aloud)",
            "notes": "Notes for the invigilator",
        }
        widgets = {"extra_time": forms.RadioSelect}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("extra_time", "extra_minutes", "rest_break_minutes"):
            self.fields[name].required = False  # empty: none
        self.fields["extra_minutes"].widget.attrs.update(max=AccessArrangement.MAX_EXTRA_MINUTES)
        self.fields["rest_break_minutes"].widget.attrs.update(max=AccessArrangement.MAX_REST_BREAK_MINUTES)

    def clean_extra_minutes(self) -> int:
        return self.cleaned_data.get("extra_minutes") or 0

    def clean_rest_break_minutes(self) -> int:
        return self.cleaned_data.get("rest_break_minutes") or 0


class ReadingPreferencesForm(forms.ModelForm):
    """Text size, line spacing, background tint, font and read aloud: on every page for this person."""

    class Meta:
        model = User
        fields = ["text_size", "line_spacing", "tint", "readable_font", "read_aloud"]
        labels = {
            "text_size": "Text size",
            "line_spacing": "Line spacing",
            "tint": "Background tint",
            "readable_font": "Use a plain sans-serif font",
            "read_aloud": "Show read aloud buttons on the writing page",
        }
        help_texts = {"read_aloud": "Buttons that read the sources and your essay aloud, where your browser can."}
        widgets = {"text_size": forms.RadioSelect, "line_spacing": forms.RadioSelect, "tint": forms.RadioSelect}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("text_size", "line_spacing", "tint"):
            self.fields[name].required = False

"""Forms for classes and rosters. (Assignments' forms are in forms_assignments.py.)"""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet

from classroom import roster
from classroom.models import SchoolClass, User


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

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        row = roster.RosterRow(
            line=0,
            given_name=cleaned["given_name"],
            family_name=cleaned["family_name"],
            requested_username=cleaned.get("username", ""),
        )
        roster.validate_rows([row])
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

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > roster.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The file is larger than {roster.MAX_UPLOAD_BYTES // 1024} KB.")
        try:
            self.rows = roster.validate_rows(roster.parse_csv(upload.read()))
        except roster.RosterError as exc:
            raise forms.ValidationError(str(exc)) from None
        return upload

"""The teaching workflow: people, classes, assignments, essays, marks and feedback.

State changes are methods named for the change; views never set a state field by hand.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, Literal, Self, TypedDict, cast

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.functions import Greatest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from classroom import essay_save, status
from classroom.compiled import CompiledQuery
from classroom.status import EDITABLE_STATES, MARKABLE_STATES, State, Status
from crisis.markdown import SHORT_TEXT_MAX, MarkdownLengthValidator, RenderedHTMLField, RendersMarkdown
from crisis.wording import plural

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from crisis.models import Criterion, Level, MarkScheme

# No 0/O, 1/I/L: a code read aloud or copied from the board must not be misread.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 8
# No 0/o, 1/l/i: a code copied from a printed slip must not be misread.
ONE_TIME_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
ONE_TIME_CODE_LENGTH = 10
# A one-time code made this close to its account's creation is the account's first password.
FIRST_CODE_WINDOW = timedelta(minutes=10)


# Reading preferences (User.reading_classes; the CSS is in static/css/app.css).
TEXT_SIZES = [("", "Standard"), ("large", "Large"), ("larger", "Larger")]
LINE_SPACINGS = [("", "Standard"), ("wide", "Wide"), ("wider", "Wider")]
TINTS = [
    ("", "White (none)"),
    ("cream", "Cream"),
    ("blue", "Pale blue"),
    ("green", "Pale green"),
    ("rose", "Pale pink"),
    ("yellow", "Pale yellow"),
]


class User(AbstractUser):
    """A person who signs in. Students may have no email address: they use a username."""

    class Role(models.TextChoices):
        STUDENT = "student", "Student"
        TEACHER = "teacher", "Teacher"
        HEAD = "head", "Head of department"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STUDENT)
    must_change_password = models.BooleanField(
        default=False, help_text="Set when a teacher resets the password to a one-time code."
    )
    one_time_code_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the one-time code stops working (ONE_TIME_CODE_DAYS after it was made). Empty: no expiry.",
    )
    curates_bank = models.BooleanField(
        default=False, help_text="May edit the department comment bank (heads of department always may)."
    )
    roster_id = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        unique=True,
        help_text="The school's own id for this person (OneRoster sourcedId), kept so a class list "
        "re-imported or a sign-in with the school's accounts finds the same account. Empty: none.",
    )
    # Reading preferences: classes on every page's <html> (reading_classes), set by the person
    # (the reading settings page) or, for a pupil, by their teachers with their arrangements.
    text_size = models.CharField("text size", max_length=8, blank=True, default="", choices=TEXT_SIZES)
    line_spacing = models.CharField("line spacing", max_length=8, blank=True, default="", choices=LINE_SPACINGS)
    tint = models.CharField("background tint", max_length=8, blank=True, default="", choices=TINTS)
    readable_font = models.BooleanField("plain sans-serif font", default=False)
    read_aloud = models.BooleanField(
        "read aloud buttons", default=False, help_text="Buttons that read the sources and your essay aloud."
    )

    objects: ClassVar[UserManager[Self]] = UserManager()

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        full = self.get_full_name()
        return full or self.username

    @property
    def reading_classes(self) -> str:
        """CSS classes (static/css/app.css) for this person's reading preferences, on <html>."""
        classes = [f"rp-text-{self.text_size}" if self.text_size else ""]
        classes.append(f"rp-spacing-{self.line_spacing}" if self.line_spacing else "")
        classes.append(f"rp-tint-{self.tint}" if self.tint else "")
        classes.append("rp-font-plain" if self.readable_font else "")
        return " ".join(name for name in classes if name)

    @property
    def is_student(self) -> bool:
        return self.role == self.Role.STUDENT

    @property
    def is_teacher(self) -> bool:
        """Teachers and heads of department both teach."""
        return self.role in (self.Role.TEACHER, self.Role.HEAD)

    @property
    def is_head(self) -> bool:
        return self.role == self.Role.HEAD

    def password_changed(self) -> None:
        """The user chose their own password: the one-time code no longer applies."""
        if self.must_change_password or self.one_time_code_expires_at is not None:
            self.must_change_password = False
            self.one_time_code_expires_at = None
            self.save(update_fields=["must_change_password", "one_time_code_expires_at"])

    def set_one_time_code(self) -> str:
        """Give the account a fresh one-time code, valid for ONE_TIME_CODE_LIFETIME, that must
        be replaced at the first login; return it (not saved: the caller saves or bulk-creates).

        The code is returned to be shown once and is stored only as a hash.
        """
        code = new_one_time_code()
        self.set_password(code)
        self.must_change_password = True
        self.one_time_code_expires_at = timezone.now() + settings.ONE_TIME_CODE_LIFETIME
        return code

    @property
    def one_time_code_expired(self) -> bool:
        """The password is still an unused one-time code, and its time is up."""
        expires = self.one_time_code_expires_at
        return self.must_change_password and expires is not None and expires <= timezone.now()

    @property
    def first_password_is_one_time_code(self) -> bool:
        """The password is still the one-time code the account was made with (a new pupil's
        first log-in), not one from a reset. The code's making time is its expiry less
        ONE_TIME_CODE_LIFETIME; an account's first code is made with it (an import of 100
        takes seconds), a reset's later."""
        expires = self.one_time_code_expires_at
        if not self.must_change_password or expires is None:
            return False
        made = expires - settings.ONE_TIME_CODE_LIFETIME
        return abs(made - self.date_joined) <= FIRST_CODE_WINDOW

    def reset_password(self) -> str:
        """Set a fresh one-time code the user must replace at next login; return it.

        Changing the password also ends the user's existing sessions.
        """
        # One UPDATE; hashing (slow on purpose) happens before it, outside any lock.
        code = self.set_one_time_code()
        self.save(update_fields=["password", "must_change_password", "one_time_code_expires_at"])
        return code


class SchoolClassQuerySet(models.QuerySet["SchoolClass"]):
    def visible_to(self, user: User) -> SchoolClassQuerySet:
        """Classes a user may see: heads all, teachers those they teach, students their own."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_head or user.is_superuser:
            return self.all()
        if user.is_teacher:
            return self.filter(teachers=user)
        return self.filter(enrolments__student=user, enrolments__removed_at__isnull=True)

    def taught_by(self, user: User) -> SchoolClassQuerySet:
        """Classes a user may manage as a teacher (heads: every class)."""
        if not user.is_authenticated or not user.is_teacher:
            return self.none()
        if user.is_head:
            return self.all()
        return self.filter(teachers=user)

    def active(self) -> SchoolClassQuerySet:
        return self.filter(archived=False)


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def new_one_time_code() -> str:
    """A first password for a new or reset student account, shown once."""
    return "".join(secrets.choice(ONE_TIME_CODE_ALPHABET) for _ in range(ONE_TIME_CODE_LENGTH))


class SchoolClass(models.Model):
    """A teaching group, e.g. "10H History"."""

    name = models.CharField(max_length=100)
    year_group = models.PositiveSmallIntegerField(null=True, blank=True)
    teachers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teaching_classes")
    roster_id = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        unique=True,
        help_text="The school's own id for this class (OneRoster sourcedId), so a renamed class "
        "is still the same class when the class lists are imported again. Empty: none.",
    )
    join_code = models.CharField(max_length=JOIN_CODE_LENGTH, unique=True, default=new_join_code)
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = SchoolClassQuerySet.as_manager()

    class Meta:
        verbose_name = "class"
        verbose_name_plural = "classes"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def rotate_join_code(self) -> str:
        """Give the class a fresh join code; the old one stops working at once."""
        for _ in range(10):
            code = new_join_code()
            try:
                with transaction.atomic():
                    self.join_code = code
                    self.save(update_fields=["join_code"])
                return code
            except IntegrityError:
                continue
        raise RuntimeError("Could not find an unused join code.")

    @classmethod
    def create_for(cls, teacher: User, *, name: str, year_group: int | None) -> SchoolClass:
        """A new class taught by the teacher who creates it."""
        with transaction.atomic():
            school_class = cls.objects.create(name=name, year_group=year_group)
            school_class.add_teacher(teacher)
        return school_class

    def archive(self) -> None:
        """Hide the class from everyday lists; its students, work and marks are kept."""
        if not self.archived:
            self.archived = True
            self.save(update_fields=["archived"])

    def unarchive(self) -> None:
        if self.archived:
            self.archived = False
            self.save(update_fields=["archived"])

    def add_teacher(self, teacher: User) -> None:
        """Make a teacher (or head of department) a co-teacher; idempotent."""
        if not teacher.is_teacher:
            raise ValueError("Only teachers can teach a class.")
        self.teachers.add(teacher)

    def remove_teacher(self, teacher: User) -> None:
        """Stop a co-teacher teaching the class. A class always keeps at least one teacher."""
        with transaction.atomic():
            if not self.teachers.exclude(pk=teacher.pk).exists():
                raise ValueError("A class needs at least one teacher.")
            self.teachers.remove(teacher)

    def active_students(self) -> models.QuerySet[User]:
        return User.objects.filter(enrolments__school_class=self, enrolments__removed_at__isnull=True)

    def enrol(self, student: User) -> Enrolment:
        """Add a student (again, if they were removed); idempotent."""
        with transaction.atomic():
            enrolment, created = Enrolment.objects.select_for_update().get_or_create(school_class=self, student=student)
            if not created and enrolment.removed_at is not None:
                enrolment.removed_at = None
                enrolment.save(update_fields=["removed_at"])
            # Essays set for the class that have not opened yet: the newcomer hears too, when they open.
            for assignment in self.assignments.active().filter(opens_at__gt=timezone.now()).select_related("prompt"):
                QueuedEmail.queue_essay_set(assignment, only=student)
        return enrolment


class Enrolment(models.Model):
    """A student's membership of a class. Removing a student keeps the row and their work."""

    school_class = models.ForeignKey(SchoolClass, on_delete=models.CASCADE, related_name="enrolments")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments")
    joined_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school_class", "student"], name="one_enrolment_per_student_per_class")
        ]
        indexes = [models.Index(fields=["student", "removed_at"])]

    def __str__(self) -> str:
        return f"{self.student} in {self.school_class}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None

    def remove(self) -> None:
        if self.removed_at is None:
            self.removed_at = timezone.now()
            self.save(update_fields=["removed_at"])


# --- Assignments and essay writing -----------------------------------------------------
#
# Deadlines, in one place:
# - `due_at`: work submitted after it is late (flagged, still accepted).
# - `late_cutoff` (optional, >= due_at): after it, submission is refused; the draft is kept.
#   No cut-off means late work is accepted at any time.
# - An `Extension` gives one student their own due date (and optionally their own
#   cut-off). Without its own cut-off, the student's cut-off is the later of the class
#   cut-off and their extended due date (an extension never makes the cut-off earlier).
# - A timed assignment (`time_limit_minutes`) also ends for each student at
#   started_at + their writing time + their rest breaks, capped by their cut-off (or due date
#   when there is none). Their writing time is the limit plus the extra time of their access
#   arrangement (`Submission.time_allowed_seconds`, fixed at Start and kept up to date when a
#   teacher changes the arrangement: `AccessArrangement.save_by`); rest breaks stop the clock
#   up to their allowance (`break_seconds_used`, `break_started_at`). `time_deadline` is the one
#   rule. Extra time does not move the due date or cut-off: for a mock, set them late enough for
#   the longest arrangement, or give the pupil an extension.
# - A resubmission after "return for redraft" is not bound by the cut-off (the teacher
#   asked for it) and keeps the late flag of the first submission.
# - An archived assignment takes no work at all until it is restored: nothing is started,
#   saved or handed in, and what the pupil wrote is kept. `Submission.work_refusal` is the
#   one rule for archiving and the cut-off (writing page, autosave, Start, hand-in).

MAX_ESSAY_CHARS = 100_000
# Autosaves keep a snapshot at most this often (always on submit and on return).
REVISION_INTERVAL = timedelta(minutes=1)
# A timed essay's last autosave and automatic submit may arrive a little after zero.
TIME_LIMIT_GRACE = timedelta(seconds=30)
# Why work is refused (Submission.work_refusal), in the pupil's words.
ARCHIVED_REFUSAL = "Your teacher has archived this assignment, so it no longer takes work. Your text is kept."
CUTOFF_REFUSAL = (
    "The deadline for late work has passed, so this essay can no longer be submitted. "
    "Your draft is kept: speak to your teacher."
)

# From a run of non-space characters' first letter or digit to the run's end: one match for
# each run that holds a letter or digit, none for one that holds neither. Each character is
# looked at once or twice, so a long run of either kind stays linear.
_WORD = re.compile(r"[^\W_]\S*")


def count_words(text: str) -> int:
    """Words in an essay: runs of non-space characters holding a letter or digit.

    "Cold-War" is one word; a lone dash or bullet is none. static/js/essay.js mirrors this.
    Counted on every autosave, so in one pass of the regex engine.
    """
    return len(_WORD.findall(text or ""))


def effective_deadlines(
    due_at: datetime,
    late_cutoff: datetime | None,
    extension_due_at: datetime | None = None,
    extension_cutoff: datetime | None = None,
) -> tuple[datetime, datetime | None]:
    """(due, cut-off) for one student, applying their extension if they have one."""
    if extension_due_at is None:
        return due_at, late_cutoff
    if extension_cutoff is not None:
        return extension_due_at, max(extension_cutoff, extension_due_at)
    if late_cutoff is None:
        return extension_due_at, None
    return extension_due_at, max(late_cutoff, extension_due_at)


class StudentStatus(TypedDict):
    """What `AssignmentQuerySet.with_status_for` adds to each assignment."""

    ext_due_at: datetime | None
    ext_cutoff: datetime | None
    my_state: str | None
    my_word_count: int | None
    my_is_late: bool | None
    my_submitted_at: datetime | None
    my_updated_at: datetime | None
    my_started_at: datetime | None
    my_cutoff: datetime | None
    my_exempt: bool
    my_joined_at: datetime | None


class PupilStanding(TypedDict):
    """What `AssignmentQuerySet.with_standing_of` adds to each assignment."""

    my_exempt: bool
    my_joined_at: datetime | None


if TYPE_CHECKING:
    AssignmentWithStatus = WithAnnotations["Assignment", StudentStatus]
    AssignmentWithStanding = WithAnnotations["Assignment", PupilStanding]


class AssignmentQuerySet(models.QuerySet["Assignment"]):
    def visible_to(self, user: User, now: datetime | None = None) -> AssignmentQuerySet:
        """Assignments of classes the user may see; students see them only once open (by
        `now`, default the present)."""
        classes = SchoolClass.objects.visible_to(user)
        qs = self.filter(school_class__in=classes)
        if user.is_authenticated and not user.is_teacher and not user.is_superuser:
            qs = qs.filter(opens_at__lte=now or timezone.now())
        return qs

    def active(self) -> AssignmentQuerySet:
        """Not archived: the assignments that appear in lists and to-dos."""
        return self.filter(archived_at__isnull=True)

    def archived(self) -> AssignmentQuerySet:
        return self.filter(archived_at__isnull=False)

    def with_standing_of(self, student: User | int) -> models.QuerySet[AssignmentWithStanding]:
        """Annotate one pupil's standing beyond their essay: `my_exempt` (excused by the
        teacher) and `my_joined_at` (when they joined the class: a pupil who joined after their
        due date is not "missing", classroom/status.py). Subqueries: no extra query."""
        # At most one row each (unique per assignment or class and pupil): no ORDER BY to compile or plan.
        enrolment = Enrolment.objects.filter(school_class=OuterRef("school_class"), student=student).order_by()
        qs = self.annotate(
            my_exempt=Exists(Exemption.objects.filter(assignment=OuterRef("pk"), student=student)),
            my_joined_at=Subquery(enrolment.values("joined_at")[:1]),
        )
        return cast("models.QuerySet[AssignmentWithStanding]", qs)

    def with_status_for(self, student: User) -> models.QuerySet[AssignmentWithStatus]:
        """Annotate each assignment with one student's deadlines and submission, in one query.

        Adds `ext_due_at`, `ext_cutoff`, `my_state`, `my_word_count`, `my_is_late`,
        `my_submitted_at`, `my_updated_at`, `my_started_at`, `my_cutoff` (the student's
        effective cut-off), `my_exempt` and `my_joined_at` (when they joined the class: a pupil
        who joined after their due date is not "missing", classroom/status.py).
        """
        # LEFT JOINs, not a subquery per column: the pupil has at most one extension and one
        # essay per assignment (unique constraints), so no row is repeated; and the pages every
        # pupil opens build this query on each request, where eight subqueries cost more to
        # compile than to run.
        qs = self.with_standing_of(student).annotate(
            my_extension=FilteredRelation("extensions", condition=Q(extensions__student=student)),
            my_submission=FilteredRelation("submissions", condition=Q(submissions__student=student)),
        )
        qs = qs.annotate(
            ext_due_at=F("my_extension__due_at"),
            ext_cutoff=F("my_extension__late_cutoff"),
            my_state=F("my_submission__state"),
            my_word_count=F("my_submission__word_count"),
            my_is_late=F("my_submission__is_late"),
            my_submitted_at=F("my_submission__submitted_at"),
            my_updated_at=F("my_submission__updated_at"),
            my_started_at=F("my_submission__started_at"),
        )
        # The SQL twin of effective_deadlines(); tests check the two agree.
        qs = qs.annotate(
            my_cutoff=Case(
                When(ext_due_at__isnull=True, then=F("late_cutoff")),
                When(ext_cutoff__isnull=False, then=Greatest("ext_cutoff", "ext_due_at")),
                When(late_cutoff__isnull=True, then=Value(None, output_field=models.DateTimeField())),
                default=Greatest("late_cutoff", "ext_due_at"),
                output_field=models.DateTimeField(),
            )
        )
        # The plugin types annotate()'s fields as Any; StudentStatus names their real types.
        return cast("models.QuerySet[AssignmentWithStatus]", qs)

    def open_for(self, student: User) -> models.QuerySet[AssignmentWithStatus]:
        """Assignments the student can still submit: open, and before their cut-off (if any)."""
        now = timezone.now()
        return (
            self.visible_to(student)
            .with_status_for(student)
            .filter(opens_at__lte=now)
            .filter(Q(my_cutoff__isnull=True) | Q(my_cutoff__gt=now))
        )


def same_minute(a: datetime, b: datetime) -> bool:
    return a.replace(second=0, microsecond=0) == b.replace(second=0, microsecond=0)


class AssignmentError(Exception):
    """A change to an assignment was refused; the message is for the teacher and nothing changed."""


class Assignment(RendersMarkdown):
    """An essay set for a class from an essay prompt.

    Every field may be edited until it opens (`is_editable`). After that (`locked_fields`,
    `save_edit`): the title, instructions and release settings still change, and pupils see
    "Updated on … by …"; the deadlines move only later (`extend_deadlines`), so no submitted
    work becomes late retroactively; the question (with its mark scheme) and the time limit
    stay once anyone has started; nothing that would rewrite a marked essay ever changes.
    Every change after opening is recorded (AssignmentChange). An assignment nobody has started
    can be deleted (`delete_unstarted`); one with work is archived instead (`archive`).
    """

    class ModelAnswerRelease(models.TextChoices):
        HIDDEN = "hidden", "Hidden: teachers only"
        AFTER_SUBMIT = "after_submit", "After a pupil submits"
        ALWAYS = "always", "Always: as worked examples from the start"

    FeedbackRelease = status.FeedbackRelease
    MARKDOWN_FIELDS = ("instructions",)

    school_class = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="assignments")
    prompt = models.ForeignKey("crisis.EssayPrompt", on_delete=models.PROTECT, related_name="assignments")
    title = models.CharField(max_length=200)
    instructions = models.TextField(
        blank=True,
        validators=[MarkdownLengthValidator(SHORT_TEXT_MAX)],
        help_text=f"Markdown, up to {SHORT_TEXT_MAX:,} characters. Shown to students above the essay box.",
    )
    instructions_html = RenderedHTMLField()
    opens_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    late_cutoff = models.DateTimeField(
        null=True, blank=True, help_text="After this, late work is refused. Empty: late work is accepted any time."
    )
    time_limit_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Timed essay: minutes from when a student presses Start."
    )
    spell_check_off = models.BooleanField(
        "turn off spell check",
        default=False,
        help_text="As in an exam: the essay box does not check or correct spelling, unless a pupil's access "
        "arrangements allow a spell checker.",
    )
    anonymous_marking = models.BooleanField(default=False)
    # Marking: names stay hidden behind candidate numbers until revealed (reveal_names).
    names_revealed_at = models.DateTimeField(null=True, blank=True, editable=False)
    names_revealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    feedback_release = models.CharField(max_length=10, choices=FeedbackRelease.choices, default=FeedbackRelease.MANUAL)
    feedback_release_at = models.DateTimeField(null=True, blank=True)
    model_answers = models.CharField(
        "model answers",
        max_length=12,
        choices=ModelAnswerRelease.choices,
        default=ModelAnswerRelease.HIDDEN,
        help_text="Whether pupils see the question's model answers, and when.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The last change after opening, which pupils see on their page ("Updated on … by …").
    updated_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    # Archived: out of lists and to-dos, still readable, can be restored.
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-due_at", "pk"]
        indexes = [models.Index(fields=["school_class", "due_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(due_at__gt=F("opens_at")), name="assignment_due_after_opens"),
            models.CheckConstraint(
                condition=Q(late_cutoff__isnull=True) | Q(late_cutoff__gte=F("due_at")),
                name="assignment_cutoff_not_before_due",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors = {}
        if self.opens_at and self.due_at and self.due_at <= self.opens_at:
            errors["due_at"] = "The due date must be after the assignment opens."
        if self.late_cutoff and self.due_at and self.late_cutoff < self.due_at:
            errors["late_cutoff"] = "The late cut-off cannot be before the due date."
        if self.time_limit_minutes == 0:
            errors["time_limit_minutes"] = "A time limit must be at least one minute (or leave it empty)."
        if self.feedback_release == self.FeedbackRelease.AT_DATE and not self.feedback_release_at:
            errors["feedback_release_at"] = "Give the date and time to release feedback."
        if errors:
            raise ValidationError(errors)

    def is_open(self, at: datetime | None = None) -> bool:
        return (at or timezone.now()) >= self.opens_at

    def question_sealed(self, started_at: datetime | None, state: str | None) -> bool:
        """A timed essay's question, instructions and sources stay hidden from a pupil until they
        press Start, so nobody prepares on the clock's time (security review L9)."""
        return bool(self.time_limit_minutes) and started_at is None and (state is None or state in EDITABLE_STATES)

    @property
    def sealed_title(self) -> str:
        """The title a pupil sees before starting a timed essay: the teacher's title, unless it
        is the question itself (the default)."""
        if " ".join(self.title.split()).casefold() == " ".join(self.prompt.question.split()).casefold():
            return f"Timed essay ({plural(self.time_limit_minutes or 0, 'minute')})"
        return self.title

    def is_editable(self, at: datetime | None = None) -> bool:
        """Every field can change until the assignment opens."""
        return not self.is_open(at)

    def extend_deadlines(self, due_at: datetime, late_cutoff: datetime | None) -> None:
        """Move the due date and cut-off later (allowed after opening). Never earlier. A time
        posted back unchanged to the minute (as a form shows it) keeps the stored one, so
        saving the form without moving a date never reads as moving it earlier."""
        if same_minute(due_at, self.due_at):
            due_at = self.due_at
        if late_cutoff is not None and self.late_cutoff and same_minute(late_cutoff, self.late_cutoff):
            late_cutoff = self.late_cutoff
        errors = {}
        if due_at < self.due_at:
            errors["due_at"] = "After the assignment opens, the due date can only move later."
        # Removing the cut-off (accepting more late work) is allowed; moving it earlier is not.
        if self.late_cutoff and late_cutoff is not None and late_cutoff < self.late_cutoff:
            errors["late_cutoff"] = "After the assignment opens, the cut-off can only move later."
        if late_cutoff is not None and late_cutoff < due_at:
            errors["late_cutoff"] = "The late cut-off cannot be before the due date."
        if errors:
            raise ValidationError(errors)
        with transaction.atomic():
            self.due_at = due_at
            self.late_cutoff = late_cutoff
            self.save(update_fields=["due_at", "late_cutoff"])

    # --- managing it after it opens ---

    # The fields the edit form offers, with the words a change record and pupils see.
    EDIT_LABELS: ClassVar[dict[str, str]] = {
        "prompt": "question",
        "title": "title",
        "instructions": "instructions",
        "opens_at": "opening time",
        "due_at": "due date",
        "late_cutoff": "late cut-off",
        "time_limit_minutes": "time limit",
        "spell_check_off": "spell check",
        "anonymous_marking": "anonymous marking",
        "feedback_release": "feedback release",
        "feedback_release_at": "feedback release date",
        "model_answers": "model answers",
    }

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def has_work(self) -> bool:
        """Has anyone started? (A submission exists from a pupil's first save or Start.)"""
        return self.submissions.exists()

    def locked_fields(self, at: datetime | None = None, has_work: bool | None = None) -> dict[str, str]:
        """Fields that may no longer change, each with the reason the teacher is shown."""
        if self.is_editable(at):
            return {}
        locked = {
            "opens_at": "It has opened already.",
            "anonymous_marking": "Fixed once the assignment opens, so names and candidate numbers stay consistent.",
        }
        if self.has_work() if has_work is None else has_work:
            started = "Pupils have started, so"
            locked["prompt"] = f"{started} the question and its mark scheme stay as they are."
            locked["time_limit_minutes"] = f"{started} the time limit stays as it is."
        if status.feedback_date_passed(self.feedback_release, self.feedback_release_at, at or timezone.now()):
            reason = "Feedback has been released at this date already; pupils may have read it."
            locked["feedback_release"] = locked["feedback_release_at"] = reason
        return locked

    def edit_refusals(self, changes: Mapping[str, object], at: datetime | None = None) -> dict[str, str]:
        """Why each change in `changes` (field → new value) may not be made now ({}: all may)."""
        errors = {name: reason for name, reason in self.locked_fields(at).items() if name in changes}
        if self.is_editable(at):
            return errors
        due = cast("datetime", changes.get("due_at", self.due_at))
        cutoff = cast("datetime | None", changes.get("late_cutoff", self.late_cutoff))
        if due < self.due_at:
            errors["due_at"] = "After the assignment opens, the due date can only move later."
        if "late_cutoff" in changes and self.late_cutoff and cutoff is not None and cutoff < self.late_cutoff:
            errors["late_cutoff"] = "After the assignment opens, the cut-off can only move later."
        if (
            "late_cutoff" in changes
            and self.late_cutoff is None
            and cutoff is not None
            and cutoff < (at or timezone.now())
        ):
            errors["late_cutoff"] = (
                "A cut-off set after opening must be in the future: a past one would shut out late work at once."
            )
        if cutoff is not None and cutoff < due:
            errors["late_cutoff"] = "The late cut-off cannot be before the due date."
        return errors

    def save_edit(self, changes: Mapping[str, object], by: User) -> AssignmentChange | None:
        """Make `changes` (field → new value) after opening, checked again under a lock, and
        record them; raises ValidationError (nothing changed) if any may not be made."""
        changes = {name: value for name, value in changes.items() if name in self.EDIT_LABELS}
        with transaction.atomic():
            current = Assignment.objects.select_for_update().get(pk=self.pk)
            changes = {name: value for name, value in changes.items() if getattr(current, name) != value}
            if not changes:
                return None
            errors = current.edit_refusals(changes)
            if errors:
                raise ValidationError(errors)
            now = timezone.now()
            for name, value in changes.items():
                setattr(current, name, value)
            current.full_clean(exclude=["school_class", "prompt", "created_by"])
            current.updated_at, current.updated_by = now, by
            current.save()
            record = AssignmentChange.objects.create(
                assignment=current,
                changed_by=by,
                changed_at=now,
                fields=", ".join(self.EDIT_LABELS[name] for name in self.EDIT_LABELS if name in changes),
            )
        self.refresh_from_db()
        return record

    def delete_unstarted(self) -> None:
        """Delete the assignment, if nobody has started it (AssignmentError otherwise)."""
        refusal = AssignmentError(
            "Pupils have started this assignment, so it cannot be deleted: archive it instead "
            "(it leaves your lists, and their work stays readable)."
        )
        try:
            with transaction.atomic():
                Assignment.objects.select_for_update().filter(pk=self.pk).first()
                if self.has_work():
                    raise refusal
                self.delete()
        except models.ProtectedError:  # a pupil started it at that very moment
            raise refusal from None

    def archive(self, by: User) -> None:
        """Take it out of lists and close it to pupils (Submission.work_refusal); everything
        stays readable, and work still to mark stays on the to-do until done (idempotent)."""
        with transaction.atomic():
            Assignment.objects.filter(pk=self.pk, archived_at__isnull=True).update(
                archived_at=timezone.now(), archived_by=by
            )
        self.refresh_from_db(fields=["archived_at", "archived_by"])

    def unfinished_work(self) -> dict[str, int]:
        """What archiving would leave open, in one query: `drafting`, the class's pupils who
        started and have not handed in (archiving closes it to them; their text is kept);
        `to_mark`, essays handed in and not yet marked; `to_release`, marked and not yet
        visible to the pupil (the marking queue's; these stay on the teacher's to-do)."""
        current = Enrolment.objects.filter(
            school_class_id=self.school_class_id, student=OuterRef("student"), removed_at__isnull=True
        )
        released = status.feedback_visible_q("", "assignment__", timezone.now())
        return self.submissions.aggregate(
            drafting=Count("pk", filter=Q(Exists(current), state__in=EDITABLE_STATES)),
            to_mark=Count("pk", filter=Q(state=State.SUBMITTED)),
            to_release=Count("pk", filter=Q(state=State.MARKED) & ~released),
        )

    def restore(self) -> None:
        """Bring it back to the lists, and reopen it to pupils (work_refusal)."""
        with transaction.atomic():
            Assignment.objects.filter(pk=self.pk).update(archived_at=None, archived_by=None)
        self.refresh_from_db(fields=["archived_at", "archived_by"])

    def exempt(self, student: User, by: User) -> Exemption:
        """Excuse a pupil of the class from this assignment (idempotent)."""
        if not self.school_class.enrolments.filter(student=student).exists():
            raise ValidationError({"student": "Only a pupil of this class can be exempted."})
        exemption, _ = Exemption.objects.get_or_create(assignment=self, student=student, defaults={"granted_by": by})
        return exemption

    def remove_exemption(self, student_pk: int) -> None:
        with transaction.atomic():
            self.exemptions.filter(student_id=student_pk).delete()

    def is_exempt(self, student: User) -> bool:
        return self.exemptions.filter(student=student).exists()

    def show_model_answers(self, release: str) -> None:
        """Choose when pupils see the question's model answers (allowed at any time)."""
        if release not in self.ModelAnswerRelease.values:
            raise ValidationError({"model_answers": "Choose when pupils see the model answers."})
        if release != self.model_answers:
            self.model_answers = release
            self.save(update_fields=["model_answers"])

    def deadlines_for(
        self, student: User | int, extension: Extension | None | Literal[False] = False
    ) -> tuple[datetime, datetime | None]:
        """(due, cut-off) for one student. Pass `extension` if already loaded (None: none)."""
        if extension is False:
            extension = self.extensions.filter(student=student).first()
        if extension is None:
            return effective_deadlines(self.due_at, self.late_cutoff)
        return effective_deadlines(self.due_at, self.late_cutoff, extension.due_at, extension.late_cutoff)

    def grant_extension(self, student: User, due_at: datetime, late_cutoff: datetime | None, by: User) -> Extension:
        """Give (or change) one student's own due date and optional cut-off."""
        if due_at <= self.opens_at:
            raise ValidationError({"due_at": "An extended due date must be after the assignment opens."})
        if late_cutoff is not None and late_cutoff < due_at:
            raise ValidationError({"late_cutoff": "The student's cut-off cannot be before their due date."})
        with transaction.atomic():
            extension, _ = Extension.objects.update_or_create(
                assignment=self,
                student=student,
                defaults={"due_at": due_at, "late_cutoff": late_cutoff, "granted_by": by},
            )
        return extension

    def remove_extension(self, student_pk: int) -> None:
        """Take away a student's own due date; they go back to the class's deadlines."""
        with transaction.atomic():
            self.extensions.filter(student_id=student_pk).delete()

    # --- marking ---

    @property
    def names_hidden(self) -> bool:
        """Anonymous marking shows candidate numbers until the teacher reveals the names."""
        return self.anonymous_marking and self.names_revealed_at is None

    @property
    def feedback_date_passed(self) -> bool:
        """Release "at a date": complete marks become visible to students from that moment."""
        return status.feedback_date_passed(self.feedback_release, self.feedback_release_at, timezone.now())

    def reveal_names(self, by: User) -> None:
        """Show students' names in marking from now on (irreversible); idempotent."""
        with transaction.atomic():
            Assignment.objects.filter(pk=self.pk, names_revealed_at__isnull=True).update(
                names_revealed_at=timezone.now(), names_revealed_by=by
            )
            self.refresh_from_db(fields=["names_revealed_at", "names_revealed_by"])


class Extension(models.Model):
    """One student's own due date (and optionally cut-off) for an assignment."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="extensions")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="extensions")
    due_at = models.DateTimeField()
    late_cutoff = models.DateTimeField(null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["assignment", "student"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "student"], name="one_extension_per_student"),
            models.CheckConstraint(
                condition=Q(late_cutoff__isnull=True) | Q(late_cutoff__gte=F("due_at")),
                name="extension_cutoff_not_before_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} until {self.due_at:%Y-%m-%d %H:%M}"


class Exemption(models.Model):
    """A pupil the teacher excused from an assignment: never "missing", not counted as expected."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="exemptions")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exemptions")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["assignment", "student"]
        constraints = [models.UniqueConstraint(fields=["assignment", "student"], name="one_exemption_per_student")]

    def __str__(self) -> str:
        return f"{self.student} exempt from {self.assignment_id}"


class AssignmentChange(models.Model):
    """A record of one edit made after the assignment opened: who, when, which fields."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    fields = models.CharField(max_length=300, help_text="What changed, in words (e.g. “title, due date”).")

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.assignment_id}: {self.fields}"


class SubmissionError(Exception):
    """A change to a submission was refused; the message is for the student and nothing changed."""


class SubmissionClosed(SubmissionError):
    """Refused because the assignment takes no work at all now (archived): not a passing
    problem the pupil can fix by editing (Submission.work_refusal)."""


class VersionConflict(Exception):
    """A versioned save was refused: the object changed since the editor's base revision, or it
    can no longer be edited (essay submitted, response handed in, mark released). Nothing changed.

    Carries what the editor needs to show the conflict: the current revision, the current text
    (where the object has one), whether it can still be edited, and words for the user.
    """

    def __init__(self, revision: int, *, editable: bool, message: str, text: str | None = None) -> None:
        super().__init__(message)
        self.revision = revision
        self.editable = editable
        self.message = message
        self.text = text


class Versioned(models.Model):
    """Optimistic locking for anything edited in a browser with autosave (essays, marks, DIRT).

    Every save names the revision it was based on; it succeeds only if that revision is still
    current and the object is still editable, and then the revision goes up by one. Two tabs
    saving from the same revision cannot both win, and nothing is ever last-writer-wins.
    A subclass says when it is editable (`editable_q`, `is_editable`) and in what words a
    conflict is explained (`conflict_messages`).
    """

    revision = models.PositiveIntegerField(default=0, help_text="Goes up by one on every save (optimistic locking).")

    Conflict = VersionConflict
    # (changed elsewhere, can no longer be changed): words for the person editing.
    conflict_messages: tuple[str, str] = ("This was changed elsewhere.", "This can no longer be changed.")
    conflict_text_field: str | None = "text"

    class Meta:
        abstract = True

    @classmethod
    def editable_q(cls) -> Q:
        return Q()

    @property
    def is_editable(self) -> bool:
        return True

    def _save_if_current(self, base_revision: int, **fields) -> None:
        """One conditional UPDATE of `fields` (revision + 1) if `base_revision` is current and the
        row still editable; VersionConflict, with nothing changed, if not. Call inside atomic()."""
        manager = type(self)._default_manager
        updated = manager.filter(Q(pk=self.pk, revision=base_revision) & self.editable_q()).update(
            revision=F("revision") + 1, **fields
        )
        if not updated:
            raise manager.get(pk=self.pk).conflict()
        self.refresh_from_db(fields=["revision", *fields])

    def _check_current(self, base_revision: int) -> None:
        """For a row already locked by the caller: VersionConflict unless current and editable."""
        if base_revision != self.revision or not self.is_editable:
            raise self.conflict()

    def conflict(self) -> VersionConflict:
        """The conflict to report against this (freshly read) object."""
        changed, closed = self.conflict_messages
        text = getattr(self, self.conflict_text_field) if self.conflict_text_field else None
        editable = self.is_editable
        return VersionConflict(self.revision, editable=editable, message=changed if editable else closed, text=text)


class SubmissionQuerySet(models.QuerySet["Submission"]):
    def visible_to(self, user: User) -> SubmissionQuerySet:
        """Students: their own; teachers: submissions in classes they teach; heads: all."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_head or user.is_superuser:
            return self.all()
        if user.is_teacher:
            return self.filter(assignment__school_class__teachers=user)
        return self.filter(student=user)


class Submission(Versioned):
    """One student's essay for one assignment: the draft until submitted, then the work.

    The lifecycle (`State`, classroom/status.py) changes only through the methods below, and
    every change of state goes through `_move`, which checks the state it moves from while
    the row is locked (or, for autosave, in the UPDATE's WHERE clause).
    """

    State = State
    EDITABLE_STATES = EDITABLE_STATES
    MARKABLE_STATES = MARKABLE_STATES
    # The lifecycle's edges: (from, to). Anything else is refused.
    # The first save moves NOT_STARTED → DRAFT (a redraft stays RETURNED), taken by
    # save_draft's conditional UPDATE (its WHERE is the guard) rather than under a row lock.
    TRANSITIONS = frozenset(
        {(state, State.SUBMITTED) for state in EDITABLE_STATES}
        | {(State.NOT_STARTED, State.DRAFT)}
        | {
            (State.SUBMITTED, State.RETURNED),
            (State.SUBMITTED, State.MARKED),
            (State.MARKED, State.RELEASED),
            (State.RELEASED, State.MARKED),
        }
    )
    conflict_messages = (
        "This essay was changed in another tab or on another device.",
        "This essay has already been submitted, so it cannot be changed.",
    )

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="submissions")
    # PROTECT: deleting a pupil never deletes their coursework silently.
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions")
    text = models.TextField(blank=True)
    word_count = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=20, choices=State.choices, default=State.NOT_STARTED)
    started_at = models.DateTimeField(null=True, blank=True, help_text="When the student first opened it.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_late = models.BooleanField(default=False)
    text_sha256 = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the submitted text.")
    # A random number shown instead of the name under anonymous marking, given on first submit.
    candidate_number = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    returned_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, help_text="Last time the text was saved.")
    # A timed essay's clock, from the pupil's access arrangement (time_deadline): stored here so
    # a save needs no query to know the pupil's end time.
    time_allowed_seconds = models.PositiveIntegerField(
        null=True, blank=True, editable=False, help_text="Writing time with extra time. Empty: the time limit."
    )
    break_allowance_seconds = models.PositiveIntegerField(
        default=0, editable=False, help_text="Rest breaks (which stop the clock) allowed in all."
    )
    break_seconds_used = models.PositiveIntegerField(default=0, editable=False)
    break_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Handed in with a spell checker that the assignment turned off (the arrangement allowed it).
    spell_checked = models.BooleanField(default=False, editable=False)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["assignment", "student"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "student"], name="one_submission_per_student"),
            models.UniqueConstraint(
                fields=["assignment", "candidate_number"],
                condition=Q(candidate_number__isnull=False),
                name="one_candidate_number_per_assignment",
            ),
            models.CheckConstraint(condition=Q(state__in=State.values), name="submission_state_valid"),
            models.CheckConstraint(
                condition=Q(state__in=[State.NOT_STARTED, State.DRAFT]) | Q(submitted_at__isnull=False),
                name="submission_handed_in_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["student", "state"]),
            # What a submission's status comes from, beside its assignment and pupil: pages that
            # read the status of many essays (the department overview's counts, the grid of
            # every pupil and assignment of the markbook, class overview and teacher's home)
            # read it from this index rather than the rows that hold the essays' text, on
            # PostgreSQL where vacuum has marked the rows' pages all-visible. (SQLite has no
            # INCLUDE: there it is an index on the two, beside the unique constraint's.)
            models.Index(
                fields=["assignment", "student"], include=["state", "is_late", "id"], name="submission_status_cover"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} – {self.assignment}"

    @classmethod
    def start(cls, assignment: Assignment, student: User, at: datetime | None = None) -> Submission:
        """The student's submission, created (and the clock started) on first opening."""
        now = at or timezone.now()
        refusal = cls(assignment=assignment, student=student).work_refusal(at=now)
        if refusal is not None:
            raise refusal  # nothing is made on an archived assignment
        submission, created = cls.objects.get_or_create(
            assignment=assignment, student=student, defaults={"started_at": now, "updated_at": now}
        )
        clock_started = created
        if not created and submission.started_at is None:
            clock_started = bool(cls.objects.filter(pk=submission.pk, started_at__isnull=True).update(started_at=now))
            submission.refresh_from_db(fields=["started_at"])
        # The caller already has both: spare the queries that would load them again.
        submission.assignment, submission.student = assignment, student
        if clock_started and assignment.time_limit_minutes:
            # Once per essay: the pupil's extra time and rest breaks, fixed as the clock starts.
            arrangement = AccessArrangement.objects.filter(student=student).first()
            if arrangement is not None:
                submission._set_clock(arrangement)
                submission.save(update_fields=["time_allowed_seconds", "break_allowance_seconds"])
        return submission

    def _set_clock(self, arrangement: AccessArrangement | None) -> None:
        """Set (not save) this timed essay's writing time and rest breaks from `arrangement`."""
        limit = self.assignment.time_limit_minutes or 0
        extra = arrangement.extra_seconds(limit) if arrangement is not None else 0
        self.time_allowed_seconds = limit * 60 + extra if extra else None
        self.break_allowance_seconds = arrangement.rest_break_minutes * 60 if arrangement is not None else 0

    @classmethod
    def editable_q(cls) -> Q:
        return Q(state__in=EDITABLE_STATES)

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    @property
    def is_markable(self) -> bool:
        return self.state in MARKABLE_STATES

    @property
    def can_be_returned(self) -> bool:
        return (self.state, State.RETURNED) in self.TRANSITIONS

    @property
    def has_been_returned(self) -> bool:
        return self.returned_at is not None

    def deadlines(self, extension: Extension | None | Literal[False] = False) -> tuple[datetime, datetime | None]:
        if extension is False and hasattr(self, "ext_due_at"):  # read with it (own_essay_for_saving)
            due_at = getattr(self, "ext_due_at", None)
            extension = Extension(due_at=due_at, late_cutoff=getattr(self, "ext_cutoff", None)) if due_at else None
        return self.assignment.deadlines_for(self.student_id, extension)

    def work_refusal(
        self, hand_in: bool = False, at: datetime | None = None, cutoff: datetime | None | Literal[False] = False
    ) -> SubmissionError | None:
        """Why this essay takes no work now, as the error to raise (its message in the pupil's
        words; None: it does); `hand_in`: handing it in rather than saving. The one rule of the
        writing page, Start, autosave and hand-in: an archived assignment takes nothing
        (SubmissionClosed; restoring it reopens it); after the pupil's own cut-off a draft is
        still saved but no longer handed in, unless the teacher returned it for redraft.
        Pass `cutoff` if already known."""
        if self.assignment.is_archived:
            return SubmissionClosed(ARCHIVED_REFUSAL)
        if hand_in and not self.has_been_returned:
            if cutoff is False:
                _, cutoff = self.deadlines()
            if cutoff is not None and (at or timezone.now()) > cutoff:
                return SubmissionError(CUTOFF_REFUSAL)
        return None

    def status(self, due_at: datetime | None = None, now: datetime | None = None) -> Status:
        """Where this essay stands, with its words (classroom/status.py); `due_at` is the
        student's own due date if the caller has it (else it is looked up)."""
        now = now or timezone.now()
        assignment = self.assignment
        exempt = joined_at = None
        if self.state in (State.NOT_STARTED, State.DRAFT):
            if due_at is None:
                due_at, _ = self.deadlines()
            # Exempt, and when they joined the class: one query (the home page's annotations).
            standing = Assignment.objects.with_standing_of(self.student_id).only("pk").get(pk=self.assignment_id)
            exempt, joined_at = standing.my_exempt, standing.my_joined_at
        passed = due_at is not None and status.due_passed(due_at, joined_at, now)
        date_passed = status.feedback_date_passed(assignment.feedback_release, assignment.feedback_release_at, now)
        return Status.of(self.state, self.is_late, due_passed=passed, date_passed=date_passed, exempt=bool(exempt))

    def time_deadline(
        self, extension: Extension | None | Literal[False] = False, at: datetime | None = None
    ) -> datetime | None:
        """When a timed essay's time runs out for this student (None: not timed or not started):
        their writing time (with extra time) and rest breaks after Start, capped by their
        cut-off or due date. During a rest break the end moves on with the clock (stopped)."""
        limit = self.assignment.time_limit_minutes
        if not limit or self.started_at is None or self.has_been_returned:
            return None
        allowed = self.time_allowed_seconds if self.time_allowed_seconds is not None else limit * 60
        paused = self.break_seconds_used + self.current_break_seconds(at)
        due, cutoff = self.deadlines(extension)
        return min(self.started_at + timedelta(seconds=allowed + paused), cutoff or due)

    @property
    def break_seconds_left(self) -> int:
        """Rest break time not yet used, leaving out a break now under way."""
        return max(0, self.break_allowance_seconds - self.break_seconds_used)

    def current_break_seconds(self, at: datetime | None = None) -> int:
        """How long the rest break under way has stopped the clock (at most what was left)."""
        if self.break_started_at is None:
            return 0
        elapsed = int(((at or timezone.now()) - self.break_started_at).total_seconds())
        return max(0, min(elapsed, self.break_seconds_left))

    def on_break(self, at: datetime | None = None) -> bool:
        """A rest break is under way and has time left (once used up, the clock runs again)."""
        if self.break_started_at is None:
            return False
        elapsed = ((at or timezone.now()) - self.break_started_at).total_seconds()
        return elapsed < self.break_seconds_left

    def break_ends_at(self) -> datetime | None:
        """When the rest break under way runs out and the clock starts again by itself."""
        if self.break_started_at is None:
            return None
        return self.break_started_at + timedelta(seconds=self.break_seconds_left)

    def _close_break(self, now: datetime) -> None:
        """Fold the break under way (if any) into the time used; the caller saves."""
        if self.break_started_at is not None:
            self.break_seconds_used += self.current_break_seconds(now)
            self.break_started_at = None

    def start_break(self, at: datetime | None = None) -> Submission:
        """Stop the clock of a timed essay for a rest break, within the pupil's allowance.

        Refused (SubmissionError, nothing changed) on an essay that is not a started, open,
        timed one, once time is up, or when no rest break time is left; a second call while
        on a break changes nothing."""
        now = at or timezone.now()
        with transaction.atomic():
            locked = Submission._locked(self.pk)
            locked.student = self.student
            if not locked.is_editable:
                raise SubmissionError("This essay has been handed in, so there is no clock to stop.")
            refusal = locked.work_refusal(at=now)
            if refusal is not None:
                raise refusal
            end = locked.time_deadline(at=now)
            if end is None:
                raise SubmissionError("Rest breaks are for timed essays, once you have started.")
            if locked.on_break(now):
                self.refresh_from_db()
                return self
            if now > end:
                raise SubmissionError("Time is up for this essay, so a rest break cannot start.")
            locked._close_break(now)
            if locked.break_allowance_seconds == 0:
                raise SubmissionError("Rest breaks are not part of your arrangements, so the clock was not stopped.")
            if locked.break_seconds_left == 0:
                minutes = plural(locked.break_allowance_seconds // 60, "minute")
                raise SubmissionError(
                    f"You have used all your rest break time ({minutes}), so the clock was not stopped."
                )
            locked.break_started_at = now
            locked.save(update_fields=["break_seconds_used", "break_started_at"])
        self.refresh_from_db()
        return self

    def end_break(self, at: datetime | None = None) -> Submission:
        """ "Carry on writing": the clock starts again; the break's time counts as used."""
        now = at or timezone.now()
        with transaction.atomic():
            locked = Submission._locked(self.pk)
            if locked.break_started_at is not None:
                locked._close_break(now)
                locked.save(update_fields=["break_seconds_used", "break_started_at"])
        self.refresh_from_db()
        return self

    @classmethod
    def _locked(cls, pk: int) -> Submission:
        # Only the essay's row is locked (not its assignment's, which every essay shares).
        return cls.objects.select_for_update(of=("self",)).select_related("assignment").get(pk=pk)

    def _move(self, to: str, refusal: Exception, **fields) -> None:
        """Move this submission, which the caller holds locked, to state `to`, setting `fields`.

        The one guard of the lifecycle: refused (raising `refusal`, nothing changed) unless
        (current state, to) is one of TRANSITIONS.
        """
        if (self.state, to) not in self.TRANSITIONS:
            raise refusal
        self.state = to
        for name, value in fields.items():
            setattr(self, name, value)
        self.save(update_fields=["state", *fields])

    def save_draft(
        self, text: str, base_revision: int, at: datetime | None = None, process: Collection[WritingEvent] = ()
    ) -> Submission:
        """Save the text if `base_revision` is still current; raises VersionConflict if not.

        One conditional UPDATE, so two tabs saving from the same revision cannot both win,
        and a save racing a submit can never change submitted text. A first save makes the
        essay a draft; an essay returned for redraft stays "returned" until handed in again.
        `process`: the writing-process events that came with it (classroom/writing_process.py),
        recorded with the text or not at all, in one INSERT that skips any already recorded.
        """
        now = at or timezone.now()
        refusal = self.work_refusal(at=now)
        if refusal is not None:
            raise refusal
        if len(text) > MAX_ESSAY_CHARS:
            raise SubmissionError(f"The essay is too long to save (over {MAX_ESSAY_CHARS:,} characters).")
        time_up = self.time_deadline(at=now)
        if time_up is not None and now > time_up + TIME_LIMIT_GRACE:
            raise SubmissionError("Time is up for this timed essay: your last saved text is kept.")
        keep = self._keeps_revision(text, now)
        fields = {"text": text, "word_count": count_words(text), "updated_at": now}
        saved = essay_save.save_text(self, base_revision, fields, keep, process)
        if saved is None:
            raise type(self)._default_manager.get(pk=self.pk).conflict()
        self.revision, self.state = saved
        for name, value in fields.items():
            setattr(self, name, value)
        return self

    def _keeps_revision(self, text: str, at: datetime) -> bool:
        """Whether an autosave at `at` keeps a copy of `text` in the history: at most once a
        REVISION_INTERVAL, and not a first copy of a blank essay. Decided from when the last
        copy was kept (`last_kept_at`, read with the essay by permissions.own_essay_for_saving,
        else one query), not by reading it."""
        if hasattr(self, "last_kept_at"):
            last_kept_at = getattr(self, "last_kept_at", None)
        else:
            last_kept_at = self.revisions.order_by("-created_at").values_list("created_at", flat=True).first()
        if last_kept_at is None:
            return bool(text.strip())
        return at - last_kept_at >= REVISION_INTERVAL

    def submit(self, by: User, at: datetime | None = None) -> Submission:
        """Hand the saved text in, in one locked step; a second call returns the first result.

        Records the time, word count, SHA-256 and whether it is late against the student's
        own due date, and gives the essay its candidate number for anonymous marking.
        Refused (SubmissionError, draft kept) on an archived assignment, after their cut-off
        (work_refusal) or when empty.
        """
        now = at or timezone.now()
        with transaction.atomic():
            locked = Submission._locked(self.pk)
            if not locked.is_editable:
                self.refresh_from_db()
                return self
            due, cutoff = locked.deadlines()
            refusal = locked.work_refusal(hand_in=True, at=now, cutoff=cutoff)
            if refusal is not None:
                raise refusal
            if count_words(locked.text) == 0:
                raise SubmissionError("Your essay is empty: write something before you submit.")
            is_late = locked.is_late if locked.has_been_returned else now > due
            spell_checked = locked.assignment.spell_check_off and AccessArrangement.allows_spell_check(
                locked.student_id
            )
            if locked.break_started_at is not None:
                locked._close_break(now)
            locked._move(
                State.SUBMITTED,
                SubmissionError("This essay has already been submitted."),
                submitted_at=now,
                submitted_by=by,
                is_late=is_late,
                word_count=count_words(locked.text),
                text_sha256=hashlib.sha256(locked.text.encode()).hexdigest(),
                revision=locked.revision + 1,
                candidate_number=locked.candidate_number or locked._new_candidate_number(),
                spell_checked=spell_checked,
                break_seconds_used=locked.break_seconds_used,
                break_started_at=locked.break_started_at,
            )
            locked._snapshot(SubmissionRevision.Reason.SUBMIT, now)
        self.refresh_from_db()
        return self

    def _new_candidate_number(self) -> int:
        """A random four-digit number not yet used in the assignment (the assignment row is
        locked so two essays handed in at once cannot draw the same number).

        Random, not derived from the student, so a number cannot be worked back to a name.
        """
        Assignment.objects.select_for_update().filter(pk=self.assignment_id).first()
        used = set(
            Submission.objects.filter(assignment_id=self.assignment_id, candidate_number__isnull=False).values_list(
                "candidate_number", flat=True
            )
        )
        rng = secrets.SystemRandom()
        number = rng.randint(1000, 9999)
        while number in used:
            number = rng.randint(1000, 9999)
        return number

    def return_for_redraft(self, by: User, at: datetime | None = None) -> Submission:
        """Give submitted work back to the student to improve and resubmit; history is kept."""
        now = at or timezone.now()
        with transaction.atomic():
            locked = Submission._locked(self.pk)
            if locked.assignment.is_archived:  # the pupil could not redraft it (work_refusal)
                raise SubmissionError("This assignment is archived, so pupils cannot redraft: restore it first.")
            locked._move(
                State.RETURNED,
                SubmissionError("Only submitted work can be returned for redraft."),
                returned_at=now,
                returned_by=by,
                revision=locked.revision + 1,
            )
            locked._snapshot(SubmissionRevision.Reason.RETURN, now)
        self.refresh_from_db()
        return self

    def _snapshot(self, reason: str, at: datetime) -> SubmissionRevision:
        """Keep a copy of the text as handed in or returned (an autosave's copy is kept by
        classroom/essay_save.py, when _keeps_revision says)."""
        return SubmissionRevision.objects.create(
            submission=self,
            text=self.text,
            word_count=self.word_count,
            revision=self.revision,
            reason=reason,
            created_at=at,
        )

    @staticmethod
    def marking_order(by_number: bool) -> list[str]:
        """The marking queue's order of an assignment's essays, the one definition (the queue,
        its "next", the teacher's to-do): by candidate number while names are hidden (so the
        order gives nothing away, `by_number`), else by name."""
        if by_number:
            return ["candidate_number", "pk"]
        return ["student__last_name", "student__first_name", "student__username", "pk"]

    @property
    def marking_label(self) -> str:
        """How marking pages name the writer: "Candidate 0142" until names are revealed."""
        if self.assignment.names_hidden:
            if self.candidate_number is None:
                return "Candidate (number not yet given)"
            return f"Candidate {self.candidate_number:04d}"
        return self.student.display_name

    def record_mark(
        self,
        by: User,
        scores: dict[int, tuple[int | None, int]],
        *,
        base_revision: int,
        www: str = "",
        ebi: str = "",
        improvement_task: str = "",
        keep: frozenset[int] | set[int] = frozenset(),
        strands: Mapping[str, int | None] | None = None,
    ) -> Mark:
        """Save the marker's levels, marks and feedback on this essay's (draft or complete) mark.

        `scores` maps criterion id to (level id or None for "no rewardable material", marks).
        Checked against the prompt's mark scheme (MarkError, nothing saved); the total is
        computed here. Criteria in `keep` (the marker's entry for them was not valid) keep
        their saved level and mark. `strands` maps a StrandTick.Strand to its formative rating
        (None clears it); strands not named, or `strands=None`, keep their ticks. Raises
        VersionConflict if `base_revision` is no longer current or the mark has been released.
        """
        with transaction.atomic():
            locked = Submission._locked(self.pk)
            if not locked.is_markable:
                raise MarkError("Only submitted work can be marked.")
            scheme = self.assignment.prompt.mark_scheme
            maxima = Mark.maxima_of(scheme)  # also loads the criteria and levels validate_scores reads
            mark, _ = Mark.objects.select_for_update().get_or_create(
                submission=locked, defaults={"marker": by, **maxima}
            )
            mark.submission = locked
            mark._check_current(base_revision)
            cleaned = validate_scores(scheme, scores, require_all=mark.is_complete, keep=keep)
            # The audit trail: a complete mark's changes are kept (a draft's are the marker deciding).
            before = MarkChange.scores_of(mark) if mark.is_complete else None
            total_before = mark.total
            if before is not None and ModerationItem.objects.filter(submission_id=locked.pk).exists():
                # From the moment an essay is drawn for second marking its first mark is frozen:
                # the second mark is compared with it, and the moderator's agreed mark replaces it.
                given = {criterion.pk: (level.pk if level else None, marks) for criterion, level, marks in cleaned}
                if any(before.get(criterion_id) != score for criterion_id, score in given.items()):
                    raise MarkError(
                        "This essay is in a moderation sample, so its levels and marks are decided there: "
                        "they were not changed. The written feedback can still be edited."
                    )
            for name, value in (("www", www), ("ebi", ebi), ("improvement_task", improvement_task)):
                if len(value) > MAX_FEEDBACK_CHARS:
                    raise MarkError(f"The feedback is too long (over {MAX_FEEDBACK_CHARS:,} characters).")
                setattr(mark, name, value)
            if strands:
                StrandTick.save_for(mark, strands)
            mark.criterion_marks.exclude(criterion_id__in=keep).delete()
            CriterionMark.objects.bulk_create(
                CriterionMark(mark=mark, criterion=criterion, level=level, marks=marks, max_marks=criterion.max_marks)
                for criterion, level, marks in cleaned
            )
            totals = mark.criterion_marks.values_list("criterion__is_spag", "marks")
            mark.total = sum(marks for is_spag, marks in totals if not is_spag)
            spag = [marks for is_spag, marks in totals if is_spag]
            mark.spag = spag[0] if spag else None
            mark.max_total, mark.max_spag = maxima["max_total"], maxima["max_spag"]
            mark.marker = by
            mark.revision += 1
            mark.updated_at = timezone.now()
            mark.save(
                update_fields=[
                    "www",
                    "ebi",
                    "improvement_task",
                    "total",
                    "spag",
                    "max_total",
                    "max_spag",
                    "marker",
                    "revision",
                    "updated_at",
                ]
            )
            if before is not None:
                MarkChange.record(mark, before, total_before, by=by, source=MarkChange.Source.MARKING)
        return mark


class SubmissionRevision(models.Model):
    """A snapshot of an essay, so a teacher can see how it grew (autosave, submit, return)."""

    class Reason(models.TextChoices):
        AUTOSAVE = "autosave", "Draft saved"
        SUBMIT = "submit", "Submitted"
        RETURN = "return", "Returned for redraft"

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="revisions")
    text = models.TextField(blank=True)
    word_count = models.PositiveIntegerField(default=0)
    revision = models.PositiveIntegerField()
    reason = models.CharField(max_length=10, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["submission", "created_at", "pk"]
        indexes = [models.Index(fields=["submission", "created_at"])]

    def __str__(self) -> str:
        return f"{self.submission} r{self.revision} ({self.get_reason_display()})"


# --- Marking and feedback ---------------------------------------------------------------
#
# A Mark belongs to one submitted essay. The marker saves it as often as they like (a draft,
# autosaved with an optimistic `revision` like essays); "complete" moves the submission to
# MARKED; "release" to RELEASED and makes the mark, its comments and the feedback visible
# to the student. A release can be withdrawn only until the student has opened it.
#
# Feedback release "at a date": from that date a complete mark is visible to the student
# without a manual release; the student's first visit records the release (and seen_at),
# so from then on it reads exactly like a manual release.

MAX_FEEDBACK_CHARS = 10_000
MAX_COMMENT_CHARS = 5_000
MAX_BANK_CHARS = 2_000  # one comment-bank entry


class MarkError(Exception):
    """A marking change was refused; the message is for the marker and nothing changed."""


class DirtError(Exception):
    """A change to a response to feedback was refused; the message is for the reader, nothing changed."""


def validate_scores(
    scheme: MarkScheme, scores: dict[int, tuple[int | None, int]], require_all: bool, keep: Collection[int] = ()
) -> list[tuple[Criterion, Level | None, int]]:
    """Check (level, marks) per criterion against the scheme; [(criterion, level, marks)] or MarkError.

    A level must belong to its criterion and the marks must lie in that level's band. No level
    means "no rewardable material" and 0 marks. With `require_all`, every criterion needs a mark
    (those in `keep` keep the one already saved).
    """
    criteria = {criterion.pk: criterion for criterion in scheme.criteria.all()}
    errors = []
    unknown = set(scores) - set(criteria)
    if unknown:
        raise MarkError("The marks do not belong to this essay's mark scheme: nothing was saved.")
    cleaned: list[tuple[Criterion, Level | None, int]] = []
    for criterion in sorted(criteria.values(), key=lambda c: (c.order, c.pk)):
        if criterion.pk not in scores:
            if require_all and criterion.pk not in keep:
                errors.append(f"{criterion.code}: choose a level and a mark.")
            continue
        level_id, marks = scores[criterion.pk]
        if level_id is None:
            if marks != 0:
                errors.append(f"{criterion.code}: without a level the mark must be 0.")
            cleaned.append((criterion, None, 0))
            continue
        level = next((lv for lv in criterion.levels.all() if lv.pk == level_id), None)
        if level is None:
            errors.append(f"{criterion.code}: that level is not one of this criterion's levels.")
        elif not level.min_marks <= marks <= level.max_marks:
            errors.append(f"{criterion.code}: level {level.number} allows {level.band}, not {marks}.")
        else:
            cleaned.append((criterion, level, marks))
    if errors:
        raise MarkError(" ".join(errors) + " Nothing was saved.")
    return cleaned


class MarkQuerySet(models.QuerySet["Mark"]):
    def visible_to_student(self, now: datetime | None = None) -> MarkQuerySet:
        """Marks the student may read (classroom/status.py: feedback_visible)."""
        return self.filter(status.feedback_visible_q("submission__", "submission__assignment__", now or timezone.now()))


class Mark(Versioned):
    """The teacher's mark and feedback on one submission.

    In progress until `completed_at` is set; the submission's state says whether it has been
    released (Submission.TRANSITIONS: SUBMITTED → MARKED → RELEASED, and back to MARKED).
    """

    conflict_messages = (
        "This mark was changed in another tab or by another marker.",
        "This mark has been released: withdraw the release before changing it.",
    )
    conflict_text_field = None

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="mark")
    marker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    www = models.TextField("What went well", blank=True)
    ebi = models.TextField("Even better if", blank=True)
    improvement_task = models.TextField(blank=True)
    total = models.PositiveSmallIntegerField(default=0, help_text="Sum of the content criteria (not SPaG).")
    spag = models.PositiveSmallIntegerField(null=True, blank=True)
    # What the mark is out of, as given (`maxima_of`): every page reads these, never the scheme's
    # current bands, so a released mark reads the same for ever.
    max_total = models.PositiveSmallIntegerField(help_text="The content maximum the total is out of.")
    max_spag = models.PositiveSmallIntegerField(help_text="The SPaG maximum (0: the scheme has no SPaG).")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    seen_at = models.DateTimeField(null=True, blank=True, help_text="When the student first opened the feedback.")

    objects = MarkQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Mark for {self.submission}"

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None

    @property
    def is_editable(self) -> bool:
        return not self.is_released

    @property
    def is_released(self) -> bool:
        return self.released_at is not None

    @property
    def is_visible_to_student(self) -> bool:
        return status.feedback_visible(self.submission.state, self.submission.assignment.feedback_date_passed)

    @property
    def can_withdraw(self) -> bool:
        return self.is_released and self.seen_at is None

    @staticmethod
    def maxima_of(scheme: MarkScheme) -> dict[str, int]:
        """What a mark given against `scheme` is out of (its `max_total` and `max_spag`)."""
        prefetch_related_objects([scheme], "criteria__levels")
        return {"max_total": scheme.total_marks, "max_spag": scheme.spag_marks}

    def results(self) -> list[CriterionMark]:
        """The level and mark per criterion as given, each with the maximum it was out of
        (`max_marks`), in the scheme's order. One query, compiled once."""
        results = _mark_results.objects(mark=self.pk)
        for result in results:
            result.mark = self
        return results

    @classmethod
    def for_submission(cls, submission: Submission, by: User) -> Mark:
        """The submission's mark, started (as a draft by `by`) if there is none yet."""
        if not submission.is_markable:
            raise MarkError("Only submitted work can be marked.")
        try:
            with transaction.atomic():
                scheme = submission.assignment.prompt.mark_scheme
                defaults = {"marker": by, **cls.maxima_of(scheme)}
                mark, _ = cls.objects.get_or_create(submission=submission, defaults=defaults)
        except IntegrityError:  # another request started it a moment ago
            mark = cls.objects.get(submission=submission)
        return mark

    def _locked(self) -> Mark:
        """This mark, locked, with its submission locked first (the one lock order: essay, then mark)."""
        submission = Submission._locked(self.submission_id)
        mark = Mark.objects.select_for_update().get(pk=self.pk)
        mark.submission = submission
        return mark

    def complete(self, by: User) -> Mark:
        """Finish marking: every criterion needs a mark. The submission becomes MARKED."""
        with transaction.atomic():
            locked = self._locked()
            if locked.is_released:
                raise MarkError("This mark has already been released.")
            submission = locked.submission
            scheme = submission.assignment.prompt.mark_scheme
            done = set(locked.criterion_marks.values_list("criterion_id", flat=True))
            missing = [c.code for c in scheme.criteria.all() if c.pk not in done]
            if missing:
                raise MarkError(f"Give a level and a mark for {', '.join(missing)} before completing the mark.")
            if submission.state == State.SUBMITTED:
                submission._move(State.MARKED, MarkError("Only submitted work can be marked."))
            elif submission.state != State.MARKED:
                raise MarkError("Only submitted work can be marked.")
            if not locked.is_complete:
                locked.completed_at = timezone.now()
                locked.revision += 1
                locked.save(update_fields=["completed_at", "revision"])
                assignment = submission.assignment
                if assignment.feedback_release == Assignment.FeedbackRelease.AT_DATE:
                    # Released at a date: the pupil hears then (or now, if it has passed).
                    when = max(assignment.feedback_release_at or timezone.now(), timezone.now())
                    QueuedEmail.queue_feedback_released([locked], due_at=when)
        self.refresh_from_db()
        return self

    def release(self, by: User | None, notify: bool = True) -> Mark:
        """Let the student see the mark, the comments and the feedback. Idempotent. The pupil
        is emailed (`notify`), unless they released it themselves by opening it (record_seen)."""
        with transaction.atomic():
            locked = self._locked()
            if not locked.is_complete:
                raise MarkError("Complete the mark before releasing it.")
            if not locked.is_released:
                locked.submission._move(
                    State.RELEASED, MarkError("Only a complete mark on submitted work can be released.")
                )
                locked.released_at = timezone.now()
                locked.released_by = by
                locked.save(update_fields=["released_at", "released_by"])
                if notify:
                    QueuedEmail.queue_feedback_released([locked])
        self.refresh_from_db()
        return self

    def withdraw_release(self) -> Mark:
        """Hide released feedback again; refused once the student has opened it."""
        with transaction.atomic():
            locked = self._locked()
            if not locked.is_released:
                raise MarkError("This mark has not been released.")
            if locked.seen_at is not None:
                raise MarkError("The student has already read this feedback, so the release cannot be withdrawn.")
            if locked.submission.assignment.feedback_date_passed:
                raise MarkError("The assignment's feedback date has passed, so the feedback stays visible.")
            locked.submission._move(State.MARKED, MarkError("This mark has not been released."))
            locked.released_at = None
            locked.released_by = None
            locked.save(update_fields=["released_at", "released_by"])
        self.refresh_from_db()
        return self

    def record_seen(self) -> None:
        """The student opened their feedback: note the first time (and release a date-released mark)."""
        if self.seen_at is not None:
            return
        with transaction.atomic():
            locked = self._locked()  # a withdrawal running now finishes first, or waits
            submission = locked.submission
            if locked.seen_at is None and status.feedback_visible(
                submission.state, submission.assignment.feedback_date_passed
            ):
                if not locked.is_released:
                    locked.release(by=None, notify=False)
                Mark.objects.filter(pk=self.pk, seen_at__isnull=True).update(seen_at=timezone.now())
        self.refresh_from_db(fields=["seen_at", "released_at"])

    @classmethod
    def release_all_complete(cls, assignment: Assignment, by: User) -> int:
        """Release every complete, unreleased mark of an assignment in one transaction; how many.

        Each essay moves MARKED → RELEASED under its row lock; one being redrafted is left alone.
        """
        now = timezone.now()
        with transaction.atomic():
            submissions = list(
                Submission.objects.select_for_update()
                .filter(assignment=assignment, state=State.MARKED, mark__completed_at__isnull=False)
                .order_by("pk")
            )
            for submission in submissions:
                submission._move(State.RELEASED, MarkError("Only marked work can be released."))
            cls.objects.filter(submission__in=submissions, released_at__isnull=True).update(
                released_at=now, released_by=by
            )
            released = cls.objects.filter(submission__in=submissions).select_related(
                "submission__assignment__prompt", "submission__assignment__school_class"
            )
            QueuedEmail.queue_feedback_released(list(released))
        return len(submissions)

    # --- comments anchored to the essay ---

    def _check_editable(self) -> None:
        if self.is_released:
            raise MarkError("This mark has been released: withdraw the release before changing its comments.")

    def add_annotation(
        self,
        by: User,
        comment: str,
        start: int | None = None,
        end: int | None = None,
        quote: str = "",
        bank_entry: CommentBankEntry | None = None,
    ) -> Annotation:
        """A comment, anchored to text[start:end] when the offsets and the quote agree with the
        submitted essay; otherwise a general comment with no anchor."""
        comment = (comment or "").strip()
        if not comment:
            raise MarkError("Write a comment first.")
        if len(comment) > MAX_COMMENT_CHARS:
            raise MarkError(f"The comment is too long (over {MAX_COMMENT_CHARS:,} characters).")
        text = self.submission.text
        anchored = start is not None and end is not None and 0 <= start < end <= len(text) and text[start:end] == quote
        with transaction.atomic():
            locked = self._locked()
            locked._check_editable()
            number = (locked.annotations.aggregate(top=models.Max("number"))["top"] or 0) + 1
            return Annotation.objects.create(
                mark=locked,
                number=number,
                start=start if anchored else None,
                end=end if anchored else None,
                quote=quote if anchored else "",
                comment=comment,
                bank_entry=bank_entry,
                created_by=by,
            )


def _mark_results_query(mark: int) -> models.QuerySet[CriterionMark]:
    return (
        CriterionMark.objects.filter(mark_id=mark)
        .select_related("criterion", "level")
        .order_by("criterion__order", "criterion_id")
    )


_mark_results = CompiledQuery(_mark_results_query)


class CriterionMark(models.Model):
    """The level and mark for one criterion of the scheme (no level: no rewardable material)."""

    mark = models.ForeignKey(Mark, on_delete=models.CASCADE, related_name="criterion_marks")
    criterion = models.ForeignKey("crisis.Criterion", on_delete=models.PROTECT, related_name="+")
    level = models.ForeignKey("crisis.Level", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    marks = models.PositiveSmallIntegerField(default=0)
    max_marks = models.PositiveSmallIntegerField(help_text="The criterion's top mark when this mark was given.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mark", "criterion"], name="one_mark_per_criterion")]

    def __str__(self) -> str:
        return f"{self.criterion.code}: {self.marks}"


class StrandTick(models.Model):
    """A formative rating of one skill strand on a mark: feedback only, never part of a total.

    Saved with the mark (`Mark.save_strands`, under the mark's revision), shown to the pupil
    with released feedback and, over time, on the progress pages.
    """

    class Strand(models.TextChoices):
        KNOWLEDGE = "knowledge", "Knowledge"
        ANALYSIS = "analysis", "Explanation and analysis"
        SOURCES = "sources", "Use of sources"
        JUDGEMENT = "judgement", "Judgement"

    class Rating(models.IntegerChoices):
        NOT_YET = 1, "Not yet"
        DEVELOPING = 2, "Developing"
        SECURE = 3, "Secure"

    mark = models.ForeignKey(Mark, on_delete=models.CASCADE, related_name="strand_ticks")
    strand = models.CharField(max_length=20, choices=Strand.choices)
    rating = models.PositiveSmallIntegerField(choices=Rating.choices)
    derived = models.BooleanField(
        default=False,
        help_text=(
            "Worked out by migration 0011 from an older mark's criterion levels, not ticked by a "
            "marker: shown on progress pages, not in the pupil's feedback."
        ),
    )

    class Meta:
        ordering = ["mark", "strand"]
        constraints = [models.UniqueConstraint(fields=["mark", "strand"], name="one_tick_per_strand")]

    def __str__(self) -> str:
        return f"{self.get_strand_display()}: {self.get_rating_display()}"

    @classmethod
    def save_for(cls, mark: Mark, strands: Mapping[str, int | None]) -> None:
        """Set (or, for None, clear) the named strands' ratings on `mark`. The caller holds the
        mark's lock and moves its revision on (Submission.record_mark); MarkError, before
        anything changes, for a strand or rating that does not exist."""
        unknown = set(strands) - set(cls.Strand.values)
        if unknown or any(r is not None and r not in cls.Rating.values for r in strands.values()):
            raise MarkError("That is not one of the skill strands or ratings: nothing was saved.")
        cleared = [strand for strand, rating in strands.items() if rating is None]
        if cleared:
            cls.objects.filter(mark=mark, strand__in=cleared).delete()
        ticks = [StrandTick(mark=mark, strand=strand, rating=rating) for strand, rating in strands.items() if rating]
        if ticks:
            StrandTick.objects.bulk_create(
                ticks, update_conflicts=True, unique_fields=["mark", "strand"], update_fields=["rating", "derived"]
            )

    @classmethod
    def for_pupil(cls, ticks) -> list[StrandTick]:
        """The ticks a pupil's feedback shows: a marker's own, in the strands' order (derived
        ones, worked out from an older mark, stay on the progress pages)."""
        return cls.ordered(tick for tick in ticks if not tick.derived)

    @classmethod
    def ordered(cls, ticks) -> list[StrandTick]:
        """`ticks` in the strands' own order (knowledge, analysis, sources, judgement)."""
        order = list(cls.Strand.values)
        return sorted(ticks, key=lambda tick: order.index(tick.strand))


class Annotation(models.Model):
    """A numbered comment on the essay, anchored to text[start:end] (quote kept to check the
    anchor still fits the text), or a general comment when start/end are empty."""

    mark = models.ForeignKey(Mark, on_delete=models.CASCADE, related_name="annotations")
    number = models.PositiveSmallIntegerField()
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    quote = models.TextField(blank=True)
    comment = models.TextField()
    bank_entry = models.ForeignKey(
        "CommentBankEntry", null=True, blank=True, on_delete=models.SET_NULL, related_name="uses"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["mark", "number"]
        constraints = [
            models.UniqueConstraint(fields=["mark", "number"], name="one_annotation_number_per_mark"),
            models.CheckConstraint(
                condition=Q(start__isnull=True, end__isnull=True)
                | Q(start__isnull=False, end__isnull=False, start__gte=0, start__lt=F("end")),
                name="annotation_start_before_end",
            ),
        ]

    def __str__(self) -> str:
        return f"Comment {self.number} on {self.mark}"

    def anchored_in(self, text: str) -> bool:
        """True when the anchor still fits the text (an essay redrafted since may not)."""
        return self.start is not None and self.end is not None and text[self.start : self.end] == self.quote

    def edit(self, comment: str) -> None:
        comment = (comment or "").strip()
        if not comment:
            raise MarkError("A comment cannot be empty: delete it instead.")
        if len(comment) > MAX_COMMENT_CHARS:
            raise MarkError(f"The comment is too long (over {MAX_COMMENT_CHARS:,} characters).")
        with transaction.atomic():
            self.mark._locked()._check_editable()
            self.comment = comment
            self.updated_at = timezone.now()
            self.save(update_fields=["comment", "updated_at"])

    def remove(self) -> None:
        with transaction.atomic():
            self.mark._locked()._check_editable()
            self.delete()


class CommentBankQuerySet(models.QuerySet["CommentBankEntry"]):
    def for_teacher(self, user: User) -> CommentBankQuerySet:
        """The starter bank (no owner), the department bank and the teacher's own entries."""
        return self.filter(Q(owner__isnull=True) | Q(department=True) | Q(owner=user, department=False))


class CommentBankEntry(models.Model):
    """A reusable comment: a teacher's own, or from the starter bank (owner empty)."""

    CRITERION_CODES = ["AO1", "AO2", "AO3", "AO4", "SPAG"]

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="comment_bank"
    )
    code = models.SlugField(max_length=20, help_text="Type #code in a comment to insert the text.")
    text = models.TextField()
    criterion_code = models.CharField("criterion", max_length=10, blank=True, choices=[(c, c) for c in CRITERION_CODES])
    prompt = models.ForeignKey("crisis.EssayPrompt", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The department bank: shared entries the head (or a teacher with `curates_bank`) keeps;
    # `owner` is who added it. A teacher's own entry wins over a department one with the same
    # code, which wins over the starter bank.
    department = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CommentBankQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "comment bank entries"
        ordering = ["criterion_code", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "code"], condition=Q(department=False), name="unique_bank_code_per_owner"
            ),
            models.UniqueConstraint(fields=["code"], condition=Q(department=True), name="unique_department_bank_code"),
            models.UniqueConstraint(fields=["code"], condition=Q(owner__isnull=True), name="unique_starter_bank_code"),
        ]

    def __str__(self) -> str:
        return f"#{self.code}"

    @property
    def is_starter(self) -> bool:
        return self.owner_id is None


class DirtResponse(Versioned):
    """The student's answer to the feedback (Directed Improvement and Reflection Time).

    There is no row until the student first saves (no page view writes to the database).
    """

    conflict_messages = (
        "Your response was changed in another tab.",
        "Your response has already been submitted, so it cannot be changed.",
    )

    mark = models.OneToOneField(Mark, on_delete=models.CASCADE, related_name="dirt")
    text = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Response to {self.mark}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    @classmethod
    def editable_q(cls) -> Q:
        return Q(submitted_at__isnull=True)

    @property
    def is_editable(self) -> bool:
        return self.submitted_at is None

    @classmethod
    def for_mark(cls, mark: Mark) -> DirtResponse:
        """The response to `mark`: the saved row, or an unsaved empty one (revision 0)."""
        try:
            return mark.dirt
        except cls.DoesNotExist:
            return cls(mark=mark)

    def save_text(self, text: str, base_revision: int) -> DirtResponse:
        """Save if `base_revision` is current and not yet submitted; VersionConflict otherwise.
        The first save creates the row."""
        if len(text) > MAX_FEEDBACK_CHARS:
            raise DirtError(f"The response is too long (over {MAX_FEEDBACK_CHARS:,} characters).")
        with transaction.atomic():
            if self.pk is None:
                existing, _ = DirtResponse.objects.get_or_create(mark=self.mark)
                self.pk = existing.pk
            self._save_if_current(base_revision, text=text, updated_at=timezone.now())
        self.refresh_from_db()
        return self

    def submit(self) -> DirtResponse:
        """Hand the response in (once; then it is read-only). A second call changes nothing."""
        if self.pk is None:
            raise DirtError("Write your response before you submit it.")
        with transaction.atomic():
            locked = DirtResponse.objects.select_for_update().get(pk=self.pk)
            if locked.submitted_at is None:
                if not locked.text.strip():
                    raise DirtError("Write your response before you submit it.")
                locked.submitted_at = timezone.now()
                locked.revision += 1
                locked.save(update_fields=["submitted_at", "revision"])
        self.refresh_from_db()
        return self

    def acknowledge(self, by: User) -> DirtResponse:
        with transaction.atomic():
            locked = DirtResponse.objects.select_for_update().get(pk=self.pk)
            if locked.submitted_at is None:
                raise DirtError("The student has not submitted a response yet.")
            if locked.acknowledged_at is None:
                locked.acknowledged_at = timezone.now()
                locked.acknowledged_by = by
                locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
        self.refresh_from_db()
        return self


class JoinCodeFailure(models.Model):
    """One wrong join code typed by a pupil: counted in the database, so the hourly limit is the
    same for every worker and survives restarts (classroom/roster.py)."""

    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["student", "at"], name="join_failure_student_at")]

    def __str__(self) -> str:
        return f"Wrong join code by {self.student_id} at {self.at:%Y-%m-%d %H:%M}"


class ReadinessProbe(models.Model):
    """A row /readyz writes and rolls back, to learn that the database still accepts writes
    (a full disk or a read-only database answers SELECT 1 happily). Never holds data."""

    checked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Readiness probe at {self.checked_at:%Y-%m-%d %H:%M:%S}"


# ---------------------------------------------------------------------------------------------
# The department: standardisation, blind second marking and moderation, the audit
# trail of marks, exemplars, and the whole-class feedback sheet. The logic on these lives in
# classroom/department.py (writes spanning several models) and the figures in
# classroom/agreement.py (pure statistics).


class Standardisation(models.Model):
    """Agreed scripts for one question, which markers mark blind before marking it, and how
    close to the agreed mark they must come (within `tolerance_levels` on every criterion's
    level *and* within `tolerance_marks` of the agreed total)."""

    prompt = models.ForeignKey("crisis.EssayPrompt", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    tolerance_marks = models.PositiveSmallIntegerField(default=2, help_text="± marks on the total.")
    tolerance_levels = models.PositiveSmallIntegerField(default=1, help_text="± levels on each criterion.")
    required = models.BooleanField(
        default=True, help_text="Markers mark these scripts before they can mark new work on this question."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class StandardisationScript(models.Model):
    """One agreed script: an anonymised copy of a pupil's essay (the text as it was chosen, so
    later redrafts or erasure never change it), with the agreed mark (a ReviewMark of kind
    AGREED) and the rationale."""

    standardisation = models.ForeignKey(Standardisation, on_delete=models.CASCADE, related_name="scripts")
    submission = models.ForeignKey("Submission", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    label = models.CharField(max_length=40, help_text='How markers see it, e.g. "Script A".')
    text = models.TextField()
    rationale = models.TextField(blank=True, help_text="Why the agreed mark is what it is.")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["standardisation", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["standardisation", "label"], name="one_label_per_standardisation")
        ]

    def __str__(self) -> str:
        return self.label


class ModerationSample(models.Model):
    """A sample of one assignment's marked scripts drawn for blind second marking."""

    assignment = models.ForeignKey("Assignment", on_delete=models.CASCADE, related_name="moderation_samples")
    size = models.PositiveSmallIntegerField(help_text="Scripts drawn per first marker.")
    tolerance_marks = models.PositiveSmallIntegerField(
        default=2, help_text="A second mark further than this from the first goes to the moderator."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Sample of {self.assignment}"


class ModerationItem(models.Model):
    """One sampled script: who marked it first, who second-marks it (blind), and the agreed
    outcome the moderator records (`agreed_at`, `reason`)."""

    class Stratum(models.TextChoices):
        TOP = "top", "Top"
        MIDDLE = "middle", "Middle"
        BOTTOM = "bottom", "Bottom"
        RANDOM = "random", "Random"

    sample = models.ForeignKey(ModerationSample, on_delete=models.CASCADE, related_name="items")
    submission = models.ForeignKey("Submission", on_delete=models.CASCADE, related_name="moderation_items")
    label = models.CharField(max_length=40, help_text='How the second marker sees it, e.g. "Script 7".')
    stratum = models.CharField(max_length=10, choices=Stratum.choices)
    first_marker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    second_marker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True, help_text="The moderator's reason for the agreed mark.")
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agreed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sample", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "submission"], name="one_item_per_script_per_sample"),
            models.UniqueConstraint(fields=["sample", "label"], name="one_label_per_sample"),
        ]

    def __str__(self) -> str:
        return self.label


class ReviewMark(models.Model):
    """A mark given outside the pupil's own mark, in levels per criterion like Mark:

    - AGREED_STANDARD: the agreed mark of a standardisation script (set by the head);
    - TRIAL: a marker's blind mark of a standardisation script;
    - SECOND: the blind second mark of a moderation item;
    - MODERATED: the moderator's agreed mark of a moderation item (then applied to the
      pupil's Mark, with a MarkChange row for each change).
    """

    class Kind(models.TextChoices):
        AGREED_STANDARD = "agreed_standard", "Agreed mark (standardisation)"
        TRIAL = "trial", "Standardisation mark"
        SECOND = "second", "Second mark"
        MODERATED = "moderated", "Agreed mark (moderation)"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    script = models.ForeignKey(
        StandardisationScript, null=True, blank=True, on_delete=models.CASCADE, related_name="review_marks"
    )
    item = models.ForeignKey(
        ModerationItem, null=True, blank=True, on_delete=models.CASCADE, related_name="review_marks"
    )
    marker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    total = models.PositiveSmallIntegerField(default=0)
    max_total = models.PositiveSmallIntegerField()
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(script__isnull=False, item__isnull=True, kind__in=["agreed_standard", "trial"]))
                | Q(script__isnull=True, item__isnull=False, kind__in=["second", "moderated"]),
                name="review_mark_belongs_to_script_or_item",
            ),
            models.UniqueConstraint(
                fields=["script"], condition=Q(kind="agreed_standard"), name="one_agreed_mark_per_script"
            ),
            models.UniqueConstraint(
                fields=["script", "marker"], condition=Q(kind="trial"), name="one_trial_per_marker"
            ),
            models.UniqueConstraint(fields=["item", "kind"], name="one_review_mark_of_each_kind_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.total}/{self.max_total}"


class ReviewCriterionMark(models.Model):
    """The level and mark for one criterion of a ReviewMark."""

    review_mark = models.ForeignKey(ReviewMark, on_delete=models.CASCADE, related_name="criterion_marks")
    criterion = models.ForeignKey("crisis.Criterion", on_delete=models.PROTECT, related_name="+")
    level = models.ForeignKey("crisis.Level", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    marks = models.PositiveSmallIntegerField(default=0)
    max_marks = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review_mark", "criterion"], name="one_review_mark_per_criterion")
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.marks}"


class MarkChange(models.Model):
    """The audit trail: one row for each change to a pupil's mark once it was complete (while
    it is a draft the marker is still deciding), and for every change made in moderation or
    from judgement. Shown to the head of department; never edited."""

    class Source(models.TextChoices):
        MARKING = "marking", "Marking"
        MODERATION = "moderation", "Moderation"
        JUDGEMENT = "judgement", "Comparative judgement"

    mark = models.ForeignKey(Mark, on_delete=models.CASCADE, related_name="changes")
    source = models.CharField(max_length=12, choices=Source.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now, editable=False)
    criterion = models.ForeignKey("crisis.Criterion", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    level_before = models.ForeignKey("crisis.Level", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    level_after = models.ForeignKey("crisis.Level", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    marks_before = models.PositiveSmallIntegerField(null=True, blank=True)
    marks_after = models.PositiveSmallIntegerField(null=True, blank=True)
    total_before = models.PositiveSmallIntegerField()
    total_after = models.PositiveSmallIntegerField()
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["mark", "changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.mark_id}: {self.total_before} → {self.total_after}"

    @staticmethod
    def scores_of(mark: Mark) -> dict[int, tuple[int | None, int]]:
        """Criterion id → (level id, marks) as saved now (read again, never from a cache)."""
        rows = CriterionMark.objects.filter(mark=mark).values_list("criterion_id", "level_id", "marks")
        return {criterion_id: (level_id, marks) for criterion_id, level_id, marks in rows}

    @staticmethod
    def record(
        mark: Mark,
        before: Mapping[int, tuple[int | None, int]],
        total_before: int,
        *,
        by: User | None,
        source: str,
        reason: str = "",
    ) -> list[MarkChange]:
        """A row for each criterion whose level or marks differ between `before` (scores_of,
        taken before the change) and the mark as saved now; nothing if none does. The caller
        holds the mark's lock and has saved its new total."""
        after = MarkChange.scores_of(mark)
        now = timezone.now()
        changes = [
            MarkChange(
                mark=mark,
                source=source,
                changed_by=by,
                changed_at=now,
                criterion_id=criterion_id,
                level_before_id=before[criterion_id][0] if criterion_id in before else None,
                marks_before=before[criterion_id][1] if criterion_id in before else None,
                level_after_id=after[criterion_id][0] if criterion_id in after else None,
                marks_after=after[criterion_id][1] if criterion_id in after else None,
                total_before=total_before,
                total_after=mark.total,
                reason=reason,
            )
            for criterion_id in sorted(set(before) | set(after))
            if before.get(criterion_id) != after.get(criterion_id)
        ]
        return MarkChange.objects.bulk_create(changes)


class Exemplar(models.Model):
    """A marked script promoted to a department exemplar at its level: an anonymised copy of
    the text with the marker's notes, and the teacher's commentary ("why level 3, not 4").
    Pupils see it only on assignments where a teacher shares it (ExemplarShare)."""

    prompt = models.ForeignKey("crisis.EssayPrompt", on_delete=models.PROTECT, related_name="+")
    submission = models.ForeignKey("Submission", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    script = models.ForeignKey(
        StandardisationScript, null=True, blank=True, on_delete=models.SET_NULL, related_name="exemplars"
    )
    title = models.CharField(max_length=200)
    text = models.TextField()
    level_name = models.CharField(max_length=60, help_text='The level it exemplifies, e.g. "Level 3".')
    total = models.PositiveSmallIntegerField()
    max_total = models.PositiveSmallIntegerField()
    notes = models.JSONField(default=list, blank=True, help_text="[{number, start, end, quote, comment}]")
    commentary = models.TextField(blank=True)
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    promoted_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["prompt", "-total", "pk"]

    def __str__(self) -> str:
        return self.title


class ExemplarShare(models.Model):
    """An exemplar shown to the pupils of one assignment (after they hand in, or from the start)."""

    class When(models.TextChoices):
        AFTER_SUBMIT = "after_submit", "After they hand in"
        ALWAYS = "always", "From the start"

    assignment = models.ForeignKey("Assignment", on_delete=models.CASCADE, related_name="exemplar_shares")
    exemplar = models.ForeignKey(Exemplar, on_delete=models.CASCADE, related_name="shares")
    when = models.CharField(max_length=20, choices=When.choices, default=When.AFTER_SUBMIT)
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shared_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["assignment", "exemplar"], name="one_share_per_assignment")]

    def __str__(self) -> str:
        return f"{self.exemplar} for {self.assignment}"


class FeedbackSheet(models.Model):
    """What the teacher adds to an assignment's whole-class feedback sheet; the figures on the
    sheet are counted from the marks each time it is shown."""

    assignment = models.OneToOneField("Assignment", on_delete=models.CASCADE, related_name="feedback_sheet")
    misconceptions = models.TextField(blank=True)
    exemplar_paragraph = models.TextField(blank=True, help_text="An anonymised paragraph to show the class.")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Feedback sheet for {self.assignment}"


# --- comparative judgement --------------------------------------------------------

MIN_JUDGING_TARGET = 2
MAX_JUDGING_TARGET = 40
MAX_JUDGEMENT_NOTE_CHARS = 500


class JudgingSession(models.Model):
    """A comparative-judgement session: the handed-in essays of one or more assignments on one
    question (JudgingScript, anonymised copies), which judges compare two at a time (Judgement)
    until each script has had `target` judgements. Judges are teachers; with `peer_judging`,
    also pupils of `judge_classes`, who are never shown a script from a class of their own.
    The logic lives in classroom/judging.py, the model in classroom/bradley_terry.py."""

    title = models.CharField(max_length=200)
    prompt = models.ForeignKey("crisis.EssayPrompt", on_delete=models.PROTECT, related_name="+")
    assignments = models.ManyToManyField(Assignment, related_name="judging_sessions")
    target = models.PositiveSmallIntegerField(
        default=10, help_text="Judgements each script should have. Ten is the figure the research recommends."
    )
    peer_judging = models.BooleanField(
        default=False, help_text="Pupils of the classes chosen below judge scripts from other classes."
    )
    judge_classes = models.ManyToManyField(SchoolClass, blank=True, related_name="+")
    left_out_judges = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text="Judges whose judgements the results leave out.",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(target__gte=MIN_JUDGING_TARGET, target__lte=MAX_JUDGING_TARGET),
                name="judging_target_in_range",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class JudgingScript(models.Model):
    """One essay in a judging session: a copy of the text as it was handed in (the writer's
    name masked), so every judge compares the same words whatever happens to the essay later.
    `number` is drawn at random, so a script's label says nothing about its class or writer.
    `anchor`: whether its agreed mark, if it has one, helps map the scale to marks (the
    session's owner may leave an anchor out)."""

    session = models.ForeignKey(JudgingSession, on_delete=models.CASCADE, related_name="scripts")
    submission = models.ForeignKey("Submission", on_delete=models.CASCADE, related_name="judging_scripts")
    number = models.PositiveIntegerField()
    text = models.TextField()
    anchor = models.BooleanField(default=True)
    added_at = models.DateTimeField(default=timezone.now, editable=False)
    # Set when a teacher accepts the mark the judgement suggested into the markbook: from then
    # on the script's mark came from the scale, so it is never an anchor of it.
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["session", "number"]
        constraints = [
            models.UniqueConstraint(fields=["session", "submission"], name="one_script_per_essay_per_session"),
            models.UniqueConstraint(fields=["session", "number"], name="one_number_per_judging_script"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"Script {self.number}"


class Judgement(models.Model):
    """One comparison: the pair a judge was shown (left, right), and, once decided, the script
    they judged the better answer, with an optional note. A pair is kept from the moment it
    is shown (`shown_at`), so a reload shows the same pair and the time taken is known."""

    session = models.ForeignKey(JudgingSession, on_delete=models.CASCADE, related_name="judgements")
    judge = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    by_pupil = models.BooleanField(default=False)
    left = models.ForeignKey(JudgingScript, on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey(JudgingScript, on_delete=models.CASCADE, related_name="+")
    winner = models.ForeignKey(JudgingScript, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=MAX_JUDGEMENT_NOTE_CHARS, blank=True)
    shown_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(left=F("right")), name="judgement_of_two_scripts"),
            models.CheckConstraint(
                condition=Q(winner__isnull=True, decided_at__isnull=True)
                | Q(winner=F("left"), decided_at__isnull=False)
                | Q(winner=F("right"), decided_at__isnull=False),
                name="judgement_winner_is_shown",
            ),
            models.UniqueConstraint(
                fields=["session", "judge"], condition=Q(decided_at__isnull=True), name="one_pair_waiting_per_judge"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.left_id} v {self.right_id}"

    @property
    def loser_id(self) -> int | None:
        if self.winner_id is None:
            return None
        return self.right_id if self.winner_id == self.left_id else self.left_id

    @property
    def seconds(self) -> float | None:
        """How long the judge took, from the pair being shown to the choice."""
        if self.decided_at is None:
            return None
        return (self.decided_at - self.shown_at).total_seconds()


# --- OneRoster import ------------------------------------------------------------------------


class OneRosterImport(models.Model):
    """A OneRoster CSV zip uploaded by a head of department: kept between the preview and
    applying it (the plan is worked out again when it is applied), and as the import history."""

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    file_name = models.CharField(max_length=255)
    data = models.BinaryField()
    only = models.CharField(
        max_length=100, blank=True, help_text="Only classes whose title, code, subject or course contain this."
    )
    preview = models.JSONField(default=dict, blank=True, help_text="The counts last shown to the head.")
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result = models.JSONField(default=dict, blank=True, help_text="The counts of what applying it changed.")

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = "OneRoster import"

    def __str__(self) -> str:
        return f"{self.file_name} ({self.uploaded_at:%Y-%m-%d %H:%M})"


# --- Email notifications ------------------------------------------------------------------
# Messages are queued in the same transaction as the event (classroom/notifications.py) and
# sent later by `manage.py send_notifications`; no request ever talks to a mail server.


class EmailKind(models.TextChoices):
    """The kinds of email, each of which a person can turn off. The values are also the names
    of the EmailPreference fields that switch them."""

    ESSAY_SET = "essay_set", "An essay is set for me"
    FEEDBACK_RELEASED = "feedback_released", "My feedback is ready"
    DAILY_DIGEST = "daily_digest", "A daily digest of essays handed in and responses to feedback"


# Who may receive each kind: pupils hear about their own work, teachers get the digest.
PUPIL_EMAIL_KINDS = (EmailKind.ESSAY_SET, EmailKind.FEEDBACK_RELEASED)
TEACHER_EMAIL_KINDS = (EmailKind.DAILY_DIGEST,)


class EmailPreference(models.Model):
    """Which emails one person wants. No row means every kind is on (the defaults); the row
    is made when they first change something, so reading preferences never writes."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preference")
    essay_set = models.BooleanField("when an essay is set", default=True)
    feedback_released = models.BooleanField("when my feedback is ready", default=True)
    daily_digest = models.BooleanField("a daily digest of hand-ins and responses", default=True)
    # The end of the last digest's window: the next digest covers what happened after it.
    digest_through = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Email preferences of {self.user}"

    @classmethod
    def for_user(cls, user: User) -> EmailPreference:
        """The person's preferences: the saved row, or an unsaved one with the defaults."""
        try:
            return cls.objects.get(user=user)
        except cls.DoesNotExist:
            return cls(user=user)

    def wants(self, kind: str) -> bool:
        return bool(getattr(self, EmailKind(kind).value))

    @staticmethod
    def kinds_for(user: User) -> tuple[EmailKind, ...]:
        """The kinds of email this person can receive at all."""
        return TEACHER_EMAIL_KINDS if user.is_teacher else PUPIL_EMAIL_KINDS

    @classmethod
    def choose(cls, user: User, choices: Mapping[str, bool]) -> EmailPreference:
        """Save the person's choices (kind value → on), ignoring kinds they cannot receive."""
        allowed = {kind.value for kind in cls.kinds_for(user)}
        values = {name: bool(on) for name, on in choices.items() if name in allowed}
        with transaction.atomic():
            preference, _ = cls.objects.select_for_update().get_or_create(user=user)
            for name, on in values.items():
                setattr(preference, name, on)
            preference.updated_at = timezone.now()
            preference.save(update_fields=[*values, "updated_at"])
        return preference

    @classmethod
    def turn_off(cls, user: User, kind: str) -> None:
        """Stop one kind of email (the one-click unsubscribe); idempotent."""
        cls.choose(user, {EmailKind(kind).value: False})


SendOutcome = Literal["sent", "retrying", "failed"]
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: 1, 2, 4 … minutes, at most six hours."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


class QueuedEmailQuerySet(models.QuerySet["QueuedEmail"]):
    def pending(self) -> QueuedEmailQuerySet:
        """Not yet sent, not given up, not cancelled."""
        return self.filter(sent_at__isnull=True, failed_at__isnull=True, cancelled_at__isnull=True)

    def due(self, now: datetime | None = None) -> QueuedEmailQuerySet:
        """Pending and due for (another) attempt now."""
        return self.pending().filter(next_attempt_at__lte=now or timezone.now())


class QueuedEmail(models.Model):
    """One email waiting to be sent, or the record of one sent (or given up).

    `dedupe_key` names the event (e.g. "feedback_released:mark:12"), so the same event never
    queues twice. `due_at` is when it may first go (an essay set to open later is announced
    when it opens); `next_attempt_at` moves on after each failed attempt.
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    to = models.EmailField(help_text="The address when queued; the send uses the person's current one.")
    kind = models.CharField(max_length=20, choices=EmailKind.choices)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    html_body = models.TextField(blank=True)
    # What the message is about, so it can be checked (and re-worded) when it is sent.
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    mark = models.ForeignKey(Mark, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True, help_text="Given up: a permanent error, or too many tries.")
    cancelled_at = models.DateTimeField(null=True, blank=True, help_text="Not sent: no longer wanted or relevant.")
    last_error = models.TextField(blank=True)

    objects = QueuedEmailQuerySet.as_manager()

    class Meta:
        ordering = ["next_attempt_at", "pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(sent_at__isnull=True, failed_at__isnull=True, cancelled_at__isnull=True),
                name="queuedemail_pending",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(failed_at__isnull=True, cancelled_at__isnull=True),
                name="queuedemail_sent_is_final",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to}"

    # --- what became of it: called by the sender (classroom/notifications.py) inside the row lock ---

    def record_attempt(
        self, at: datetime, error: str = "", final: bool = False
    ) -> Literal["sent", "retrying", "failed"]:
        """Save one try to send, as worded and addressed: sent (no `error`), given up (`final`,
        or the last try allowed), or due again after a growing wait. Returns which."""
        self.attempts += 1
        self.last_error = error[:2000]
        outcome: SendOutcome
        if not error:
            self.sent_at, outcome = at, "sent"
        elif final or self.attempts >= settings.EMAIL_MAX_ATTEMPTS:
            self.failed_at, outcome = at, "failed"
        else:
            self.next_attempt_at, outcome = at + retry_delay(self.attempts), "retrying"
        self.save(
            update_fields=["attempts", "last_error", "sent_at", "failed_at", "next_attempt_at", "to", "subject", "body"]
        )
        return outcome

    def cancel(self, reason: str, at: datetime) -> None:
        """Not to be sent after all (the reason is kept); the same event happening again revives it."""
        self.cancelled_at, self.last_error = at, reason
        self.save(update_fields=["cancelled_at", "last_error"])

    def postpone(self, until: datetime) -> None:
        """Not yet: what it announces now happens at `until`."""
        self.due_at = self.next_attempt_at = until
        self.save(update_fields=["due_at", "next_attempt_at"])

    # --- queueing: called inside the transaction of the event, so a rollback drops the message ---

    @classmethod
    def queue_essay_set(cls, assignment: Assignment, only: User | None = None) -> int:
        """Tell each current pupil of the class (or `only` that one), with an address and the
        kind on, that the essay is set; due when the assignment opens. How many were queued."""
        members = User.objects.filter(
            enrolments__school_class_id=assignment.school_class_id, enrolments__removed_at__isnull=True
        )
        if only is not None:
            members = members.filter(pk=only.pk)
        pupils = cls._recipients(members, EmailKind.ESSAY_SET)
        rows = [
            cls(
                recipient=pupil,
                kind=EmailKind.ESSAY_SET,
                assignment=assignment,
                dedupe_key=f"essay_set:assignment:{assignment.pk}:user:{pupil.pk}",
                due_at=assignment.opens_at,
            )
            for pupil in pupils
        ]
        return cls._queue(rows)

    @classmethod
    def reschedule_essay_set(cls, assignment: Assignment) -> None:
        """The opening time of an unopened assignment moved: so do its announcements."""
        cls.objects.pending().filter(assignment=assignment, kind=EmailKind.ESSAY_SET, attempts=0).update(
            due_at=assignment.opens_at, next_attempt_at=assignment.opens_at
        )

    @classmethod
    def queue_feedback_released(cls, marks: Collection[Mark], due_at: datetime | None = None) -> int:
        """Tell each mark's pupil their feedback is ready (at `due_at`: a release date; None: now)."""
        if not marks:
            return 0
        students = {mark.submission.student_id: mark for mark in marks}
        wanted = {
            pupil.pk: pupil
            for pupil in cls._recipients(User.objects.filter(pk__in=students), EmailKind.FEEDBACK_RELEASED)
        }
        when = due_at or timezone.now()
        rows = [
            cls(
                recipient=wanted[mark.submission.student_id],
                kind=EmailKind.FEEDBACK_RELEASED,
                assignment=mark.submission.assignment,
                mark=mark,
                dedupe_key=f"feedback_released:mark:{mark.pk}",
                due_at=when,
            )
            for mark in marks
            if mark.submission.student_id in wanted
        ]
        return cls._queue(rows)

    @staticmethod
    def _recipients(people: models.QuerySet[User], kind: EmailKind) -> list[User]:
        """Those of `people` who can get `kind` now: active, with an address, not turned off."""
        return list(
            people.filter(is_active=True)
            .exclude(email="")
            .exclude(**{f"email_preference__{kind.value}": False})
            .distinct()
        )

    @classmethod
    def _queue(cls, rows: list[QueuedEmail]) -> int:
        """Insert the messages whose event is new. A cancelled one for the same event comes back
        (the event happened again: feedback withdrawn, then released again); one pending or
        sent is left alone, so an event never sends twice."""
        if not rows:
            return 0
        for row in rows:
            row.to = row.recipient.email
            row.next_attempt_at = row.due_at
            row.compose()
        keys = [row.dedupe_key for row in rows]
        existing = dict(cls.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", "cancelled_at"))
        cls.objects.bulk_create([row for row in rows if row.dedupe_key not in existing], ignore_conflicts=True)
        revived = [row for row in rows if existing.get(row.dedupe_key) is not None]
        for row in revived:
            cls.objects.filter(dedupe_key=row.dedupe_key, cancelled_at__isnull=False).update(
                cancelled_at=None,
                to=row.to,
                subject=row.subject,
                body=row.body,
                due_at=row.due_at,
                next_attempt_at=row.next_attempt_at,
                attempts=0,
                last_error="",
            )
        return len(rows) - len(existing) + len(revived)

    def compose(self) -> None:
        """Word the message from what it is about, as things stand now (it is worded again just
        before sending, so a title changed in the meantime is the one the pupil reads)."""
        context: dict[str, object] = {
            "person": self.recipient,
            "site_url": settings.SITE_URL,
            "unsubscribe_url": self.unsubscribe_url(),
            "preferences_url": settings.SITE_URL + reverse("classroom:email_preferences"),
            "kind_label": EmailKind(self.kind).label,
        }
        if self.kind == EmailKind.ESSAY_SET:
            assignment = self.assignment
            assert assignment is not None
            title = assignment.sealed_title
            self.subject = f"Essay set: {title}"
            context.update(
                assignment=assignment,
                title=title,
                link=settings.SITE_URL + reverse("classroom:write", args=[assignment.pk]),
            )
        elif self.kind == EmailKind.FEEDBACK_RELEASED:
            assignment = self.assignment
            assert assignment is not None
            title = assignment.sealed_title
            self.subject = f"Your feedback is ready: {title}"
            context.update(
                assignment=assignment,
                title=title,
                link=settings.SITE_URL + reverse("classroom:feedback", args=[assignment.pk]),
            )
        else:
            return  # the digest is worded when it is built (classroom/notifications.py)
        self.body = render_to_string(f"classroom/email/{self.kind}.txt", context).strip() + "\n"

    def unsubscribe_url(self) -> str:
        token = unsubscribe_token(self.recipient, self.kind)
        return settings.SITE_URL + reverse("classroom:email_unsubscribe", args=[token])


UNSUBSCRIBE_SALT = "classroom.email.unsubscribe"


def unsubscribe_token(user: User, kind: str) -> str:
    """A signed token that turns off one kind of email for one person, with no log-in."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object({"u": user.pk, "k": EmailKind(kind).value})


def read_unsubscribe_token(token: str) -> tuple[User, EmailKind] | None:
    """The person and kind a token names, or None if it was altered or names nobody."""
    try:
        data = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
        kind = EmailKind(data["k"])
        user = User.objects.get(pk=int(data["u"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError, User.DoesNotExist):
        return None
    return user, kind


# --- sign-in with the school's accounts ------------------------------------------------------


class AccessRequest(models.Model):
    """Someone the school's sign-in service vouched for, but who has no account here, asking
    for one (only when SIGNIN_REQUEST_ACCESS is on). Signing in gives nothing by itself: the
    head of department approves, choosing the role, or declines."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Waiting"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    name = models.CharField(max_length=300, blank=True)
    given_name = models.CharField(max_length=150, blank=True)
    family_name = models.CharField(max_length=150, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    roster_id = models.CharField(max_length=255, blank=True)
    provider = models.CharField(max_length=200, help_text="Which sign-in service (its id in the settings).")
    subject = models.CharField(max_length=255, help_text="The person's id at that service (the ID token's sub).")
    created_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="access_requests",
        help_text="The account made on approval.",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "subject"], condition=Q(outcome="pending"), name="one_waiting_request_per_person"
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.subject

    def approve(self, role: str, by: User, username: str | None = None) -> User:
        """Make the account (`role`: the head's choice, pupil or teacher; no password) and
        connect the person's sign-in to it. The username is chosen inside the transaction
        unless given. AccessRequestError if already decided, if an account already has the
        email address or the roster id (sign-in would then match that account, not this one),
        or if the username was taken at the same moment."""
        from allauth.socialaccount.models import SocialAccount

        from classroom.signin import free_username

        try:
            with transaction.atomic():
                locked = AccessRequest.objects.select_for_update().get(pk=self.pk)
                if locked.outcome != self.Outcome.PENDING:
                    raise AccessRequestError("That request has already been decided.")
                if SocialAccount.objects.filter(provider=locked.provider, uid=locked.subject).exists():
                    raise AccessRequestError("That person's sign-in is already connected to an account.")
                if locked.email and User.objects.filter(email__iexact=locked.email).exists():
                    raise AccessRequestError(
                        f"An account here already has the email address {locked.email}: that person can sign in "
                        "with it already. Decline this request, or correct the other account's address first."
                    )
                if locked.roster_id and User.objects.filter(roster_id=locked.roster_id).exists():
                    raise AccessRequestError(
                        f"An account here already has the school id {locked.roster_id}. Decline this request, "
                        "or correct the other account's school id first."
                    )
                user = User(
                    username=username or free_username(locked),
                    first_name=locked.given_name,
                    last_name=locked.family_name,
                    email=locked.email,
                    role=role,
                    roster_id=locked.roster_id or None,
                )
                user.set_unusable_password()
                user.save()
                SocialAccount.objects.create(user=user, provider=locked.provider, uid=locked.subject, extra_data={})
                decided_at = timezone.now()
                AccessRequest.objects.filter(pk=self.pk).update(
                    outcome=self.Outcome.APPROVED, account=user, decided_by=by, decided_at=decided_at
                )
        except IntegrityError:  # the username (or roster id) was given to someone else at the same moment
            raise AccessRequestError(
                "Another account was made with the same username at the same moment. Please try again."
            ) from None
        self.outcome, self.account, self.decided_by, self.decided_at = self.Outcome.APPROVED, user, by, decided_at
        return user

    def decline(self, by: User) -> None:
        """Declined: nothing is made. AccessRequestError if already decided."""
        now = timezone.now()
        waiting = AccessRequest.objects.filter(pk=self.pk, outcome=self.Outcome.PENDING)
        if not waiting.update(outcome=self.Outcome.DECLINED, decided_by=by, decided_at=now):
            raise AccessRequestError("That request has already been decided.")
        self.outcome, self.decided_by, self.decided_at = self.Outcome.DECLINED, by, now


class AccessRequestError(Exception):
    """A decision that cannot be made; the message says why."""


# --- Access arrangements ---------------------------------------------------------------------
#
# A pupil's exam access arrangements (JCQ), which apply in mocks and class tests too: extra
# time and rest breaks on timed essays (the clock: Submission.time_deadline), a spell checker
# where the assignment turns it off, and a computer reader (read aloud). Set by a teacher of
# a class the pupil is in or the head of department (classroom/permissions.py); the pupil sees
# their own. Reading preferences live on User (reading_classes), not here: everyone has them.


class AccessArrangement(models.Model):
    """One pupil's access arrangements; no row: none. Changed only through `save_by`."""

    class ExtraTime(models.TextChoices):
        NONE = "", "None"
        QUARTER = "25", "25 % extra time"
        HALF = "50", "50 % extra time"
        MINUTES = "minutes", "A number of extra minutes"

    MAX_EXTRA_MINUTES = 240
    MAX_REST_BREAK_MINUTES = 120

    # CASCADE: the arrangements are about the pupil and go with their account.
    student = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_arrangement"
    )
    extra_time = models.CharField("extra time", max_length=8, blank=True, default="", choices=ExtraTime.choices)
    extra_minutes = models.PositiveSmallIntegerField(
        "extra minutes", default=0, help_text="Only with “A number of extra minutes”."
    )
    rest_break_minutes = models.PositiveSmallIntegerField(
        "rest breaks (minutes per essay)",
        default=0,
        help_text="Rest breaks stop the clock of a timed essay, up to this many minutes in all. 0: none.",
    )
    spell_check = models.BooleanField(
        "word processor with spell check",
        default=False,
        help_text="The spell checker stays on even where an assignment turns it off; markers are told (SPaG).",
    )
    reader = models.BooleanField(
        "computer reader", default=False, help_text="Read aloud buttons for the sources and their own essay."
    )
    notes = models.CharField(
        "notes for the invigilator", max_length=300, blank=True, help_text="Optional, e.g. “sits near the door”."
    )
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(extra_time__in=["", "25", "50", "minutes"]), name="arrangement_extra_time_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Access arrangements of {self.student}"

    def clean(self) -> None:
        errors = {}
        if self.extra_time == self.ExtraTime.MINUTES and not 1 <= self.extra_minutes <= self.MAX_EXTRA_MINUTES:
            errors["extra_minutes"] = f"Give the extra minutes: from 1 to {self.MAX_EXTRA_MINUTES}."
        if self.rest_break_minutes > self.MAX_REST_BREAK_MINUTES:
            errors["rest_break_minutes"] = f"Rest breaks can be at most {self.MAX_REST_BREAK_MINUTES} minutes."
        if errors:
            raise ValidationError(errors)

    def extra_seconds(self, limit_minutes: int) -> int:
        """Extra writing time on a timed essay of `limit_minutes`."""
        if self.extra_time == self.ExtraTime.QUARTER:
            return limit_minutes * 15
        if self.extra_time == self.ExtraTime.HALF:
            return limit_minutes * 30
        if self.extra_time == self.ExtraTime.MINUTES:
            return self.extra_minutes * 60
        return 0

    @property
    def extra_time_words(self) -> str:
        """ "25 % extra time", "10 extra minutes", or "" for none."""
        if self.extra_time == self.ExtraTime.MINUTES:
            return plural(self.extra_minutes, "extra minute")
        if self.extra_time:
            return f"{self.extra_time} % extra time"
        return ""

    @property
    def summary(self) -> list[str]:
        """Each arrangement in plain words, for the invigilator's list and the pupil's page."""
        parts = [self.extra_time_words] if self.extra_time else []
        if self.rest_break_minutes:
            parts.append(f"rest breaks of up to {plural(self.rest_break_minutes, 'minute')} per essay")
        if self.spell_check:
            parts.append("word processor with spell check")
        if self.reader:
            parts.append("computer reader (read aloud)")
        return parts

    @property
    def is_empty(self) -> bool:
        return not self.summary and not self.notes

    @classmethod
    def allows_spell_check(cls, student_id: int) -> bool:
        return cls.objects.filter(student_id=student_id, spell_check=True).exists()

    def save_by(self, by: User, at: datetime | None = None) -> None:
        """Save these arrangements as changed by `by` and, in the same transaction, move the
        clock of the pupil's open timed essays to match (their extra time and rest breaks)."""
        self.full_clean(exclude=["student"])
        self.updated_at = at or timezone.now()
        self.updated_by = by
        if self.extra_time != self.ExtraTime.MINUTES:
            self.extra_minutes = 0
        with transaction.atomic():
            try:
                with transaction.atomic():
                    self.save()
            except IntegrityError:
                # Another teacher gave this pupil their first arrangements a moment ago: these,
                # saved later, replace them (as an edit of theirs would), rather than a 500.
                self.pk = AccessArrangement.objects.get(student_id=self.student_id).pk
                self.save(force_update=True)
            open_timed = list(
                Submission.objects.select_for_update(of=("self",))
                .select_related("assignment")
                .filter(
                    student_id=self.student_id,
                    state__in=EDITABLE_STATES,
                    started_at__isnull=False,
                    assignment__time_limit_minutes__isnull=False,
                )
            )
            for submission in open_timed:
                submission._set_clock(self)
            Submission.objects.bulk_update(open_timed, ["time_allowed_seconds", "break_allowance_seconds"])


# --- The writing-process record ------------------------------------------------------------
#
# Evidence of how an essay was written, not a verdict: when and for how long the pupil wrote,
# each paste and each large insertion (where in the essay and how long, never what), and, in
# a timed essay, when the page lost focus. The writing page sends it with its autosaves
# (static/js/writing_process.js); classroom/writing_process.py reads it in and sums it up.
# Every column is a number, a time or a short code: no text the pupil pasted can be stored.


class WritingEvent(models.Model):
    """One thing that happened while a pupil wrote an essay, as the writing page reported it.

    `session` is the random id of one opening of the writing page and `batch` the page's own
    number for the autosave that carried it, so a batch sent twice (its first answer lost) is
    recorded once. A `WRITING` row is the time spent writing between two autosaves."""

    class Kind(models.TextChoices):
        WRITING = "writing", "Writing"
        PASTE = "paste", "Paste"
        INSERTION = "insertion", "Large insertion"
        FOCUS_LOST = "focus", "Left the page"

    class Origin(models.TextChoices):
        ELSEWHERE = "", "pasted"
        SOURCES = "sources", "quoted from the sources"
        ESSAY = "essay", "moved within the essay"

    # CASCADE: the record belongs to the essay (which a pupil's deletion never removes silently).
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="writing_events")
    session = models.CharField(max_length=40, help_text="Random id of one opening of the writing page.")
    batch = models.PositiveIntegerField(help_text="The page's number for the autosave that brought it.")
    index = models.PositiveSmallIntegerField(help_text="Its place in that batch.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField(help_text="When it happened (or began), by the server's clock.")
    until = models.DateTimeField(null=True, blank=True, help_text="When it ended (writing, focus lost).")
    position = models.PositiveIntegerField(null=True, blank=True, help_text="Where in the essay (characters).")
    length = models.PositiveIntegerField(default=0, help_text="Characters put in (paste, insertion).")
    active_seconds = models.PositiveIntegerField(default=0, help_text="Seconds spent writing (writing rows).")
    origin = models.CharField(max_length=10, choices=Origin.choices, blank=True, default=Origin.ELSEWHERE)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["submission", "at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "session", "batch", "index"], name="one_writing_event_per_place"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["writing", "paste", "insertion", "focus"]), name="writing_event_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=F("at")), name="writing_event_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.submission_id} {self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


# --- Data protection ----------------------------------------------------------------------
# The registry of what is pupil data, the subject-access export, erasure and retention live
# in classroom/privacy.py; these two tables are its records.


class AccessLogEntry(models.Model):
    """One look at a pupil's work by a member of staff, or one export of it: who, when, what.

    Written by `privacy.log_access` (one INSERT); a page about a whole class writes one row
    naming the class, not one per pupil. Kept ACCESS_LOG_RETENTION_DAYS (apply_retention)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    pupil = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    school_class = models.ForeignKey(SchoolClass, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    what = models.CharField(max_length=200, help_text='What was seen, e.g. "Marking page".')
    object_ref = models.CharField(max_length=100, blank=True, help_text='Which record, e.g. "submission 12".')

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["pupil", "at"], name="access_log_pupil_at")]
        verbose_name = "access log entry"
        verbose_name_plural = "access log"

    def __str__(self) -> str:
        return f"{self.what} ({self.at:%Y-%m-%d %H:%M})"


class ErasureRecord(models.Model):
    """A pupil's personal data was erased: by whom, when, and how many rows of each table were
    deleted, anonymised or kept. It names nobody: `reference` is the placeholder username the
    anonymised account now has, so the school can answer "was it done?" without keeping the name."""

    class How(models.TextChoices):
        PAGE = "page", "Data protection page"
        COMMAND = "command", "erase_pupil command"
        RETENTION = "retention", "Retention policy (apply_retention)"

    reference = models.CharField(max_length=40, unique=True)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    erased_at = models.DateTimeField(default=timezone.now)
    how = models.CharField(max_length=12, choices=How.choices)
    counts = models.JSONField(default=dict, help_text="{table: {deleted, anonymised, kept}}")

    class Meta:
        ordering = ["-erased_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.reference} ({self.erased_at:%Y-%m-%d})"

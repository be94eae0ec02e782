"""The teaching workflow: people, classes and (in later modules) their work.

State changes are methods named for the change; views never set a state field by hand.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import IntegrityError, models, transaction
from django.utils import timezone

# No 0/O, 1/I/L: a code read aloud or copied from the board must not be misread.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 8


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

    objects = UserManager()

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        full = self.get_full_name()
        return full or self.username

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
        if self.must_change_password:
            self.must_change_password = False
            self.save(update_fields=["must_change_password"])


class SchoolClassQuerySet(models.QuerySet):
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


class SchoolClass(models.Model):
    """A teaching group, e.g. "10H History"."""

    name = models.CharField(max_length=100)
    year_group = models.PositiveSmallIntegerField(null=True, blank=True)
    teachers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teaching_classes")
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

    def active_students(self) -> models.QuerySet[User]:
        return User.objects.filter(enrolments__school_class=self, enrolments__removed_at__isnull=True)

    def enrol(self, student: User) -> Enrolment:
        """Add a student (again, if they were removed); idempotent."""
        with transaction.atomic():
            enrolment, created = Enrolment.objects.select_for_update().get_or_create(school_class=self, student=student)
            if not created and enrolment.removed_at is not None:
                enrolment.removed_at = None
                enrolment.save(update_fields=["removed_at"])
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

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from classroom.models import (
    Assignment,
    CommentBankEntry,
    Enrolment,
    Extension,
    Mark,
    QueuedEmail,
    SchoolClass,
    Submission,
    SubmissionRevision,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active", "is_staff")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("School role", {"fields": ("role", "must_change_password", "one_time_code_expires_at")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("School role", {"fields": ("first_name", "last_name", "role")}),
    )


class EnrolmentInline(admin.TabularInline):
    model = Enrolment
    extra = 0
    raw_id_fields = ("student",)


@admin.register(SchoolClass)
class SchoolClassAdmin(admin.ModelAdmin):
    list_display = ("name", "year_group", "archived", "join_code")
    list_filter = ("archived", "year_group")
    search_fields = ("name",)
    filter_horizontal = ("teachers",)
    inlines = [EnrolmentInline]


# --- assignments and essay writing ---------------------------------------------------------


class ExtensionInline(admin.TabularInline):
    model = Extension
    extra = 0
    raw_id_fields = ("student", "granted_by")


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("title", "school_class", "opens_at", "due_at", "late_cutoff", "time_limit_minutes")
    list_filter = ("school_class",)
    search_fields = ("title", "school_class__name")
    raw_id_fields = ("prompt", "created_by")
    inlines = [ExtensionInline]


class SubmissionRevisionInline(admin.TabularInline):
    model = SubmissionRevision
    extra = 0
    can_delete = False
    fields = ("created_at", "reason", "revision", "word_count")
    readonly_fields = fields


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    """Read-only: submissions change only through their methods (save_draft, submit, return…)."""

    list_display = ("student", "assignment", "state", "word_count", "is_late", "submitted_at")
    list_filter = ("state", "is_late")
    search_fields = ("student__username", "student__last_name", "assignment__title")
    inlines = [SubmissionRevisionInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


# --- marking -----------------------------------------------------------------------------


@admin.register(CommentBankEntry)
class CommentBankEntryAdmin(admin.ModelAdmin):
    list_display = ("code", "owner", "criterion_code", "prompt")
    list_filter = ("criterion_code",)
    search_fields = ("code", "text", "owner__username")
    raw_id_fields = ("owner", "prompt")


@admin.register(Mark)
class MarkAdmin(admin.ModelAdmin):
    """Read-only: marks change only through their methods (record_mark, complete, release…)."""

    list_display = ("submission", "marker", "completed_at", "total", "spag", "released_at", "seen_at")
    list_filter = ("submission__state",)
    search_fields = ("submission__student__username", "submission__assignment__title")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(QueuedEmail)
class QueuedEmailAdmin(admin.ModelAdmin):
    """Read-only: what was queued, sent, given up or not needed, and the last error."""

    list_display = ("subject", "to", "kind", "due_at", "attempts", "sent_at", "failed_at", "cancelled_at")
    list_filter = ("kind", ("sent_at", admin.EmptyFieldListFilter), ("failed_at", admin.EmptyFieldListFilter))
    search_fields = ("to", "subject", "recipient__username")
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

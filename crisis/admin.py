from typing import ClassVar

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect

from crisis.models import (
    Criterion,
    EssayPrompt,
    IndicativePoint,
    KeyTerm,
    KnowledgeCheckAttempt,
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
)


class RefusesSchemeChanges(admin.ModelAdmin):
    """A used mark scheme's structure is fixed (crisis.models.SchemeInUse). The admin saves a
    change and its inlines in one transaction, so a refusal rolls all of it back; say why, on
    the page the change came from, instead of a server error."""

    def _refused(self, request, error: SchemeInUse) -> HttpResponseRedirect:
        text = str(error)
        if not text.startswith("Nothing was saved"):
            text = f"Nothing was saved. {text}"
        self.message_user(request, text, messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except SchemeInUse as error:
            return self._refused(request, error)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except SchemeInUse as error:
            return self._refused(request, error)

    def changelist_view(self, request, extra_context=None):  # bulk actions: all or nothing too
        try:
            with transaction.atomic():
                return super().changelist_view(request, extra_context)
        except SchemeInUse as error:
            return self._refused(request, error)


class AuthoredAdmin(admin.ModelAdmin):
    list_filter: ClassVar[tuple[str | tuple[str, type[admin.FieldListFilter]], ...]] = (
        ("owner", admin.EmptyFieldListFilter),
    )
    raw_id_fields: ClassVar[tuple[str, ...]] = ("owner",)
    readonly_fields = ("copied_from", "created_at", "updated_at")

    @admin.display(boolean=True, description="Shipped")
    def shipped(self, obj) -> bool:
        return obj.is_shipped


@admin.register(Unit)
class UnitAdmin(AuthoredAdmin):
    list_display = ("title", "slug", "shipped", "owner")
    search_fields = ("title", "slug")


class KeyTermInline(admin.TabularInline):
    model = KeyTerm
    extra = 0


class TimelineEventInline(admin.TabularInline):
    model = TimelineEvent
    extra = 0


class KnowledgeQuestionInline(admin.StackedInline):
    model = KnowledgeQuestion
    extra = 0


@admin.register(Lesson)
class LessonAdmin(AuthoredAdmin):
    list_display = ("title", "unit", "order", "shipped", "owner")
    list_filter = ("unit", ("owner", admin.EmptyFieldListFilter))
    search_fields = ("title", "slug", "body")
    filter_horizontal = ("sources",)
    inlines = [KeyTermInline, TimelineEventInline, KnowledgeQuestionInline]


@admin.register(Source)
class SourceAdmin(AuthoredAdmin):
    list_display = ("label", "title", "kind", "date", "unit", "shipped", "owner")
    list_filter = ("unit", "kind", ("owner", admin.EmptyFieldListFilter))
    search_fields = ("title", "author", "excerpt")


class LevelInline(admin.TabularInline):
    model = Level
    extra = 0


@admin.register(Criterion)
class CriterionAdmin(RefusesSchemeChanges):
    list_display = ("code", "name", "scheme", "is_spag")
    list_filter = ("is_spag",)
    search_fields = ("code", "name", "scheme__name")
    inlines = [LevelInline]


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 0
    show_change_link = True


@admin.register(MarkScheme)
class MarkSchemeAdmin(RefusesSchemeChanges, AuthoredAdmin):
    list_display = ("name", "shipped", "owner")
    search_fields = ("name",)
    inlines = [CriterionInline]


class PromptSourceInline(admin.TabularInline):
    model = PromptSource
    extra = 0
    raw_id_fields = ("source",)


class IndicativePointInline(admin.TabularInline):
    model = IndicativePoint
    extra = 0


class ModelAnswerInline(admin.StackedInline):
    model = ModelAnswer
    extra = 0


@admin.register(EssayPrompt)
class EssayPromptAdmin(RefusesSchemeChanges, AuthoredAdmin):
    list_display = ("question", "unit", "suggested_minutes", "shipped", "owner")
    list_filter = ("unit", ("owner", admin.EmptyFieldListFilter))
    search_fields = ("question", "slug")
    raw_id_fields = ("owner", "mark_scheme")
    inlines = [PromptSourceInline, IndicativePointInline, ModelAnswerInline]


@admin.register(KnowledgeCheckAttempt)
class KnowledgeCheckAttemptAdmin(admin.ModelAdmin):
    list_display = ("student", "lesson", "score", "total", "submitted_at")
    list_filter = ("lesson",)
    search_fields = ("student__username", "student__last_name")
    raw_id_fields = ("student", "lesson")
    date_hierarchy = "submitted_at"

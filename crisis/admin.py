from typing import ClassVar

from django.contrib import admin

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
    PromptSource,
    Source,
    TimelineEvent,
    Unit,
)


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
class CriterionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "scheme", "is_spag")
    list_filter = ("is_spag",)
    search_fields = ("code", "name", "scheme__name")
    inlines = [LevelInline]


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 0
    show_change_link = True


@admin.register(MarkScheme)
class MarkSchemeAdmin(AuthoredAdmin):
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


@admin.register(EssayPrompt)
class EssayPromptAdmin(AuthoredAdmin):
    list_display = ("question", "unit", "suggested_minutes", "shipped", "owner")
    list_filter = ("unit", ("owner", admin.EmptyFieldListFilter))
    search_fields = ("question", "slug")
    raw_id_fields = ("owner", "mark_scheme")
    inlines = [PromptSourceInline, IndicativePointInline]


@admin.register(KnowledgeCheckAttempt)
class KnowledgeCheckAttemptAdmin(admin.ModelAdmin):
    list_display = ("student", "lesson", "score", "total", "submitted_at")
    list_filter = ("lesson",)
    search_fields = ("student__username", "student__last_name")
    raw_id_fields = ("student", "lesson")
    date_hierarchy = "submitted_at"

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from classroom.models import Enrolment, SchoolClass, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active", "is_staff")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("School role", {"fields": ("role", "must_change_password")}),
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

from django.urls import path

from crisis import views

app_name = "content"

urlpatterns = [
    path("", views.units, name="units"),
    path("units/<int:pk>/", views.unit_detail, name="unit"),
    path("units/<int:pk>/organiser/", views.unit_organiser, name="unit_organiser"),
    path("units/<int:unit_pk>/lessons/new/", views.lesson_create, name="lesson_create"),
    path("units/<int:unit_pk>/sources/new/", views.source_create, name="source_create"),
    path("units/<int:unit_pk>/prompts/new/", views.prompt_create, name="prompt_create"),
    path("lessons/<int:pk>/", views.lesson_detail, name="lesson"),
    path("lessons/<int:pk>/edit/", views.lesson_edit, name="lesson_edit"),
    path("lessons/<int:pk>/copy/", views.lesson_copy, name="lesson_copy"),
    path("sources/<int:pk>/", views.source_detail, name="source"),
    path("sources/<int:pk>/edit/", views.source_edit, name="source_edit"),
    path("sources/<int:pk>/copy/", views.source_copy, name="source_copy"),
    path("prompts/<int:pk>/", views.prompt_detail, name="prompt"),
    path("prompts/<int:pk>/edit/", views.prompt_edit, name="prompt_edit"),
    path("prompts/<int:pk>/copy/", views.prompt_copy, name="prompt_copy"),
    path("mark-schemes/new/", views.markscheme_create, name="markscheme_create"),
    path("mark-schemes/<int:pk>/edit/", views.markscheme_edit, name="markscheme_edit"),
    path("mark-schemes/<int:pk>/copy/", views.markscheme_copy, name="markscheme_copy"),
    path("criteria/<int:pk>/levels/", views.criterion_levels, name="criterion_levels"),
]

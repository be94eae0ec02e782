from django.urls import path

app_name = "classroom"

# Each area adds its routes in its own block, importing its own views module.
urlpatterns: list = []

# --- classes and rosters (classroom/views/classes.py) ---
from classroom.views import classes  # noqa: E402

urlpatterns += [
    path("classes/new/", classes.class_create, name="class_create"),
    path("classes/archived/", classes.class_archived, name="class_archived"),
    path("classes/join/", classes.class_join, name="class_join"),
    path("classes/<int:pk>/", classes.class_detail, name="class_detail"),
    path("classes/<int:pk>/edit/", classes.class_edit, name="class_edit"),
    path("classes/<int:pk>/teachers/", classes.class_teachers, name="class_teachers"),
    path(
        "classes/<int:pk>/teachers/<int:teacher_pk>/remove/",
        classes.class_teacher_remove,
        name="class_teacher_remove",
    ),
    path("classes/<int:pk>/archive/", classes.class_archive, name="class_archive"),
    path("classes/<int:pk>/unarchive/", classes.class_unarchive, name="class_unarchive"),
    path("classes/<int:pk>/join-code/", classes.class_rotate_code, name="class_rotate_code"),
    path("classes/<int:pk>/students/new/", classes.student_create, name="student_create"),
    path("classes/<int:pk>/students/import/", classes.student_import, name="student_import"),
    path("classes/<int:pk>/students/import/confirm/", classes.student_import_confirm, name="student_import_confirm"),
    path("classes/<int:pk>/students/<int:student_pk>/remove/", classes.student_remove, name="student_remove"),
    path("classes/<int:pk>/students/<int:student_pk>/restore/", classes.student_restore, name="student_restore"),
    path(
        "classes/<int:pk>/students/<int:student_pk>/password/",
        classes.student_reset_password,
        name="student_reset_password",
    ),
]

# --- assignments and essay writing (classroom/views/assignments.py) ---
from classroom.views import assignments  # noqa: E402

urlpatterns += [
    path("classes/<int:pk>/assignments/", assignments.assignment_list, name="assignment_list"),
    path("classes/<int:pk>/assignments/new/", assignments.assignment_create, name="assignment_create"),
    path("assignments/<int:pk>/", assignments.assignment_detail, name="assignment_detail"),
    path("assignments/<int:pk>/edit/", assignments.assignment_edit, name="assignment_edit"),
    path("assignments/<int:pk>/extensions/", assignments.assignment_extensions, name="assignment_extensions"),
    path("assignments/<int:pk>/write/", assignments.write, name="write"),
    path("assignments/<int:pk>/autosave/", assignments.autosave, name="autosave"),
    path("assignments/<int:pk>/submit/", assignments.submit, name="submit"),
    path("submissions/<int:pk>/", assignments.submission_detail, name="submission_detail"),
    path("submissions/<int:pk>/return/", assignments.submission_return, name="submission_return"),
]

# --- marking (classroom/views/marking.py) ---
from classroom.views import marking  # noqa: E402

urlpatterns += [
    path("assignments/<int:pk>/marking/", marking.marking_queue, name="marking_queue"),
    path("assignments/<int:pk>/marking/reveal/", marking.reveal_names, name="reveal_names"),
    path("assignments/<int:pk>/marking/release/", marking.release_all, name="release_all"),
    path("submissions/<int:pk>/mark/", marking.mark_submission, name="mark_submission"),
    path("submissions/<int:pk>/mark/autosave/", marking.mark_autosave, name="mark_autosave"),
    path("submissions/<int:pk>/mark/comments/", marking.annotation_add, name="annotation_add"),
    path("submissions/<int:pk>/mark/release/", marking.mark_release, name="mark_release"),
    path("submissions/<int:pk>/mark/withdraw/", marking.mark_withdraw, name="mark_withdraw"),
    path("submissions/<int:pk>/mark/return/", marking.mark_return, name="mark_return"),
    path("submissions/<int:pk>/mark/acknowledge/", marking.dirt_acknowledge, name="dirt_acknowledge"),
    path("comments/<int:pk>/edit/", marking.annotation_edit, name="annotation_edit"),
    path("comments/<int:pk>/delete/", marking.annotation_delete, name="annotation_delete"),
    path("comment-bank/", marking.comment_bank, name="comment_bank"),
    path("comment-bank/<int:pk>/edit/", marking.bank_entry_edit, name="bank_entry_edit"),
    path("comment-bank/<int:pk>/delete/", marking.bank_entry_delete, name="bank_entry_delete"),
    path("assignments/<int:pk>/feedback/", marking.feedback, name="feedback"),
    path("assignments/<int:pk>/feedback/response/", marking.dirt_save, name="dirt_save"),
    path("assignments/<int:pk>/feedback/response/autosave/", marking.dirt_autosave, name="dirt_autosave"),
]

# --- progress (classroom/views/progress.py) ---
from classroom.views import progress  # noqa: E402

urlpatterns += [
    path("classes/<int:pk>/markbook/", progress.markbook, name="markbook"),
    path("classes/<int:pk>/markbook/export/", progress.markbook_export, name="markbook_export"),
    path("classes/<int:pk>/overview/", progress.class_overview, name="class_overview"),
    path("students/<int:pk>/progress/", progress.student_progress, name="student_progress"),
    path("progress/", progress.my_progress, name="my_progress"),
    path("progress/department/", progress.department, name="department_progress"),
]

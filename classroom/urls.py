"""The classroom's URLs, grouped by the object in the path (healthchecks' `check_urls` style)."""

from django.urls import include, path

from classroom.views import (
    access_requests,
    agreement,
    arrangements,
    assignments,
    classes,
    email_settings,
    exemplars,
    feedback_sheet,
    judging,
    marking,
    moderation,
    oneroster,
    privacy,
    progress,
    staff,
    standardisation,
    writing_record,
)

app_name = "classroom"

# classes/<pk>/…: the class, its roster, and its assignments and figures
class_urls = [
    path("", classes.class_detail, name="class_detail"),
    path("edit/", classes.class_edit, name="class_edit"),
    path("teachers/", classes.class_teachers, name="class_teachers"),
    path("teachers/<int:teacher_pk>/remove/", classes.class_teacher_remove, name="class_teacher_remove"),
    path("archive/", classes.class_archive, name="class_archive"),
    path("unarchive/", classes.class_unarchive, name="class_unarchive"),
    path("join-code/", classes.class_rotate_code, name="class_rotate_code"),
    path("students/new/", classes.student_create, name="student_create"),
    path("students/import/", classes.student_import, name="student_import"),
    path("students/import/confirm/", classes.student_import_confirm, name="student_import_confirm"),
    path("students/<int:student_pk>/remove/", classes.student_remove, name="student_remove"),
    path("students/<int:student_pk>/restore/", classes.student_restore, name="student_restore"),
    path("students/<int:student_pk>/password/", classes.student_reset_password, name="student_reset_password"),
    path("assignments/", assignments.assignment_list, name="assignment_list"),
    path("assignments/new/", assignments.assignment_create, name="assignment_create"),
    path("markbook/", progress.markbook, name="markbook"),
    path("markbook/export/", progress.markbook_export, name="markbook_export"),
    path("overview/", progress.class_overview, name="class_overview"),
]

# assignments/<pk>/…: setting it, writing it, marking it, and the student's feedback
assignment_urls = [
    path("", assignments.assignment_detail, name="assignment_detail"),
    path("edit/", assignments.assignment_edit, name="assignment_edit"),
    path("exceptions/", assignments.assignment_exceptions, name="assignment_exceptions"),
    # Granting and taking back each kind (the addresses of the two pages it replaced).
    path("extensions/", assignments.assignment_exceptions, {"kind": "extension"}, name="assignment_extensions"),
    path("exemptions/", assignments.assignment_exceptions, {"kind": "exemption"}, name="assignment_exemptions"),
    path("delete/", assignments.assignment_delete, name="assignment_delete"),
    path("archive/", assignments.assignment_archive, name="assignment_archive"),
    path("restore/", assignments.assignment_restore, name="assignment_restore"),
    path("write/", assignments.write, name="write"),
    path("autosave/", assignments.autosave, name="autosave"),
    path("submit/", assignments.submit, name="submit"),
    path("marking/", marking.marking_queue, name="marking_queue"),
    path("marking/reveal/", marking.reveal_names, name="reveal_names"),
    path("marking/release/", marking.release_all, name="release_all"),
    path("feedback/", marking.feedback, name="feedback"),
    path("feedback/seen/", marking.feedback_seen, name="feedback_seen"),
    path("feedback/response/", marking.dirt_save, name="dirt_save"),
    path("feedback/response/autosave/", marking.dirt_autosave, name="dirt_autosave"),
]

# submissions/<pk>/…: one student's essay, as the teacher sees and marks it
submission_urls = [
    path("", assignments.submission_detail, name="submission_detail"),
    path("return/", assignments.submission_return, name="submission_return"),
    path("mark/", marking.mark_submission, name="mark_submission"),
    path("mark/autosave/", marking.mark_autosave, name="mark_autosave"),
    path("mark/comments/", marking.annotation_add, name="annotation_add"),
    # The marking workspace's fetch() addresses: JSON with the essay and notes re-drawn.
    path("mark/comments/json/", marking.annotation_add, {"redraw": True}, name="annotation_add_json"),
    path("mark/release/", marking.mark_release, name="mark_release"),
    path("mark/withdraw/", marking.mark_withdraw, name="mark_withdraw"),
    path("mark/return/", assignments.submission_return, {"from_marking": True}, name="mark_return"),
    path("mark/acknowledge/", marking.dirt_acknowledge, name="dirt_acknowledge"),
]

# comments/<pk>/…: one comment on an essay
comment_urls = [
    path("edit/", marking.annotation_edit, name="annotation_edit"),
    path("delete/", marking.annotation_delete, name="annotation_delete"),
    path("edit/json/", marking.annotation_edit, {"redraw": True}, name="annotation_edit_json"),
    path("delete/json/", marking.annotation_delete, {"redraw": True}, name="annotation_delete_json"),
]

# comment-bank/…: the teacher's own bank of reusable comments
bank_urls = [
    path("", marking.comment_bank, name="comment_bank"),
    path("<int:pk>/edit/", marking.bank_entry_edit, name="bank_entry_edit"),
    path("<int:pk>/delete/", marking.bank_entry_delete, name="bank_entry_delete"),
    path("curators/", marking.bank_curators, name="bank_curators"),
]

# progress/…: a student's own progress and the head of department's view
progress_urls = [
    path("", progress.my_progress, name="my_progress"),
    path("department/", progress.department, name="department_progress"),
]

# department/…: the department's shared work; one list per part
standardisation_urls: list = [
    path("", standardisation.standardisation_list, name="standardisation_list"),
    path("new/", standardisation.standardisation_create, name="standardisation_create"),
    path("<int:pk>/", standardisation.standardisation_detail, name="standardisation_detail"),
    path("<int:pk>/edit/", standardisation.standardisation_edit, name="standardisation_edit"),
    path("<int:pk>/scripts/add/", standardisation.standardisation_add_script, name="standardisation_add_script"),
    path("<int:pk>/results/", standardisation.standardisation_results, name="standardisation_results"),
    # What a marker opens: their scripts to mark blind, then each script
    path("<int:pk>/mark/", standardisation.standardisation_take, name="standardisation_take"),
    path("scripts/<int:pk>/mark/", standardisation.standardisation_trial, name="standardisation_trial"),
    path("scripts/<int:pk>/", standardisation.standardisation_script, name="standardisation_script"),
    path(
        "scripts/<int:pk>/remove/", standardisation.standardisation_script_remove, name="standardisation_script_remove"
    ),
]
moderation_urls: list = [
    path("", moderation.moderation_home, name="moderation_home"),
    path("assignments/<int:pk>/draw/", moderation.sample_draw, name="moderation_draw"),
    path("assignments/<int:pk>/audit/", moderation.mark_audit, name="mark_audit"),
    path("samples/<int:pk>/", moderation.moderation_sample, name="moderation_sample"),
    path("scripts/<int:pk>/second-mark/", moderation.second_mark, name="second_mark"),
    path("scripts/<int:pk>/agree/", moderation.moderation_agree, name="moderation_agree"),
]
agreement_urls: list = [
    path("", agreement.index, name="agreement"),
    path("agreement.csv", agreement.export, name="agreement_csv"),
]
exemplar_urls: list = [
    path("", exemplars.exemplar_library, name="exemplar_library"),
    path("questions/<int:prompt_pk>/", exemplars.exemplar_question, name="exemplar_question"),
    path("promote/<int:submission_pk>/", exemplars.exemplar_promote, name="exemplar_promote"),
    path("promote/script/<int:script_pk>/", exemplars.exemplar_promote_script, name="exemplar_promote_script"),
    path("<int:pk>/", exemplars.exemplar_detail, name="exemplar_detail"),
    path("<int:pk>/edit/", exemplars.exemplar_edit, name="exemplar_edit"),
    path("<int:pk>/delete/", exemplars.exemplar_delete, name="exemplar_delete"),
    path("<int:pk>/share/", exemplars.exemplar_share, name="exemplar_share"),
    path("<int:pk>/share/<int:assignment_pk>/remove/", exemplars.exemplar_unshare, name="exemplar_unshare"),
    # What a pupil opens from their assignment's page
    path("for/<int:assignment_pk>/<int:pk>/", exemplars.exemplar_for_pupil, name="exemplar_for_pupil"),
]
feedback_sheet_urls: list = [
    path("", feedback_sheet.feedback_sheet, name="feedback_sheet"),
]
# judging/…: comparative judgement; pupils judge here too, so not under department/
judging_urls: list = [
    path("", judging.judging_list, name="judging_list"),
    path("new/", judging.judging_create, name="judging_create"),
    path("<int:pk>/", judging.judging_results, name="judging_results"),
    path("<int:pk>/judge/", judging.judging_judge, name="judging_judge"),
    path("<int:pk>/settings/", judging.judging_edit, name="judging_edit"),
    path("<int:pk>/results.csv", judging.judging_csv, name="judging_csv"),
    path("<int:pk>/accept/", judging.judging_accept, name="judging_accept"),
    path("<int:pk>/judges/", judging.judging_judge_left_out, name="judging_judge_left_out"),
    path("scripts/<int:pk>/anchor/", judging.judging_anchor, name="judging_anchor"),
]
# department/staff/…: teachers' and heads' accounts, run by the head of department
staff_urls: list = [
    path("", staff.staff_list, name="staff_list"),
    path("new/", staff.staff_create, name="staff_create"),
    path("<int:pk>/", staff.staff_edit, name="staff_edit"),
    path("<int:pk>/deactivate/", staff.staff_deactivate, name="staff_deactivate"),
    path("<int:pk>/reactivate/", staff.staff_reactivate, name="staff_reactivate"),
    path("<int:pk>/reset-password/", staff.staff_reset_password, name="staff_reset_password"),
]

urlpatterns = [
    path("classes/new/", classes.class_create, name="class_create"),
    path("classes/archived/", classes.class_archived, name="class_archived"),
    path("classes/join/", classes.class_join, name="class_join"),
    path("classes/<int:pk>/", include(class_urls)),
    path("assignments/<int:pk>/", include(assignment_urls)),
    path("submissions/<int:pk>/", include(submission_urls)),
    path("comments/<int:pk>/", include(comment_urls)),
    path("comment-bank/", include(bank_urls)),
    path("students/<int:pk>/progress/", progress.student_progress, name="student_progress"),
    path("progress/", include(progress_urls)),
    path("department/", agreement.overview, name="department_overview"),
    path("department/standardisation/", include(standardisation_urls)),
    path("department/moderation/", include(moderation_urls)),
    path("department/agreement/", include(agreement_urls)),
    path("department/exemplars/", include(exemplar_urls)),
    path("assignments/<int:pk>/feedback-sheet/", include(feedback_sheet_urls)),
    path("judging/", include(judging_urls)),
    # department/staff/…: staff accounts, for heads of department
    path("department/staff/", include(staff_urls)),
    # OneRoster import (heads of department)
    path("department/class-lists/", oneroster.oneroster_imports, name="oneroster_imports"),
    path("department/class-lists/<int:pk>/", oneroster.oneroster_preview, name="oneroster_preview"),
    path("department/class-lists/<int:pk>/apply/", oneroster.oneroster_apply, name="oneroster_apply"),
    # Email notifications
    path("email/", email_settings.email_preferences, name="email_preferences"),
    path("email/unsubscribe/<str:token>/", email_settings.email_unsubscribe, name="email_unsubscribe"),
    # Sign-in with the school's accounts: access requests, decided by the head of department.
    path("access-requests/", access_requests.access_requests, name="access_requests"),
    path("access-requests/<int:pk>/decide/", access_requests.access_request_decide, name="access_request_decide"),
    # The writing-process record of one essay: its writer, the class's teachers, heads.
    path("submissions/<int:pk>/writing-record/", writing_record.writing_record, name="writing_record"),
    path(
        "submissions/<int:pk>/writing-record/print/", writing_record.writing_record_print, name="writing_record_print"
    ),
    # Access arrangements and reading preferences
    path("classes/<int:pk>/arrangements/", arrangements.class_arrangements, name="class_arrangements"),
    path(
        "classes/<int:pk>/students/<int:student_pk>/arrangements/",
        arrangements.arrangement_edit,
        name="arrangement_edit",
    ),
    path("assignments/<int:pk>/rest-break/", arrangements.rest_break, name="rest_break"),
    path("settings/reading/", arrangements.reading_settings, name="reading_settings"),
    # Data protection (heads of department): subject access, erasure, the access log, retention
    path("department/privacy/", privacy.privacy_home, name="privacy"),
    path("department/privacy/log/", privacy.privacy_log, name="privacy_log"),
    path("department/privacy/pupils/<int:pk>/", privacy.privacy_pupil, name="privacy_pupil"),
    path("department/privacy/pupils/<int:pk>/export/", privacy.privacy_export, name="privacy_export"),
    path("department/privacy/pupils/<int:pk>/erase/", privacy.privacy_erase, name="privacy_erase"),
]

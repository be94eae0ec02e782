"""Classes and rosters: creating and archiving classes, co-teachers, join codes, student
accounts (one at a time or from a CSV file), password resets and removals."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from classroom import permissions, roster
from classroom.forms import CoTeacherForm, JoinClassForm, RosterUploadForm, SchoolClassForm, StudentForm
from classroom.models import SchoolClass, User
from classroom.types import AuthedRequest

NAV = "classes"


def _confirm(
    request: AuthedRequest, *, title: str, question: str, button: str, cancel_url: str, **extra
) -> HttpResponse:
    context = {"title": title, "question": question, "button": button, "cancel_url": cancel_url, "nav": NAV, **extra}
    return render(request, "classroom/confirm.html", context)


def _codes_page(
    request: AuthedRequest,
    school_class: SchoolClass,
    created: list[tuple[User, str]],
    *,
    reset: bool = False,
    renamed: list[roster.RosterRow] | None = None,
) -> HttpResponse:
    """The one and only showing of one-time codes: rendered straight from the POST that
    made them, never stored, never cached. Says when they stop working (made together, so
    the first code's expiry is everyone's to the minute), and which usernames are not the
    one made from the name, and why."""
    context = {
        "school_class": school_class,
        "created": created,
        "renamed": [row for row in renamed or [] if row.username_note],
        "reset": reset,
        "expires_at": created[0][0].one_time_code_expires_at if created else None,
        "lifetime_days": settings.ONE_TIME_CODE_LIFETIME.days,
        "nav": NAV,
    }
    response = render(request, "classroom/classes/codes.html", context)
    add_never_cache_headers(response)
    return response


# --- classes ---------------------------------------------------------------------------


@login_required
def class_create(request: AuthedRequest) -> HttpResponse:
    permissions.require_teacher(request.user)
    form = SchoolClassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        school_class = SchoolClass.create_for(
            request.user, name=form.cleaned_data["name"], year_group=form.cleaned_data["year_group"]
        )
        messages.success(request, f"{school_class.name} is ready. Give your students the join code below.")
        return redirect("classroom:class_detail", school_class.pk)
    return render(request, "classroom/classes/class_form.html", {"form": form, "school_class": None, "nav": NAV})


@login_required
def class_archived(request: AuthedRequest) -> HttpResponse:
    classes = (
        permissions.archived_classes_for_teacher(request.user)
        .annotate(student_count=Count("enrolments", filter=Q(enrolments__removed_at__isnull=True)))
        .order_by("name")
    )
    return render(request, "classroom/classes/archived.html", {"classes": classes, "nav": NAV})


@login_required
def class_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    school_class = permissions.class_for_teacher(request.user, pk)
    enrolments = school_class.enrolments.select_related("student").order_by(
        "student__last_name", "student__first_name", "student__username"
    )
    active = [enrolment for enrolment in enrolments if enrolment.removed_at is None]
    removed = [enrolment for enrolment in enrolments if enrolment.removed_at is not None]
    context = {
        "school_class": school_class,
        "active": active,
        "removed": removed,
        "teachers": school_class.teachers.order_by("last_name", "first_name", "username"),
        "nav": NAV,
    }
    return render(request, "classroom/classes/detail.html", context)


@login_required
def class_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    school_class = permissions.class_for_teacher(request.user, pk)
    form = SchoolClassForm(request.POST or None, instance=school_class)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Class details saved.")
        return redirect("classroom:class_detail", school_class.pk)
    return render(
        request, "classroom/classes/class_form.html", {"form": form, "school_class": school_class, "nav": NAV}
    )


@login_required
def class_teachers(request: AuthedRequest, pk: int) -> HttpResponse:
    school_class = permissions.class_for_teacher(request.user, pk)
    teachers = list(school_class.teachers.order_by("last_name", "first_name", "username"))
    candidates = permissions.co_teacher_candidates(request.user)
    form = CoTeacherForm(request.POST or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        teacher = form.cleaned_data["username"]
        if teacher in teachers:
            messages.info(request, f"{teacher.display_name} already teaches {school_class.name}.")
        else:
            school_class.add_teacher(teacher)
            messages.success(request, f"{teacher.display_name} now teaches {school_class.name}.")
        return redirect("classroom:class_teachers", school_class.pk)
    context = {
        "school_class": school_class,
        "teachers": teachers,
        "removable": {teacher.pk for teacher in teachers if permissions.can_remove_teacher(request.user, teacher)},
        "form": form,
        "suggestions": candidates.exclude(pk__in=[teacher.pk for teacher in teachers]).order_by("username"),
        "nav": NAV,
    }
    return render(request, "classroom/classes/teachers.html", context)


@login_required
@require_POST
def class_teacher_remove(request: AuthedRequest, pk: int, teacher_pk: int) -> HttpResponse:
    school_class, teacher = permissions.class_teacher_for_removal(request.user, pk, teacher_pk)
    try:
        school_class.remove_teacher(teacher)
    except ValueError as exc:
        messages.error(request, f"{exc} Add another teacher first, or archive the class.")
        return redirect("classroom:class_teachers", school_class.pk)
    if teacher == request.user and not request.user.is_head:
        messages.success(request, f"You no longer teach {school_class.name}.")
        return redirect("home")
    messages.success(request, f"{teacher.display_name} no longer teaches {school_class.name}.")
    return redirect("classroom:class_teachers", school_class.pk)


@login_required
@require_POST
def class_archive(request: AuthedRequest, pk: int) -> HttpResponse:
    school_class = permissions.class_for_teacher(request.user, pk)
    school_class.archive()
    messages.success(
        request, f"{school_class.name} is archived. Its students and work are kept; find it under Archived classes."
    )
    return redirect("home")


@login_required
@require_POST
def class_unarchive(request: AuthedRequest, pk: int) -> HttpResponse:
    school_class = permissions.class_for_teacher(request.user, pk)
    school_class.unarchive()
    messages.success(request, f"{school_class.name} is back among your classes.")
    return redirect("classroom:class_detail", school_class.pk)


@login_required
def class_rotate_code(request: AuthedRequest, pk: int) -> HttpResponse:
    school_class = permissions.class_for_teacher(request.user, pk)
    if request.method == "POST":
        code = school_class.rotate_join_code()
        messages.success(request, f"The new join code is {code}. The old code no longer works.")
        return redirect("classroom:class_detail", school_class.pk)
    return _confirm(
        request,
        title=f"New join code for {school_class.name}",
        question=(
            f"The current code, {school_class.join_code}, will stop working at once. Students already in the "
            "class stay in it. Anyone still to join will need the new code."
        ),
        button="Make a new join code",
        cancel_url=reverse("classroom:class_detail", args=[school_class.pk]),
    )


@login_required
def class_join(request: AuthedRequest) -> HttpResponse:
    permissions.require_student(request.user)
    form = JoinClassForm(request.POST or None, student=request.user)
    valid = False
    if request.method == "POST":
        with transaction.atomic():
            roster.lock_join_attempts(request.user)
            valid = form.is_valid()
    if valid:
        school_class = form.school_class
        assert school_class is not None  # a valid form has found the class
        if school_class.active_students().filter(pk=request.user.pk).exists():
            messages.info(request, f"You are already in {school_class.name}.")
        else:
            school_class.enrol(request.user)
            messages.success(request, f"You have joined {school_class.name}.")
        return redirect("home")
    return render(request, "classroom/classes/join.html", {"form": form, "nav": "work"})


# --- students --------------------------------------------------------------------------


@login_required
def student_create(request: AuthedRequest, pk: int) -> HttpResponse:
    school_class = permissions.class_for_teacher(request.user, pk)
    form = StudentForm(request.POST or None, school_class=school_class)
    if request.method == "POST" and form.is_valid():
        try:
            created = roster.create_students(school_class, [form.row])
        except roster.RosterError as exc:
            form.add_error(None, str(exc))
        else:
            return _codes_page(request, school_class, created, renamed=[form.row])
    return render(
        request, "classroom/classes/student_form.html", {"form": form, "school_class": school_class, "nav": NAV}
    )


def _import_session_key(school_class: SchoolClass) -> str:
    return f"roster-import:{school_class.pk}"


def _preview(
    request: AuthedRequest, school_class: SchoolClass, rows: list[roster.RosterRow], *, token: str = "", changed=False
) -> HttpResponse:
    context = {
        "school_class": school_class,
        "rows": rows,
        "error_count": sum(1 for row in rows if row.errors),
        "renamed": [row for row in rows if row.username_note],
        "token": token,
        "changed": changed,
        "upload_form": RosterUploadForm(),
        "nav": NAV,
    }
    return render(request, "classroom/classes/import_preview.html", context)


@login_required
def student_import(request: AuthedRequest, pk: int) -> HttpResponse:
    """Step 1: upload a CSV file and see exactly what would be created."""
    school_class = permissions.class_for_teacher(request.user, pk)
    form = RosterUploadForm(request.POST or None, request.FILES or None, school_class=school_class)
    if request.method == "POST" and form.is_valid():
        rows = form.rows
        key = _import_session_key(school_class)
        if roster.has_errors(rows):
            request.session.pop(key, None)
            return _preview(request, school_class, rows)
        token = secrets.token_urlsafe(16)
        request.session[key] = {
            "token": token,
            "rows": [row.to_session() for row in rows],
            "usernames": [row.username for row in rows],
        }
        return _preview(request, school_class, rows, token=token)
    context = {"form": form, "school_class": school_class, "max_rows": roster.MAX_ROWS, "nav": NAV}
    return render(request, "classroom/classes/import.html", context)


@login_required
@require_POST
def student_import_confirm(request: AuthedRequest, pk: int) -> HttpResponse:
    """Step 2: check the previewed rows again and create them all, or nothing."""
    school_class = permissions.class_for_teacher(request.user, pk)
    key = _import_session_key(school_class)
    stored = request.session.get(key)
    if not stored or not secrets.compare_digest(str(stored.get("token", "")), request.POST.get("token", "")):
        messages.error(request, "That preview is out of date or was replaced by a newer upload. Upload the file again.")
        return redirect("classroom:student_import", school_class.pk)
    try:
        rows = roster.validate_rows([roster.RosterRow.from_session(data) for data in stored["rows"]], school_class)
    except (KeyError, TypeError, ValueError):
        request.session.pop(key, None)
        messages.error(request, "That preview could not be read. Upload the file again.")
        return redirect("classroom:student_import", school_class.pk)
    if roster.has_errors(rows):
        request.session.pop(key, None)
        return _preview(request, school_class, rows)
    usernames = [row.username for row in rows]
    if usernames != stored.get("usernames"):
        # Someone took a username since the preview: show the new ones before creating anything.
        stored["usernames"] = usernames
        request.session[key] = stored
        return _preview(request, school_class, rows, token=stored["token"], changed=True)
    try:
        created = roster.create_students(school_class, rows)
    except roster.RosterError as exc:
        request.session.pop(key, None)
        messages.error(request, str(exc))
        return redirect("classroom:student_import", school_class.pk)
    request.session.pop(key, None)
    return _codes_page(request, school_class, created, renamed=rows)


@login_required
def student_remove(request: AuthedRequest, pk: int, student_pk: int) -> HttpResponse:
    enrolment = permissions.enrolment_for_teacher(request.user, pk, student_pk)
    school_class, student = enrolment.school_class, enrolment.student
    if request.method == "POST":
        enrolment.remove()
        messages.success(request, f"{student.display_name} has left {school_class.name}. Their work is kept.")
        return redirect("classroom:class_detail", school_class.pk)
    return _confirm(
        request,
        title=f"Remove {student.display_name} from {school_class.name}",
        question=(
            f"{student.display_name} will no longer see {school_class.name} or its assignments. Their account and "
            "their work are kept, and you can add them back later."
        ),
        button="Remove from class",
        button_class="btn-danger",
        cancel_url=reverse("classroom:class_detail", args=[school_class.pk]),
    )


@login_required
@require_POST
def student_restore(request: AuthedRequest, pk: int, student_pk: int) -> HttpResponse:
    enrolment = permissions.enrolment_for_teacher(request.user, pk, student_pk)
    enrolment.school_class.enrol(enrolment.student)
    messages.success(request, f"{enrolment.student.display_name} is back in {enrolment.school_class.name}.")
    return redirect("classroom:class_detail", enrolment.school_class.pk)


@login_required
def student_reset_password(request: AuthedRequest, pk: int, student_pk: int) -> HttpResponse:
    enrolment = permissions.enrolment_for_password_reset(request.user, pk, student_pk)
    school_class, student = enrolment.school_class, enrolment.student
    if request.method == "POST":
        code = student.reset_password()
        return _codes_page(request, school_class, [(student, code)], reset=True)
    return _confirm(
        request,
        title=f"Reset {student.display_name}'s password",
        question=(
            f"{student.display_name}'s password will be replaced by a one-time code, shown to you once. They will "
            "be logged out everywhere and must choose a new password when they log in with the code."
        ),
        button="Reset password",
        cancel_url=reverse("classroom:class_detail", args=[school_class.pk]),
    )

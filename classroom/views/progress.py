"""Progress pages: markbook, student progress, class overview, department view, CSV exports.

Every figure comes from classroom/progress.py; these views only check access and render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify

from classroom import permissions, privacy, progress
from classroom.charts import line_chart
from classroom.csvsafe import write_csv
from classroom.forms import whole_number
from classroom.status import HANDED_IN_KEYS, STATUSES
from classroom.types import AuthedRequest
from classroom.views.agreement import department_nav

EXPORT_SHAPES = {"long", "wide"}
EXPORT_SEPARATORS = {"comma": ",", "tab": "\t"}


@login_required
def markbook(request: AuthedRequest, pk: int) -> HttpResponse:
    school_class = permissions.class_for_teacher(request.user, pk)
    book = progress.markbook(school_class, request.GET.get("sort", "name"))
    # One reverse() per route for the page rather than one per cell.
    mark_url = reverse("classroom:mark_submission", args=[0]).replace("/0/", "/{}/")
    essay_url = reverse("classroom:submission_detail", args=[0]).replace("/0/", "/{}/")
    for row in book.rows:
        for column, cell in zip(book.columns, row.cells, strict=True):
            if not cell.submission_id or column.names_hidden:
                continue
            if cell.kind in HANDED_IN_KEYS:
                cell.url = mark_url.format(cell.submission_id)
            elif cell.kind in ("draft", "missing", "returned"):
                cell.url = essay_url.format(cell.submission_id)
    return render(
        request,
        "classroom/progress/markbook.html",
        {
            "book": book,
            "school_class": school_class,
            "kinds": [(words.teacher, words.symbol) for words in STATUSES.values()],
            "nav": "classes",
        },
    )


@login_required
def markbook_export(request: AuthedRequest, pk: int) -> HttpResponse:
    """The markbook as CSV (long or wide, comma or tab, optional BOM for Excel)."""
    school_class = permissions.class_for_teacher(request.user, pk)
    shape = request.GET.get("shape", "long")
    separator = request.GET.get("separator", "comma")
    bom = request.GET.get("bom", "") in ("1", "on", "yes", "true")
    if shape not in EXPORT_SHAPES or separator not in EXPORT_SEPARATORS:
        messages.error(request, "Choose a layout (long or wide) and a separator (comma or tab) to export.")
        return redirect("classroom:markbook", school_class.pk)
    book = progress.markbook(school_class)
    privacy.log_access(request.user, None, "Markbook export (CSV)", school_class=school_class)
    if shape == "long":
        header, rows = progress.LONG_HEADER, progress.export_long(book, progress.criterion_levels(school_class))
    else:
        header, rows = progress.export_wide(book)
    delimiter = EXPORT_SEPARATORS[separator]
    body = write_csv(rows, header, delimiter=delimiter, bom=bom)
    extension, content_type = ("csv", "text/csv") if separator == "comma" else ("tsv", "text/tab-separated-values")
    filename = f"{slugify(school_class.name) or 'class'}-markbook-{shape}.{extension}"
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _render_progress(request: AuthedRequest, student, own: bool) -> HttpResponse:
    teacher = permissions.progress_limited_to(request.user, student)
    report = progress.student_progress(student, teacher=teacher)
    chart = line_chart(
        [(s.assignment_id, s.title) for s in report.assignments],
        {code: {p.assignment_id: p.percent for p in points} for code, points in report.points.items()},
    )
    return render(
        request,
        "classroom/progress/student.html",
        {
            "report": report,
            "chart": chart,
            "student": student,
            "own": own,
            "only_my_classes": teacher is not None,
            "nav": "progress" if own else "classes",
        },
    )


@login_required
def student_progress(request: AuthedRequest, pk: int) -> HttpResponse:
    student = permissions.student_for_progress(request.user, pk)
    privacy.log_access(request.user, student, "Progress page")
    return _render_progress(request, student, own=student.pk == request.user.pk)


@login_required
def my_progress(request: AuthedRequest) -> HttpResponse:
    permissions.require_student(request.user)
    return _render_progress(request, request.user, own=True)


@login_required
def class_overview(request: AuthedRequest, pk: int) -> HttpResponse:
    school_class = permissions.class_for_teacher(request.user, pk)
    overview = progress.class_overview(school_class)
    return render(
        request,
        "classroom/progress/overview.html",
        {"overview": overview, "school_class": school_class, "nav": "classes"},
    )


@login_required
def department(request: AuthedRequest) -> HttpResponse:
    """Heads of department: one essay question's results in every class, side by side."""
    permissions.require_head(request.user)
    raw = request.GET.get("prompt", "")
    prompt_id = whole_number(raw)
    view = progress.department(prompt_id)
    if raw and view.prompt is None:
        messages.error(request, "Choose one of the essay questions in the list.")
    nav = department_nav(request.user, "classroom:department_progress")
    return render(
        request, "classroom/progress/department.html", {"view": view, "nav": "progress", "department_nav": nav}
    )

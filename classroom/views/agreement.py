"""Agreement figures (how far two markers agree, with a CSV download) and the head of
department's overview of the department (issue 14, items 4 and 7).

Figures come from classroom/agreement.py (the statistics and where the pairs come from) and
classroom/progress.py (`department_overview`); access from classroom/permissions.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from classroom import agreement, permissions, progress
from classroom.agreement import Agreement, AgreementGroup, Figure
from classroom.csvsafe import write_csv
from classroom.models import User
from classroom.types import AuthedRequest

# The department's pages, for the links at the top of each (heads see them all, teachers those
# marked False): (label, url name, heads only). A page whose url does not exist is left out.
DEPARTMENT_PAGES = [
    ("Overview", "classroom:department_overview", True),
    ("Results by essay question", "classroom:department_progress", True),
    ("Standardisation", "classroom:standardisation_list", False),
    ("Moderation", "classroom:moderation_home", False),
    ("Agreement figures", "classroom:agreement", False),
    ("Exemplars", "classroom:exemplar_library", False),
    ("Comparative judgement", "classroom:judging_list", False),
    ("Staff", "classroom:staff_list", True),
    ("Class lists from the school", "classroom:oneroster_imports", True),
    ("Access requests", "classroom:access_requests", True),
    ("Data protection", "classroom:privacy", True),
]


def department_nav(user: User, current: str) -> list[tuple[str, str, bool]]:
    """(label, url, is the current page) for each department page `user` may open."""
    links = []
    for label, name, head_only in DEPARTMENT_PAGES:
        if head_only and not user.is_head:
            continue
        try:
            links.append((label, reverse(name), name == current))
        except NoReverseMatch:
            continue
    return links


# --- agreement figures -------------------------------------------------------------------------


@dataclass
class Cell:
    """One figure as shown: the value (or "—"), what it rests on, and why it is missing."""

    text: str
    rests_on: str
    why: str = ""


def _percent(value: float) -> str:
    return f"{progress.round_half_up(value * 100, 0)}%"


def _signed(value: float) -> str:
    rounded = progress.round_half_up(value, 2)
    return f"{rounded:+.2f}" if rounded else "0.00"


def _fixed(value: float) -> str:
    return f"{progress.round_half_up(value, 2):.2f}"


def _cell(figure: Figure, unit: str, shown) -> Cell:
    rests_on = f"{figure.n} {unit}{'' if figure.n == 1 else 's'}"
    if figure.value is None:
        return Cell("—", rests_on, figure.why)
    return Cell(shown(figure.value), rests_on)


def cells(figures: Agreement) -> list[Cell]:
    """The row's figures in the table's column order."""
    return [
        _cell(figures.exact, "level", _percent),
        _cell(figures.within_one, "level", _percent),
        _cell(figures.mean_difference, "script", _signed),
        _cell(figures.sd_difference, "script", _fixed),
        _cell(figures.kappa, "level", _fixed),
        _cell(figures.spearman, "script", _fixed),
    ]


def _report(user: User) -> tuple[list[AgreementGroup], str]:
    items = permissions.agreement_items_for(user)
    trials = permissions.agreement_trials_for(user)
    pooled = "All markers" if user.is_head else "All your pairs"
    return agreement.agreement_report(items, trials, pooled_label=pooled), pooled


@login_required
def index(request: AuthedRequest) -> HttpResponse:
    """Agreement figures per assignment and marker pair, and per standardisation and marker."""
    groups, _ = _report(request.user)
    tables = [
        (group, [(row, cells(row.figures)) for row in group.rows])
        for group in groups
        if group.kind == agreement.SECOND_MARKING
    ]
    standard_tables = [
        (group, [(row, cells(row.figures)) for row in group.rows])
        for group in groups
        if group.kind == agreement.STANDARDISATION
    ]
    return render(
        request,
        "classroom/department/agreement/index.html",
        {
            "second_marking": tables,
            "standardisation": standard_tables,
            "is_head": request.user.is_head,
            "department_nav": department_nav(request.user, "classroom:agreement"),
            "nav": "department",
        },
    )


CSV_HEADER = [
    "kind",
    "assignment or standardisation",
    "class or question",
    "first marker",
    "second marker",
    "scripts",
    "criterion levels",
    "exact level agreement %",
    "within one level %",
    "mean difference (second - first)",
    "spread of differences (SD)",
    "quadratic weighted kappa",
    "rank correlation of totals",
    "totals out of",
    "not computed",
]


def _number(value: float | None, places: int, scale: float = 1) -> float | None:
    return None if value is None else progress.round_half_up(value * scale, places)


def csv_rows(groups: list[AgreementGroup]) -> list[list[object]]:
    """One CSV row per table row: numbers as numbers (rounded), blanks where a figure cannot
    be computed, with the reasons in the last column."""
    rows: list[list[object]] = []
    for group in groups:
        for row in group.rows:
            f = row.figures
            named = [
                ("kappa", f.kappa),
                ("rank correlation", f.spearman),
                ("spread", f.sd_difference),
                ("mean difference", f.mean_difference),
                ("exact agreement", f.exact),
            ]
            reasons = "; ".join(f"{name}: {figure.why}" for name, figure in named if figure.value is None)
            rows.append(
                [
                    group.kind,
                    group.title,
                    group.context,
                    row.first,
                    row.second,
                    f.scripts,
                    f.levels,
                    _number(f.exact.value, 1, 100),
                    _number(f.within_one.value, 1, 100),
                    _number(f.mean_difference.value, 3),
                    _number(f.sd_difference.value, 3),
                    _number(f.kappa.value, 3),
                    _number(f.spearman.value, 3),
                    " / ".join(str(m) for m in f.out_of),
                    reasons,
                ]
            )
    return rows


@login_required
def export(request: AuthedRequest) -> HttpResponse:
    """The agreement figures as CSV (the same rows the page shows)."""
    groups, _ = _report(request.user)
    body = write_csv(csv_rows(groups), CSV_HEADER)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="agreement-figures.csv"'
    response["Cache-Control"] = "no-store"
    return response


# --- the head's overview -------------------------------------------------------------------------


@login_required
def overview(request: AuthedRequest) -> HttpResponse:
    """The head of department's overview: marking progress per teacher and assignment,
    standardisation and moderation status, results per class."""
    permissions.require_department_overview(request.user)
    return render(
        request,
        "classroom/department/overview.html",
        {
            "overview": progress.department_overview(),
            "department_nav": department_nav(request.user, "classroom:department_overview"),
            "nav": "department",
        },
    )

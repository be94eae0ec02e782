"""Subject-content pages: reading the unit, the knowledge check, and teachers' authoring.

Access (classroom/permissions.py, "content" section): everyone signed in reads shipped
content and teachers' own items; indicative content, authoring and copying are for
teachers; a shipped item is read-only and a teacher's item is edited only by its owner
or a head of department.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, ProtectedError
from django.forms import BaseFormSet, BaseInlineFormSet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from classroom import lookups, permissions
from classroom.forms import whole_number
from classroom.types import AuthedRequest
from crisis import glossary
from crisis.forms import (
    CriterionFormSet,
    IndicativePointFormSet,
    KeyTermFormSet,
    KnowledgeCheckForm,
    LessonForm,
    LevelFormSet,
    MarkSchemeForm,
    ModelAnswerFormSet,
    ModelAnswerFormSetBase,
    PromptForm,
    PromptSourceFormSet,
    QuestionFormSet,
    SourceForm,
    TimelineFormSet,
)
from crisis.markdown import LESSON_TEXT_MAX, MarkdownLengthValidator, render_markdown
from crisis.models import EssayPrompt, Lesson, MarkScheme, PromptSource, SchemeInUse, Source, Unit

NAV = "content"


def _render(request: AuthedRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, template, {"nav": NAV, **context}, status=status)


def _set_non_form_error(formset: BaseFormSet[Any], message: str) -> None:
    """Show `message` above a formset that validated but could not be saved.

    Django has no public way to add a formset-wide error after validation; this sets what
    `non_form_errors()` returns (a private attribute, so django-stubs does not declare it).
    """
    formset._non_form_errors = formset.error_class([message])  # type: ignore[attr-defined]


# --- reading -------------------------------------------------------------------------------


@login_required
def units(request: AuthedRequest) -> HttpResponse:
    """The units list; with a single unit (the usual case) it opens that unit."""
    unit_list = list(Unit.objects.visible_to(request.user).order_by("owner_id", "title"))
    if len(unit_list) == 1:
        return redirect("content:unit", unit_list[0].pk)
    return _render(request, "crisis/units.html", {"units": unit_list})


@login_required
def unit_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    unit = permissions.content_for_reader(request.user, Unit.objects.all(), pk)
    # unit; lessons+owner; sources+owner; prompts+owner (+ session and user)
    lessons = list(unit.lessons.select_related("owner").order_by("order", "pk"))
    sources = list(unit.sources.select_related("owner").order_by("label", "pk"))
    prompts = list(unit.prompts.select_related("owner").order_by("pk"))
    sealed_prompts = permissions.sealed_prompt_ids(request.user)  # a timed essay not started yet
    sealed_sources = permissions.sealed_source_ids(request.user, sealed_prompts)
    prompts = [prompt for prompt in prompts if prompt.pk not in sealed_prompts]
    sources = [source for source in sources if source.pk not in sealed_sources]
    return _render(
        request,
        "crisis/unit_detail.html",
        {
            "unit": unit,
            "lessons": [lesson for lesson in lessons if lesson.is_shipped],
            "own_lessons": [lesson for lesson in lessons if not lesson.is_shipped],
            "sources": [source for source in sources if source.is_shipped],
            "own_sources": [source for source in sources if not source.is_shipped],
            "prompts": [prompt for prompt in prompts if prompt.is_shipped],
            "own_prompts": [prompt for prompt in prompts if not prompt.is_shipped],
            "is_teacher": request.user.is_teacher,
        },
    )


@login_required
def unit_organiser(request: AuthedRequest, pk: int) -> HttpResponse:
    """The unit's one-page knowledge organiser, for printing: read by whoever reads the unit."""
    unit = permissions.unit_organiser_for_reader(request.user, pk)
    # unit; key terms; timeline events (+ session and user)
    return _render(request, "crisis/unit_organiser.html", {"unit": unit, **unit.organiser()})


@login_required
def lesson_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """The lesson, and its knowledge check: a student's answers are stored, a teacher's are not."""
    lesson = permissions.lesson_for_reader(request.user, pk)
    questions = lesson.check_questions()  # its own, then review questions from earlier lessons
    form = KnowledgeCheckForm(questions, request.POST or None)
    result = None
    stored = False
    if request.method == "POST" and form.is_valid():
        if request.user.is_student:
            attempt = lesson.record_attempt(request.user, form.answers(), questions)
            return redirect(f"{reverse('content:lesson', args=[lesson.pk])}?attempt={attempt.pk}#check")
        score, results = lesson.mark_answers(form.answers(), questions)
        result = {"score": score, "total": len(results), "results": results}
        form = KnowledgeCheckForm(questions)
    elif request.method == "GET" and request.GET.get("attempt"):
        attempt = permissions.attempt_for_student(request.user, lesson, request.GET["attempt"])
        numbered = {whole_number(qid): chosen for qid, chosen in attempt.answers.items()}
        answers = {qid: chosen for qid, chosen in numbered.items() if qid is not None}
        score, results = lesson.mark_answers(answers, lesson.questions_asked(attempt))
        result = {"score": attempt.score, "total": attempt.total, "results": results}
        stored = True
    parts = lookups.lesson_parts(lesson.pk)  # key terms, timeline, sources
    key_terms = parts["key_terms"]
    return _render(
        request,
        "crisis/lesson_detail.html",
        {
            **parts,
            "lesson": lesson,
            # The stored HTML with each key term's first use marked (crisis/glossary.py).
            "lesson_body": glossary.mark_terms(lesson.body_html, key_terms),
            "unit": lesson.unit,
            "questions": questions,
            "review_count": sum(question.is_review for question in questions),
            "form": form,
            "result": result,
            "stored": stored,
            "can_edit": permissions.can_edit_content(request.user, lesson),
            "is_teacher": request.user.is_teacher,
        },
    )


@login_required
def source_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    queryset = Source.objects.select_related("unit", "owner", "copied_from")
    source = permissions.content_for_reader(request.user, queryset, pk)
    if source.pk in permissions.sealed_source_ids(request.user):
        return _sealed(request)
    return _render(
        request,
        "crisis/source_detail.html",
        {
            "source": source,
            "unit": source.unit,
            "can_edit": permissions.can_edit_content(request.user, source),
            "is_teacher": request.user.is_teacher,
        },
    )


def _sealed(request: AuthedRequest) -> HttpResponse:
    """A timed essay's question or source before the pupil has started it (security review L9)."""
    return render(request, "crisis/sealed.html", status=403)


def _prompt_queryset(with_indicative: bool, with_model_answers: bool = False):
    queryset = EssayPrompt.objects.select_related("unit", "owner", "copied_from", "mark_scheme").prefetch_related(
        Prefetch("source_links", queryset=PromptSource.objects.select_related("source").order_by("order", "pk")),
        "mark_scheme__criteria__levels",
    )
    if with_indicative:
        queryset = queryset.prefetch_related("indicative_points")
    if with_model_answers:
        queryset = queryset.prefetch_related("model_answers")
    return queryset


@login_required
def prompt_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    teacher_view = permissions.can_see_indicative(request.user)
    show_answers = permissions.can_see_prompt_model_answers(request.user)
    prompt = permissions.content_for_reader(request.user, _prompt_queryset(teacher_view, show_answers), pk)
    if prompt.pk in permissions.sealed_prompt_ids(request.user):
        return _sealed(request)
    indicative = []
    if teacher_view:
        for side, label in prompt.indicative_points.model.Side.choices:
            points = [p for p in prompt.indicative_points.all() if p.side == side]
            if points:
                indicative.append((label, sorted(points, key=lambda p: (p.order, p.pk))))
    return _render(
        request,
        "crisis/prompt_detail.html",
        {
            "prompt": prompt,
            "unit": prompt.unit,
            "scheme": prompt.mark_scheme,
            "indicative": indicative,
            "model_answers": list(prompt.model_answers.all()) if show_answers else [],
            "show_model_answers": show_answers,
            "teacher_view": teacher_view,
            "can_edit": permissions.can_edit_content(request.user, prompt),
            "can_edit_scheme": permissions.can_edit_content(request.user, prompt.mark_scheme),
        },
    )


# --- making a copy ---------------------------------------------------------------------------


def _copy(request: AuthedRequest, queryset, pk: int, edit_url: str) -> HttpResponse:
    original = permissions.content_for_copier(request.user, queryset, pk)
    copy = original.make_copy(request.user)
    messages.success(request, "This is your own copy: change it as you like; the original stays as it was.")
    return redirect(edit_url, copy.pk)


@login_required
@require_POST
def lesson_copy(request: AuthedRequest, pk: int) -> HttpResponse:
    return _copy(request, Lesson.objects.all(), pk, "content:lesson_edit")


@login_required
@require_POST
def source_copy(request: AuthedRequest, pk: int) -> HttpResponse:
    return _copy(request, Source.objects.all(), pk, "content:source_edit")


@login_required
@require_POST
def prompt_copy(request: AuthedRequest, pk: int) -> HttpResponse:
    return _copy(request, EssayPrompt.objects.all(), pk, "content:prompt_edit")


@login_required
@require_POST
def markscheme_copy(request: AuthedRequest, pk: int) -> HttpResponse:
    """An editable copy of a mark scheme (offered once essays marked with it fix its marks)."""
    original = permissions.content_for_copier(request.user, MarkScheme.objects.all(), pk)
    copy = original.make_copy(request.user)  # named apart from every scheme the teacher can choose
    messages.success(
        request,
        "This is your own copy: change its criteria and levels as you like; the original, and every mark "
        "given with it, stays as it was. Choose the copy for an essay question with no marks yet.",
    )
    return redirect("content:markscheme_edit", copy.pk)


# --- authoring: lessons ----------------------------------------------------------------------


def _lesson_form(request: AuthedRequest, unit: Unit, lesson: Lesson | None) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = LessonForm(data, instance=lesson, unit=unit)
    formsets: dict[str, BaseInlineFormSet[Any, Any, Any]] = {
        "terms": KeyTermFormSet(data, instance=lesson, prefix="terms"),
        "timeline": TimelineFormSet(data, instance=lesson, prefix="timeline"),
        "questions": QuestionFormSet(data, instance=lesson, prefix="questions"),
    }
    preview = None
    if request.method == "POST" and "preview" in request.POST:
        body = request.POST.get("body", "")
        try:
            MarkdownLengthValidator(LESSON_TEXT_MAX)(body)  # the length cap bounds the preview too
        except ValidationError as error:
            form.add_error("body", error)
        else:
            preview = render_markdown(body)
    elif request.method == "POST" and form.is_valid() and all(fs.is_valid() for fs in formsets.values()):
        with transaction.atomic():
            if lesson is None:
                form.instance.owner = request.user
            saved = form.save()
            for formset in formsets.values():
                formset.instance = saved
                formset.save()
        messages.success(request, "Lesson saved.")
        return redirect("content:lesson", saved.pk)
    return _render(
        request,
        "crisis/lesson_form.html",
        {"form": form, "formsets": formsets, "unit": unit, "lesson": lesson, "preview": preview},
    )


@login_required
def lesson_create(request: AuthedRequest, unit_pk: int) -> HttpResponse:
    permissions.require_teacher(request.user)
    unit = permissions.content_for_reader(request.user, Unit.objects.all(), unit_pk)
    return _lesson_form(request, unit, None)


@login_required
def lesson_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    lesson = permissions.content_for_editor(request.user, Lesson.objects.select_related("unit"), pk)
    return _lesson_form(request, lesson.unit, lesson)


# --- authoring: sources ----------------------------------------------------------------------


def _source_form(request: AuthedRequest, unit: Unit, source: Source | None) -> HttpResponse:
    form = SourceForm(request.POST or None, instance=source, unit=unit)
    if request.method == "POST" and form.is_valid():
        if source is None:
            form.instance.owner = request.user
        saved = form.save()
        messages.success(request, "Source saved.")
        return redirect("content:source", saved.pk)
    return _render(request, "crisis/source_form.html", {"form": form, "unit": unit, "source": source})


@login_required
def source_create(request: AuthedRequest, unit_pk: int) -> HttpResponse:
    permissions.require_teacher(request.user)
    unit = permissions.content_for_reader(request.user, Unit.objects.all(), unit_pk)
    return _source_form(request, unit, None)


@login_required
def source_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    source = permissions.content_for_editor(request.user, Source.objects.select_related("unit"), pk)
    return _source_form(request, source.unit, source)


# --- authoring: prompts ----------------------------------------------------------------------


def _prompt_form(request: AuthedRequest, unit: Unit, prompt: EssayPrompt | None) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    schemes = permissions.mark_schemes_for_author(request.user)
    if prompt is not None:
        # Keep the prompt's own scheme selectable even when a head edits a teacher's prompt.
        schemes = schemes | MarkScheme.objects.filter(pk=prompt.mark_scheme_id)
    form = PromptForm(data, instance=prompt, unit=unit, mark_schemes=schemes.distinct().order_by("owner_id", "name"))
    unit_sources = unit.sources.select_related("owner").order_by("owner_id", "label", "pk")
    formsets: dict[str, BaseInlineFormSet[Any, Any, Any]] = {
        "sources": PromptSourceFormSet(data, instance=prompt, prefix="sources", sources=unit_sources),
        "points": IndicativePointFormSet(data, instance=prompt, prefix="points"),
        "answers": ModelAnswerFormSet(data, instance=prompt, prefix="answers"),
    }
    if request.method == "POST" and form.is_valid():
        # Model answers are checked against the scheme chosen now, which may be a new one.
        answers = formsets["answers"]
        assert isinstance(answers, ModelAnswerFormSetBase)
        answers.scheme = MarkScheme.objects.prefetch_related("criteria__levels").get(
            pk=form.cleaned_data["mark_scheme"].pk
        )
    if request.method == "POST" and form.is_valid() and all(fs.is_valid() for fs in formsets.values()):
        try:
            with transaction.atomic():
                if prompt is None:
                    form.instance.owner = request.user
                saved = form.save()
                for formset in formsets.values():
                    formset.instance = saved
                    formset.save()
        except SchemeInUse as error:  # marked while the form was open (the form checks first)
            form.add_error("mark_scheme", str(error))
        except IntegrityError:  # a source listed twice: a stale page (another tab) or a forged row count
            _set_non_form_error(formsets["sources"], TWICE.format(what="a source is listed"))
        else:
            messages.success(request, "Essay prompt saved.")
            return redirect("content:prompt", saved.pk)
    return _render(
        request, "crisis/prompt_form.html", {"form": form, "formsets": formsets, "unit": unit, "prompt": prompt}
    )


@login_required
def prompt_create(request: AuthedRequest, unit_pk: int) -> HttpResponse:
    permissions.require_teacher(request.user)
    unit = permissions.content_for_reader(request.user, Unit.objects.all(), unit_pk)
    return _prompt_form(request, unit, None)


@login_required
def prompt_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    prompt = permissions.content_for_editor(request.user, EssayPrompt.objects.select_related("unit"), pk)
    return _prompt_form(request, prompt.unit, prompt)


# --- authoring: mark schemes -----------------------------------------------------------------

IN_USE = "Nothing was saved: a criterion or level you deleted has already been used in marking, so it must stay."
TWICE = "Nothing was saved: {what} twice. Reload the page (it may have changed in another tab) and try again."


def _show_fixed(formset: BaseInlineFormSet[Any, Any, Any], marked: int) -> None:
    """On a scheme essays were marked with, offer no blank row to add and no delete boxes: the
    page explains and offers a copy instead (a POST that tries anyway is refused by the models)."""
    if marked and not formset.is_bound:
        formset.extra = 0
        formset.can_delete = False


@login_required
def markscheme_create(request: AuthedRequest) -> HttpResponse:
    permissions.require_teacher(request.user)
    form = MarkSchemeForm(request.POST or None, instance=MarkScheme(owner=request.user))
    if request.method == "POST" and form.is_valid():
        scheme = form.save()
        messages.success(request, "Mark scheme created: now add its criteria.")
        return redirect("content:markscheme_edit", scheme.pk)
    return _render(request, "crisis/markscheme_form.html", {"form": form, "scheme": None})


@login_required
def markscheme_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    scheme = permissions.content_for_editor(request.user, MarkScheme.objects.all(), pk)
    data = request.POST if request.method == "POST" else None
    form = MarkSchemeForm(data, instance=scheme)
    formset = CriterionFormSet(data, instance=scheme, prefix="criteria")
    marked = scheme.marked_essays()
    _show_fixed(formset, marked)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            with transaction.atomic():
                form.save()
                formset.save()
        except SchemeInUse as error:
            _set_non_form_error(formset, str(error))
        except ProtectedError:
            _set_non_form_error(formset, IN_USE)
        except IntegrityError:  # two criteria with one code: a stale page (another tab) or a forged row count
            _set_non_form_error(formset, TWICE.format(what="two criteria have the same code"))
        else:
            messages.success(request, "Mark scheme saved.")
            return redirect("content:markscheme_edit", scheme.pk)
    criteria = scheme.criteria.prefetch_related("levels")
    return _render(
        request,
        "crisis/markscheme_form.html",
        {
            "form": form,
            "formset": formset,
            "scheme": scheme,
            "criteria": criteria,
            "prompts": scheme.prompts.all(),
            "marked": marked,
        },
    )


@login_required
def criterion_levels(request: AuthedRequest, pk: int) -> HttpResponse:
    """A criterion's levels, checked together so bands stay contiguous and never overlap."""
    criterion = permissions.criterion_for_editor(request.user, pk)
    formset = LevelFormSet(request.POST or None, instance=criterion, prefix="levels")
    marked = criterion.scheme.marked_essays()
    _show_fixed(formset, marked)
    if request.method == "POST" and formset.is_valid():
        try:
            with transaction.atomic():
                formset.save()
        except SchemeInUse as error:
            _set_non_form_error(formset, str(error))
        except ProtectedError:
            _set_non_form_error(formset, IN_USE)
        except IntegrityError:
            _set_non_form_error(
                formset, "Two levels ended up with the same number or a band's lowest mark is above its highest."
            )
        else:
            messages.success(request, f"Levels for {criterion.code} saved.")
            return redirect("content:markscheme_edit", criterion.scheme_id)
    context = {"formset": formset, "criterion": criterion, "scheme": criterion.scheme, "marked": marked}
    return _render(request, "crisis/criterion_levels.html", context)

"""Small lookups the pupils' busiest pages make on every request, each compiled to SQL once a
thread (classroom/compiled.py): building and compiling a queryset costs the ORM more than
PostgreSQL takes to answer these. Each gives what the queryset it stands for gives."""

from __future__ import annotations

from django.db.models import QuerySet

from classroom.compiled import CompiledQuery
from classroom.models import AccessArrangement, Annotation, ExemplarShare, Extension, Mark, StrandTick, Submission
from crisis.models import KeyTerm, Lesson, PromptSource, Source, TimelineEvent


def _prompt_sources(prompt: int) -> QuerySet[PromptSource]:
    return PromptSource.objects.filter(prompt_id=prompt).select_related("source").order_by("order", "pk")


def _own_essay(assignment: int, student: int) -> QuerySet[Submission]:
    # One a pupil and assignment (a unique pair), so no order is needed.
    return Submission.objects.filter(assignment_id=assignment, student_id=student).order_by()[:1]


def _arrangement(student: int) -> QuerySet[AccessArrangement]:
    return AccessArrangement.objects.filter(student_id=student).order_by()[:1]


def _extension(assignment: int, student: int) -> QuerySet[Extension]:
    return Extension.objects.filter(assignment_id=assignment, student_id=student).order_by()[:1]


def _exemplar_shares(assignment: int) -> QuerySet[ExemplarShare]:
    return (
        ExemplarShare.objects.filter(assignment_id=assignment)
        .select_related("exemplar")
        .order_by("exemplar__total", "pk")
    )


def _lesson(lesson: int) -> QuerySet[Lesson]:
    return Lesson.objects.filter(pk=lesson).select_related("unit", "owner", "copied_from")


def _key_terms(lesson: int) -> QuerySet[KeyTerm]:
    return KeyTerm.objects.filter(lesson_id=lesson).order_by("order", "pk")


def _timeline(lesson: int) -> QuerySet[TimelineEvent]:
    return TimelineEvent.objects.filter(lesson_id=lesson).order_by("sort_date", "pk")


def _lesson_sources(lesson: int) -> QuerySet[Source]:
    return Source.objects.filter(lessons=lesson).order_by("label", "pk")


def _annotations(mark: int) -> QuerySet[Annotation]:
    return Annotation.objects.filter(mark_id=mark).order_by("number")


def _strand_ticks(mark: int) -> QuerySet[StrandTick]:
    return StrandTick.objects.filter(mark_id=mark).order_by("strand")


_prompt_sources_compiled = CompiledQuery(_prompt_sources)
_own_essay_compiled = CompiledQuery(_own_essay)
_arrangement_compiled = CompiledQuery(_arrangement)
_extension_compiled = CompiledQuery(_extension)
_exemplar_shares_compiled = CompiledQuery(_exemplar_shares)
_annotations_compiled = CompiledQuery(_annotations)
_strand_ticks_compiled = CompiledQuery(_strand_ticks)
_lesson_compiled = CompiledQuery(_lesson)
_key_terms_compiled = CompiledQuery(_key_terms)
_timeline_compiled = CompiledQuery(_timeline)
_lesson_sources_compiled = CompiledQuery(_lesson_sources)


def prompt_sources(prompt_id: int) -> list[Source]:
    """A question's sources in the order the question gives them."""
    return [link.source for link in _prompt_sources_compiled.objects(prompt=prompt_id)]


def own_essay(assignment_id: int, student_id: int) -> Submission | None:
    """The pupil's essay for the assignment, if they have begun one."""
    return next(iter(_own_essay_compiled.objects(assignment=assignment_id, student=student_id)), None)


def arrangement_of(student_id: int) -> AccessArrangement | None:
    """The pupil's access arrangement, if they have one."""
    return next(iter(_arrangement_compiled.objects(student=student_id)), None)


def extension_of(assignment_id: int, student_id: int) -> Extension | None:
    """The pupil's extension on the assignment, if they were given one."""
    return next(iter(_extension_compiled.objects(assignment=assignment_id, student=student_id)), None)


def exemplar_shares(assignment_id: int) -> list[ExemplarShare]:
    """The exemplars shared with the assignment, with their exemplars, lowest total first."""
    return _exemplar_shares_compiled.objects(assignment=assignment_id)


def lesson(lesson_id: int) -> Lesson | None:
    """A lesson with its unit, owner and the lesson it was copied from (no rule of who may
    read it: permissions.lesson_for_reader)."""
    return next(iter(_lesson_compiled.objects(lesson=lesson_id)), None)


def lesson_parts(lesson_id: int) -> dict[str, list]:
    """What the lesson page shows beside its text: key terms, timeline and sources, each in
    the order the page gives them."""
    return {
        "key_terms": _key_terms_compiled.objects(lesson=lesson_id),
        "timeline": _timeline_compiled.objects(lesson=lesson_id),
        "lesson_sources": _lesson_sources_compiled.objects(lesson=lesson_id),
    }


def annotations_of(mark: Mark) -> list[Annotation]:
    """A mark's anchored comments, by number."""
    found = _annotations_compiled.objects(mark=mark.pk)
    for annotation in found:
        annotation.mark = mark
    return found


def strand_ticks_of(mark: Mark) -> list[StrandTick]:
    """A mark's skill-strand ratings (StrandTick.ordered puts them in the strands' order)."""
    found = _strand_ticks_compiled.objects(mark=mark.pk)
    for tick in found:
        tick.mark = mark
    return found

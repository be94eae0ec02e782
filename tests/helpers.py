"""Helpers shared by the tests: marking a submission, a small class with known progress, and
every URL of the project (for tests that walk them all: valid HTML, fuzzing).

`build_class` makes this class: 10H History (teacher `teacher`), content marks out of 10
(AO1 /4, AO2 /6) plus SPaG /4:

| student      | A1 (due 20 days ago)   | A2 (due 5 days ago)             | A3 (due in 7 days) |
|--------------|------------------------|---------------------------------|--------------------|
| Amy Able     | 5 released (AO1 2/AO2 3)| 10 released (4/6)              | not started        |
| Ben Brown    | 6 marked, not released | handed in late, not marked      | not started        |
| Cat Cole     | nothing (missing)      | a draft (missing)               | not started        |
| Sam Student  | 8 released (4/4)       | 6 released (3/3), task unanswered| a draft           |
"""

from __future__ import annotations

import datetime

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from classroom.models import Mark, Submission
from crisis.models import KnowledgeCheckAttempt
from tests.factories import AssignmentFactory, EssayPromptFactory, LessonFactory, StudentFactory, marking_scheme

# --- marking -------------------------------------------------------------------------------


def criteria(submission):
    """{code: criterion} with levels, for building POSTs."""
    return {c.code: c for c in submission.assignment.prompt.mark_scheme.criteria.prefetch_related("levels")}


def level(criterion, number):
    return criterion.levels.get(number=number)


def mark_post(submission, scores: dict, base_revision=None, **extra) -> dict:
    """POST data: scores maps code to (level number or 0 for none, marks)."""
    by_code = criteria(submission)
    data = {"www": "Clear argument.", "ebi": "Use Source B's provenance.", "improvement_task": ""}
    if base_revision is None:
        mark = Mark.objects.filter(submission=submission).first()
        base_revision = mark.revision if mark else 0
    data["base_revision"] = base_revision
    for code, (number, marks) in scores.items():
        criterion = by_code[code]
        if number is not None:
            data[f"level-{criterion.pk}"] = "0" if number == 0 else str(level(criterion, number).pk)
        data[f"marks-{criterion.pk}"] = "" if marks is None else str(marks)
    data.update(extra)
    return data


FULL = {"AO1": (2, 4), "AO2": (1, 3), "SPAG": (2, 3)}


def mark_revision(essay) -> int:
    """The revision a marker opening the essay now would base their save on."""
    return Mark.objects.filter(submission=essay).values_list("revision", flat=True).first() or 0


def mark_fully(essay, teacher, complete=True) -> Mark:
    scores = {}
    for code, (number, marks) in FULL.items():
        criterion = criteria(essay)[code]
        scores[criterion.pk] = (level(criterion, number).pk, marks)
    mark = essay.record_mark(
        teacher,
        scores,
        base_revision=mark_revision(essay),
        www="Good",
        ebi="Better",
        improvement_task="Rewrite paragraph 2",
    )
    if complete:
        mark.complete(by=teacher)
    return mark


# --- a class with known progress ----------------------------------------------------------


def give_mark(submission: Submission, teacher, ao1: int, ao2: int, spag: int = 2, release=True, **feedback):
    """Mark (and by default release) a submitted essay through the model methods."""
    scheme = submission.assignment.prompt.mark_scheme
    crit = {c.code: c for c in scheme.criteria.prefetch_related("levels")}
    scores = {}
    for code, marks in (("AO1", ao1), ("AO2", ao2), ("SPAG", spag)):
        level = crit[code].level_for_mark(marks) if marks else None
        scores[crit[code].pk] = (level.pk if level else None, marks)
    mark = submission.record_mark(teacher, scores, base_revision=mark_revision(submission), **feedback)
    mark.complete(by=teacher)
    if release:
        mark.release(by=teacher)
    return mark


def hand_in(assignment, student, text="The Hotline was a teleprinter link set up in 1963.", at=None):
    submission = Submission.start(assignment, student)
    submission.save_draft(text, submission.revision)
    return submission.submit(by=student, at=at)


def draft(assignment, student, text="A first paragraph."):
    submission = Submission.start(assignment, student)
    return submission.save_draft(text, submission.revision)


def build_class(school_class, teacher, student):
    """The class above; returns a dict of everyone and everything."""
    now = timezone.now()
    days = datetime.timedelta(days=1)
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    amy = StudentFactory(first_name="Amy", last_name="Able")
    ben = StudentFactory(first_name="Ben", last_name="Brown")
    cat = StudentFactory(first_name="Cat", last_name="Cole")
    for s in (amy, ben, cat):
        school_class.enrol(s)
    # Everyone was in the class before A1 was set (a pupil who joins after a due date is
    # never "missing" for it: classroom/status.py).
    school_class.enrolments.update(joined_at=now - 60 * days)
    a1 = AssignmentFactory(
        school_class=school_class, prompt=prompt, title="A1", opens_at=now - 30 * days, due_at=now - 20 * days
    )
    a2 = AssignmentFactory(
        school_class=school_class, prompt=prompt, title="A2", opens_at=now - 10 * days, due_at=now - 5 * days
    )
    a3 = AssignmentFactory(
        school_class=school_class, prompt=prompt, title="A3", opens_at=now - days, due_at=now + 7 * days
    )

    give_mark(hand_in(a1, amy, at=now - 21 * days), teacher, 2, 3)
    give_mark(hand_in(a1, ben, at=now - 21 * days), teacher, 3, 3, release=False)
    give_mark(hand_in(a1, student, at=now - 21 * days), teacher, 4, 4, ebi="Use Source B.")
    give_mark(hand_in(a2, amy, at=now - 6 * days), teacher, 4, 6)
    hand_in(a2, ben)  # late: after the due date
    draft(a2, cat)
    give_mark(
        hand_in(a2, student, at=now - 6 * days),
        teacher,
        3,
        3,
        ebi="Explain the provenance.",
        improvement_task="Rewrite paragraph two.",
    )
    draft(a3, student)

    lesson = LessonFactory(title="Thirteen days")
    KnowledgeCheckAttempt.objects.create(
        student=student, lesson=lesson, score=3, total=4, answers={}, submitted_at=now - 3 * days
    )
    KnowledgeCheckAttempt.objects.create(
        student=student, lesson=lesson, score=1, total=4, answers={}, submitted_at=now - days
    )
    return {
        "prompt": prompt,
        "amy": amy,
        "ben": ben,
        "cat": cat,
        "sam": student,
        "a1": a1,
        "a2": a2,
        "a3": a3,
        "lesson": lesson,
    }


# --- every URL of the project ---------------------------------------------------------------


def named_patterns(patterns=None, prefix: str = "", namespace: str = ""):
    """(name, route) for every named URL outside the admin."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from named_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace + pattern.name, prefix + str(pattern.pattern)


def route_urls(route: str, school: dict) -> list[str]:
    """Concrete URLs for a route: one per object of the route's kind in `school` (the
    conftest fixture), no arguments if none."""
    if "<" not in route:
        return ["/" + route]
    prefix = route[: route.index(">/") + 2]
    urls = []
    for pk in school[prefix]:
        url = "/" + route.replace(prefix[prefix.index("<") : prefix.index(">") + 1], str(pk), 1)
        for name in ("student_pk", "teacher_pk", "pk", "assignment_pk"):
            url = url.replace(f"<int:{name}>", str(school[name]))
        urls.append(url)
    return urls

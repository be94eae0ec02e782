"""Access rules, in one place.

Every view calls one of these on its first line. Helpers return the object or raise:
`Http404` when the user may not know the object exists (another teacher's class, another
student's essay) and `PermissionDenied` (403) when the user's role may not do the thing
at all (a student opening a teacher page). List pages use the same `visible_to()`
querysets as detail pages, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import connection
from django.db.models import Count, Exists, Model, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from classroom import lookups
from classroom.compiled import CompiledQuery
from classroom.department import agreed_scripts, same_question
from classroom.models import (
    AccessArrangement,
    AccessLogEntry,
    AccessRequest,
    Annotation,
    Assignment,
    AssignmentQuerySet,
    CommentBankEntry,
    CommentBankQuerySet,
    EmailKind,
    EmailPreference,
    Enrolment,
    ErasureRecord,
    Exemplar,
    ExemplarShare,
    Extension,
    JudgingScript,
    JudgingSession,
    Mark,
    ModerationItem,
    ModerationSample,
    OneRosterImport,
    ReviewMark,
    SchoolClass,
    SchoolClassQuerySet,
    Standardisation,
    StandardisationScript,
    Submission,
    SubmissionQuerySet,
    SubmissionRevision,
    User,
    effective_deadlines,
    read_unsubscribe_token,
)
from classroom.status import EDITABLE_STATES, MARKABLE_STATES
from crisis import models as content

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

_M = TypeVar("_M", bound=Model)
_A = TypeVar("_A", bound=content.Authored)


def require_teacher(user: User) -> None:
    """403 unless the user teaches (teachers and heads of department)."""
    if not user.is_authenticated or not user.is_teacher:
        raise PermissionDenied("Only teachers can do that.")


def require_student(user: User) -> None:
    if not user.is_authenticated or not user.is_student:
        raise PermissionDenied("Only students can do that.")


def require_head(user: User) -> None:
    if not user.is_authenticated or not (user.is_head or user.is_superuser):
        raise PermissionDenied("Only the head of department can do that.")


def _id_or_404(pk: int | str) -> int:
    """`pk` as an id a row can have (a positive 64-bit integer), or 404: for the queries run
    with their values bound directly (CompiledQuery), which the ORM's checks do not see."""
    try:
        value = int(pk)
    except (ValueError, TypeError):
        raise Http404("Not found.") from None
    if isinstance(pk, bool) or not 0 < value < 2**63:
        raise Http404("Not found.")
    return value


def _get_or_404(queryset: QuerySet[_M], pk: int | str) -> _M:
    try:
        return queryset.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError, OverflowError):  # (SQLite: an id past 64 bits)
        raise Http404("Not found.") from None


def classes_visible_to(user: User) -> SchoolClassQuerySet:
    return SchoolClass.objects.visible_to(user)


def pupil_classes(user: User) -> list[SchoolClass]:
    """A pupil's active classes by name (classes_visible_to's rule): one query compiled once,
    for their home page."""
    if user.is_superuser or not user.is_student or not user.is_active:  # not a pupil's shape
        return list(classes_visible_to(user).active().order_by("name"))
    return _pupil_classes.objects(student=user.pk)


def _pupil_classes_query(student: int) -> SchoolClassQuerySet:
    pupil = User(pk=student, role=User.Role.STUDENT)  # visible_to reads only the id and the role
    return SchoolClass.objects.visible_to(pupil).active().order_by("name")


_pupil_classes = CompiledQuery(_pupil_classes_query)


class HomeClass(TypedDict):
    """What `home_classes_for` adds to each class."""

    mine: int  # 1: the user teaches it; 0: a head's summary row


def home_classes_for(user: User) -> QuerySet[WithAnnotations[SchoolClass, HomeClass]]:
    """The active classes on a teacher's home page, each with `mine`. The to-do lists the
    user's own classes; a head of department also gets a summary row for every other class
    (they may open any class, but its marking belongs to its own teachers)."""
    require_teacher(user)
    return (
        SchoolClass.objects.visible_to(user)
        .active()
        .annotate(mine=Count("teachers", filter=Q(teachers=user), distinct=True))
    )


def class_for_member(user: User, pk: int) -> SchoolClass:
    """A class the user teaches or belongs to; 404 for anyone else."""
    return _get_or_404(SchoolClass.objects.visible_to(user), pk)


def class_for_teacher(user: User, pk: int) -> SchoolClass:
    """A class the user may manage: 403 for students, 404 for other teachers' classes.
    One query compiled once (every page of a class asks it): taught_by's rule."""
    require_teacher(user)
    found = _taught_class.objects(teacher=None if user.is_head else user.pk, school_class=_id_or_404(pk))
    if not found:
        raise Http404("Not found.")
    return found[0]


def _taught_class_query(teacher: int | None, school_class: int) -> QuerySet[SchoolClass]:
    """The class, if the teacher (None: a head) may manage it; taught_by reads the id and role."""
    role = User.Role.HEAD if teacher is None else User.Role.TEACHER
    return SchoolClass.objects.taught_by(User(pk=teacher, role=role)).filter(pk=school_class)


_taught_class = CompiledQuery(_taught_class_query)


def student_for_teacher(user: User, pk: int) -> User:
    """A student *now* in one of the teacher's classes (heads: any student); 404 for anyone
    else, including a pupil who has left all of the teacher's classes."""
    require_teacher(user)
    found = _taught_student.objects(teacher=None if user.is_head else user.pk, student=_id_or_404(pk))
    if not found:
        raise Http404("Not found.")
    return found[0]


def _taught_student_query(teacher: int | None, student: int) -> QuerySet[User]:
    """The student, if `teacher` teaches them now (None: a head, any student)."""
    students = User.objects.filter(pk=student, role=User.Role.STUDENT)
    if teacher is not None:
        # One filter(): the same enrolment must be in the teacher's class and current.
        students = students.filter(
            enrolments__school_class__teachers=teacher, enrolments__removed_at__isnull=True
        ).distinct()
    return students


_taught_student = CompiledQuery(_taught_student_query)


# --- classes and rosters ----------------------------------------------------------------
# Managing a class (its page, settings, co-teachers, roster, join code) is for the class's
# teachers and heads of department: students 403, other teachers 404. Joining a class with
# its code is for students only (teachers 403).
# A pupil's password is reset only by a teacher of a class the pupil is *now* in (heads:
# any pupil): the code is the key to the whole account, every class's work and feedback,
# so a teacher the pupil has left gets 404, like any other teacher.
# Co-teachers: any teacher of the class may add one; a teacher may take only themselves
# off a class, and only a head of department may take another teacher off (403 for
# teachers); a class always keeps one teacher (SchoolClass.remove_teacher).


def archived_classes_for_teacher(user: User) -> SchoolClassQuerySet:
    """The archived classes a teacher sees (the same classes as their home page, archived)."""
    require_teacher(user)
    return SchoolClass.objects.visible_to(user).filter(archived=True)


def co_teacher_candidates(user: User) -> QuerySet[User]:
    """Accounts that may be added as co-teachers: active teachers and heads of department.

    Which classes they can be added to is decided by `class_for_teacher` (heads: any)."""
    require_teacher(user)
    return User.objects.filter(role__in=[User.Role.TEACHER, User.Role.HEAD], is_active=True)


def enrolment_for_teacher(user: User, class_pk: int, student_pk: int) -> Enrolment:
    """A student's enrolment (current or removed) in a class the user manages, to remove or
    add back; 404 if the student was never in that class."""
    school_class = class_for_teacher(user, class_pk)
    try:
        enrolment = Enrolment.objects.select_related("student").get(school_class=school_class, student_id=student_pk)
    except (Enrolment.DoesNotExist, ValueError, TypeError):
        raise Http404("Not found.") from None
    enrolment.school_class = school_class
    return enrolment


def enrolment_for_password_reset(user: User, class_pk: int, student_pk: int) -> Enrolment:
    """A pupil *now* in a class the user teaches, whose password the user may reset (heads:
    any pupil, current or removed); 404 for a pupil who has left the class."""
    enrolment = enrolment_for_teacher(user, class_pk, student_pk)
    if enrolment.removed_at is not None and not user.is_head:
        raise Http404("Not found.")
    return enrolment


def can_remove_teacher(user: User, teacher: User) -> bool:
    """A teacher may take themselves off a class; only a head may take off someone else.
    For templates to show a Remove button; views call class_teacher_for_removal."""
    return user.is_authenticated and (user.pk == teacher.pk or user.is_head)


def class_teacher_for_removal(user: User, class_pk: int, teacher_pk: int) -> tuple[SchoolClass, User]:
    """A class the user manages and one of its teachers whom the user may take off it:
    404 if they do not teach it, 403 if it is another teacher and the user is not a head."""
    school_class = class_for_teacher(user, class_pk)
    teacher = _get_or_404(school_class.teachers.all(), teacher_pk)
    if not can_remove_teacher(user, teacher):
        raise PermissionDenied(
            "Only the head of department can take another teacher off a class; you can take yourself off."
        )
    return school_class, teacher


# --- content (crisis/): units, lessons, sources, prompts, mark schemes ------------------
# Reading: everyone signed in reads shipped content and every teacher's own items and
# copies (a department's resources are shared school-wide, so there is nothing to hide
# and no 404 beyond "does not exist"). Teachers only (students 403): indicative content,
# authoring pages, "make my copy". Editing: a shipped item never (it is changed by copying
# it); a teacher's item only by its owner or a head of department (403 for other teachers,
# who can already see it).


def sealed_prompt_ids(user: User) -> set[int]:
    """Essay questions a pupil may not read yet: set for one of their classes as a timed essay
    they have not started, and not closed to them (security review L9). Everyone else: none."""
    if not user.is_authenticated or not user.is_student:
        return set()
    now = timezone.now()
    sealed = set()
    for row in _timed_unbegun.rows(student=user.pk):
        cutoff = effective_deadlines(row["due_at"], row["late_cutoff"], row["ext_due_at"], row["ext_cutoff"])[1]
        if cutoff is None or cutoff > now:
            sealed.add(row["prompt_id"])
    return sealed


def _timed_unbegun_query(student: int) -> QuerySet[Assignment, Any]:
    # One lean query, compiled once (every pupil page that shows content asks): the timed
    # essays with no essay of theirs begun or handed in, with their extension; the cut-off is
    # then worked out by effective_deadlines, the Python twin of with_status_for's SQL.
    begun = Submission.objects.filter(assignment=OuterRef("pk"), student_id=student).filter(
        Q(started_at__isnull=False) | ~Q(state__in=EDITABLE_STATES)
    )
    extension = Extension.objects.filter(assignment=OuterRef("pk"), student_id=student).order_by()
    return (
        Assignment.objects.filter(
            school_class__enrolments__student_id=student,
            school_class__enrolments__removed_at__isnull=True,
            time_limit_minutes__isnull=False,
        )
        .filter(~Exists(begun))
        .order_by()
        .values(
            "prompt_id",
            "due_at",
            "late_cutoff",
            ext_due_at=Subquery(extension.values("due_at")[:1]),
            ext_cutoff=Subquery(extension.values("late_cutoff")[:1]),
        )
    )


_timed_unbegun = CompiledQuery(_timed_unbegun_query)


def sealed_source_ids(user: User, prompts: set[int] | None = None) -> set[int]:
    """Sources only a sealed question uses (pass `prompts` if known); sources taught in a lesson
    stay readable."""
    prompts = sealed_prompt_ids(user) if prompts is None else prompts
    if not prompts:
        return set()
    return set(
        content.Source.objects.filter(prompt_links__prompt__in=prompts)
        .exclude(lessons__isnull=False)
        .values_list("pk", flat=True)
    )


def content_for_reader(user: User, queryset: content.AuthoredQuerySet[_A], pk: int) -> _A:
    """A content item (Unit, Lesson, Source, EssayPrompt, MarkScheme) any signed-in user may read."""
    if not user.is_authenticated:
        raise PermissionDenied("Sign in to read the unit.")
    return _get_or_404(queryset.visible_to(user), pk)


def lesson_for_reader(user: User, pk: int) -> content.Lesson:
    """content_for_reader for a lesson, in one query compiled once (every pupil in a lesson
    opens it). The rule is AuthoredQuerySet.visible_to's, which decides by the account alone
    (an item is either readable by everyone signed in with an active account or by nobody):
    an account it gives nothing gets 404, any other the lesson if it exists."""
    if not user.is_authenticated:
        raise PermissionDenied("Sign in to read the unit.")
    readable = not content.Lesson.objects.visible_to(user).query.is_empty()
    lesson = lookups.lesson(_id_or_404(pk)) if readable else None
    if lesson is None:
        raise Http404("Not found.")
    return lesson


def unit_organiser_for_reader(user: User, pk: int) -> content.Unit:
    """A unit's knowledge organiser is read like the unit page: anyone signed in (it shows no
    question or source, so a sealed timed essay hides nothing on it)."""
    return content_for_reader(user, content.Unit.objects.all(), pk)


def can_see_indicative(user: User) -> bool:
    """Indicative content (what a good answer says) is for markers, never students."""
    return user.is_authenticated and user.is_teacher


def can_edit_content(user: User, obj: content.Authored) -> bool:
    """For templates to show or hide an Edit button; views call require_content_editor."""
    if not user.is_authenticated or not user.is_teacher or obj.is_shipped:
        return False
    return obj.owner_id == user.pk or user.is_head


def require_content_editor(user: User, obj: _A) -> _A:
    """The item, if the user may change it; 403 otherwise (students, shipped items, others' copies)."""
    require_teacher(user)
    if obj.is_shipped:
        raise PermissionDenied("Shipped content is read-only: make your own copy to change it.")
    if not can_edit_content(user, obj):
        raise PermissionDenied("Only the teacher who owns this copy (or the head of department) can edit it.")
    return obj


def content_for_editor(user: User, queryset: content.AuthoredQuerySet[_A], pk: int) -> _A:
    """Students 403, missing items 404, then require_content_editor."""
    require_teacher(user)
    return require_content_editor(user, _get_or_404(queryset.visible_to(user), pk))


def content_for_copier(user: User, queryset: content.AuthoredQuerySet[_A], pk: int) -> _A:
    """Any teacher may copy anything they can read."""
    require_teacher(user)
    return _get_or_404(queryset.visible_to(user), pk)


def criterion_for_editor(user: User, pk: int) -> content.Criterion:
    require_teacher(user)
    criterion = _get_or_404(content.Criterion.objects.select_related("scheme"), pk)
    require_content_editor(user, criterion.scheme)
    return criterion


def mark_schemes_for_author(user: User) -> content.AuthoredQuerySet[content.MarkScheme]:
    """Mark schemes a teacher may attach to their own prompt: shipped ones and their own."""
    require_teacher(user)
    return content.MarkScheme.objects.filter(Q(owner__isnull=True) | Q(owner=user))


def attempt_for_student(user: User, lesson: content.Lesson, pk: int | str) -> content.KnowledgeCheckAttempt:
    """One of the user's own knowledge-check attempts on this lesson; anyone else's is 404."""
    if not user.is_authenticated:
        raise PermissionDenied
    return _get_or_404(content.KnowledgeCheckAttempt.objects.filter(student=user, lesson=lesson), pk)


# --- assignments and essay writing ------------------------------------------------------
# Teachers manage assignments of classes they teach (heads: every class); students see
# assignments of their own classes once open, and only their own submission. Everyone
# else gets 404.


def assignment_for_teacher(user: User, pk: int) -> Assignment:
    """An assignment of a class the user teaches: 403 for students, 404 for other teachers'."""
    require_teacher(user)
    if not user.is_head:  # a teacher's: one query compiled once (every page of their marking asks it)
        found = _taught_assignment.objects(teacher=user.pk, assignment=_id_or_404(pk))
        if not found:
            raise Http404("Not found.")
        return found[0]
    queryset = Assignment.objects.filter(school_class__in=SchoolClass.objects.taught_by(user))
    return _get_or_404(queryset.select_related("school_class", "prompt"), pk)


def _taught_assignment_query(teacher: int, assignment: int) -> QuerySet[Assignment]:
    classes = SchoolClass.objects.taught_by(User(pk=teacher, role=User.Role.TEACHER))  # reads the id and role
    return Assignment.objects.filter(pk=assignment, school_class__in=classes).select_related("school_class", "prompt")


_taught_assignment = CompiledQuery(_taught_assignment_query)


def classes_for_setting(user: User, school_class: SchoolClass) -> SchoolClassQuerySet:
    """The classes an assignment set from `school_class`'s page may also be set for at once:
    the active classes the user teaches themselves (a head too: not every class in the
    school), and `school_class` itself (after class_for_teacher)."""
    require_teacher(user)
    return (
        SchoolClass.objects.filter(Q(teachers=user, archived=False) | Q(pk=school_class.pk))
        .distinct()
        .order_by("name", "pk")
    )


# Managing an assignment (changing it after it opens, deleting one nobody has started,
# archiving and restoring, exempting pupils) follows assignment_for_teacher: the class's
# teachers and heads; students 403, other teachers 404. The model decides what may change
# (Assignment.locked_fields, delete_unstarted). Archived assignments stay readable to
# everyone who could read them before (the pupils' own pages, feedback and progress).


def assignment_for_member(user: User, pk: int) -> Assignment:
    """An assignment the user may open: their teacher (preview) or an enrolled student once it is open.

    A pupil's comes from one query compiled once (every page of a lesson asks it): the same
    rule, Assignment.objects.visible_to."""
    if not user.is_authenticated:
        raise PermissionDenied
    if user.is_student and user.is_active and not user.is_superuser:
        found = _pupil_assignment.objects(student=user.pk, assignment=_id_or_404(pk), now=timezone.now())
        if not found:
            raise Http404("Not found.")
        return found[0]
    return _get_or_404(Assignment.objects.visible_to(user).select_related("school_class", "prompt"), pk)


def _pupil_assignment_query(student: int, assignment: int, now: datetime) -> QuerySet[Assignment]:
    pupil = User(pk=student, role=User.Role.STUDENT)  # visible_to reads only the id and the role
    return Assignment.objects.visible_to(pupil, now=now).filter(pk=assignment).select_related("school_class", "prompt")


_pupil_assignment = CompiledQuery(_pupil_assignment_query)


def assignment_for_writer(user: User, pk: int) -> Assignment:
    """An open assignment the user may write for: 403 for teachers, 404 for other classes' students."""
    require_student(user)
    return assignment_for_member(user, pk)


def own_essay_for_saving(user: User, pk: int) -> Submission | None:
    """The pupil's essay for assignment `pk`, with what saving it needs, if they may write for
    that assignment (assignment_for_writer's rule, Assignment.objects.visible_to); None if they
    have not begun one there or may not write there, and the caller then takes
    assignment_for_writer's way, which makes one or says why not.

    One query, compiled to SQL once (an autosave comes every few seconds from every pupil
    writing, and compiling it afresh would cost more than running it). It loads the essay
    without its text, its assignment, the pupil's extension (`ext_due_at`, `ext_cutoff`: a
    timed essay's time runs out by it) and when a revision was last kept (`last_kept_at`).
    """
    require_student(user)
    rows = _writer_essay.rows(student=user.pk, assignment=pk, now=timezone.now())
    if not rows:
        return None
    row = rows[0]
    submission = Submission.from_db(connection.alias, _ESSAY_FIELDS, [row[name] for name in _ESSAY_FIELDS])
    submission.assignment = Assignment.from_db(
        connection.alias, _ASSIGNMENT_FIELDS, [row[f"assignment__{name}"] for name in _ASSIGNMENT_FIELDS]
    )
    submission.ext_due_at, submission.ext_cutoff = row["ext_due_at"], row["ext_cutoff"]  # type: ignore[attr-defined]
    submission.last_kept_at = row["last_kept_at"]  # type: ignore[attr-defined]
    return submission


_ESSAY_FIELDS = [field.attname for field in Submission._meta.concrete_fields if field.name != "text"]
_ASSIGNMENT_FIELDS = [field.attname for field in Assignment._meta.concrete_fields]


def _writer_essay_query(student: int, assignment: int, now: datetime) -> QuerySet[Submission, dict[str, Any]]:
    pupil = User(pk=student, role=User.Role.STUDENT)  # visible_to reads only the id and the role
    extension = Extension.objects.filter(assignment=OuterRef("assignment"), student=OuterRef("student"))
    kept = SubmissionRevision.objects.filter(submission=OuterRef("pk")).order_by("-created_at")
    return Submission.objects.filter(
        student_id=student,
        assignment_id=assignment,
        started_at__isnull=False,
        assignment__in=Assignment.objects.visible_to(pupil, now=now),
    ).values(
        *_ESSAY_FIELDS,
        *(f"assignment__{name}" for name in _ASSIGNMENT_FIELDS),
        ext_due_at=Subquery(extension.values("due_at")[:1]),
        ext_cutoff=Subquery(extension.values("late_cutoff")[:1]),
        last_kept_at=Subquery(kept.values("created_at")[:1]),
    )


_writer_essay = CompiledQuery(_writer_essay_query)


def submission_for_teacher(user: User, pk: int) -> Submission:
    """A student's submission in a class the user teaches: 403 for students, 404 otherwise."""
    require_teacher(user)
    queryset = Submission.objects.visible_to(user).select_related("assignment__school_class", "student")
    return _get_or_404(queryset, pk)


def prompts_for_setter(user: User) -> content.AuthoredQuerySet[content.EssayPrompt]:
    """Essay prompts a teacher may set: the shipped ones and their own copies."""
    require_teacher(user)
    return content.EssayPrompt.objects.filter(Q(owner__isnull=True) | Q(owner=user))


# --- model answers ----------------------------------------------------------------------
# A question's model answers (annotated answers at each level) are for teachers: every
# teacher reads them on the question's page, which pupils can also open, so there they are
# shown to teachers only. A pupil reads them only on the page of an assignment of theirs,
# as its teacher chose (Assignment.model_answers): "hidden" never; "after_submit" while
# their essay is handed in (submitted, marked, feedback released; not while they draft, nor
# while they redraft a returned essay); "always" from the start, as worked examples. Never
# while the question is sealed for them: a timed essay, in any of their classes, that they
# have not started (sealed_prompt_ids).


def can_see_prompt_model_answers(user: User) -> bool:
    """Every model answer of a question, on its page: teachers only."""
    return user.is_authenticated and user.is_teacher


def model_answers_released(
    user: User, assignment: Assignment, state: str | None, sealed_prompts: set[int] | None = None
) -> bool:
    """Whether `user` reads the model answers on `assignment`'s page (after
    assignment_for_member): its teachers always; a pupil whose essay is in `state` (None: not
    started) as above. Pass `sealed_prompts` if already known."""
    return released_to_pupil(user, assignment, state, assignment.model_answers, sealed_prompts)


def released_to_pupil(
    user: User, assignment: Assignment, state: str | None, release: str, sealed_prompts: set[int] | None = None
) -> bool:
    """The model answers' rule for anything a teacher releases on an assignment page as
    "hidden" / "after_submit" / "always" (Assignment.ModelAnswerRelease; an exemplar's
    ExemplarShare.When uses the same values): whether `user` reads it there now."""
    if not user.is_authenticated:
        return False
    if user.is_teacher:
        return True
    if not user.is_student or release == Assignment.ModelAnswerRelease.HIDDEN:
        return False
    if release == Assignment.ModelAnswerRelease.AFTER_SUBMIT and state not in MARKABLE_STATES:
        return False
    if release not in (Assignment.ModelAnswerRelease.AFTER_SUBMIT, Assignment.ModelAnswerRelease.ALWAYS):
        return False
    if assignment.time_limit_minutes and (state is None or state in EDITABLE_STATES):
        return False  # a timed essay is written without them, whatever the setting
    sealed = sealed_prompt_ids(user) if sealed_prompts is None else sealed_prompts
    if not sealed:
        return True
    if assignment.prompt_id in sealed:
        return False
    # Copies carry the same answers: a copy of a sealed question (or the question a sealed
    # copy was made from) stays closed too.
    family = {assignment.prompt_id, assignment.prompt.copied_from_id} - {None}
    sealed_family = {
        pk
        for pair in content.EssayPrompt.objects.filter(pk__in=sealed).values_list("pk", "copied_from_id")
        for pk in pair
    }
    return not family & sealed_family


# --- marking and feedback ---------------------------------------------------------------
# Marking (the queue, the marking page, comments, release, DIRT acknowledgement) is for
# the teachers of the class and heads of department: students 403, other teachers 404.
# A student reads only their own feedback, and only once it is released (or its release
# date has passed): anything else is 404, as if it did not exist. Comment bank: a teacher
# reads the starter bank, the department bank and their own entries; only the owner changes
# their own entry (other teachers' own entries 404, the starter bank 403); department entries
# are changed only by their curators ("department: comment bank and exemplars" below).


def submission_for_marker(user: User, pk: int) -> Submission:
    """A submission in a class the user teaches (heads: any), with what the marking page needs."""
    require_teacher(user)
    if not user.is_head and not user.is_superuser and user.is_active:  # one query compiled once
        found = _marked_by_teacher.objects(teacher=user.pk, submission=_id_or_404(pk))
        if not found:
            raise Http404("Not found.")
        return found[0]
    return _get_or_404(_for_marker(Submission.objects.visible_to(user)), pk)


def _for_marker(queryset: QuerySet[Submission]) -> QuerySet[Submission]:
    return queryset.select_related("assignment__school_class", "assignment__prompt__mark_scheme", "student")


def _marked_by_teacher_query(teacher: int, submission: int) -> QuerySet[Submission]:
    marker = User(pk=teacher, role=User.Role.TEACHER)  # visible_to reads the id and the role
    return _for_marker(Submission.objects.visible_to(marker).filter(pk=submission))


_marked_by_teacher = CompiledQuery(_marked_by_teacher_query)


def annotation_for_marker(user: User, pk: int) -> Annotation:
    require_teacher(user)
    queryset = Annotation.objects.filter(mark__submission__in=Submission.objects.visible_to(user))
    return _get_or_404(queryset.select_related("mark__submission__assignment"), pk)


def bank_entries_for_teacher(user: User) -> CommentBankQuerySet:
    require_teacher(user)
    return CommentBankEntry.objects.for_teacher(user)


def bank_entry_for_owner(user: User, pk: int) -> CommentBankEntry:
    """An entry the user may change: 404 for other teachers' own entries, 403 for the starter
    bank and, unless the user curates the department bank, for its entries."""
    entry = _get_or_404(bank_entries_for_teacher(user), pk)
    if entry.is_starter:
        raise PermissionDenied("The starter bank cannot be changed: save your own version instead.")
    if entry.department:
        require_bank_curator(user)
    return entry


def feedback_for_student(user: User, assignment_pk: int) -> Mark:
    """The user's own mark on an assignment, once visible to them; 404 otherwise (teachers 403).
    One query, compiled once (the feedback page and its responses ask it)."""
    require_student(user)
    found = _pupil_mark.objects(student=user.pk, assignment=_id_or_404(assignment_pk), now=timezone.now())
    if not found:
        raise Http404("Not found.")
    return found[0]


def _pupil_mark_query(student: int, assignment: int, now: datetime) -> QuerySet[Mark]:
    pupil = User(pk=student, role=User.Role.STUDENT)  # visible_to reads only the id and the role
    return (
        Mark.objects.visible_to_student(now)
        .filter(
            submission__student_id=student,
            submission__assignment__in=Assignment.objects.visible_to(pupil, now=now),
            submission__assignment_id=assignment,
        )
        .select_related("submission__assignment__school_class", "submission__assignment__prompt__mark_scheme")
    )


_pupil_mark = CompiledQuery(_pupil_mark_query)


# --- progress ---------------------------------------------------------------------------
# Markbook, class overview and exports: the class's teachers and heads (students 403, other
# teachers 404). A student's progress: the student themself (every mark), a teacher of a
# class the student is *now* in (only the marks and feedback of classes that teacher
# teaches, plus knowledge checks, which belong to no class), or a head (everything); anyone
# else 404, including a teacher the pupil has left (they keep their class's own records:
# its marking queue, essays and feedback, as every teacher of the class does). The
# department view (one prompt across every class) is for heads only: teachers and students
# 403.


def student_for_progress(user: User, pk: int) -> User:
    """The student whose progress the user may read; 404 for anyone else's."""
    if not user.is_authenticated:
        raise PermissionDenied
    if user.is_teacher:
        return student_for_teacher(user, pk)
    if str(user.pk) != str(pk):
        raise Http404("Not found.")
    return user


def progress_limited_to(user: User, student: User) -> int | None:
    """Whose classes' marks `user` sees on `student`'s progress page (after
    student_for_progress): None for every class (the student themself, heads), otherwise the
    id of the teacher (`user`), whose own classes' marks they see (progress.student_progress)."""
    if user.pk == student.pk or user.is_head:
        return None
    return user.pk


# --- the department ------------------------------------------------------------
# Each part's rules sit under its own heading below (standardisation, moderation and the
# audit trail, agreement figures, exemplars and the department comment bank, the whole-class
# feedback sheet).

# --- department: standardisation ----------------------------------------------------------
# Every teacher (heads too) reads the department's standardisations and marks their scripts
# blind (students 403); a script whose agreed mark is not set yet is not shown to markers (404).
# Only a head sets one up, picks its scripts (from any class's handed-in essays on the
# question), edits the copies, sets the agreed marks and reads how each marker did (teachers
# 403). A marker's pages never show a script's agreed mark or rationale before they have given
# their own mark for it, nor the pupil or class it came from. Where a required standardisation
# is due, a marker's marking queue and marking pages on that question send them to it first
# (classroom.department.standardisation_due; heads are never held up). Only opening a page
# is held up: a save already under way from a page opened before is accepted.


def standardisations_for_teacher(user: User) -> QuerySet[Standardisation]:
    require_teacher(user)
    return Standardisation.objects.all()


def standardisation_for_marker(user: User, pk: int) -> Standardisation:
    return _get_or_404(standardisations_for_teacher(user).select_related("prompt__mark_scheme"), pk)


def standardisation_for_head(user: User, pk: int) -> Standardisation:
    """A standardisation to set up or read the results of: heads only (teachers 403)."""
    require_head(user)
    return _get_or_404(Standardisation.objects.select_related("prompt__mark_scheme"), pk)


def script_for_marker(user: User, pk: int) -> StandardisationScript:
    """A script to mark blind: any teacher, once its agreed mark is set (404 before)."""
    require_teacher(user)
    return _get_or_404(agreed_scripts().select_related("standardisation__prompt__mark_scheme"), pk)


def script_for_head(user: User, pk: int) -> StandardisationScript:
    """A script whose copy, agreed mark and rationale the head sets (teachers 403)."""
    require_head(user)
    queryset = StandardisationScript.objects.select_related(
        "standardisation__prompt__mark_scheme", "submission__assignment__school_class"
    )
    return _get_or_404(queryset, pk)


def assignments_for_standardisation(user: User, standardisation: Standardisation) -> AssignmentQuerySet:
    """Where a head picks scripts from: every class's assignments on the question."""
    require_head(user)
    return Assignment.objects.filter(same_question(standardisation.prompt))


def essays_for_standardisation(user: User, standardisation: Standardisation) -> SubmissionQuerySet:
    """The handed-in essays (marked or not) a head may copy into a standardisation."""
    require_head(user)
    return Submission.objects.visible_to(user).filter(
        same_question(standardisation.prompt, "assignment__prompt"), state__in=MARKABLE_STATES
    )


# --- department: moderation and the audit trail --------------------------------------------
# Drawing a sample of an assignment's marks for blind second marking: the class's teachers and
# heads (assignment_for_teacher: students 403, other teachers 404). The second markers they
# name are teachers from outside the class: its own teachers and heads can open the first
# marks (department.draw_sample refuses them).
# A script's blind second-marking page is for the teacher named as its second marker alone.
# Anyone else who knows the script (the teacher who drew the sample, a head who is not its
# second marker) gets 403: they read the second mark beside the first on the moderation page
# once it is in. Any other teacher 404.
# Moderating (a sample's page, agreeing a script's mark): heads and the teacher who drew the
# sample. A second marker in the sample gets 403 (the page shows first marks), any other
# teacher 404. A second marker's own list shows only their scripts, by label.
# The audit trail of marks (MarkChange) is for heads only: teachers 403. Students: 403 on all.


def assignment_for_sampling(user: User, pk: int) -> Assignment:
    """An assignment whose marks the user may sample (like its marking queue)."""
    return assignment_for_teacher(user, pk)


def second_marking_for(user: User) -> QuerySet[ModerationItem]:
    """The scripts the user is named to second-mark."""
    require_teacher(user)
    return ModerationItem.objects.filter(second_marker=user)


def samples_for_moderator(user: User) -> QuerySet[ModerationSample]:
    """The samples the user moderates: heads every one, a teacher those they drew."""
    require_teacher(user)
    if user.is_head:
        return ModerationSample.objects.all()
    return ModerationSample.objects.filter(created_by=user)


def can_moderate(user: User, sample: ModerationSample) -> bool:
    return user.is_authenticated and user.is_teacher and (user.is_head or sample.created_by_id == user.pk)


def _items_known_to(user: User) -> QuerySet[ModerationItem]:
    if user.is_head:
        return ModerationItem.objects.all()
    return ModerationItem.objects.filter(Q(second_marker=user) | Q(sample__created_by=user))


def sample_for_moderator(user: User, pk: int) -> ModerationSample:
    """A sample the user moderates; 403 for its second markers, 404 for other teachers."""
    require_teacher(user)
    samples = ModerationSample.objects.all()
    if not user.is_head:
        known = Q(created_by=user) | Q(pk__in=ModerationItem.objects.filter(second_marker=user).values("sample_id"))
        samples = samples.filter(known)
    sample = _get_or_404(samples.select_related("assignment__school_class", "assignment__prompt", "created_by"), pk)
    if not can_moderate(user, sample):
        raise PermissionDenied("Only the head of department or the teacher who drew this sample can moderate it.")
    return sample


def item_for_second_marker(user: User, pk: int) -> ModerationItem:
    """A sampled script the user is named to second-mark, with what its blind page needs
    (and nothing about the pupil or the first mark); 403/404 for anyone else, as above."""
    require_teacher(user)
    queryset = _items_known_to(user).select_related(
        "sample", "submission__assignment__prompt__mark_scheme", "submission__student"
    )
    item = _get_or_404(queryset, pk)
    if item.second_marker_id != user.pk:
        raise PermissionDenied("Only the teacher named as this script's second marker can open it.")
    return item


def item_for_moderator(user: User, pk: int) -> ModerationItem:
    """A sampled script whose agreed mark the user may record; 403/404 for anyone else."""
    require_teacher(user)
    queryset = _items_known_to(user).select_related(
        "sample__assignment__school_class",
        "sample__created_by",
        "submission__assignment__prompt__mark_scheme",
        "first_marker",
        "second_marker",
        "agreed_by",
    )
    item = _get_or_404(queryset, pk)
    if not can_moderate(user, item.sample):
        raise PermissionDenied("Only the head of department or the teacher who drew this sample can moderate it.")
    return item


def assignment_for_audit(user: User, pk: int) -> Assignment:
    """Any assignment, for its audit trail of marks: heads only (teachers and students 403)."""
    require_head(user)
    return _get_or_404(Assignment.objects.select_related("school_class", "prompt"), pk)


# --- department: agreement figures and the head's view --------------------------------------
# Agreement figures (department/agreement/, and its CSV): teachers and heads; students 403.
# The head sees every pair: each assignment's second marking and each standardisation.
# A teacher sees only the pairs they are in: second marking where they were the first or the
# second marker, counted only from scripts the moderator has agreed (until then the second
# mark is blind, and a figure resting on one script would give the first mark away), and
# their own standardisation marks against the agreed marks (which they are shown once they
# have marked). The department overview (department/: marking progress per teacher,
# standardisation and moderation status, results per class) is for heads only: teachers and
# students 403.


def agreement_items_for(user: User) -> QuerySet[ModerationItem]:
    """The moderation items whose second marking counts in the figures `user` sees."""
    require_teacher(user)
    if user.is_head or user.is_superuser:
        return ModerationItem.objects.all()
    seconded = ReviewMark.objects.filter(kind=ReviewMark.Kind.SECOND, marker=user).values("item_id")
    return ModerationItem.objects.filter(
        Q(first_marker=user) | Q(second_marker=user) | Q(pk__in=seconded), agreed_at__isnull=False
    )


def agreement_trials_for(user: User) -> QuerySet[ReviewMark]:
    """The standardisation (TRIAL) marks whose figures `user` sees: the head all, a teacher their own."""
    require_teacher(user)
    trials = ReviewMark.objects.filter(kind=ReviewMark.Kind.TRIAL)
    if user.is_head or user.is_superuser:
        return trials
    return trials.filter(marker=user)


def require_department_overview(user: User) -> None:
    """The head's overview of the department: heads only (403 for everyone else)."""
    require_head(user)


# --- department: comment bank and exemplars -------------------------------------------------
# The department comment bank: every teacher reads it (the bank page, the marking page,
# `#code`); the head of department and the teachers the head names (User.curates_bank) add,
# change and delete its entries (other teachers 403); only a head names them (teachers 403).
# Students have no comment bank (403).
# Exemplars: every teacher reads the department's library and each exemplar (students 403),
# except one that would unblind them (a standardisation script they have not marked, an essay
# they are to second-mark): hidden, 404.
# A teacher of the class (heads: any class) promotes a complete mark on an essay of it
# (submission_for_marker: other teachers 404); only a head promotes a standardisation script
# (teachers 403). The teacher who promoted an exemplar, or a head, changes or deletes it
# (other teachers 403). A teacher shares an exemplar with an assignment of a class they teach
# (heads: any), and stops sharing it there (assignment_for_teacher: other teachers' 404). A
# pupil reads an exemplar only through an assignment of theirs it is shared with, when the
# share's "after they hand in" / "from the start" allows, never while the question is sealed
# for them (the model answers' rule, released_to_pupil); anything else is 404.


def can_curate_bank(user: User) -> bool:
    """May change the department comment bank: heads, and teachers the head has named."""
    return user.is_authenticated and (user.is_head or (user.is_teacher and user.curates_bank))


def require_bank_curator(user: User) -> None:
    require_teacher(user)
    if not can_curate_bank(user):
        raise PermissionDenied("Only the head of department, or a teacher they name, can change the department bank.")


def bank_curator_candidates(user: User) -> QuerySet[User]:
    """The teachers a head may name as curators of the department bank (heads always are)."""
    require_head(user)
    return User.objects.filter(role=User.Role.TEACHER, is_active=True)


def exemplars_for_teacher(user: User) -> QuerySet[Exemplar]:
    """The department's exemplars: every teacher's to read, except one that would unblind
    them: a standardisation script they have not yet marked (its agreed mark and rationale),
    or an essay they are to second-mark and whose moderation is not agreed (its first mark and
    comments). Heads set the agreed marks and are never second markers."""
    require_teacher(user)
    if user.is_head:
        return Exemplar.objects.all()
    unmarked_script = Q(script__isnull=False) & ~Exists(
        ReviewMark.objects.filter(script=OuterRef("script"), kind=ReviewMark.Kind.TRIAL, marker=user)
    )
    waiting = ModerationItem.objects.filter(
        submission=OuterRef("submission"), second_marker=user, agreed_at__isnull=True
    )
    script_waiting = ReviewMark.objects.filter(
        script__submission=OuterRef("submission"), kind=ReviewMark.Kind.AGREED_STANDARD
    ).exclude(script__review_marks__kind=ReviewMark.Kind.TRIAL, script__review_marks__marker=user)
    return Exemplar.objects.exclude(unmarked_script).exclude(Exists(waiting)).exclude(Exists(script_waiting))


def exemplar_for_teacher(user: User, pk: int) -> Exemplar:
    return _get_or_404(exemplars_for_teacher(user).select_related("prompt", "promoted_by"), pk)


def can_edit_exemplar(user: User, exemplar: Exemplar) -> bool:
    """For templates to show Edit and Delete; views call exemplar_for_editor."""
    return user.is_authenticated and user.is_teacher and (user.is_head or exemplar.promoted_by_id == user.pk)


def exemplar_for_editor(user: User, pk: int) -> Exemplar:
    """An exemplar the user may change or delete: who promoted it, or a head (403 otherwise)."""
    exemplar = exemplar_for_teacher(user, pk)
    if not can_edit_exemplar(user, exemplar):
        raise PermissionDenied("Only the teacher who made this exemplar (or the head of department) can change it.")
    return exemplar


def script_for_exemplar(user: User, pk: int) -> StandardisationScript:
    """A standardisation script the head may promote to an exemplar (teachers 403)."""
    require_head(user)
    queryset = StandardisationScript.objects.select_related(
        "standardisation__prompt", "submission__assignment__school_class"
    )
    return _get_or_404(queryset, pk)


def assignments_for_sharing(user: User, exemplar: Exemplar) -> AssignmentQuerySet:
    """Assignments the user may share `exemplar` with: of classes they teach (heads: any), on
    its question, a copy of it, or the question it was copied from."""
    require_teacher(user)
    classes = SchoolClass.objects.taught_by(user)
    return Assignment.objects.filter(same_question(exemplar.prompt), school_class__in=classes)


def exemplar_shares_for_page(user: User, assignment: Assignment, state: str | None) -> list[ExemplarShare]:
    """The exemplars `user` reads on `assignment`'s page (after assignment_for_member), when
    their essay is in `state` (None: not started): its teachers every one shared with it, a
    pupil those released to them now. Queries: the shares; for a pupil, their sealed questions
    (only when a share could be shown)."""
    shares = lookups.exemplar_shares(assignment.pk)
    for share in shares:
        share.assignment = assignment
    if not shares or user.is_teacher:
        return shares
    sealed: set[int] | None = None
    shown = []
    for share in shares:
        if sealed is None and released_to_pupil(user, assignment, state, share.when, set()):
            sealed = sealed_prompt_ids(user)  # only now: most pages have nothing to show
        if sealed is not None and released_to_pupil(user, assignment, state, share.when, sealed):
            shown.append(share)
    return shown


def exemplar_share_for_member(user: User, assignment_pk: int, pk: int) -> ExemplarShare:
    """An exemplar shared with an assignment the user belongs to, as a pupil may read it now
    (its teachers: always); 404 if it is not shared there or not released to them yet."""
    assignment = assignment_for_member(user, assignment_pk)
    try:
        share = assignment.exemplar_shares.select_related("exemplar__prompt").get(exemplar_id=pk)
    except (ExemplarShare.DoesNotExist, ValueError, TypeError):
        raise Http404("Not found.") from None
    share.assignment = assignment
    if user.is_teacher:
        return share
    state = Submission.objects.filter(assignment=assignment, student=user).values_list("state", flat=True).first()
    if not released_to_pupil(user, assignment, state, share.when):
        raise Http404("Not found.")
    return share


# --- department: whole-class feedback sheet -------------------------------------------------
# An assignment's whole-class feedback sheet (reading it, printing it, projecting it, writing
# its misconceptions and exemplar paragraph) is for the class's teachers and heads, like its
# marking queue: students 403, other teachers 404. It names no pupil on any of its views.


def assignment_for_feedback_sheet(user: User, pk: int) -> Assignment:
    return assignment_for_teacher(user, pk)


# --- comparative judgement -------------------------------------------------------
# Judging: every teacher (heads too) judges any open session of the department; judges see two
# anonymised scripts ("Script 12"), never a name or class. Pupils judge only with peer judging
# on, as pupils of one of the session's judge classes, never a script from a class they are on
# (their own essay with it), and not while they are still writing, or have not yet started a
# timed essay, on the same question (404 otherwise; copies of a question count as the same).
# A pupil judge sees no results, no scores and no other judge's choices: only the pair and
# their own count. Results (rank order, scores, suggested marks, judges, the CSV): heads, the
# session's creator and the teachers of its classes (other teachers 403: they may judge, so
# they know it exists; students 403). Names on the results only for classes the reader
# teaches (heads: every class), and never while an assignment's names are hidden for
# anonymous marking. Settings, closing, anchors and leaving judges out: heads and the
# creator. Accepting suggested marks: for essays of classes the reader teaches (heads: any).


def judging_sessions_for_teacher(user: User) -> QuerySet[JudgingSession]:
    require_teacher(user)
    return JudgingSession.objects.all()


def _question_roots(rows: Iterable[tuple[int, int | None]]) -> set[int]:
    """The original question of each (prompt, copied_from) pair: copies share their root."""
    return {copied_from or prompt for prompt, copied_from in rows}


def questions_being_written(user: User) -> set[int]:
    """The questions (roots) a pupil may not judge essays on yet: one of their assignments on
    it is open and not handed in, or is a timed essay they have not started."""
    if not user.is_authenticated or not user.is_student:
        return set()
    writing = (
        Assignment.objects.open_for(user)
        .filter(Q(my_state__isnull=True) | Q(my_state__in=EDITABLE_STATES))
        .exclude(my_exempt=True)
        .values_list("prompt_id", "prompt__copied_from_id")
    )
    sealed = sealed_prompt_ids(user)
    sealed_rows = content.EssayPrompt.objects.filter(pk__in=sealed).values_list("pk", "copied_from_id")
    return _question_roots(writing) | _question_roots(sealed_rows)


def _peer_sessions(user: User) -> QuerySet[JudgingSession]:
    """Open sessions with peer judging on for one of the pupil's current classes."""
    if not user.is_authenticated or not user.is_student:
        return JudgingSession.objects.none()
    return _peer_sessions_of(user.pk)


def _peer_sessions_of(student: int) -> QuerySet[JudgingSession]:
    return JudgingSession.objects.filter(
        closed_at__isnull=True,
        peer_judging=True,
        judge_classes__enrolments__student_id=student,
        judge_classes__enrolments__removed_at__isnull=True,
    ).distinct()


# Compiled once: every pupil's home asks it.
_peer_candidates = CompiledQuery(lambda student: _peer_sessions_of(student).order_by("-created_at", "-pk"))


def sessions_for_pupil_judge(user: User) -> QuerySet[JudgingSession]:
    """Open sessions a pupil may judge in (see the rules above)."""
    roots = questions_being_written(user)
    return _peer_sessions(user).exclude(prompt__in=roots).exclude(prompt__copied_from__in=roots)


def judging_for_pupil_home(user: User) -> list[JudgingSession]:
    """sessions_for_pupil_judge for the pupil's home page, newest first: one query on the
    usual day with no peer judging open to them, the exclusions only when there is some."""
    if not user.is_authenticated or not user.is_student:
        return []
    candidates = _peer_candidates.objects(student=user.pk)
    if not candidates:
        return []
    allowed = set(sessions_for_pupil_judge(user).values_list("pk", flat=True))
    return [session for session in candidates if session.pk in allowed]


def session_for_judge(user: User, pk: int) -> JudgingSession:
    """A session to judge in: any teacher; a pupil under the rules above (404 otherwise)."""
    if user.is_authenticated and user.is_student:
        return _get_or_404(sessions_for_pupil_judge(user).select_related("prompt"), pk)
    return _get_or_404(judging_sessions_for_teacher(user).select_related("prompt"), pk)


def can_read_judging_results(user: User, session: JudgingSession) -> bool:
    if not user.is_authenticated or not user.is_teacher:
        return False
    if user.is_head or session.created_by_id == user.pk:
        return True
    return session.assignments.filter(school_class__teachers=user).exists()


def session_for_results(user: User, pk: int) -> JudgingSession:
    """Results: heads, the creator, the teachers of the session's classes (others 403)."""
    session = _get_or_404(judging_sessions_for_teacher(user).select_related("prompt"), pk)
    if not can_read_judging_results(user, session):
        raise PermissionDenied("The results are for the session's creator, its classes' teachers and heads.")
    return session


def can_manage_judging(user: User, session: JudgingSession) -> bool:
    return user.is_authenticated and user.is_teacher and (user.is_head or session.created_by_id == user.pk)


def session_for_owner(user: User, pk: int) -> JudgingSession:
    """Settings, closing, anchors, judges left out: heads and the creator (others 403)."""
    session = _get_or_404(judging_sessions_for_teacher(user).select_related("prompt"), pk)
    if not can_manage_judging(user, session):
        raise PermissionDenied("Only the session's creator or a head of department can change it.")
    return session


def judging_script_for_owner(user: User, pk: int) -> JudgingScript:
    require_teacher(user)
    script = _get_or_404(JudgingScript.objects.select_related("session"), pk)
    if not can_manage_judging(user, script.session):
        raise PermissionDenied("Only the session's creator or a head of department can change it.")
    return script


def assignments_for_judging(user: User) -> AssignmentQuerySet:
    """Assignments whose essays a teacher may put into a session: their classes' (heads: any)."""
    require_teacher(user)
    return Assignment.objects.filter(school_class__in=SchoolClass.objects.taught_by(user))


def judge_classes_for(user: User) -> SchoolClassQuerySet:
    """Classes whose pupils a teacher may let judge: their own active classes (heads: any)."""
    require_teacher(user)
    return SchoolClass.objects.taught_by(user).active()


def judging_scripts_taught_by(user: User, session: JudgingSession) -> set[int]:
    """Scripts of the session from classes `user` teaches (heads: all): the ones whose writers
    they may see named and whose suggested marks they may accept."""
    scripts = session.scripts.all()
    if not user.is_head:
        scripts = scripts.filter(submission__assignment__school_class__teachers=user)
    return set(scripts.values_list("pk", flat=True))


def judging_scripts_named_for(user: User, session: JudgingSession) -> set[int]:
    """Scripts whose writer the results may name for `user`: classes they teach (heads: all),
    except while the essay's assignment hides names for anonymous marking."""
    hidden = Q(submission__assignment__anonymous_marking=True, submission__assignment__names_revealed_at__isnull=True)
    taught = judging_scripts_taught_by(user, session)
    return taught - set(session.scripts.filter(hidden).values_list("pk", flat=True))


# --- staff -----------------------------------------------------------------------
# The staff pages (the list, adding, editing, deactivating, reactivating, resetting a password)
# are for heads of department and superusers only: teachers and pupils 403, anonymous and
# deactivated accounts to the sign-in page. Only teachers and heads are managed there: a pupil's
# id (or anyone else's who is not staff) is 404. What a head may not do to an account (demote or
# deactivate themselves, leave the department without an active head) is refused with a
# message by classroom/staff.py, not here. A superuser's account is changed by superusers only:
# a head who is not one gets 403 for every action on it (may_manage_member).


def require_staff_manager(user: User) -> None:
    """Manages staff accounts: heads of department and superusers (403 for everyone else)."""
    require_head(user)


def staff_for_head(user: User) -> QuerySet[User]:
    """Every teacher and head, active or not, with the number of active classes each teaches."""
    require_staff_manager(user)
    active_classes = Count("teaching_classes", filter=Q(teaching_classes__archived=False))
    return User.objects.filter(role__in=[User.Role.TEACHER, User.Role.HEAD]).annotate(class_count=active_classes)


def staff_member_for_head(user: User, pk: int) -> User:
    """A teacher or head the user may manage: heads and superusers (403 otherwise); 404 for a
    pupil or an unknown id. A superuser's account is managed by superusers only: a head who is
    not one gets 403 for every action on it (editing, deactivating, reactivating, resetting)."""
    require_staff_manager(user)
    member = _get_or_404(User.objects.filter(role__in=[User.Role.TEACHER, User.Role.HEAD]), pk)
    if not may_manage_member(user, member):
        raise PermissionDenied("Only a superuser may change a superuser's account.")
    return member


def may_manage_member(user: User, member: User) -> bool:
    """Whether the staff manager `user` may act on `member`: anyone's but a superuser's, which
    only another superuser may change (the staff list shows it without action links)."""
    return user.is_superuser or not member.is_superuser


# --- OneRoster import -----------------------------------------------------------------------
# Importing the school's class lists (a OneRoster CSV zip: upload, preview, apply, the history
# of imports) is for heads of department (and superusers) only: teachers and students 403,
# anonymous to the login page. It creates and deactivates accounts across every class.


def oneroster_imports_for(user: User) -> QuerySet[OneRosterImport]:
    require_head(user)
    return OneRosterImport.objects.all()


def oneroster_import_for(user: User, pk: int) -> OneRosterImport:
    return _get_or_404(oneroster_imports_for(user).select_related("uploaded_by", "applied_by"), pk)


# --- Email notifications ---------------------------------------------------------------------
# Preferences: everyone signed in (pupil, teacher, head, superuser) manages their own and no one
# else's; the URL names nobody, so there is nothing to 404. Unsubscribing needs no log-in: the
# signed token in the link is the permission, and it names one person and one kind of email.


def email_preferences_for(user: User) -> EmailPreference:
    """The signed-in person's own email preferences (unsaved defaults if never changed)."""
    if not user.is_authenticated:
        raise PermissionDenied("Sign in to change your email settings.")
    return EmailPreference.for_user(user)


def unsubscribe_from(token: str) -> tuple[User, EmailKind] | None:
    """The person and kind of email an unsubscribe link stops, or None for a link that was
    altered (or whose person no longer exists): the view refuses it and changes nothing."""
    return read_unsubscribe_token(token)


# --- sign-in with the school's accounts -----------------------------------------
# Signing in (the log-in page's buttons, allauth's start and callback) is open to anyone: the
# checks are on who the provider says they are (classroom/signin.py). Access requests made by
# people with no account are read and decided by the head of department only (or a superuser).


def access_requests_for_head(user: User) -> QuerySet[AccessRequest]:
    require_head(user)
    return AccessRequest.objects.select_related("decided_by", "account")


def access_request_for_head(user: User, pk: int) -> AccessRequest:
    return _get_or_404(access_requests_for_head(user), pk)


# --- the writing-process record ---------------------------------------------------------
# How an essay was written (classroom/writing_process.py) is read by the pupil who wrote it,
# the teachers of the class and heads of department: the same people as the essay itself
# (Submission.objects.visible_to). Anyone else gets 404 (another pupil's essay, another
# teacher's class). Pages that name the writer use writer_label_for, so anonymous marking holds.


def submission_for_process_record(user: User, pk: int) -> Submission:
    """An essay whose writing record the user may read: their own (pupils), in a class they teach
    (teachers; heads: any). 404 for anyone else's; 403 for an account with no role here."""
    if not user.is_authenticated or not (user.is_student or user.is_teacher or user.is_superuser):
        raise PermissionDenied("Only pupils and their teachers can read a writing record.")
    queryset = Submission.objects.visible_to(user).select_related("assignment__school_class", "student")
    return _get_or_404(queryset, pk)


def writer_label_for(user: User, submission: Submission) -> str:
    """How the record names the writer: "Your essay" for the pupil; for teachers, as marking
    pages do (a candidate number while names are hidden, whatever the essay's state)."""
    if submission.student_id == user.pk:
        return "Your essay"
    if submission.assignment.names_hidden:
        return submission.marking_label
    return submission.student.display_name


# --- access arrangements and reading preferences ------------------------------------------
# A pupil's access arrangements are set by a teacher of a class the pupil is *now* in, or the
# head of department (student_for_teacher), from that class's pages: students 403, other
# teachers 404, and 404 for a pupil not now in the class named. The class's list of
# arrangements (for the invigilator) is for its teachers and heads (class_for_teacher).
# Everyone signed in sets their own reading preferences and no one else's (the URL names
# nobody); a pupil reads their own arrangements there, and nobody else's.


def pupil_for_arrangements(user: User, class_pk: int, student_pk: int) -> tuple[SchoolClass, User]:
    """The class and a pupil now in it whose arrangements the user may set."""
    school_class = class_for_teacher(user, class_pk)
    student = student_for_teacher(user, student_pk)
    if not school_class.enrolments.filter(student=student, removed_at__isnull=True).exists():
        raise Http404("Not found.")
    return school_class, student


def arrangements_for_class(user: User, class_pk: int) -> tuple[SchoolClass, QuerySet[User]]:
    """A class the user teaches and its current pupils, each with their arrangements loaded
    (`access_arrangement`, absent for none), in register order."""
    school_class = class_for_teacher(user, class_pk)
    pupils = (
        User.objects.filter(
            role=User.Role.STUDENT, enrolments__school_class=school_class, enrolments__removed_at__isnull=True
        )
        .select_related("access_arrangement", "access_arrangement__updated_by")
        .order_by("last_name", "first_name", "username")
    )
    return school_class, pupils


def reading_preferences_for(user: User) -> User:
    """The signed-in person, whose own reading preferences they change."""
    if not user.is_authenticated:
        raise PermissionDenied("Sign in to change your reading settings.")
    return user


def own_arrangement_for(user: User) -> AccessArrangement | None:
    """A pupil's own access arrangements (None: none, or not a pupil)."""
    if not user.is_authenticated or not user.is_student:
        return None
    return AccessArrangement.objects.filter(student=user).select_related("updated_by").first()


# --- data protection ------------------------------------------------------------------------
# The Data protection pages (subject-access export, erasure, the access log, retention) are
# for the head of department only (or a superuser): teachers and pupils get 403, and a pupil
# is found by id among pupils' accounts only (staff accounts, and unknown ids, are 404).


def privacy_for_head(user: User) -> None:
    require_head(user)


def pupil_for_privacy(user: User, pk: int) -> User:
    require_head(user)
    return _get_or_404(User.objects.filter(role=User.Role.STUDENT, is_staff=False, is_superuser=False), pk)


def access_log_for_head(user: User) -> QuerySet[AccessLogEntry]:
    require_head(user)
    return AccessLogEntry.objects.select_related("viewer", "pupil", "school_class")


def erasures_for_head(user: User) -> QuerySet[ErasureRecord]:
    require_head(user)
    return ErasureRecord.objects.select_related("erased_by")

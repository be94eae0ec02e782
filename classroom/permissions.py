"""Access rules, in one place.

Every view calls one of these on its first line. Helpers return the object or raise:
`Http404` when the user may not know the object exists (another teacher's class, another
student's essay) and `PermissionDenied` (403) when the user's role may not do the thing
at all (a student opening a teacher page). List pages use the same `visible_to()`
querysets as detail pages, so the two cannot disagree.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from classroom.models import SchoolClass, User


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


def _get_or_404(queryset, pk: int):
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404("Not found.") from None


def classes_visible_to(user: User):
    return SchoolClass.objects.visible_to(user)


def class_for_member(user: User, pk: int) -> SchoolClass:
    """A class the user teaches or belongs to; 404 for anyone else."""
    return _get_or_404(SchoolClass.objects.visible_to(user), pk)


def class_for_teacher(user: User, pk: int) -> SchoolClass:
    """A class the user may manage: 403 for students, 404 for other teachers' classes."""
    require_teacher(user)
    return _get_or_404(SchoolClass.objects.taught_by(user), pk)


def student_for_teacher(user: User, pk: int) -> User:
    """A student in one of the teacher's classes (heads: any student)."""
    require_teacher(user)
    students = User.objects.filter(role=User.Role.STUDENT)
    if not user.is_head:
        students = students.filter(enrolments__school_class__teachers=user).distinct()
    return _get_or_404(students, pk)

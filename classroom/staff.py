"""Staff accounts, run by the head of department: adding teachers and heads, changing their
details and role, deactivating and reactivating them, and resetting their passwords to a
one-time code (User.reset_password, the same as a pupil's).

The guard rails live here, not in the views: a head never demotes or deactivates themselves,
the department always keeps one active head, only a superuser changes a superuser's account,
and the superuser flag is never taken away here. Each check is made inside a transaction
that locks the active heads' rows, so two heads demoting each other at the same moment
cannot leave the department with none. Every change is written to the log
(`classroom.staff`) with who made it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from classroom.models import User

logger = logging.getLogger("classroom.staff")

STAFF_ROLES = (User.Role.TEACHER, User.Role.HEAD)


class StaffError(Exception):
    """A change to a staff account that is refused; the message says why, for the head."""


@dataclass
class StaffDetails:
    first_name: str
    last_name: str
    email: str
    username: str
    role: str


def _active_heads_locked() -> list[int]:
    """The active heads' ids, their rows locked until the transaction ends."""
    heads = User.objects.select_for_update().filter(role=User.Role.HEAD, is_active=True).order_by("pk")
    return list(heads.values_list("pk", flat=True))


def _check_keeps_a_head(member: User, by: User, doing: str) -> None:
    """Refuse to take `member` out of the active heads (by demotion or deactivation) when they
    are the head making the change or the last active head. Call inside a transaction."""
    if member.pk == by.pk:
        raise StaffError(f"You cannot {doing} yourself. Ask another head of department to do it.")
    heads = _active_heads_locked()
    if member.pk in heads and len(heads) == 1:
        raise StaffError(
            f"{member.display_name} is the only active head of department, and the department must keep one. "
            "Make someone else a head of department first."
        )


def _check_may_manage(member: User, by: User) -> None:
    """Only a superuser changes a superuser's account (the views already answer 403; this
    keeps the rule for any other caller)."""
    if member.is_superuser and not by.is_superuser:
        raise StaffError(f"{member.display_name}’s account is a superuser's: only a superuser may change it.")


def create_member(details: StaffDetails, by: User) -> tuple[User, str]:
    """A new teacher or head with a one-time code that must be replaced at first sign-in.
    Returns the account and the code, to show once (only its hash is stored)."""
    if details.role not in STAFF_ROLES:
        raise StaffError("A member of staff is a teacher or a head of department.")
    member = User(
        username=details.username,
        first_name=details.first_name,
        last_name=details.last_name,
        email=details.email,
        role=details.role,
    )
    code = member.set_one_time_code()  # hashing is slow: before the transaction
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        raise StaffError(f"The username “{details.username}” was taken a moment ago. Choose another.") from None
    logger.info("%s added %s (%s, %s)", by.username, member.username, member.role, member.pk)
    return member, code


def update_member(member: User, details: StaffDetails, by: User) -> list[str]:
    """Save a member of staff's names, email, username and role; return the labels of what
    changed. Demoting a head also takes away the Django admin (the staff flag), which
    `create_head` gives: a teacher has no use for it. A superuser stays one: that flag is
    never changed here (`manage.py` or the Django admin is the place for it)."""
    if details.role not in STAFF_ROLES:
        raise StaffError("A member of staff is a teacher or a head of department.")
    fields = {
        "first_name": "first name",
        "last_name": "last name",
        "email": "email address",
        "username": "username",
        "role": "role",
    }
    _check_may_manage(member, by)
    changed = [name for name in fields if getattr(member, name) != getattr(details, name)]
    if not changed:
        return []
    try:
        with transaction.atomic():
            if member.role == User.Role.HEAD and details.role == User.Role.TEACHER:
                _check_keeps_a_head(member, by, "demote")
                if member.is_staff and not member.is_superuser:
                    member.is_staff = False
                    changed.append("is_staff")
            for name in fields:
                setattr(member, name, getattr(details, name))
            member.save(update_fields=changed)
    except IntegrityError:
        member.refresh_from_db()
        raise StaffError(f"The username “{details.username}” was taken a moment ago. Choose another.") from None
    except StaffError:
        member.refresh_from_db()
        raise
    logger.info("%s changed %s (%s): %s", by.username, member.username, member.pk, ", ".join(changed))
    return [fields[name] for name in changed if name in fields]


def deactivate(member: User, by: User) -> None:
    """The member can no longer sign in, and their sessions stop working at their next
    request (Django's session check refuses an inactive account). Their classes,
    assignments and marks are untouched."""
    _check_may_manage(member, by)
    with transaction.atomic():
        _check_keeps_a_head(member, by, "deactivate")
        updated = User.objects.filter(pk=member.pk, is_active=True).update(is_active=False)
    member.is_active = False
    if updated:
        logger.info("%s deactivated %s (%s)", by.username, member.username, member.pk)


def reactivate(member: User, by: User) -> None:
    """The member may sign in again with their password as it was."""
    _check_may_manage(member, by)
    updated = User.objects.filter(pk=member.pk, is_active=False).update(is_active=True)
    member.is_active = True
    if updated:
        logger.info("%s reactivated %s (%s)", by.username, member.username, member.pk)


def reset_password(member: User, by: User) -> str:
    """A fresh one-time code in place of the member's password, to show once; the old password
    stops working and it must be replaced at the next sign-in."""
    if member.pk == by.pk:
        raise StaffError("Change your own password from the menu under your name.")
    _check_may_manage(member, by)
    if not member.is_active:
        raise StaffError(f"{member.display_name}’s account is deactivated: reactivate it first.")
    code = member.reset_password()
    logger.info("%s reset the password of %s (%s)", by.username, member.username, member.pk)
    return code

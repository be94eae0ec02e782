"""Student accounts made by teachers: usernames, one-time codes, CSV import, join codes.

Import is two steps. `parse_csv` reads the file into rows (or raises `RosterError` for a
problem with the whole file); `validate_rows` checks every row and gives each its final
username; `create_students` makes all accounts and enrolments in one transaction. The
same validation runs at preview and again at confirm, so what is imported is always what
was checked against the database at that moment.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from classroom.models import Enrolment, JoinCodeFailure, SchoolClass, User

# Each new account's one-time password is hashed with Argon2 (crisis/hashers.py), all within
# one request: 100 rows stays well inside gunicorn's 30-second worker timeout, and is more
# than any class. A larger year group is imported in several files.
MAX_ROWS = 100
MAX_UPLOAD_BYTES = 512 * 1024
NAME_MAX_LENGTH = 150  # User.first_name / last_name
USERNAME_MAX_LENGTH = 40
USERNAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$")
USERNAME_RULE = (
    "may use only lower-case letters a–z, digits, dots, hyphens and underscores, "
    "and must start and end with a letter or digit"
)

# Letters that Unicode decomposition does not reduce to ASCII on its own.
_SPECIAL_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "þ": "th",
        "Þ": "th",
        "ı": "i",
    }
)

HEADER_ALIASES = {
    "given_name": "given_name",
    "first_name": "given_name",
    "forename": "given_name",
    "family_name": "family_name",
    "last_name": "family_name",
    "surname": "family_name",
    "username": "username",
}


IN_THIS_CLASS = "in this class"
ELSEWHERE = "elsewhere"


class RosterError(Exception):
    """A problem with the whole file or the whole import (nothing is imported)."""


@dataclass
class RosterRow:
    """One student to create. `line` is the line in the file (0 for the single form)."""

    line: int
    given_name: str
    family_name: str
    requested_username: str = ""
    username: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)
    # Why a username made from the name is not the name itself ("amelia.brown2"), for the teacher,
    # and whether the account taking it might be this same pupil's (IN_THIS_CLASS or ELSEWHERE).
    username_note: str = ""
    maybe_same_pupil: str = ""

    @property
    def generated(self) -> bool:
        return not self.requested_username

    @property
    def messages(self) -> list[str]:
        return [message for _field, message in self.errors]

    def to_session(self) -> list:
        return [self.line, self.given_name, self.family_name, self.requested_username]

    @classmethod
    def from_session(cls, data: list) -> RosterRow:
        line, given, family, requested = data
        return cls(line=int(line), given_name=str(given), family_name=str(family), requested_username=str(requested))


# --- usernames -----------------------------------------------------------------------


def _ascii_part(name: str) -> str:
    """'Zoë Ann' → 'zoe-ann', "O'Brien" → 'obrien', 'Łukasz' → 'lukasz'."""
    text = unicodedata.normalize("NFKD", name.translate(_SPECIAL_LETTERS))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"[\s_]+", "-", text)
    text = re.sub(r"[^a-z0-9-]", "", text)
    return re.sub(r"-{2,}", "-", text).strip("-")


def username_base(given_name: str, family_name: str) -> str:
    """The username a student would get if nobody had it yet: 'amelia.brown'."""
    parts = [part for part in (_ascii_part(given_name), _ascii_part(family_name)) if part]
    base = ".".join(parts) or "student"
    # Leave room for a numeric suffix.
    return base[: USERNAME_MAX_LENGTH - 4].rstrip(".-")


def _chunks(items: list[str], size: int = 100):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def taken_usernames(exact: set[str], prefixes: set[str]) -> set[str]:
    """Existing usernames (lower-cased) equal to one of `exact` or starting with a prefix:
    what `free_username` needs to know to give a name from those bases."""
    taken: set[str] = set()
    lowered = User.objects.annotate(lower_username=Lower("username"))
    for chunk in _chunks(sorted(exact)):
        taken.update(lowered.filter(lower_username__in=chunk).values_list("lower_username", flat=True))
    # Chunked so the OR of LIKEs stays well inside SQLite's expression limits.
    for chunk in _chunks(sorted(prefixes)):
        condition = Q()
        for prefix in chunk:
            condition |= Q(username__istartswith=prefix)
        taken.update(lowered.filter(condition).values_list("lower_username", flat=True))
    return taken


_taken_usernames = taken_usernames  # the name it had before it was public


def free_username(base: str, taken: set[str], wanted: str = "") -> str:
    """The username to give someone, the one way every account made in bulk gets it: `wanted`
    when it is a valid username not in `taken`, else `base` ("amelia.brown", from
    `username_base`) or, when that is taken, `base` with the first free number
    ("amelia.brown2", …). `taken` holds lower-cased usernames (from `taken_usernames`, or
    every username); the one given is added to it, so several can be given in turn."""
    wanted = wanted.strip().lower()
    if wanted and len(wanted) <= USERNAME_MAX_LENGTH and USERNAME_RE.match(wanted) and wanted not in taken:
        candidate = wanted
    else:
        candidate, number = base, 2
        while candidate in taken:
            candidate, number = f"{base}{number}", number + 1
    taken.add(candidate)
    return candidate


# --- validation ------------------------------------------------------------------------


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(char) == "Cc" for char in text)


def _check_name(row: RosterRow, field_name: str, label: str, value: str) -> None:
    if not value:
        row.errors.append((field_name, f"{label} is missing."))
    elif len(value) > NAME_MAX_LENGTH:
        row.errors.append((field_name, f"{label} is longer than {NAME_MAX_LENGTH} characters."))
    elif _has_control_characters(value):
        row.errors.append((field_name, f"{label} contains invisible control characters."))


def validate_rows(rows: list[RosterRow], school_class: SchoolClass | None = None) -> list[RosterRow]:
    """Check every row and set its final username; errors go on each row.

    Names are kept exactly as typed (apart from surrounding spaces): a name that looks
    like a spreadsheet formula is only ever stored and shown as text. Usernames must be
    unique against existing accounts and within the rows; blank ones are generated, and a
    generated one that is not the name itself says why (`username_note`), naming a pupil
    of that name already in `school_class`: perhaps the same pupil, imported twice.
    """
    for row in rows:
        row.errors = []
        row.username = ""
        row.username_note = ""
        row.maybe_same_pupil = ""
        row.given_name = row.given_name.strip()
        row.family_name = row.family_name.strip()
        row.requested_username = row.requested_username.strip().lower()
        _check_name(row, "given_name", "Given name", row.given_name)
        _check_name(row, "family_name", "Family name", row.family_name)
        requested = row.requested_username
        if requested:
            if len(requested) > USERNAME_MAX_LENGTH:
                row.errors.append(("username", f"Username is longer than {USERNAME_MAX_LENGTH} characters."))
            elif not USERNAME_RE.match(requested):
                row.errors.append(("username", f"Username “{requested}” {USERNAME_RULE}."))

    # A row with a bad name still has its chosen username checked, so every problem shows at once.
    wanted = [row for row in rows if row.requested_username and not any(f == "username" for f, _ in row.errors)]
    to_generate = [row for row in rows if not row.requested_username and not row.errors]
    bases = {id(row): username_base(row.given_name, row.family_name) for row in to_generate}
    taken = taken_usernames({row.requested_username for row in wanted}, set(bases.values()))

    first_line: dict[str, int] = {}
    for row in wanted:
        name = row.requested_username
        if name in taken:
            row.errors.append(("username", f"Username “{name}” is already taken."))
        elif name in first_line:
            row.errors.append(("username", f"Username “{name}” is also on line {first_line[name]}."))
        else:
            first_line[name] = row.line
            if not row.errors:
                row.username = name
    # Chosen usernames are reserved before any is generated, so a generated one never
    # collides with a later row that asked for that name.
    reserved = taken | set(first_line)
    given_to: dict[str, int] = {}
    for row in to_generate:
        candidate = free_username(bases[id(row)], reserved)
        given_to[candidate] = row.line
        row.username = candidate
    _explain_changed_usernames(
        [row for row in to_generate if row.username != bases[id(row)]], bases, taken, first_line, given_to, school_class
    )
    return rows


def _explain_changed_usernames(
    rows: list[RosterRow],
    bases: dict[int, str],
    taken: set[str],
    chosen_on: dict[str, int],
    given_to: dict[str, int],
    school_class: SchoolClass | None,
) -> None:
    """Say on each row why its username is not the one made from its name (one query)."""
    in_class: dict[str, User] = {}
    if rows and school_class is not None:
        wanted = {bases[id(row)] for row in rows if bases[id(row)] in taken}
        pupils = school_class.active_students().annotate(lower_username=Lower("username"))
        in_class = {pupil.username.lower(): pupil for pupil in pupils.filter(lower_username__in=wanted)}
    for row in rows:
        base = bases[id(row)]
        pupil = in_class.get(base)
        if pupil is not None:
            row.username_note = f"{pupil.display_name} is already in this class as “{base}”"
            row.maybe_same_pupil = IN_THIS_CLASS
        elif base in taken:
            row.username_note = f"“{base}” is already someone’s username"
            row.maybe_same_pupil = ELSEWHERE
        elif base in chosen_on:
            row.username_note = f"line {chosen_on[base]} asks for “{base}”"
        else:
            row.username_note = f"line {given_to[base]} gets “{base}”"


def has_errors(rows: list[RosterRow]) -> bool:
    return any(row.errors for row in rows)


# --- CSV -------------------------------------------------------------------------------


def parse_csv(data: bytes) -> list[RosterRow]:
    """Rows from a `given_name,family_name[,username]` file (UTF-8, with or without a
    byte-order mark; comma or semicolon separated). Blank lines are skipped."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise RosterError(f"The file is larger than {MAX_UPLOAD_BYTES // 1024} KB. Split it into smaller files.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RosterError(
            "The file is not UTF-8 text. In your spreadsheet, save it as “CSV UTF-8 (comma delimited)”."
        ) from None
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    if not first_line:
        raise RosterError("The file is empty.")
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[RosterRow] = []
    header: list[str] | None = None
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [HEADER_ALIASES.get(cell.strip().lower().replace(" ", "_"), "") for cell in record]
                missing = [name for name in ("given_name", "family_name") if name not in header]
                if missing:
                    raise RosterError(
                        "The first line must name the columns: given_name, family_name and (optionally) "
                        f"username. Missing: {', '.join(missing)}."
                    )
                continue
            line = reader.line_num
            if len(record) > len(header):
                raise RosterError(
                    f"Line {line} has {len(record)} values but the first line names {len(header)} columns. "
                    "A name that contains a comma or semicolon must be in quotes."
                )
            values = dict(zip(header, record, strict=False))
            rows.append(
                RosterRow(
                    line=line,
                    given_name=values.get("given_name", ""),
                    family_name=values.get("family_name", ""),
                    requested_username=values.get("username", ""),
                )
            )
    except csv.Error as exc:
        raise RosterError(f"Line {reader.line_num} could not be read as CSV: {exc}.") from None
    if not rows:
        raise RosterError("The file has a header line but no students.")
    if len(rows) > MAX_ROWS:
        raise RosterError(f"The file lists {len(rows)} students; at most {MAX_ROWS} can be imported at once.")
    return rows


# --- creating accounts -------------------------------------------------------------------


def create_students(school_class: SchoolClass, rows: list[RosterRow]) -> list[tuple[User, str]]:
    """Create an account per (validated) row, enrolled in the class, all or nothing.

    Returns each new user with their one-time code, to show once; only the hash is stored.
    """
    if has_errors(rows):
        raise ValueError("create_students needs rows without errors.")
    created: list[tuple[User, str]] = []
    # Hashing is slow on purpose, so it happens before the transaction takes any lock.
    for row in rows:
        user = User(username=row.username, first_name=row.given_name, last_name=row.family_name, role=User.Role.STUDENT)
        code = user.set_one_time_code()
        created.append((user, code))
    users = [user for user, _code in created]
    try:
        with transaction.atomic():
            User.objects.bulk_create(users)
            Enrolment.objects.bulk_create([Enrolment(school_class=school_class, student=user) for user in users])
    except IntegrityError:
        raise RosterError(
            "One of these usernames was taken by someone else a moment ago. Nothing was imported; please try again."
        ) from None
    return created


# --- join codes --------------------------------------------------------------------------

JOIN_FAILURE_LIMIT = 10
JOIN_FAILURE_WINDOW_SECONDS = 60 * 60


def normalise_join_code(raw: str) -> str:
    """Codes are read off a board: ignore case, spaces and dashes."""
    return re.sub(r"[\s\-–—]+", "", raw).upper()


def lock_join_attempts(user: User) -> None:
    """Inside a transaction: one pupil's join attempts go one at a time (their user row is
    locked), so parallel guesses cannot all pass the check before any is counted."""
    User.objects.select_for_update().filter(pk=user.pk).first()


def _recent_failures(user: User):
    since = timezone.now() - timedelta(seconds=JOIN_FAILURE_WINDOW_SECONDS)
    return JoinCodeFailure.objects.filter(student=user, at__gt=since)


def join_attempts_blocked(user: User) -> bool:
    """True once a student has typed JOIN_FAILURE_LIMIT wrong codes in the last hour (guessing)."""
    return _recent_failures(user).count() >= JOIN_FAILURE_LIMIT


def record_wrong_join_code(user: User) -> None:
    now = timezone.now()
    JoinCodeFailure.objects.filter(student=user, at__lte=now - timedelta(seconds=JOIN_FAILURE_WINDOW_SECONDS)).delete()
    JoinCodeFailure.objects.create(student=user, at=now)

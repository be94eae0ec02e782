"""Class lists from the school's information system, as a OneRoster 1.1 CSV set.

Three steps, so the command and the upload page show the same thing and apply the same thing:

1. `read_source` opens a zip or a folder and returns its CSV files as bytes.
2. `make_plan` reads and checks every file (`manifest.csv`, `classes.csv`, `users.csv`,
   `enrollments.csv`; `courses.csv` when present, for the class filter) and compares them with
   the database: per class and per person, create / update / deactivate / unchanged, with the
   changes. Any problem raises `OneRosterInvalid`, each error naming file, line, column and why.
3. `apply_plan` makes every change in one transaction, with bulk queries.

Rules: a class is the same class when its `sourcedId` (SchoolClass.roster_id) is; a pupil is
the same pupil by `sourcedId` (User.roster_id), so renaming a class keeps its pupils and their
work; a teacher is matched by email (ignoring case) among staff accounts, then by `sourcedId`
(an address only a pupil's account has is an error). A person is never deleted: someone absent
from a bulk `users.csv`, marked `tobedeleted` or `enabledUser` false is deactivated and leaves
every class, and their work stays. Heads of department and superusers are never deactivated or
demoted, and their names and email are never changed from the file (they are managed on the
Staff page). A deactivated pupil listed again is reactivated; a deactivated teacher or head is
not (a head reactivates them on the Staff page). Pupils who join a class are told of its
essays not yet open, as when enrolled by hand. Only classes matching `only` (a
case-insensitive piece of the class title, class code, subjects or course) are imported when
it is given; in bulk mode an imported class that is no longer in the file (or no longer
matches) is archived.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from classroom.models import Assignment, Enrolment, QueuedEmail, SchoolClass, User
from classroom.roster import (
    NAME_MAX_LENGTH,
    _chunks,
    _has_control_characters,
    free_username,
    username_base,
)

MAX_ZIP_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_ERRORS = 50
NAMES_SHOWN = 40  # in a class's line of the preview: who joins, leaves, …
CLASS_NAME_MAX_LENGTH = 100  # SchoolClass.name

BULK, DELTA, ABSENT = "bulk", "delta", "absent"
FILES = (
    *("academicSessions", "categories", "classes", "classResources", "courses", "courseResources"),
    *("demographics", "enrollments", "lineItems", "orgs", "resources", "results", "users"),
)
USED_FILES = ("classes", "users", "enrollments")

REQUIRED_COLUMNS = {
    "classes": ("sourcedId", "title"),
    "users": ("sourcedId", "enabledUser", "role", "username", "givenName", "familyName"),
    "enrollments": ("sourcedId", "classSourcedId", "userSourcedId", "role"),
    "courses": ("sourcedId", "title"),
}
USER_ROLES = {"administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"}
ENROLMENT_ROLES = {"administrator", "proctor", "student", "teacher"}
STATUSES = {"", "active", "tobedeleted"}

CREATE, UPDATE, DEACTIVATE, UNCHANGED = "create", "update", "deactivate", "unchanged"
ACTIONS = (CREATE, UPDATE, DEACTIVATE, UNCHANGED)


@dataclass(frozen=True)
class FileError:
    file: str
    line: int  # 0: the file as a whole
    column: str
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f", line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.reason}"


class OneRosterInvalid(Exception):
    """The set cannot be imported; nothing has changed. `errors` says where and why."""

    def __init__(self, errors: list[FileError]) -> None:
        self.errors = errors[:MAX_ERRORS]
        self.more = max(0, len(errors) - MAX_ERRORS)
        super().__init__("; ".join(str(error) for error in self.errors))


# --- reading the set -----------------------------------------------------------------------


def read_source(path: str | Path) -> dict[str, bytes]:
    """The CSV files of a zip or a folder, by name ("users.csv": bytes)."""
    path = Path(path)
    if path.is_dir():
        return {child.name: child.read_bytes() for child in path.iterdir() if child.suffix.lower() == ".csv"}
    if not path.exists():
        raise OneRosterInvalid([FileError(path.name, 0, "", "There is no such file or folder.")])
    return read_zip(path.read_bytes(), path.name)


def read_zip(data: bytes, name: str = "the zip file") -> dict[str, bytes]:
    """The CSV files of a zip (at its top level or in one folder), refusing a zip that would
    unpack to more than MAX_UNPACKED_BYTES."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [info for info in archive.infolist() if not info.is_dir() and info.filename.lower().endswith(".csv")]
        if sum(info.file_size for info in members) > MAX_UNPACKED_BYTES:
            raise OneRosterInvalid([FileError(name, 0, "", "The zip file unpacks to more than 100 MB.")])
        files = {}
        for info in members:
            base = info.filename.rsplit("/", 1)[-1]
            if base.startswith(".") or "__MACOSX" in info.filename:
                continue
            files[base] = archive.read(info)
        return files
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError):
        raise OneRosterInvalid([FileError(name, 0, "", "This is not a zip file that can be opened.")]) from None


@dataclass
class Row:
    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "").strip()


def _read_csv(name: str, data: bytes, required: Iterable[str], errors: list[FileError]) -> list[Row]:
    """Rows of one file by column name (unknown columns kept but unused). Blank lines skipped."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        errors.append(FileError(name, line, "", "This is not UTF-8 text."))
        return []
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[Row] = []
    start = 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip() for cell in record]
                for column in required:
                    if column not in header:
                        errors.append(FileError(name, line, column, "This required column is missing."))
                if any(error.file == name for error in errors):
                    return []
                continue
            if len(record) > len(header):
                errors.append(
                    FileError(
                        name,
                        line,
                        "",
                        f"There are {len(record)} values but the header names {len(header)} columns "
                        "(a value containing a comma must be in double quotes).",
                    )
                )
                continue
            rows.append(Row(line, dict(zip(header, record, strict=False))))
    except csv.Error as exc:
        errors.append(FileError(name, reader.line_num, "", f"This line cannot be read as CSV ({exc})."))
    if header is None:
        errors.append(FileError(name, 1, "", "The file is empty: it needs at least a header line."))
    return rows


def _read_manifest(files: dict[str, bytes], errors: list[FileError]) -> dict[str, str]:
    """Each file's processing mode (bulk, delta or absent), from manifest.csv."""
    if "manifest.csv" not in files:
        errors.append(FileError("manifest.csv", 0, "", "The set has no manifest.csv."))
        return {}
    rows = _read_csv("manifest.csv", files["manifest.csv"], ("propertyName", "value"), errors)
    properties: dict[str, tuple[int, str]] = {}
    for row in rows:
        properties[row.get("propertyName")] = (row.line, row.get("value"))
    version = properties.get("oneroster.version")
    if version is None:
        if rows:
            errors.append(FileError("manifest.csv", 0, "propertyName", "There is no oneroster.version line."))
    elif version[1] != "1.1":
        errors.append(
            FileError("manifest.csv", version[0], "value", f"oneroster.version is “{version[1]}”; only 1.1 is read.")
        )
    modes: dict[str, str] = {}
    for name in FILES:
        line, mode = properties.get(f"file.{name}", (0, ABSENT))
        mode = mode.lower()
        if mode not in (BULK, DELTA, ABSENT):
            errors.append(
                FileError("manifest.csv", line, "value", f"file.{name} is “{mode}”; it must be bulk, delta or absent.")
            )
            continue
        modes[name] = mode
        if mode != ABSENT and f"{name}.csv" not in files:
            errors.append(FileError("manifest.csv", line, "value", f"file.{name} is {mode} but {name}.csv is missing."))
    if rows and not any(modes.get(name, ABSENT) != ABSENT for name in USED_FILES):
        errors.append(FileError("manifest.csv", 0, "", "classes, users and enrollments are all marked absent."))
    return modes


# --- the plan ------------------------------------------------------------------------------


@dataclass
class PersonPlan:
    sourced_id: str
    role: str  # student or teacher (an account's role, for heads "head")
    name: str
    username: str
    action: str
    changes: list[str] = field(default_factory=list)
    user: User | None = None  # the existing account; a new one's after apply
    given: str = ""
    family: str = ""
    email: str = ""
    leaving: bool = False
    stays_inactive: bool = False  # a deactivated member of staff: left as they are

    @property
    def is_pupil(self) -> bool:
        return self.role == User.Role.STUDENT


@dataclass
class ClassPlan:
    sourced_id: str
    title: str
    action: str
    changes: list[str] = field(default_factory=list)
    joining: list[str] = field(default_factory=list)  # sourcedIds
    leaving: list[int] = field(default_factory=list)  # user pks
    teachers_in: list[str] = field(default_factory=list)
    teachers_out: list[int] = field(default_factory=list)
    school_class: SchoolClass | None = None


@dataclass
class Plan:
    modes: dict[str, str]
    only: str
    classes: list[ClassPlan]
    people: list[PersonPlan]
    skipped_classes: int = 0  # in the file but not matching `only`
    notes: list[str] = field(default_factory=list)
    # Accounts imported before that a delta's enrolments name without a users.csv line.
    known: dict[str, User] = field(default_factory=dict)

    def counts(self) -> dict[str, dict[str, int]]:
        result = {
            "classes": dict.fromkeys(ACTIONS, 0),
            "pupils": dict.fromkeys(ACTIONS, 0),
            "teachers": dict.fromkeys(ACTIONS, 0),
        }
        for plan in self.classes:
            result["classes"][plan.action] += 1
        for person in self.people:
            result["pupils" if person.is_pupil else "teachers"][person.action] += 1
        return result

    @property
    def changes(self) -> int:
        """How many classes and people change (0: applying does nothing)."""
        changed_classes = sum(1 for item in self.classes if item.action != UNCHANGED)
        return changed_classes + sum(1 for person in self.people if person.action != UNCHANGED)

    @property
    def fingerprint(self) -> str:
        """Everything applying would do, in a few characters: a preview page carries it, so
        applying from it does exactly what that page showed or nothing."""
        what = [
            [
                c.sourced_id,
                c.action,
                c.changes,
                sorted(c.joining),
                sorted(c.leaving),
                sorted(c.teachers_in),
                sorted(c.teachers_out),
            ]
            for c in self.classes
        ] + [[p.sourced_id, p.action, p.changes] for p in self.people]
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:24]

    def summary(self) -> dict:
        return {
            "counts": self.counts(),
            "changes": self.changes,
            "skipped_classes": self.skipped_classes,
            "fingerprint": self.fingerprint,
        }

    def summary_lines(self) -> list[str]:
        lines = []
        for what, counts in self.counts().items():
            lines.append(f"{what}: " + ", ".join(f"{counts[action]} {action}" for action in ACTIONS))
        if self.skipped_classes:
            lines.append(f"{self.skipped_classes} classes in the file left out (they do not match “{self.only}”)")
        return lines


@dataclass
class _UserRow:
    row: Row
    role: str
    status: str
    enabled: bool
    given: str
    family: str
    username: str
    email: str


def _check_status(name: str, row: Row, mode: str, errors: list[FileError]) -> str:
    status = row.get("status").lower()
    if status not in STATUSES:
        errors.append(FileError(name, row.line, "status", f"“{status}” is not a status: use active or tobedeleted."))
    elif mode == DELTA and not status:
        errors.append(FileError(name, row.line, "status", "A delta file needs a status on every line."))
    return status


def _unique(name: str, rows: list[Row], errors: list[FileError]) -> dict[str, Row]:
    seen: dict[str, Row] = {}
    for row in rows:
        sourced_id = row.get("sourcedId")
        if not sourced_id:
            errors.append(FileError(name, row.line, "sourcedId", "The sourcedId is empty."))
        elif len(sourced_id) > 255:
            errors.append(FileError(name, row.line, "sourcedId", "The sourcedId is longer than 255 characters."))
        elif sourced_id in seen:
            errors.append(
                FileError(name, row.line, "sourcedId", f"“{sourced_id}” is also on line {seen[sourced_id].line}.")
            )
        else:
            seen[sourced_id] = row
    return seen


def _check_text(name: str, row: Row, column: str, limit: int, errors: list[FileError], required: bool = True) -> str:
    value = row.get(column)
    if not value and required:
        errors.append(FileError(name, row.line, column, "This value is required."))
    elif len(value) > limit:
        errors.append(FileError(name, row.line, column, f"This is longer than {limit} characters."))
    elif _has_control_characters(value):
        errors.append(FileError(name, row.line, column, "This contains invisible control characters."))
    return value


def _is_email_address(text: str) -> bool:
    """Django's own check (the one forms use), within the 254 characters User.email holds."""
    if len(text) > 254:
        return False
    try:
        validate_email(text)
    except ValidationError:
        return False
    return True


def _matches(only: str, row: Row, courses: dict[str, Row]) -> bool:
    if not only:
        return True
    needle = only.casefold()
    texts = [row.get(column) for column in ("title", "classCode", "subjects", "subjectCodes")]
    course = courses.get(row.get("courseSourcedId"))
    if course is not None:
        texts += [course.get(column) for column in ("title", "courseCode", "subjects", "subjectCodes")]
    return any(needle in text.casefold() for text in texts)


def make_plan(files: dict[str, bytes], only: str = "") -> Plan:
    """Read and check the set and compare it with the database. Raises OneRosterInvalid."""
    errors: list[FileError] = []
    modes = _read_manifest(files, errors)
    if errors:
        raise OneRosterInvalid(errors)
    tables: dict[str, list[Row]] = {}
    for name in (*USED_FILES, "courses"):
        if modes.get(name, ABSENT) != ABSENT:
            tables[name] = _read_csv(f"{name}.csv", files[f"{name}.csv"], REQUIRED_COLUMNS[name], errors)
    if errors:
        raise OneRosterInvalid(errors)
    courses = _unique("courses.csv", tables.get("courses", []), errors)
    class_rows = _unique("classes.csv", tables.get("classes", []), errors)
    user_rows = _unique("users.csv", tables.get("users", []), errors)
    enrolment_rows = _unique("enrollments.csv", tables.get("enrollments", []), errors)

    # Classes: their titles, statuses and whether the filter keeps them.
    class_status: dict[str, str] = {}
    kept: dict[str, Row] = {}
    skipped = 0
    for sourced_id, row in class_rows.items():
        class_status[sourced_id] = _check_status("classes.csv", row, modes["classes"], errors)
        _check_text("classes.csv", row, "title", CLASS_NAME_MAX_LENGTH, errors)
        if _matches(only, row, courses):
            kept[sourced_id] = row
        else:
            skipped += 1

    # People.
    users: dict[str, _UserRow] = {}
    teacher_email_lines: dict[str, int] = {}
    for sourced_id, row in user_rows.items():
        status = _check_status("users.csv", row, modes["users"], errors)
        role = row.get("role").lower()
        if role not in USER_ROLES:
            errors.append(
                FileError("users.csv", row.line, "role", f"“{row.get('role')}” is not a OneRoster role for a user.")
            )
        enabled_text = row.get("enabledUser").lower()
        if enabled_text not in ("", "true", "false"):
            errors.append(FileError("users.csv", row.line, "enabledUser", "This must be true or false."))
        given = _check_text(
            "users.csv", row, "givenName", NAME_MAX_LENGTH, errors, required=role in ("student", "teacher")
        )
        family = _check_text(
            "users.csv", row, "familyName", NAME_MAX_LENGTH, errors, required=role in ("student", "teacher")
        )
        email = row.get("email")
        if role == "teacher" and not email and status != "tobedeleted":
            errors.append(
                FileError("users.csv", row.line, "email", "A teacher needs an email address: it finds their account.")
            )
        if email and not _is_email_address(email):
            errors.append(FileError("users.csv", row.line, "email", f"“{email}” is not an email address."))
        if role == "teacher" and email and status != "tobedeleted":
            first = teacher_email_lines.setdefault(email.lower(), row.line)
            if first != row.line:
                errors.append(
                    FileError("users.csv", row.line, "email", f"{email} is also a teacher's on line {first}.")
                )
        users[sourced_id] = _UserRow(
            row, role, status, enabled_text != "false", given, family, row.get("username").lower(), email
        )

    # Enrolments in the kept classes.
    existing_classes = {c.roster_id or "": c for c in SchoolClass.objects.filter(roster_id__isnull=False)}
    existing_users = {u.roster_id or "": u for u in User.objects.filter(roster_id__isnull=False)}
    pupils_of: dict[str, set[str]] = defaultdict(set)
    teachers_of: dict[str, set[str]] = defaultdict(set)
    ended: dict[str, set[str]] = defaultdict(set)  # delta: tobedeleted enrolments
    for _sourced_id, row in enrolment_rows.items():
        status = _check_status("enrollments.csv", row, modes["enrollments"], errors)
        role = row.get("role").lower()
        if role not in ENROLMENT_ROLES:
            errors.append(
                FileError(
                    "enrollments.csv",
                    row.line,
                    "role",
                    f"“{row.get('role')}” is not a OneRoster role for an enrolment.",
                )
            )
            continue
        class_id, user_id = row.get("classSourcedId"), row.get("userSourcedId")
        if class_id not in class_rows and (modes.get("classes") == BULK or class_id not in existing_classes):
            errors.append(FileError("enrollments.csv", row.line, "classSourcedId", f"There is no class “{class_id}”."))
            continue
        if user_id not in users and (modes.get("users") == BULK or user_id not in existing_users):
            errors.append(FileError("enrollments.csv", row.line, "userSourcedId", f"There is no user “{user_id}”."))
            continue
        if class_id in class_rows and class_id not in kept:
            continue
        if class_id not in class_rows and not _matches(only, Row(0, {"title": existing_classes[class_id].name}), {}):
            continue
        if role not in ("student", "teacher"):
            continue
        user_row = users.get(user_id)
        if user_row is not None and user_row.role not in ("student", "teacher"):
            continue  # an aide, administrator… is not given an account
        if user_row is not None and user_row.role != role:
            errors.append(
                FileError(
                    "enrollments.csv", row.line, "role", f"{user_id} is a {user_row.role} in users.csv, not a {role}."
                )
            )
            continue
        if status == "tobedeleted":
            ended[class_id].add(user_id)
        else:
            (pupils_of if role == "student" else teachers_of)[class_id].add(user_id)
    if errors:
        raise OneRosterInvalid(errors)

    plan = Plan(modes=modes, only=only, classes=[], people=[], skipped_classes=skipped)
    people = _plan_people(plan, users, existing_users, pupils_of, teachers_of, errors)
    if errors:
        raise OneRosterInvalid(errors)
    plan.known = {sid: user for sid, user in existing_users.items() if sid not in people}
    _plan_classes(plan, kept, class_status, existing_classes, people, pupils_of, teachers_of, ended)
    return plan


def _plan_people(
    plan: Plan,
    users: dict[str, _UserRow],
    existing: dict[str, User],
    pupils_of: dict[str, set[str]],
    teachers_of: dict[str, set[str]],
    errors: list[FileError],
) -> dict[str, PersonPlan]:
    """Who is created, changed or deactivated; returns each person of the file by sourcedId."""
    enrolled = set().union(*pupils_of.values(), *teachers_of.values())
    teacher_emails = {u.email.lower() for u in users.values() if u.role == "teacher" and u.email}
    # A teacher is matched by email among staff accounts only; a pupil's address is noted so a
    # teacher line naming it is refused rather than taken for the pupil or for a newcomer.
    by_email: dict[str, User] = {}
    pupil_emails: set[str] = set()
    if teacher_emails:
        candidates = User.objects.annotate(email_lower=Lower("email")).order_by("pk")
        for chunk in _chunks(sorted(teacher_emails)):
            for user in candidates.filter(email_lower__in=chunk):
                if user.is_student:
                    pupil_emails.add(user.email.lower())
                else:
                    by_email.setdefault(user.email.lower(), user)
    taken = {name.lower() for name in User.objects.order_by().values_list("username", flat=True)}
    people: dict[str, PersonPlan] = {}
    claimed_roster_ids: set[str] = set()

    for sourced_id, u in users.items():
        if u.role not in ("student", "teacher"):
            continue
        leaving = u.status == "tobedeleted" or not u.enabled
        if u.role == "teacher":
            account = by_email.get(u.email.lower()) if u.email else None
            if account is None:
                account = existing.get(sourced_id)
            if account is None and u.email and u.email.lower() in pupil_emails and not leaving:
                errors.append(
                    FileError(
                        "users.csv",
                        u.row.line,
                        "email",
                        f"{u.email} is a pupil's email address here and no teacher's: a teacher's account "
                        "needs their own address.",
                    )
                )
                continue
            if account is not None and account.is_student:
                errors.append(
                    FileError(
                        "users.csv", u.row.line, "email", f"{u.email or sourced_id} belongs to a pupil's account."
                    )
                )
                continue
        else:
            account = existing.get(sourced_id)
            if account is not None and not account.is_student:
                errors.append(
                    FileError("users.csv", u.row.line, "role", f"{sourced_id} is a staff account here, not a pupil's.")
                )
                continue
        name = f"{u.given} {u.family}".strip()
        if account is None:
            if leaving or sourced_id not in enrolled:
                continue  # nobody to deactivate; someone in no imported class is not created
            username = _free_username(u, taken)
            role = User.Role.STUDENT if u.role == "student" else User.Role.TEACHER
            people[sourced_id] = PersonPlan(
                sourced_id, role, name, username, CREATE, given=u.given, family=u.family, email=u.email
            )
            continue
        person = PersonPlan(
            sourced_id,
            account.role,
            name,
            account.username,
            UNCHANGED,
            user=account,
            given=u.given,
            family=u.family,
            email=u.email,
            leaving=leaving,
        )
        people[sourced_id] = person
        claimed_roster_ids.add(sourced_id)
        if leaving:
            if account.is_head or account.is_superuser:
                plan.notes.append(f"{account.display_name} is a head of department here, so stays active.")
            elif account.is_active:
                person.action = DEACTIVATE
                person.changes.append("deactivated: leaves every class, their work is kept")
            continue
        if account.roster_id != sourced_id:
            if sourced_id in existing and existing[sourced_id].pk != account.pk:
                errors.append(
                    FileError("users.csv", u.row.line, "sourcedId", f"“{sourced_id}” is already another account's id.")
                )
                continue
            person.changes.append(f"school id set to {sourced_id}")
        differs = []
        if u.given and account.first_name != u.given:
            differs.append(f"given name “{account.first_name}” → “{u.given}”")
        if u.family and account.last_name != u.family:
            differs.append(f"family name “{account.last_name}” → “{u.family}”")
        if u.email and account.email.lower() != u.email.lower():
            differs.append(f"email “{account.email}” → “{u.email}”")
        if account.is_head or account.is_superuser:
            # The department's managers are looked after on the Staff page, never from a file.
            person.given, person.family, person.email = account.first_name, account.last_name, account.email
            if differs:
                plan.notes.append(
                    f"{account.display_name} ({account.username}): {'; '.join(differs)} not made; "
                    "kept: managed on the Staff page."
                )
        else:
            person.changes += differs
        if not account.is_active:
            if account.is_student:
                person.changes.append("active again")
            else:
                # Only pupils come back by reappearing: a deactivated member of staff was
                # deactivated by a head, who reactivates them on the Staff page.
                person.stays_inactive = True
                plan.notes.append(
                    f"{account.display_name} ({account.username}) is deactivated here: reactivate on the Staff "
                    "page. They join no class until then."
                )
        if person.changes:
            person.action = UPDATE

    # Accounts imported before and absent from a bulk users.csv.
    if plan.modes.get("users") == BULK:
        for sourced_id, account in existing.items():
            if sourced_id in users or sourced_id in claimed_roster_ids or not account.is_active:
                continue
            if account.is_head or account.is_superuser:
                continue
            person = PersonPlan(
                sourced_id, account.role, account.display_name, account.username, DEACTIVATE, user=account, leaving=True
            )
            person.changes.append("not in the file: deactivated, leaves every class, their work is kept")
            people[sourced_id] = person
    plan.people = sorted(people.values(), key=lambda p: (p.role != User.Role.STUDENT, p.name.casefold(), p.username))
    return people


def _free_username(u: _UserRow, taken: set[str]) -> str:
    """The file's username if usable and free (for a teacher without one, their email's
    local part), else one made from the name: roster.free_username, which reserves it."""
    wanted = u.username
    if not wanted and u.role == "teacher" and u.email:
        wanted = u.email.split("@", 1)[0]
    return free_username(username_base(u.given, u.family), taken, wanted=wanted)


def _plan_classes(
    plan: Plan,
    kept: dict[str, Row],
    class_status: dict[str, str],
    existing: dict[str, SchoolClass],
    people: dict[str, PersonPlan],
    pupils_of: dict[str, set[str]],
    teachers_of: dict[str, set[str]],
    ended: dict[str, set[str]],
) -> None:
    bulk_enrolments = plan.modes.get("enrollments") == BULK
    leaving_pks = {p.user.pk for p in people.values() if p.action == DEACTIVATE and p.user is not None}
    # Current members of the imported classes (two queries).
    class_ids = [c.pk for c in existing.values()]
    members: dict[int, dict[int, str | None]] = defaultdict(dict)  # class pk -> {user pk: roster_id}
    names: dict[int, str] = {}  # user pk -> name, for the members who may leave
    for class_pk, user_pk, roster_id, given, family, username in Enrolment.objects.filter(
        school_class_id__in=class_ids, removed_at__isnull=True
    ).values_list(
        "school_class_id",
        "student_id",
        "student__roster_id",
        "student__first_name",
        "student__last_name",
        "student__username",
    ):
        members[class_pk][user_pk] = roster_id
        names[user_pk] = f"{given} {family}".strip() or username
    staff: dict[int, dict[int, str | None]] = defaultdict(dict)
    through = SchoolClass.teachers.through
    for class_pk, user_pk, roster_id, given, family, username in through.objects.filter(
        schoolclass_id__in=class_ids
    ).values_list(
        "schoolclass_id", "user_id", "user__roster_id", "user__first_name", "user__last_name", "user__username"
    ):
        staff[class_pk][user_pk] = roster_id
        names[user_pk] = f"{given} {family}".strip() or username

    def name_of(sourced_id: str) -> str:
        person = people.get(sourced_id)
        if person is not None:
            return person.name or person.username
        known = plan.known.get(sourced_id)
        return known.display_name if known is not None else sourced_id

    def account_key(sourced_id: str) -> int | None:
        person = people.get(sourced_id)
        if person is not None:
            return person.user.pk if person.user is not None else None
        known = plan.known.get(sourced_id)
        return known.pk if known is not None else None

    def joinable(sourced_id: str) -> bool:
        person = people.get(sourced_id)
        if person is not None:
            return not person.leaving and not person.stays_inactive and person.action != DEACTIVATE
        known = plan.known.get(sourced_id)
        return known is not None and known.is_active

    wanted_ids = set(kept)
    if not plan.modes.get("classes") or plan.modes.get("classes") == ABSENT:
        wanted_ids |= {cid for cid in (*pupils_of, *teachers_of, *ended) if cid in existing}
    for sourced_id in sorted(wanted_ids, key=lambda cid: kept[cid].get("title") if cid in kept else existing[cid].name):
        row = kept.get(sourced_id)
        current = existing.get(sourced_id)
        title = row.get("title") if row is not None else (current.name if current else sourced_id)
        if row is not None and class_status.get(sourced_id) == "tobedeleted":
            if current is not None and not current.archived:
                plan.classes.append(ClassPlan(sourced_id, title, DEACTIVATE, ["archived"], school_class=current))
            continue
        item = ClassPlan(sourced_id, title, CREATE if current is None else UNCHANGED, school_class=current)
        if current is not None:
            if current.name != title:
                item.changes.append(f"renamed “{current.name}” → “{title}”")
            if current.archived:
                item.changes.append("restored from the archive")
        now_in = members.get(current.pk, {}) if current else {}
        now_teaching = staff.get(current.pk, {}) if current else {}
        for pupil in sorted(filter(joinable, pupils_of.get(sourced_id, ()))):
            pk = account_key(pupil)
            if pk is None or pk not in now_in:
                item.joining.append(pupil)
        for teacher in sorted(filter(joinable, teachers_of.get(sourced_id, ()))):
            pk = account_key(teacher)
            if pk is None or pk not in now_teaching:
                item.teachers_in.append(teacher)
        for pk, roster_id in now_in.items():
            gone = roster_id is not None and (
                (bulk_enrolments and roster_id not in pupils_of.get(sourced_id, ()))
                or roster_id in ended.get(sourced_id, ())
            )
            if gone or pk in leaving_pks:
                item.leaving.append(pk)
        for pk, roster_id in now_teaching.items():
            gone = roster_id is not None and (
                (bulk_enrolments and roster_id not in teachers_of.get(sourced_id, ()))
                or roster_id in ended.get(sourced_id, ())
            )
            if gone or pk in leaving_pks:
                item.teachers_out.append(pk)
        # A class keeps at least one teacher.
        if item.teachers_out and not item.teachers_in and len(item.teachers_out) == len(now_teaching):
            item.teachers_out = item.teachers_out[1:]
        for who, label in (
            ([name_of(sid) for sid in item.joining], "pupil joins"),
            ([names[pk] for pk in item.leaving], "pupil leaves"),
            ([name_of(sid) for sid in item.teachers_in], "teacher added"),
            ([names[pk] for pk in item.teachers_out], "teacher taken off"),
        ):
            count = len(who)
            if count:
                noun = (
                    label
                    if count == 1
                    else label.replace("pupil joins", "pupils join")
                    .replace("pupil leaves", "pupils leave")
                    .replace("teacher ", "teachers ")
                )
                shown = ", ".join(sorted(who, key=str.casefold)[:NAMES_SHOWN])
                more = f" and {count - NAMES_SHOWN} more" if count > NAMES_SHOWN else ""
                item.changes.append(f"{count} {noun}: {shown}{more}")
        if item.action == UNCHANGED and item.changes:
            item.action = UPDATE
        plan.classes.append(item)
    # Classes imported before, gone from a bulk classes.csv (or no longer matching the filter).
    if plan.modes.get("classes") == BULK:
        for sourced_id, current in existing.items():
            if sourced_id not in kept and not current.archived:
                plan.classes.append(
                    ClassPlan(sourced_id, current.name, DEACTIVATE, ["not in the file: archived"], school_class=current)
                )


# --- applying ------------------------------------------------------------------------------


def apply_plan(plan: Plan) -> None:
    """Make every change of the plan in one transaction (all or nothing)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            _apply(plan, now)
    except IntegrityError:
        raise OneRosterInvalid(
            [
                FileError(
                    "the set",
                    0,
                    "",
                    "Someone changed an account or class while this ran. Nothing was imported; please run it again.",
                )
            ]
        ) from None


def _apply(plan: Plan, now) -> None:
    # People.
    new_users: list[User] = []
    for person in plan.people:
        if person.action != CREATE:
            continue
        user = User(username=person.username, role=person.role, roster_id=person.sourced_id, date_joined=now)
        user.set_unusable_password()
        new_users.append(user)
        person.user = user
    changed: list[User] = []
    deactivated: list[int] = []
    rows = {p.sourced_id: p for p in plan.people}
    for person in plan.people:
        if person.action == UPDATE and person.user is not None:
            changed.append(person.user)
        elif person.action == DEACTIVATE and person.user is not None:
            deactivated.append(person.user.pk)
    _fill_people(plan, rows)
    User.objects.bulk_create(new_users, batch_size=500)
    if changed:
        User.objects.bulk_update(
            changed, ["first_name", "last_name", "email", "is_active", "roster_id"], batch_size=500
        )
    if deactivated:
        User.objects.filter(pk__in=deactivated).update(is_active=False)
        Enrolment.objects.filter(student_id__in=deactivated, removed_at__isnull=True).update(removed_at=now)

    # Classes.
    new_classes: list[SchoolClass] = []
    changed_classes: list[SchoolClass] = []
    archived: list[int] = []
    for item in plan.classes:
        if item.action == CREATE:
            item.school_class = SchoolClass(name=item.title, roster_id=item.sourced_id)
            new_classes.append(item.school_class)
        elif item.action == DEACTIVATE and item.school_class is not None:
            archived.append(item.school_class.pk)
        elif item.action == UPDATE and item.school_class is not None:
            item.school_class.name = item.title
            item.school_class.archived = False
            changed_classes.append(item.school_class)
    SchoolClass.objects.bulk_create(new_classes, batch_size=500)
    if changed_classes:
        SchoolClass.objects.bulk_update(changed_classes, ["name", "archived"], batch_size=500)
    if archived:
        SchoolClass.objects.filter(pk__in=archived).update(archived=True)

    # Membership.
    def pk_of(sourced_id: str) -> int:
        person = rows.get(sourced_id)
        if person is not None and person.user is not None:
            return person.user.pk
        return plan.known[sourced_id].pk  # a delta naming someone imported before

    joins: list[tuple[int, int]] = []
    leaves: list[tuple[int, int]] = []
    through = SchoolClass.teachers.through
    new_teaching = []
    gone_teaching: list[tuple[int, int]] = []
    for item in plan.classes:
        if item.school_class is None:
            continue
        class_pk = item.school_class.pk
        joins += [(class_pk, pk_of(sourced_id)) for sourced_id in item.joining]
        leaves += [(class_pk, pk) for pk in item.leaving]
        new_teaching += [through(schoolclass_id=class_pk, user_id=pk_of(t)) for t in item.teachers_in]
        gone_teaching += [(class_pk, pk) for pk in item.teachers_out]
    if leaves:
        pks = _pairs(Enrolment.objects.filter(removed_at__isnull=True), "school_class_id", "student_id", leaves)
        Enrolment.objects.filter(pk__in=pks).update(removed_at=now)
    if joins:
        wanted = set(joins)
        back = _pairs(Enrolment.objects.filter(removed_at__isnull=False), "school_class_id", "student_id", joins)
        returning = set(Enrolment.objects.filter(pk__in=back).values_list("school_class_id", "student_id"))
        Enrolment.objects.filter(pk__in=back).update(removed_at=None)
        Enrolment.objects.bulk_create(
            [Enrolment(school_class_id=c, student_id=s, joined_at=now) for c, s in wanted - returning],
            batch_size=500,
        )
    if joins:
        _announce_unopened_essays(joins, now)
    if gone_teaching:
        through.objects.filter(
            pk__in=_pairs(through.objects.all(), "schoolclass_id", "user_id", gone_teaching)
        ).delete()
    through.objects.bulk_create(new_teaching, batch_size=500, ignore_conflicts=True)


def _announce_unopened_essays(joins: list[tuple[int, int]], now) -> None:
    """Pupils who join a class (new or back) hear of its essays not yet open, as they do when
    enrolled one by one (SchoolClass.enrol): one query for the essays, one for the pupils, then
    QueuedEmail.queue_essay_set for each essay and joining pupil."""
    joining: dict[int, list[int]] = defaultdict(list)
    for class_pk, pupil_pk in sorted(set(joins)):
        joining[class_pk].append(pupil_pk)
    essays = list(
        Assignment.objects.active()
        .filter(school_class_id__in=list(joining), opens_at__gt=now)
        .select_related("prompt", "school_class")
        .order_by("pk")
    )
    if not essays:
        return
    pupils = User.objects.in_bulk({pk for essay in essays for pk in joining[essay.school_class_id]})
    for essay in essays:
        for pk in joining[essay.school_class_id]:
            QueuedEmail.queue_essay_set(essay, only=pupils[pk])


def _pairs(queryset, first: str, second: str, pairs: list[tuple[int, int]]) -> list[int]:
    """Primary keys of the rows whose (first, second) is one of `pairs`: one query, without
    an OR per pair (SQLite refuses an expression more than 1,000 deep)."""
    wanted = set(pairs)
    rows = queryset.filter(
        **{f"{first}__in": {a for a, _ in wanted}, f"{second}__in": {b for _, b in wanted}}
    ).values_list("pk", first, second)
    return [pk for pk, a, b in rows if (a, b) in wanted]


def _fill_people(plan: Plan, rows: dict[str, PersonPlan]) -> None:
    """Set the new values on each created or changed account from its plan."""
    for person in plan.people:
        user = person.user
        if user is None or person.action not in (CREATE, UPDATE):
            continue
        user.first_name = person.given or user.first_name
        user.last_name = person.family or user.last_name
        user.email = person.email or user.email
        user.roster_id = person.sourced_id
        if person.action == CREATE or person.is_pupil:
            user.is_active = True  # a pupil the school lists again comes back; staff never do here


def describe(plan: Plan) -> list[str]:
    """Every class and person that changes, a line each, for the command's output."""
    lines = []
    for item in plan.classes:
        if item.action != UNCHANGED:
            lines.append(f"class {item.sourced_id} “{item.title}”: {item.action}" + _details(item.changes))
    for person in plan.people:
        if person.action != UNCHANGED:
            what = "pupil" if person.is_pupil else "teacher"
            lines.append(
                f"{what} {person.sourced_id} {person.name} ({person.username}): {person.action}"
                + _details(person.changes)
            )
    return lines


def _details(changes: list[str]) -> str:
    return f" ({'; '.join(changes)})" if changes else ""

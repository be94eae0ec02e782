"""The school's data-protection duties for pupils' data, in one place (docs/privacy.md).

- The registry: for every model with a link to a person (a foreign key, one-to-one or
  many-to-many to the user model) or to a model already declared as pupil data, one
  declaration of how its rows are found for a pupil (lookup paths to the pupil), exported
  and erased, or why it is exempt. tests/test_privacy.py fails, naming the model, when a
  model has such a link and no declaration. Adding a model is one line below.
- The subject-access export (`write_export`): a zip of readable HTML pages and data.json
  with every declared row that concerns the pupil, driven by the registry.
- Erasure (`erase_pupil`): each declared table's rows deleted, anonymised or kept, the
  account anonymised, an ErasureRecord written; other pupils' rows are not touched.
- Retention (`pupils_past_retention`, `old_access_log`) for `manage.py apply_retention`.
- The access log (`log_access`): who looked at or exported a pupil's work.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypedDict

from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import models, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone

from classroom.management.commands.backup_fingerprint import _plain
from classroom.models import (
    AccessLogEntry,
    Enrolment,
    ErasureRecord,
    SchoolClass,
    Submission,
    User,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

ERASED_PREFIX = "erased-"
REMOVED_TEXT = "[Removed: this pupil's data was erased.]"


class ErasureError(Exception):
    """An erasure that is refused; the message says why."""


# --- the registry ------------------------------------------------------------------------


@dataclass(frozen=True)
class Erase:
    """What erasure does to a table's rows that concern the pupil."""

    action: str  # "delete", "anonymise", "keep" or "account"
    values: Mapping[str, Any] = field(default_factory=dict)  # anonymise: field -> new value
    reason: str = ""


def delete() -> Erase:
    return Erase("delete")


def anonymise(**values: Any) -> Erase:
    return Erase("anonymise", values)


def keep(reason: str) -> Erase:
    return Erase("keep", reason=reason)


@dataclass(frozen=True)
class Declaration:
    label: str  # the model's label, lower case: "classroom.submission"
    paths: tuple[str, ...] = ()  # lookups from the model to the pupil ("pk": the pupil's own row)
    erase: Erase | None = None
    exempt: str = ""  # why a model with a link to a person holds no pupil data
    select: Callable[[User], Q] | None = None  # rows found another way (no key to the account)
    redact: tuple[str, ...] = ()  # fields never exported (secrets, not personal data)

    @property
    def is_pupil_data(self) -> bool:
        return not self.exempt

    def model(self) -> type[models.Model]:
        return apps.get_model(self.label)

    def q(self, pupil: User) -> Q:
        found = Q(pk__in=[])
        for path in self.paths:
            found |= Q(pk=pupil.pk) if path == "pk" else Q(**{path: pupil.pk})
        if self.select is not None:
            found |= self.select(pupil)
        return found

    def rows(self, pupil: User) -> models.QuerySet:
        return self.model()._base_manager.filter(self.q(pupil))


REGISTRY: dict[str, Declaration] = {}


def pupil_data(
    label: str,
    *paths: str,
    erase: Erase,
    select: Callable[[User], Q] | None = None,
    redact: Iterable[str] = (),
) -> None:
    """Declare `label`'s rows concerning a pupil: found through `paths` (and `select`),
    exported with every field but `redact`, and erased as `erase` says."""
    REGISTRY[label.lower()] = Declaration(label.lower(), tuple(paths), erase, select=select, redact=tuple(redact))


def exempt(label: str, reason: str) -> None:
    """Declare that `label` links to people but holds no pupil's personal data, and why."""
    REGISTRY[label.lower()] = Declaration(label.lower(), exempt=reason)


def declaration_for(model: type[models.Model]) -> Declaration | None:
    return REGISTRY.get(model._meta.label_lower)


def _own_sessions(pupil: User) -> Q:
    """Sessions hold the account's id only inside their encoded data."""
    keys = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get("_auth_user_id") == str(pupil.pk)
    ]
    return Q(pk__in=keys)


def _by_username(pupil: User) -> Q:
    return Q(username__iexact=pupil.username)


def _admin_history(pupil: User) -> Q:
    from django.contrib.contenttypes.models import ContentType

    return Q(content_type=ContentType.objects.get_for_model(User), object_id=str(pupil.pk))


STAFF_ONLY = "a record by and about staff; pupils appear in it only through rows declared elsewhere"
CONTENT = "teaching content written by teachers; no pupil's data"
FIGURES = "the figures stay with the anonymised account so class averages and department figures do not change"

# The account itself, and how it is signed in.
pupil_data("classroom.User", "pk", erase=Erase("account"), redact=["password"])
pupil_data("classroom.User_groups", "user", erase=delete())
pupil_data("classroom.User_user_permissions", "user", erase=delete())
pupil_data("sessions.Session", erase=delete(), select=_own_sessions, redact=["session_key", "session_data"])
pupil_data("account.EmailAddress", "user", erase=delete())
pupil_data("account.EmailConfirmation", "email_address__user", erase=delete())
pupil_data("socialaccount.SocialAccount", "user", erase=delete())
pupil_data("socialaccount.SocialToken", "account__user", erase=delete(), redact=["token", "token_secret"])
pupil_data("axes.AccessAttempt", erase=delete(), select=_by_username)
pupil_data(
    "axes.AccessAttemptExpiration",
    erase=delete(),
    select=lambda pupil: Q(access_attempt__username__iexact=pupil.username),
)
pupil_data("axes.AccessLog", erase=delete(), select=_by_username)
pupil_data("axes.AccessFailureLog", erase=delete(), select=_by_username)
pupil_data("admin.LogEntry", erase=anonymise(object_repr=REMOVED_TEXT, change_message=""), select=_admin_history)
pupil_data("classroom.JoinCodeFailure", "student", erase=delete())
pupil_data("classroom.AccessRequest", "account", erase=delete())
pupil_data("classroom.EmailPreference", "user", erase=delete())
pupil_data("classroom.QueuedEmail", "recipient", "mark__submission__student", erase=delete())
# Classes and essays.
pupil_data("classroom.Enrolment", "student", erase=keep("class membership: " + FIGURES))
pupil_data("classroom.Extension", "student", erase=keep("a due date, no text: " + FIGURES))
pupil_data("classroom.Exemption", "student", erase=keep("no text; exempt pupils are left out of " + FIGURES))
pupil_data("classroom.Submission", "student", erase=anonymise(text="", text_sha256=""))
pupil_data("classroom.SubmissionRevision", "submission__student", erase=delete())
# How the essay was written (classroom/writing_process.py): times, lengths and places, no text.
pupil_data("classroom.WritingEvent", "submission__student", erase=delete())
# Exam access arrangements: about the pupil's needs, so they go (the essays' clocks keep their figures).
pupil_data("classroom.AccessArrangement", "student", erase=delete())
# Marks and feedback: the figures stay, the words go.
pupil_data("classroom.Mark", "submission__student", erase=anonymise(www="", ebi="", improvement_task=""))
pupil_data("classroom.CriterionMark", "mark__submission__student", erase=keep(FIGURES))
pupil_data("classroom.StrandTick", "mark__submission__student", erase=keep(FIGURES))
pupil_data("classroom.Annotation", "mark__submission__student", erase=delete())
pupil_data("classroom.DirtResponse", "mark__submission__student", erase=anonymise(text=""))
pupil_data("classroom.MarkChange", "mark__submission__student", erase=anonymise(reason=""))
# The department's work on the pupil's essays.
pupil_data("classroom.StandardisationScript", "submission__student", erase=anonymise(text=REMOVED_TEXT))
pupil_data("classroom.ModerationItem", "submission__student", erase=anonymise(reason=""))
pupil_data("classroom.ReviewMark", "script__submission__student", "item__submission__student", erase=anonymise(note=""))
pupil_data(
    "classroom.ReviewCriterionMark",
    "review_mark__script__submission__student",
    "review_mark__item__submission__student",
    erase=keep(FIGURES),
)
pupil_data("classroom.Exemplar", "submission__student", "script__submission__student", erase=delete())
pupil_data(
    "classroom.ExemplarShare", "exemplar__submission__student", "exemplar__script__submission__student", erase=delete()
)
# Comparative judgement: the pupil's scripts, and the choices the pupil made as a judge (which
# name only the scripts' ids, never another pupil's essay or name).
pupil_data("classroom.JudgingScript", "submission__student", erase=anonymise(text=REMOVED_TEXT))
pupil_data("classroom.Judgement", "judge", erase=anonymise(judge=None, note=""))
pupil_data("classroom.JudgingSession_left_out_judges", "user", erase=keep("an id only: who was left out of judging"))
# Knowledge checks (the crisis app).
pupil_data("crisis.KnowledgeCheckAttempt", "student", erase=keep("a score and chosen options, no text: " + FIGURES))
# This module's own records.
pupil_data("classroom.AccessLogEntry", "pupil", erase=keep("who looked at the pupil's work, kept for its own time"))
exempt("classroom.ErasureRecord", "names nobody: the erased account's placeholder and counts, by a member of staff")
# Staff and teaching content.
exempt("classroom.SchoolClass", "the class itself; its teachers are staff, its pupils are in Enrolment")
exempt("classroom.SchoolClass_teachers", "teachers of a class: staff only")
exempt("classroom.Assignment", STAFF_ONLY)
exempt("classroom.AssignmentChange", STAFF_ONLY)
exempt("classroom.CommentBankEntry", "teachers' comment bank: " + STAFF_ONLY)
exempt("classroom.Standardisation", STAFF_ONLY)
exempt("classroom.ModerationSample", STAFF_ONLY)
exempt("classroom.FeedbackSheet", "whole-class feedback written by teachers for a class, not about one pupil")
exempt("classroom.JudgingSession", "a judging round set by a teacher; the pupil's part is declared above")
exempt(
    "classroom.OneRosterImport",
    "the head's upload of the school's class lists; the file holds every pupil listed (docs/privacy.md)",
)
exempt("crisis.Unit", CONTENT)
exempt("crisis.Lesson", CONTENT)
exempt("crisis.Source", CONTENT)
exempt("crisis.MarkScheme", CONTENT)
exempt("crisis.EssayPrompt", CONTENT)


# --- the registry check ------------------------------------------------------------------


def links_of(model: type[models.Model]) -> list[str]:
    """The model's fields that point at a person or at a model declared as pupil data."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    found = []
    for f in model._meta.get_fields(include_hidden=True):
        if not (f.is_relation and (f.many_to_one or f.one_to_one or f.many_to_many)) or f.auto_created:
            continue
        target = f.related_model
        if target is None or isinstance(target, str):
            continue
        declared = declaration_for(target)
        if target is user_model or (declared is not None and declared.is_pupil_data):
            found.append(f.name)
    return found


def undeclared_models(candidates: Iterable[type[models.Model]] | None = None) -> list[str]:
    """Labels of models with a link to a person (or to pupil data) and no declaration, each
    with the fields that link; also declarations naming a model that does not exist."""
    problems = []
    if candidates is None:
        candidates = apps.get_models(include_auto_created=True)
        for label in REGISTRY:
            try:
                apps.get_model(label)
            except LookupError:
                problems.append(f"{label} is declared but is not a model")
    for model in candidates:
        if model._meta.proxy or model._meta.swapped or declaration_for(model) is not None:
            continue
        links = links_of(model)
        if links:
            problems.append(f"{model._meta.label} ({', '.join(links)})")
    return sorted(problems)


def declarations() -> list[Declaration]:
    """Pupil-data declarations whose model is installed, the account last (erasure needs the
    username to find rows by it until the end)."""
    found = []
    for declaration in REGISTRY.values():
        if not declaration.is_pupil_data:
            continue
        try:
            declaration.model()
        except LookupError:
            continue
        found.append(declaration)
    return sorted(found, key=lambda d: (d.label == "classroom.user", d.label))


def rows_concerning(pupil: User) -> dict[str, set]:
    """{model label: primary keys of its rows that concern the pupil}, for every declared table."""
    return {d.label: set(d.rows(pupil).values_list("pk", flat=True)) for d in declarations()}


# --- the access log ----------------------------------------------------------------------


def log_access(
    viewer: User,
    pupil: User | None,
    what: str,
    obj: models.Model | None = None,
    school_class: SchoolClass | None = None,
) -> None:
    """Record that `viewer` saw or exported a pupil's work (or, with `school_class` and no
    pupil, a whole class's): one INSERT. Pupils looking at their own work are not logged."""
    if not viewer.is_authenticated or (pupil is not None and viewer.pk == pupil.pk):
        return
    ref = f"{obj._meta.model_name} {obj.pk}" if obj is not None else ""
    AccessLogEntry.objects.create(viewer=viewer, pupil=pupil, school_class=school_class, what=what, object_ref=ref)


def old_access_log(now: datetime | None = None) -> models.QuerySet[AccessLogEntry]:
    cutoff = (now or timezone.now()) - timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS)
    return AccessLogEntry.objects.filter(at__lt=cutoff)


# --- leaving and retention ---------------------------------------------------------------


def erased_accounts() -> models.QuerySet:
    return ErasureRecord.objects.values("reference")


class LeftAt(TypedDict):
    left_at: datetime


def left_pupils() -> models.QuerySet[WithAnnotations[User, LeftAt]]:
    """Pupils who have left: in no class now (every enrolment ended, by a teacher removing them
    or by the school's class lists deactivating them), annotated with `left_at`, when their
    last class membership ended (for someone never in a class, when the account was made).
    A pupil still listed in an archived class has not left: archiving a class is the end of a
    school year, not of the pupil's time at the school. Erased accounts are not listed."""
    current = Enrolment.objects.filter(student=OuterRef("pk"), removed_at__isnull=True)
    return (
        User.objects.filter(role=User.Role.STUDENT)
        .exclude(Exists(current))
        .exclude(username__in=erased_accounts())
        .annotate(left_at=Coalesce(Max("enrolments__removed_at"), "date_joined"))
    )


def retention_cutoff(now: datetime | None = None) -> datetime | None:
    """Pupils who left before this have passed the policy; None when the purge is off."""
    years = settings.RETENTION_YEARS_AFTER_LEAVING
    if not years:
        return None
    now = now or timezone.now()
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def pupils_past_retention(now: datetime | None = None) -> models.QuerySet[WithAnnotations[User, LeftAt]]:
    cutoff = retention_cutoff(now)
    if cutoff is None:
        return left_pupils().none()
    return left_pupils().filter(left_at__lt=cutoff).order_by("left_at", "pk")


# --- erasure -----------------------------------------------------------------------------


def find_pupil(username: str) -> User:
    """The pupil's account with this username (any letter case); ErasureError if there is
    none, or it is a member of staff's."""
    username = username.strip()
    pupil = User.objects.filter(username__iexact=username).first() if username else None
    if pupil is None:
        raise ErasureError(f"No account has the username “{username}”.")
    if not pupil.is_student or pupil.is_staff or pupil.is_superuser:
        raise ErasureError(f"{pupil.username} is a member of staff’s account: this is for pupils’ data only.")
    return pupil


def check_erasable(pupil: User) -> None:
    """ErasureError unless `pupil` is a pupil's account not yet erased."""
    if pupil.is_teacher or pupil.is_staff or pupil.is_superuser or not pupil.is_student:
        raise ErasureError(
            f"{pupil.username} is a member of staff’s account: only pupils’ data is erased here. "
            "Deactivate staff on the Staff page."
        )
    if ErasureRecord.objects.filter(reference=pupil.username).exists():
        raise ErasureError(f"{pupil.username} has already been erased.")


# The account's fields that erasure leaves as they are; every other field of the user model
# (names, email, the school's id, and any field added later) goes back to its default.
ACCOUNT_KEPT = {
    "id",
    "password",
    "username",
    "role",
    "date_joined",
    "last_login",
    "is_active",
    "is_staff",
    "is_superuser",
}


def _anonymise_account(pupil: User, reference: str) -> None:
    for f in User._meta.concrete_fields:
        if f.attname not in ACCOUNT_KEPT:
            setattr(pupil, f.attname, f.get_default())
    pupil.username = reference
    pupil.is_active = False
    pupil.set_unusable_password()
    pupil.save()


def erase_pupil(pupil: User, *, by: User | None, how: str) -> ErasureRecord:
    """Erase the pupil's personal data as the registry declares, in one transaction, and
    record it. The figures (marks, levels, scores) stay with the anonymised account."""
    check_erasable(pupil)
    reference = f"{ERASED_PREFIX}{secrets.token_hex(5)}"
    counts: dict[str, dict[str, int]] = {}
    with transaction.atomic():
        pupil = User.objects.select_for_update().get(pk=pupil.pk)
        check_erasable(pupil)
        tables = declarations()
        # Counted first: a delete may cascade to a table later in the list.
        found = {declaration.label: declaration.rows(pupil).count() for declaration in tables}
        for declaration in tables:
            erase = declaration.erase
            assert erase is not None
            rows = declaration.rows(pupil)
            if erase.action == "delete":
                rows.delete()
                counts[declaration.label] = {"deleted": found[declaration.label]}
            elif erase.action == "anonymise":
                rows.update(**erase.values)
                counts[declaration.label] = {"anonymised": found[declaration.label]}
            elif erase.action == "account":
                _anonymise_account(pupil, reference)
                counts[declaration.label] = {"anonymised": 1}
            else:
                counts[declaration.label] = {"kept": found[declaration.label]}
        counts = {label: n for label, n in counts.items() if any(n.values())}
        return ErasureRecord.objects.create(reference=reference, erased_by=by, how=how, counts=counts)


# --- the subject-access export -----------------------------------------------------------


def export_rows(pupil: User) -> dict[str, list[dict[str, Any]]]:
    """{model label: [every field of every row that concerns the pupil]}: one query a table."""
    data: dict[str, list[dict[str, Any]]] = {}
    for declaration in declarations():
        model = declaration.model()
        columns = [f.attname for f in model._meta.concrete_fields]
        rows = []
        for row in declaration.rows(pupil).order_by("pk").values(*columns):
            rows.append(
                {
                    name: "(not exported: a secret, not personal data)" if name in declaration.redact else _plain(v)
                    for name, v in row.items()
                }
            )
        data[declaration.label] = rows
    return data


def _essays(pupil: User) -> list[Submission]:
    return list(
        Submission.objects.filter(student=pupil)
        .select_related("assignment__prompt", "assignment__school_class", "mark__marker", "mark__dirt")
        .prefetch_related(
            "revisions",
            "mark__criterion_marks__criterion",
            "mark__criterion_marks__level",
            "mark__annotations",
            "mark__strand_ticks",
        )
        .order_by("created_at", "pk")
    )


def _write_zip(pupil: User, out: IO[bytes], now: datetime) -> None:
    data = export_rows(pupil)
    essays = _essays(pupil)
    enrolments = Enrolment.objects.filter(student=pupil).select_related("school_class").order_by("joined_at")
    log = AccessLogEntry.objects.filter(pupil=pupil).select_related("viewer", "school_class")
    counts = sorted((label, len(rows)) for label, rows in data.items() if rows)
    context = {"pupil": pupil, "now": now, "essays": essays, "enrolments": enrolments, "counts": counts, "log": log}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.html", render_to_string("classroom/privacy/export/index.html", context))
        archive.writestr("style.css", render_to_string("classroom/privacy/export/style.css"))
        for essay in essays:
            page = render_to_string("classroom/privacy/export/essay.html", {"pupil": pupil, "essay": essay})
            archive.writestr(f"essays/essay-{essay.pk}.html", page)
        payload = {"pupil": pupil.pk, "exported_at": now.isoformat(), "tables": data}
        archive.writestr("data.json", json.dumps(payload, indent=1, ensure_ascii=False, default=str))


def export_file_name(pupil: User, now: datetime) -> str:
    return f"subject-access-{pupil.username}-{now:%Y-%m-%d}.zip"


def write_export(pupil: User, path: str | Path) -> Path:
    """Write the pupil's export to `path` through a temporary file renamed into place, so a
    reader never sees half a zip."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".export-", suffix=".zip")
    try:
        with os.fdopen(handle, "wb") as out:
            _write_zip(pupil, out, timezone.now())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def export_to_file(pupil: User) -> IO[bytes]:
    """The export in an unnamed temporary file, at its start (for a download)."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it)
    _write_zip(pupil, out, timezone.now())
    out.seek(0)
    return out


def row_counts(pupil: User) -> list[tuple[str, int, Erase]]:
    """(table, rows concerning the pupil, what erasure does) for the declared tables."""
    found = []
    for declaration in declarations():
        assert declaration.erase is not None
        found.append((declaration.label, declaration.rows(pupil).count(), declaration.erase))
    return found

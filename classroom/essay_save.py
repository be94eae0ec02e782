"""Saving an essay's text: the conditional UPDATE, the copy kept in its history and the
writing-process record, all or nothing (Submission.save_draft decides what to save; this
module only writes it).

On PostgreSQL it is one statement: the UPDATE, with the two INSERTs as data-modifying
WITH clauses that take place only when the UPDATE did. One round trip, atomic on its own,
so an autosave needs no BEGIN and COMMIT. Elsewhere (SQLite) the same three writes run in
one transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, cast

from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When

from classroom.status import EDITABLE_STATES, State

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field, Model

    from classroom.models import Submission, WritingEvent


def save_text(
    submission: Submission,
    base_revision: int,
    fields: Mapping[str, Any],
    keep: bool,
    events: Collection[WritingEvent],
) -> tuple[int, str] | None:
    """Set `fields` on the submission if `base_revision` is current and it is still editable,
    raising its revision by one; a first save makes it a draft, a returned essay stays
    returned. `keep`: also keep a copy in its history (an autosave revision); `events`: the
    writing-process rows to record (any already recorded are skipped). Returns the new
    (revision, state), or None when nothing was written (changed elsewhere, or closed)."""
    if connection.vendor == "postgresql":
        return _in_one_statement(submission, base_revision, fields, keep, events)
    return _in_one_transaction(submission, base_revision, fields, keep, events)


def _in_one_transaction(
    submission: Submission,
    base_revision: int,
    fields: Mapping[str, Any],
    keep: bool,
    events: Collection[WritingEvent],
) -> tuple[int, str] | None:
    from classroom.models import Submission, SubmissionRevision, WritingEvent

    current = Q(pk=submission.pk, revision=base_revision, state__in=EDITABLE_STATES)
    state = Case(When(state=State.RETURNED, then=Value(State.RETURNED)), default=Value(State.DRAFT))
    with transaction.atomic():
        if not Submission.objects.filter(current).update(revision=F("revision") + 1, state=state, **fields):
            return None
        revision, new_state = Submission.objects.values_list("revision", "state").get(pk=submission.pk)
        kept = SubmissionRevision.objects.filter(submission_id=submission.pk).order_by("-created_at", "-pk")
        if keep and kept.values_list("text", flat=True).first() != fields["text"]:
            SubmissionRevision.objects.create(
                submission_id=submission.pk,
                text=fields["text"],
                word_count=fields["word_count"],
                revision=revision,
                reason=SubmissionRevision.Reason.AUTOSAVE,
                created_at=fields["updated_at"],
            )
        if events:
            WritingEvent.objects.bulk_create(events, ignore_conflicts=True)
    return revision, new_state


def _table(model: type[Model], db: BaseDatabaseWrapper = connection) -> str:
    """The model's table, quoted for raw SQL."""
    return db.ops.quote_name(model._meta.db_table)


def _column(model: type[Model], name: str, db: BaseDatabaseWrapper = connection) -> str:
    """The column of the model's field `name`, quoted for raw SQL."""
    field = model._meta.get_field(name)
    return db.ops.quote_name(cast("str", getattr(field, "column", None) or name))


def _in_one_statement(
    submission: Submission,
    base_revision: int,
    fields: Mapping[str, Any],
    keep: bool,
    events: Collection[WritingEvent],
) -> tuple[int, str] | None:
    from classroom.models import Submission, SubmissionRevision

    params: list[Any] = [
        Submission._meta.get_field(name).get_db_prep_save(value, connection)  # type: ignore[union-attr]
        for name, value in fields.items()
    ]
    params += [State.RETURNED, State.DRAFT, submission.pk, base_revision, *EDITABLE_STATES]
    if keep:
        text = fields["text"]
        params += [text, fields["word_count"], SubmissionRevision.Reason.AUTOSAVE, fields["updated_at"], text]
    if events:
        columns = _event_columns()
        for event in events:
            params += [field.get_db_prep_save(getattr(event, field.attname), connection) for field in columns]
    with connection.cursor() as cursor:
        cursor.execute(_statement(tuple(fields), keep, len(events)), params)
        found = cursor.fetchone()
    return (found[0], found[1]) if found else None


@functools.cache
def _event_columns() -> list[Field]:
    """The writing-process row's columns that a save fills (all but its id)."""
    from classroom.models import WritingEvent

    return [field for field in WritingEvent._meta.concrete_fields if not field.primary_key]


@functools.lru_cache(maxsize=256)
def _statement(names: tuple[str, ...], keep: bool, events: int) -> str:
    """_in_one_statement's SQL for setting the fields `names`, keeping a copy or not, and
    recording `events` writing-process rows: made once for each such shape (it depends on
    nothing else), where building it afresh cost an autosave a tenth of its time."""
    from classroom.models import Submission, SubmissionRevision, WritingEvent

    sets = [f"{_column(Submission, name)} = %s" for name in names]
    pk, state, revision = (_column(Submission, name) for name in ("id", "state", "revision"))
    editable = ", ".join(["%s"] * len(EDITABLE_STATES))
    sql = [
        f"WITH saved AS (UPDATE {_table(Submission)} SET {', '.join(sets)}, {revision} = {revision} + 1, "  # noqa: S608 - names from the models' meta; values are parameters
        f"{state} = CASE WHEN {state} = %s THEN {state} ELSE %s END "
        f"WHERE {pk} = %s AND {revision} = %s AND {state} IN ({editable}) "
        f"RETURNING {pk} AS id, {revision} AS revision, {state} AS state)"
    ]
    if keep:  # unless the text is what the last copy already holds (compared in the database)
        kept = SubmissionRevision
        of, when, text_column = _column(kept, "submission"), _column(kept, "created_at"), _column(kept, "text")
        columns = ("submission", "text", "word_count", "revision", "reason", "created_at")
        sql.append(
            f", kept AS (INSERT INTO {_table(kept)} ({', '.join(_column(kept, n) for n in columns)}) "  # noqa: S608 - names from the models' meta; values are parameters
            "SELECT saved.id, %s, %s, saved.revision, %s, %s FROM saved "
            f"WHERE %s IS DISTINCT FROM (SELECT last.{text_column} FROM {_table(kept)} AS last "
            f"WHERE last.{of} = saved.id ORDER BY last.{when} DESC, last.{_column(kept, 'id')} DESC LIMIT 1))"
        )
    if events:
        recorded = _event_columns()
        # Typed placeholders: the VALUES list gives its types to the INSERT (a NULL has none).
        row = "(" + ", ".join(f"CAST(%s AS {field.cast_db_type(connection)})" for field in recorded) + ")"
        listed = ", ".join(_column(WritingEvent, field.name) for field in recorded)
        sql.append(
            f", recorded AS (INSERT INTO {_table(WritingEvent)} ({listed}) "  # noqa: S608 - names from the models' meta; values are parameters
            f"SELECT * FROM (VALUES {', '.join([row] * events)}) AS given ({listed}) "
            "WHERE EXISTS (SELECT 1 FROM saved) ON CONFLICT DO NOTHING)"
        )
    sql.append(" SELECT revision, state FROM saved")
    return "".join(sql)

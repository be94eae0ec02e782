"""Print a fingerprint of the database: rows and a digest per table, a SHA-256 per essay.

Run it on the live database and on a restored backup: identical output means the backup
holds the same data (scripts/backup_roundtrip.sh does this in CI). It only reads.

Every model in the app registry is covered, including the tables behind many-to-many
fields, so new models need nothing here. The per-table digest covers every column of
every row in primary-key order; the essay lines let a teacher's disputed essay be checked
one by one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, models

from classroom.models import Submission


def fingerprinted_models() -> list[type[models.Model]]:
    """Every model that owns a table, sorted by table name (proxies and unmanaged skipped)."""
    found = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and not model._meta.swapped
    ]
    return sorted(found, key=lambda model: model._meta.db_table)


def _plain(value: object) -> object:
    """A JSON-ready value with full precision (no rounding of times or decimals)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return value


def table_digest(model: type[models.Model], rows_of: models.QuerySet | None = None) -> tuple[int, str]:
    """(row count, SHA-256 over every concrete column of every row in primary-key order), of
    the whole table or of the rows `rows_of` (a queryset of the model) picks."""
    columns = [field.attname for field in model._meta.concrete_fields]
    digest = hashlib.sha256()
    rows = 0
    base = model._base_manager.all() if rows_of is None else rows_of
    queryset = base.order_by("pk").values_list(*columns)
    for row in queryset.iterator(chunk_size=2000):
        line = json.dumps([_plain(value) for value in row], sort_keys=True, ensure_ascii=False, default=str)
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
        rows += 1
    return rows, digest.hexdigest()


def essay_digests() -> Iterator[tuple[object, str]]:
    """(primary key, SHA-256 of the essay text as UTF-8) for every essay, in key order."""
    rows = Submission._base_manager.order_by("pk").values_list("pk", "text")
    for pk, text in rows.iterator(chunk_size=2000):
        yield pk, hashlib.sha256((text or "").encode("utf-8")).hexdigest()


def fingerprint_lines() -> Iterable[str]:
    existing = set(connection.introspection.table_names())
    counted = missing = total_rows = 0
    for model in fingerprinted_models():
        name = f"table {model._meta.db_table} model={model._meta.label_lower}"
        if model._meta.db_table not in existing:
            # A model whose migration has not run, or a table lost in a restore: say so
            # rather than stop, so the two fingerprints still line up in a diff.
            missing += 1
            yield f"{name} missing"
            continue
        rows, digest = table_digest(model)
        counted += 1
        total_rows += rows
        yield f"{name} rows={rows} sha256={digest}"
    essays = 0
    if Submission._meta.db_table in existing:
        for pk, digest in essay_digests():
            essays += 1
            yield f"essay {Submission._meta.label_lower} pk={pk} sha256={digest}"
    yield f"total tables={counted} missing={missing} rows={total_rows} essays={essays}"


class Command(BaseCommand):
    help = (
        "Print row counts and digests for every table and a SHA-256 per essay. "
        "Compare the output for a database and its restored backup: it must be identical."
    )

    def handle(self, *args, **options) -> None:
        for line in fingerprint_lines():
            self.stdout.write(line)

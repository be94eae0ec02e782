"""`manage.py backup_fingerprint`: what the backup round trip compares."""

from __future__ import annotations

import hashlib
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from classroom.management.commands import backup_fingerprint
from classroom.models import SchoolClass, User
from tests.factories import SubmissionFactory

pytestmark = pytest.mark.django_db

LINE = re.compile(r"^table (?P<table>\S+) model=(?P<model>\S+) rows=(?P<rows>\d+) sha256=(?P<sha>[0-9a-f]{64})$")


def fingerprint() -> str:
    out = StringIO()
    call_command("backup_fingerprint", stdout=out)
    return out.getvalue()


def tables(output: str) -> dict[str, tuple[int, str]]:
    found = {}
    for line in output.splitlines():
        match = LINE.match(line)
        if match:
            found[match["table"]] = (int(match["rows"]), match["sha"])
    return found


def test_every_table_is_listed_with_its_row_count(cast):
    output = fingerprint()
    result = tables(output)
    for model in backup_fingerprint.fingerprinted_models():
        assert f"table {model._meta.db_table} model=" in output
    assert result[User._meta.db_table][0] == User.objects.count() == 5
    assert result[SchoolClass._meta.db_table][0] == 2
    # Many-to-many tables count too: one teacher per class.
    assert result[SchoolClass.teachers.through._meta.db_table][0] == 2


def test_the_fingerprint_is_the_same_for_the_same_data(cast):
    assert fingerprint() == fingerprint()


def test_changing_one_value_changes_that_tables_digest_but_not_its_count(cast, school_class):
    before = tables(fingerprint())
    SchoolClass.objects.filter(pk=school_class.pk).update(name="10H History (renamed)")
    after = tables(fingerprint())
    table = SchoolClass._meta.db_table
    assert after[table][0] == before[table][0]
    assert after[table][1] != before[table][1]
    assert after[User._meta.db_table] == before[User._meta.db_table]


def test_the_total_line_adds_up_the_tables(cast):
    output = fingerprint()
    counted = tables(output)
    missing = [line for line in output.splitlines() if line.endswith(" missing")]
    essays = [line for line in output.splitlines() if line.startswith("essay ")]
    assert output.splitlines()[-1] == (
        f"total tables={len(counted)} missing={len(missing)} "
        f"rows={sum(rows for rows, _ in counted.values())} essays={len(essays)}"
    )


def test_a_table_missing_from_the_database_is_reported_not_fatal(monkeypatch, cast):
    real_table_names = connection.introspection.table_names
    gone = SchoolClass._meta.db_table
    monkeypatch.setattr(
        connection.introspection, "table_names", lambda *a, **k: [t for t in real_table_names(*a, **k) if t != gone]
    )
    output = fingerprint()
    assert f"table {gone} model=classroom.schoolclass missing" in output.splitlines()
    assert User._meta.db_table in tables(output)


def test_the_fingerprint_only_reads(cast):
    with CaptureQueriesContext(connection) as queries:
        fingerprint()
    statements = [query["sql"].lstrip().split(None, 1)[0].upper() for query in queries.captured_queries]
    assert statements, "the fingerprint ran no queries at all"
    assert set(statements) <= {"SELECT", "DECLARE", "FETCH", "CLOSE"}, statements


def test_submitted_essays_are_listed_with_the_sha256_of_their_text():
    texts = ["Хрущёв’s “knot of war” — loosened.\r\n\r\n", "The hotline (1963) 🪢"]
    essays = [SubmissionFactory(text=text, submitted=True) for text in texts]
    lines = [line for line in fingerprint().splitlines() if line.startswith("essay ")]
    assert lines == [
        f"essay classroom.submission pk={essay.pk} sha256={hashlib.sha256(text.encode('utf-8')).hexdigest()}"
        for essay, text in zip(essays, texts, strict=True)
    ]
    assert fingerprint().splitlines()[-1].endswith(f"essays={len(texts)}")

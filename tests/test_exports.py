"""Markbook CSV exports: long and wide shapes, separators, BOM, formula injection, numbers."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from classroom.models import Submission
from tests.factories import StudentFactory
from tests.helpers import build_class, give_mark, hand_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def known(school_class, teacher, student):
    data = build_class(school_class, teacher, student)
    # A name a spreadsheet would run as a formula.
    evil = StudentFactory(first_name="@cmd", last_name='=HYPERLINK("http://x")')
    school_class.enrol(evil)
    give_mark(hand_in(data["a1"], evil), teacher, 1, 1)
    data["evil"] = evil
    return data


def export(client, teacher, school_class, **params):
    client.force_login(teacher)
    return client.get(reverse("classroom:markbook_export", args=[school_class.pk]), params)


def read(response, delimiter=","):
    text = response.content.decode("utf-8")
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def test_long_export_has_one_row_per_student_per_assignment(client, teacher, school_class, known):
    rows = read(export(client, teacher, school_class, shape="long"))
    assert rows[0] == [
        "student id",
        "family name",
        "given name",
        "class",
        "assignment",
        "date",
        "level",
        "mark",
        "max",
        "percent",
        "status",
    ]
    assert len(rows) == 1 + 5 * 3  # five students, three assignments
    sam_a1 = next(r for r in rows if r[2] == "Sam" and r[4] == "A1")
    assert sam_a1[0] == str(known["sam"].pk)
    assert sam_a1[3] == "10H History"
    assert sam_a1[6] == "AO1 L2; AO2 L2; SPAG L1"
    assert sam_a1[7:10] == ["8", "10", "80"]
    ben_a1 = next(r for r in rows if r[2] == "Ben" and r[4] == "A1")
    assert ben_a1[6:8] == ["", ""]  # marked but not released: no mark in the export
    assert ben_a1[10] == "Marked, not released"


def test_wide_export_has_one_row_per_student_in_roster_order(client, teacher, school_class, known):
    rows = read(export(client, teacher, school_class, shape="wide"))
    assert rows[0][:4] == ["student id", "family name", "given name", "class"]
    assert len(rows[0]) == 4 + 3 + 1
    assert rows[0][-1] == "average percent"
    family_names = [r[1] for r in rows[1:]]
    assert family_names[:4] == ['\'=HYPERLINK("http://x")', "Able", "Brown", "Cole"]
    sam = next(r for r in rows if r[2] == "Sam")
    assert sam[4:] == ["8", "6", "", "70.0"]


def test_text_cells_are_guarded_against_formulas(client, teacher, school_class, known):
    for shape in ("long", "wide"):
        rows = read(export(client, teacher, school_class, shape=shape))
        evil = next(r for r in rows if r[0] == str(known["evil"].pk))
        assert evil[1] == '\'=HYPERLINK("http://x")'
        assert evil[2] == "'@cmd"


def test_numbers_stay_numbers(client, teacher, school_class, known):
    rows = read(export(client, teacher, school_class, shape="long"))
    marks = [r for r in rows[1:] if r[7]]
    assert marks
    for r in marks:
        assert int(r[7]) <= int(r[8])
        float(r[9])
        assert not r[7].startswith("'")


def test_tab_separator_and_bom(client, teacher, school_class, known):
    response = export(client, teacher, school_class, shape="long", separator="tab", bom="1")
    assert response.content.startswith("\ufeff".encode())
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter="\t"))
    assert rows[0][0] == "student id" and len(rows[0]) == 11
    assert response["Content-Type"].startswith("text/tab-separated-values")
    assert response["Content-Disposition"] == 'attachment; filename="10h-history-markbook-long.tsv"'


def test_no_bom_unless_asked(client, teacher, school_class, known):
    response = export(client, teacher, school_class, shape="wide")
    assert not response.content.startswith("\ufeff".encode())
    assert response["Content-Disposition"] == 'attachment; filename="10h-history-markbook-wide.csv"'
    assert response["Content-Type"].startswith("text/csv")


def test_filename_is_safe_whatever_the_class_name(client, teacher, school_class, known):
    school_class.name = 'Évil "name"/../\r\nX'
    school_class.save(update_fields=["name"])
    response = export(client, teacher, school_class, shape="long")
    assert response["Content-Disposition"] == 'attachment; filename="evil-name-x-markbook-long.csv"'


@pytest.mark.parametrize("params", [{"shape": "tall"}, {"separator": "semicolon"}])
def test_bad_export_options_get_a_message_not_a_file(client, teacher, school_class, known, params):
    response = export(client, teacher, school_class, **params)
    assert response.status_code == 302
    assert response.url == reverse("classroom:markbook", args=[school_class.pk])
    page = client.get(response.url).content.decode()
    assert "Choose a layout" in page


def test_export_changes_nothing(client, teacher, school_class, known):
    before = list(Submission.objects.order_by("pk").values_list("state", "revision"))
    export(client, teacher, school_class, shape="long")
    assert list(Submission.objects.order_by("pk").values_list("state", "revision")) == before

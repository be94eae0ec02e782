"""Spreadsheet formula injection is neutralised; numbers stay numbers; round trip is exact."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from classroom.csvsafe import BOM, safe_cell, write_csv


@pytest.mark.parametrize("dangerous", ["=1+1", "+44 20", "-cmd", "@SUM(A1)", "\tTab", "\rCR", '=HYPERLINK("x")'])
def test_text_that_a_spreadsheet_would_run_is_prefixed(dangerous):
    assert safe_cell(dangerous) == "'" + dangerous


@pytest.mark.parametrize("value", [0, 12, -1, 3.5, Decimal("62.5")])
def test_numbers_stay_numbers(value):
    assert safe_cell(value) == value


def test_ordinary_text_and_empty_values():
    assert safe_cell("Amelia") == "Amelia"
    assert safe_cell(None) == ""
    assert safe_cell("O'Neil - Smith") == "O'Neil - Smith"


def test_round_trip_through_the_csv_module():
    rows = [["=evil()", "Brown", 12, -1], ["Zoë", "Ó Briain", 16, 62.5]]
    text = write_csv(rows, ["given", "family", "mark", "delta"])
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == ["given", "family", "mark", "delta"]
    assert parsed[1] == ["'=evil()", "Brown", "12", "-1"]
    assert parsed[2] == ["Zoë", "Ó Briain", "16", "62.5"]
    assert text.endswith("\r\n")


def test_tab_separated_and_bom_options():
    text = write_csv([["a", 1]], ["name", "mark"], delimiter="\t", bom=True)
    assert text.startswith(BOM)
    assert list(csv.reader(io.StringIO(text[1:]), delimiter="\t")) == [["name", "mark"], ["a", "1"]]
    assert not write_csv([], ["x"]).startswith(BOM)


def test_other_delimiters_are_refused():
    with pytest.raises(ValueError, match="comma or a tab"):
        write_csv([], ["x"], delimiter=";")

"""CSV that opens safely in a spreadsheet.

A text cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage return can be run as
a formula by Excel, LibreOffice or Google Sheets ("CSV injection"). Such cells are
prefixed with an apostrophe, which spreadsheets show as text. Numbers are written as
numbers, so a mark of -1 or a percentage stays a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def safe_cell(value: object) -> object:
    """The value to write for one cell: numbers unchanged, risky text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(DANGEROUS_FIRST):
        return "'" + text
    return text


def write_csv(
    rows: Iterable[Sequence[object]], header: Sequence[str], *, delimiter: str = ",", bom: bool = False
) -> str:
    """The whole CSV as a string (CRLF line ends, as spreadsheets expect)."""
    if delimiter not in (",", "\t"):
        raise ValueError("delimiter must be a comma or a tab")
    buffer = io.StringIO()
    if bom:
        buffer.write(BOM)
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()

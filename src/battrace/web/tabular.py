"""Tables as CSV (UTF-8 with BOM, so Excel opens Chinese text correctly) and XLSX."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


#: text starting with these is a formula to Excel, WPS and LibreOffice (OWASP, "CSV Injection")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: text that is just a number: a spreadsheet reads it as that number, never as a formula
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        value = " ".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = "; ".join(f"{k}={v}" for k, v in value.items())
    elif isinstance(value, bool):
        return "Y" if value else "N"
    return defuse(value) if isinstance(value, str) else value


def defuse(text: str) -> str:
    """Text a spreadsheet shows as text: a cell from the data that starts like a formula
    (an enterprise named `=HYPERLINK(…)`) gets a leading `'`, as OWASP advises. Numbers are
    left to the caller as numbers, and text that is only a number stays as it is."""
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _xlsx_cell(value: Any) -> Any:
    """`_cell`, with the control characters XML 1.0 cannot hold shown as U+FFFD (openpyxl
    raised IllegalCharacterError on them: an enterprise name with one failed the export)."""
    value = _cell(value)
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value) if isinstance(value, str) else value


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """CSV bytes with a BOM and a header row."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    for r in rows:
        w.writerow(["" if v is None else _cell(v) for v in r])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str = "data",
    notes: Sequence[Sequence[str]] | None = None,
) -> bytes:
    """An XLSX workbook: the table on its first sheet (header in bold, frozen), and an
    optional second sheet of notes."""
    wb = Workbook(write_only=True)  # streams rows: large exports stay fast and small
    ws = wb.create_sheet(title[:31])
    ws.freeze_panes = "A2"
    for i, h in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, len(str(h)) * 2 + 2))
    head = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = Font(bold=True)
        head.append(cell)
    ws.append(head)
    for r in rows:
        ws.append([_xlsx_cell(v) for v in r])
    if notes:
        ns = wb.create_sheet("说明 notes")
        for line in notes:
            ns.append(list(line))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

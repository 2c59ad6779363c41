"""Tables as CSV (UTF-8 with BOM, so Excel opens Chinese text correctly) and XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, bool):
        return "Y" if value else "N"
    return value


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
        ws.append([_cell(v) for v in r])
    if notes:
        ns = wb.create_sheet("说明 notes")
        for line in notes:
            ns.append(list(line))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

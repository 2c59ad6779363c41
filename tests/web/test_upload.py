"""Enterprise uploads: templates with Chinese headers, per-row errors, no double storage."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from battrace.store.schema import events
from battrace.web import sheets
from tests import kit


def _events(store) -> int:
    with store.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(events)).scalar_one())


def test_templates_have_chinese_headers_and_an_id_column(web):
    web.sign_in(kit.RECYCLER)
    x = web.client.get("/upload/template/recycled.xlsx")
    assert x.status_code == 200
    wb = load_workbook(io.BytesIO(x.content))
    header = [c.value for c in wb.worksheets[0][1]]
    assert header[0] == "编号 (id)"
    assert "电池编码 (battery)" in header and "回收锂(kg) (recovered.li)" in header
    assert "说明 notes" in wb.sheetnames
    c = web.client.get("/upload/template/shipped.csv")
    assert c.content.startswith("\ufeff编号 (id),发生时间 (time)".encode())


def _send(web, rows: list[list[str]], event_type: str = "shipped", name: str = "s.csv"):
    page = web.client.get("/upload").text
    head = [c.header for c in sheets.columns(event_type)]
    body = sheets.to_csv(head, rows) if name.endswith(".csv") else _xlsx(head, rows)
    return web.client.post(
        "/upload",
        data={"event_type": event_type, "csrf": web.csrf(page)},
        files={"file": (name, body)},
    )


def _xlsx(head, rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(head)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_rows_are_stored_once_and_errors_stand_next_to_their_row(web):
    new = web.scenario.new
    web.sign_in(kit.MAKER)
    good = ["ship-1", "2025-01-08 09:00", new, "", kit.AUTOMAKER, "110100", ""]
    bad_time = ["ship-2", "yesterday", new, "", kit.AUTOMAKER, "", ""]
    not_mine = ["ship-3", "2025-01-08 10:00", web.scenario.leaked, "", kit.AUTOMAKER, "", ""]
    before = _events(web.store)
    r = _send(web, [good, bad_time, not_mine])
    assert r.status_code == 200, r.text
    rows = r.text.split('id="upload-rows"')[1]
    statuses = [s.split('"')[0] for s in rows.split('data-status="')[1:]]
    assert statuses == ["accepted", "skipped", "rejected"]
    assert "不是时间" in rows  # the time cell, in plain words
    assert "电池编码：" in rows  # the cell the ingest's reason is about, then the rule's title
    assert "（生命周期）" in rows or "（保管关系）" in rows
    assert _events(web.store) == before + 1
    # fix the sheet and send all of it again: the stored row is not stored twice
    again = _send(web, [good, ["ship-2", "2025-01-08 11:00", new, "", kit.AUTOMAKER, "", ""]])
    statuses = [s.split('"')[0] for s in again.text.split('data-status="')[1:]]
    assert statuses == ["duplicate", "rejected"]  # in transit already: the fixed row no longer fits
    assert _events(web.store) == before + 1


def test_an_xlsx_upload_goes_through_the_same_ingest(web):
    web.sign_in(kit.MAKER)
    code = kit.code(555)
    row = ["", "2025-01-08 09:00", code, "LFP", 150, 350, 52.5, 380, ""]
    r = _send(web, [row], "produced", "p.xlsx")
    assert 'data-status="accepted"' in r.text
    assert web.api.get(f"/v1/batteries/{code}").json()["chemistry"] == "LFP"
    r2 = _send(web, [row], "produced", "p.xlsx")  # no id: the row's fingerprint is its key
    assert 'data-status="duplicate"' in r2.text


def test_a_sheet_with_unknown_columns_is_refused_as_a_whole(web):
    web.sign_in(kit.MAKER)
    page = web.client.get("/upload").text
    body = sheets.to_csv(["编号 (id)", "colour"], [["x", "red"]])
    r = web.client.post(
        "/upload",
        data={"event_type": "shipped", "csrf": web.csrf(page)},
        files={"file": ("x.csv", body)},
    )
    assert r.status_code == 422
    assert "colour" in r.text


def test_an_upload_without_the_form_token_is_refused(web):
    web.sign_in(kit.MAKER)
    r = web.client.post(
        "/upload",
        data={"event_type": "shipped", "csrf": "forged"},
        files={"file": ("x.csv", b"id\n")},
    )
    assert r.status_code == 403


def test_the_public_cannot_upload(web):
    assert web.get("/upload").status_code == 303

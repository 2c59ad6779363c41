"""Spreadsheet uploads: a template per event type (Chinese headers, the field name in
brackets), and the reading of a filled-in CSV or XLSX back into native events (EVENTS.md).

Reading never decides whether an event is right: it only turns cells into JSON values and
says, in plain words, when a cell cannot be read. The events then go through the one ingest
path, which judges them like any other.

`id` is the idempotency key (reporter + id is stored once). A row whose id cell is left empty
gets `row-` and a fingerprint of its content, so the same row uploaded again is still stored
only once.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import load_workbook

from battrace.services.common import CST
from battrace.web.tabular import to_csv, to_xlsx

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024
#: what an XLSX may unpack to: a 1 MB file can hold a 1 GB string (deflate packs ~1000:1), which
#: openpyxl would read whole; a full 5,000-row template unpacks to a few MB
MAX_UNPACKED = 64 * 1024 * 1024
#: characters of a cell quoted back in an error message
QUOTE_CHARS = 60
_SPLIT = re.compile(r"[\s,，;；、]+")
_LOOSE_TIME = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?")


@dataclass(frozen=True)
class Column:
    """One column of a template: the event field (dots for nested objects), its headers, the
    kind of value, and whether the event needs it."""

    key: str
    zh: str
    en: str
    kind: str
    required: bool = False
    example: str = ""

    @property
    def header(self) -> str:
        """The header cell: Chinese words, field name in brackets."""
        return f"{self.zh} ({self.key})"


def _c(key: str, zh: str, en: str, kind: str = "text", req: bool = False, ex: str = "") -> Column:
    return Column(key, zh, en, kind, req, ex)


CODE_EX = "001PB01ABC1234FC70000001"
HEAD = (
    _c("id", "编号", "id (idempotency key)", "text", False, "2025-0001"),
    _c("time", "发生时间", "event time", "time", True, "2025-01-03 10:00"),
)
TAIL = (
    _c("location.region", "地区代码", "region code", "text", False, "440300"),
    _c("note", "备注", "note", "text"),
)
BAT = _c("battery", "电池编码", "battery code", "code", True, CODE_EX)
BAT_OPT = _c("battery", "电池编码", "battery code", "code", False, CODE_EX)
LIST = _c("batteries", "电池编码（多个）", "battery codes (several)", "codes")
VIN = _c("vin", "车辆识别代号", "VIN", "vin", True, "LSVAA218N2000017")
SPECS = (
    _c("chemistry", "化学体系", "chemistry", "word", True, "LFP"),
    _c("rated_capacity_ah", "额定容量(Ah)", "rated capacity (Ah)", "number", True, "150"),
    _c("nominal_voltage_v", "标称电压(V)", "nominal voltage (V)", "number", True, "350"),
    _c("energy_kwh", "能量(kWh)", "energy (kWh)", "number", True, "52.5"),
    _c("mass_kg", "质量(kg)", "mass (kg)", "number", True, "380"),
)
ELEMENTS = ("li", "ni", "co", "mn", "cu", "al")
ELEMENT_ZH = {"li": "锂", "ni": "镍", "co": "钴", "mn": "锰", "cu": "铜", "al": "铝"}

TEMPLATES: dict[str, tuple[Column, ...]] = {
    "produced": (BAT, *SPECS, _c("components", "组件编码", "component codes", "codes")),
    "shipped": (
        BAT_OPT,
        LIST,
        _c("to", "接收企业（统一社会信用代码）", "recipient (USCC)", "uscc", True),
    ),
    "received": (BAT_OPT, LIST),
    "installed": (BAT, VIN, _c("vehicle_model", "车型", "vehicle model", "text", True)),
    "vehicle_sold": (
        VIN,
        _c("certificate_date", "合格证日期", "certificate date", "date", True, "2025-01-03"),
    ),
    "replaced": (
        _c("battery", "新电池编码", "new pack code", "code", True, CODE_EX),
        VIN,
        _c("removed", "拆下的电池编码", "removed pack code", "code", True),
        _c("reason", "更换原因", "reason", "word", False, "defect"),
    ),
    "removed": (BAT, VIN, _c("reason", "拆卸原因", "reason", "word", True, "retired")),
    "vehicle_scrapped": (
        VIN,
        _c("certificate_no", "报废证明编号", "scrap certificate no.", "text", True),
        _c("batteries_present", "车内电池编码", "packs found", "codes", True),
    ),
    "collected": (BAT_OPT, LIST),
    "reprocessed": (
        _c("battery", "新产品编码", "new product code", "code", True),
        _c("inputs", "原电池编码", "input codes", "codes", True),
        _c("application", "应用领域", "application", "word", True, "energy_storage"),
        _c("standard", "执行标准", "standard met", "text", False, "GB/T 34015.3-2021"),
        _c("tests.residual_capacity_pct", "剩余容量(%)", "residual capacity (%)", "number"),
        _c("tests.soh_pct", "健康度(%)", "state of health (%)", "number"),
        *(Column(c.key, c.zh, c.en, c.kind, False, c.example) for c in SPECS),
    ),
    "deployed": (
        BAT,
        _c("application", "应用领域", "application", "word", True, "energy_storage"),
        _c("site", "使用地点", "site", "text", True),
    ),
    "dismantled": (BAT, _c("parts", "拆出的部件编码", "freed part codes", "codes", True)),
    "recycled": (
        BAT,
        _c("input_mass_kg", "投入质量(kg)", "input mass (kg)", "number", True),
        *(
            _c(f"recovered.{e}", f"回收{ELEMENT_ZH[e]}(kg)", f"{e} recovered (kg)", "number")
            for e in ELEMENTS
        ),
        *(
            _c(f"contained.{e}", f"含{ELEMENT_ZH[e]}(kg)", f"{e} contained (kg)", "number")
            for e in ELEMENTS
        ),
    ),
    "disposed": (
        BAT,
        _c("method", "处置方式", "method", "text", True),
        _c("mass_kg", "处置质量(kg)", "mass (kg)", "number"),
    ),
}


def columns(event_type: str) -> tuple[Column, ...]:
    """Every column of a type's template."""
    return (*HEAD, *TEMPLATES[event_type], *TAIL)


def template(event_type: str, fmt: str) -> bytes:
    """The empty template of an event type as CSV or XLSX (with a sheet explaining columns)."""
    cols = columns(event_type)
    headers = [c.header for c in cols]
    if fmt == "csv":
        return to_csv(headers, [])
    notes = [
        ("列 column", "说明 meaning", "必填 required", "示例 example"),
        *((c.header, c.en, "是 yes" if c.required else "否 no", c.example) for c in cols),
        (),
        ("时间", "无时区的时间按北京时间 (UTC+8) 处理 · times without an offset are China time"),
        ("编号 (id)", "幂等键：同一编号只保存一次 · idempotency key: stored once per id"),
        ("多个编码", "用空格、逗号或顿号分隔 · several codes: separate with spaces or commas"),
    ]
    return to_xlsx(headers, [], title=event_type, notes=notes)


# ---------------------------------------------------------------- reading
@dataclass
class Row:
    """One data row: its line in the file, its cells by field, the event it makes (None when
    a cell could not be read), and the problems, each in Chinese and English."""

    line: int
    cells: dict[str, str]
    event: dict[str, Any] | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)


class SheetError(ValueError):
    """The file as a whole cannot be read (format, header, size); zh and en words."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def read_table(filename: str, data: bytes) -> list[list[Any]]:
    """The file's rows (CSV in UTF-8 or GB18030, or the first sheet of an XLSX), at most
    `MAX_READ_ROWS` of at most `MAX_COLUMNS` values: a 5 KB XLSX may declare a sheet of
    1,048,576 × 16,384 cells, which openpyxl pads every row to (137 GB of list slots)."""
    if len(data) > MAX_BYTES:
        raise SheetError("文件过大（上限 5 MB）", "the file is larger than 5 MB")
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        _check_unpacked_size(data)
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise SheetError("无法读取该 Excel 文件", f"cannot read this XLSX file: {exc}") from exc
        try:
            ws = wb.worksheets[0]
            ws.reset_dimensions()  # the cells that are there, not the size the file declares
            return _bounded(ws.iter_rows(values_only=True, max_col=MAX_COLUMNS))
        finally:
            wb.close()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError("无法识别文件编码", "the file is neither UTF-8 nor GB18030 text")
    return _bounded(r[:MAX_COLUMNS] for r in csv.reader(io.StringIO(text)))


def _check_unpacked_size(data: bytes) -> None:
    """SheetError when the archive declares more than `MAX_UNPACKED` bytes in all (a zip bomb).
    The declared sizes bound what is read: `zipfile` stops at a member's declared size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise SheetError("无法读取该 Excel 文件", f"cannot read this XLSX file: {exc}") from exc
    if unpacked > MAX_UNPACKED:
        mb = MAX_UNPACKED >> 20
        raise SheetError(
            f"该 Excel 文件解压后超过 {mb} MB，不像是填好的模板",
            f"this XLSX file unpacks to more than {mb} MB: it is not a filled-in template",
        )


def _quote(value: Any) -> str:
    """A cell's text for an error message, cut to `QUOTE_CHARS` characters."""
    text = str(value)
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


#: rows read from a file, blank ones included (the data rows are checked against MAX_ROWS)
MAX_READ_ROWS = 2 * MAX_ROWS
#: values read per row: every template has far fewer columns
MAX_COLUMNS = 64


def _bounded(rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    out: list[list[Any]] = []
    for row in rows:
        if len(out) == MAX_READ_ROWS:
            raise SheetError(
                f"文件超过 {MAX_READ_ROWS} 行（含空行），请拆分文件或使用 API 批量上传",
                f"the file has more than {MAX_READ_ROWS} rows (blank ones included): split it "
                "or use the API's bulk upload",
            )
        cells = list(row)
        while cells and cells[-1] is None:  # read-only sheets pad rows to MAX_COLUMNS
            cells.pop()
        out.append(cells)
    return out


def _header_map(event_type: str) -> dict[str, Column]:
    out: dict[str, Column] = {}
    for c in columns(event_type):
        for name in (c.header, c.key, c.zh, c.en):
            out[_norm(name)] = c
    return out


def _norm(text: Any) -> str:
    return re.sub(r"\s+", "", str(text or "")).replace("（", "(").replace("）", ")").lower()


def parse(event_type: str, table: list[list[Any]], *, reporter: str) -> list[Row]:
    """The data rows of a filled-in template as events reported by `reporter`."""
    if event_type not in TEMPLATES:
        raise SheetError(f"未知事件类型 {event_type}", f"unknown event type {event_type}")
    while table and not any(_blank(v) is False for v in table[0]):
        table = table[1:]
    if not table:
        raise SheetError("文件是空的", "the file is empty")
    known = _header_map(event_type)
    header = [known.get(_norm(h)) for h in table[0]]
    unknown = [_quote(h) for h, c in zip(table[0], header, strict=True) if c is None and h]
    if unknown:
        raise SheetError(
            f"无法识别的列：{'、'.join(unknown)}（请使用 {event_type} 模板）",
            f"unknown column(s): {', '.join(unknown)} (use the {event_type} template)",
        )
    present = {c.key for c in header if c is not None}
    missing = [c for c in columns(event_type) if c.required and c.key not in present]
    if missing:
        raise SheetError(
            "缺少必填列：" + "、".join(c.header for c in missing),
            "missing required column(s): " + ", ".join(c.header for c in missing),
        )
    rows: list[Row] = []
    for i, values in enumerate(table[1:], start=2):
        if all(_blank(v) for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise SheetError(
                f"行数超过上限 {MAX_ROWS}，请拆分文件或使用 API 批量上传",
                f"more than {MAX_ROWS} rows: split the file or use the API's bulk upload",
            )
        rows.append(_row(event_type, i, header, values, reporter))
    return rows


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _row(
    event_type: str, line: int, header: list[Column | None], values: list[Any], reporter: str
) -> Row:
    row = Row(line, {})
    ev: dict[str, Any] = {"type": event_type, "reporter": reporter}
    for col, raw in zip(header, values, strict=False):
        if col is None:
            continue
        row.cells[col.key] = _show(raw)
        if _blank(raw):
            if col.required and not (col.kind == "codes" and col.key == "batteries_present"):
                row.problems.append((f"“{col.zh}”未填写", f"{col.en} is empty"))
            elif col.key == "batteries_present":
                _put(ev, col.key, [])
            continue
        try:
            _put(ev, col.key, _value(col, raw))
        except ValueError as exc:
            zh, _, en = str(exc).partition("|")
            row.problems.append((f"“{col.zh}”{zh}", f"{col.en}: {en}"))
    for col in header:
        if col is not None and col.required and col.key not in row.cells:
            row.problems.append((f"“{col.zh}”未填写", f"{col.en} is empty"))
    if event_type in ("shipped", "received", "collected") and not (
        ev.get("battery") or ev.get("batteries")
    ):
        row.problems.append(("请填写电池编码", "give a battery code"))
    if not row.problems:
        if not ev.get("id"):
            body = json.dumps(ev, sort_keys=True, ensure_ascii=False).encode()
            ev["id"] = "row-" + hashlib.sha256(body).hexdigest()[:16]
        row.event = ev
    return row


def _show(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, dt.datetime):
        return raw.strftime("%Y-%m-%d %H:%M")
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return str(raw).strip()


def _put(ev: dict[str, Any], key: str, value: Any) -> None:
    *path, last = key.split(".")
    target = ev
    for part in path:
        target = target.setdefault(part, {})
    target[last] = value


def _value(col: Column, raw: Any) -> Any:
    """A cell as the JSON value of its field; ValueError('zh|en') when it cannot be read."""
    kind = col.kind
    if kind == "time":
        return _time(raw)
    if kind == "date":
        return _date(raw)
    if kind == "number":
        return _number(raw)
    text = str(raw).strip()
    if kind == "codes":
        return [c.upper() for c in _SPLIT.split(text) if c]
    if kind in ("code", "vin", "uscc"):
        return text.upper()
    if kind == "word":
        return text.lower() if col.key != "chemistry" else text
    if kind == "text" and isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return text


def _number(raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise ValueError("应为数字|must be a number")
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        try:
            value = float(str(raw).replace(",", "").replace("，", "").strip())
        except ValueError:
            raise ValueError(f"“{_quote(raw)}”不是数字|{_quote(raw)!r} is not a number") from None
    return int(value) if value.is_integer() else value


def _date(raw: Any) -> str:
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    text = str(raw).strip().replace("/", "-").replace(".", "-")
    try:
        y, m, d = (int(p) for p in text.split("-"))
        return dt.date(y, m, d).isoformat()
    except (ValueError, TypeError):
        raise ValueError(
            f"“{_quote(raw)}”不是日期（格式 2025-01-03）|{_quote(raw)!r} is not a date (2025-01-03)"
        ) from None


def _time(raw: Any) -> str:
    if isinstance(raw, dt.datetime):
        when = raw if raw.tzinfo else raw.replace(tzinfo=CST)
        return when.isoformat()
    if isinstance(raw, dt.date):
        return dt.datetime.combine(raw, dt.time(), tzinfo=CST).isoformat()
    text = str(raw).strip().replace("/", "-")
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        m = _LOOSE_TIME.fullmatch(text)  # 2025-1-3 9:05, as spreadsheets write it
        if m is None:
            q = _quote(raw)
            raise ValueError(
                f"“{q}”不是时间（格式 2025-01-03 10:00）|{q!r} is not a time (2025-01-03 10:00)"
            ) from None
        try:
            y, mo, d, h, mi, sec = (int(g) for g in m.groups(default="0"))
            when = dt.datetime(y, mo, d, h, mi, sec)
        except ValueError:
            q = _quote(raw)
            raise ValueError(f"“{q}”不是有效时间|{q!r} is not a valid time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=CST)
    return when.isoformat()

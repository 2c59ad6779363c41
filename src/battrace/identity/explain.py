"""A readable breakdown of an identifier, field by field, in Chinese and English."""

from __future__ import annotations

from dataclasses import dataclass

from battrace.identity.detect import IdentifierCheck
from battrace.identity.uscc import AUTHORITIES


@dataclass(frozen=True, slots=True)
class Part:
    """One field of an identifier with its meaning."""

    positions: str
    field_en: str
    field_zh: str
    value: str
    meaning_en: str
    meaning_zh: str


def explain(check: IdentifierCheck) -> list[Part]:
    """The fields of a valid identifier; empty for invalid ones (their errors say enough)."""
    if check.battery is not None:
        b = check.battery
        bt = b.battery_type
        d = b.production_date
        parts = [
            Part(
                "1-3",
                "manufacturer code",
                "厂商代码",
                b.manufacturer,
                "assigned centrally to the producer",
                "由国家统一分配给生产企业",
            ),
            Part(
                "4",
                "product type",
                "产品类型",
                b.product_type.letter,
                b.product_type.value,
                b.product_type.name_zh,
            ),
            Part("5", "battery type", "电池类型", bt.letter, bt.name_en, bt.name_zh),
            Part(
                "6-7", "specification code", "规格代码", b.spec, "filed by the maker", "由企业备案"
            ),
        ]
        if b.trace is not None:
            parts.append(
                Part(
                    "8-14",
                    "traceability code",
                    "追溯信息代码",
                    b.trace,
                    "filed by the maker",
                    "由企业备案",
                )
            )
        at = 8 if b.trace is None else 15
        date_text = b.code[at - 1 : at + 2]
        parts += [
            Part(
                f"{at}-{at + 2}",
                "production date",
                "生产日期",
                date_text,
                d.isoformat(),
                f"{d.year}年{d.month}月{d.day}日",
            ),
            Part(
                f"{at + 3}-{at + 9}",
                "serial",
                "序列号",
                b.serial,
                f"unit {int(b.serial)} of that day",
                f"当日第{int(b.serial)}个",
            ),
        ]
        if b.reprocessed_form:
            parts.append(
                Part(
                    "18-19",
                    "reprocessed marker",
                    "再生产品标识",
                    b.code[17:],
                    "re-coded reprocessed product (short form)",
                    "综合利用再生产品（简码）",
                )
            )
        return parts
    if check.uscc is not None:
        u = check.uscc
        auth_en, auth_zh = AUTHORITIES.get(u.authority, ("unlisted authority", "未列明"))
        return [
            Part("1", "registering authority", "登记管理部门", u.authority, auth_en, auth_zh),
            Part(
                "2",
                "entity type",
                "机构类别",
                u.entity_type,
                "type within that authority",
                "该部门下的机构类别",
            ),
            Part(
                "3-8",
                "administrative division",
                "登记管理机关行政区划",
                u.region,
                "6-digit division code",
                "行政区划码",
            ),
            Part(
                "9-17",
                "organisation code",
                "主体标识码",
                u.organisation_code,
                "organisation identifier",
                "组织机构代码",
            ),
            Part("18", "check character", "校验码", check.code[17], "valid", "正确"),
        ]
    if check.kind == "vin" and check.valid:
        v = check.code
        return [
            Part("1-3", "world manufacturer identifier", "世界制造厂识别代号", v[:3], "WMI", "WMI"),
            Part("4-8", "vehicle descriptor", "车辆说明部分", v[3:8], "VDS", "VDS"),
            Part("9", "check digit", "检验位", v[8], "valid", "正确"),
            Part("10", "model year", "车型年份", v[9], "model year code", "年份代码"),
            Part("11-17", "vehicle indicator", "车辆指示部分", v[10:], "VIS", "VIS"),
        ]
    return []

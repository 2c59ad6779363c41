"""The compliance rule catalogue (RULES.md): each rule an object with its id, provision and words.

Ids are public and stable. Messages are rendered from a rule's templates and the facts of one
finding, in Chinese and English, so a regulator can act on them without opening the evidence.
Article numbers of the 2026 measures are not cited: the text's numbering was not retrieved
(DOMAIN.md marks it unsure), so provisions name the obligation instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Moment(StrEnum):
    """When a rule runs."""

    INGEST = "ingest"
    AUDIT = "audit"


class Outcome(StrEnum):
    """What a rule does when it fires."""

    REJECT = "reject"
    REJECT_AND_FLAG = "reject+flag"
    FLAG = "flag"
    SCORE = "score"


class Severity(StrEnum):
    """How urgent a finding is for a regulator."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


MEASURES_ZH = "《新能源汽车废旧动力电池回收和综合利用管理暂行办法》（2026年4月1日施行）"
MEASURES_EN = "Interim Measures for the Recycling and Comprehensive Utilization of Used NEV Power Batteries (in force 2026-04-01)"  # noqa: E501


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of the catalogue."""

    id: str
    name: str
    moment: Moment
    outcome: Outcome
    severity: Severity
    title_zh: str
    title_en: str
    provision_zh: str
    provision_en: str
    #: message templates (str.format with the finding's facts)
    template_zh: str
    template_en: str

    def render(self, facts: Mapping[str, Any]) -> tuple[str, str]:
        """The finding's message in Chinese and English."""
        safe = _Facts(facts)
        return self.template_zh.format_map(safe), self.template_en.format_map(safe)

    def as_dict(self) -> dict[str, str]:
        """JSON-ready description (API, dashboard)."""
        return {
            "id": self.id,
            "name": self.name,
            "moment": self.moment.value,
            "outcome": self.outcome.value,
            "severity": self.severity.value,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "provision_zh": self.provision_zh,
            "provision_en": self.provision_en,
        }


class _Facts(dict[str, Any]):
    """Format mapping that shows a missing fact as '?' instead of failing."""

    def __missing__(self, key: str) -> str:
        return "?"


def _rule(*args: Any) -> Rule:
    return Rule(*args)


ING, AUD = Moment.INGEST, Moment.AUDIT
H, M, L = Severity.HIGH, Severity.MEDIUM, Severity.LOW

CATALOGUE: tuple[Rule, ...] = (
    _rule(
        "BT-001",
        "code-format",
        ING,
        Outcome.REJECT,
        H,
        "编码格式",
        "code format",
        "GB/T 34014-2017 汽车动力蓄电池编码规则",
        "GB/T 34014-2017 battery coding rules",
        "{code} 不是有效的 GB/T 34014 编码：{detail}",
        "{code} is not a valid GB/T 34014 code: {detail}",
    ),
    _rule(
        "BT-002",
        "code-ownership",
        ING,
        Outcome.REJECT,
        H,
        "编码归属",
        "code ownership",
        MEASURES_ZH + "：禁止伪造编码",
        MEASURES_EN + ": forging codes is prohibited",
        "{reporter} 上报的 {code} 的厂商代码 {manufacturer} 未分配给该企业",
        "{reporter} reported {code} whose manufacturer code {manufacturer} is not assigned to it",
    ),
    _rule(
        "BT-003",
        "duplicate-code",
        ING,
        Outcome.REJECT_AND_FLAG,
        H,
        "重复编码（疑似克隆）",
        "duplicate code (suspected clone)",
        MEASURES_ZH + "：禁止伪造编码",
        MEASURES_EN + ": forging codes is prohibited",
        "{reporter} 于 {day} 再次上报生产 {code}；该编码已由 {first_reporter} 登记，疑似克隆编码",
        "{reporter} reported producing {code} on {day}, but {first_reporter} registered "
        "that code first: suspected cloned code",
    ),
    _rule(
        "BT-004",
        "custody",
        ING,
        Outcome.REJECT,
        H,
        "保管关系",
        "custody",
        MEASURES_ZH + "：溯源信息真实、准确",
        MEASURES_EN + ": traceability data must be true",
        "{reporter} 不是 {code} 的持有人",
        "{reporter} does not hold {code}",
    ),
    _rule(
        "BT-005",
        "lifecycle",
        ING,
        Outcome.REJECT,
        H,
        "生命周期",
        "lifecycle",
        MEASURES_ZH + "：全生命周期溯源",
        MEASURES_EN + ": full-lifecycle traceability",
        "{code} 已于 {ended_day} 由 {holder} {state_zh}，"
        "{day} 又被 {reporter} 上报「{event_type_zh}」：疑似伪造编码",
        "{code} was {state} by {holder} on {ended_day}, yet {reporter} reported "
        "{event_type} on {day}: suspected forged code",
    ),
    _rule(
        "BT-006",
        "hierarchy",
        ING,
        Outcome.REJECT,
        M,
        "包-模块-单体对应关系",
        "pack/module/cell hierarchy",
        "GB/T 34014-2017：电池包、模块、单体编码应对应",
        "GB/T 34014-2017: pack, module and cell codes must correspond",
        "{code}: {detail}",
        "{code}: {detail}",
    ),
    _rule(
        "BT-010",
        "integrated-scrapping",
        ING,
        Outcome.FLAG,
        H,
        "车电一体报废",
        "vehicle–battery integrated scrapping",
        MEASURES_ZH + "：报废新能源汽车应连同动力电池一并交售（换电车型除外）",
        MEASURES_EN + ": a scrapped NEV is handed over with its battery (swap models exempt)",
        "车辆 {vin}（{model}，{automaker}）于 {day} 由 {reporter} 报废，缺少电池包 {missing}；"
        "最后持有人：{last_holder}",
        "vehicle {vin} ({model}, made by {automaker}) was scrapped by {reporter} on {day} "
        "without its pack {missing}; last holder: {last_holder}",
    ),
    _rule(
        "BT-011",
        "qualified-recipient",
        ING,
        Outcome.FLAG,
        H,
        "交售给合规企业",
        "qualified recipient",
        MEASURES_ZH + "：废旧动力电池应交售给符合规范条件的综合利用企业",
        MEASURES_EN + ": used batteries go only to qualified comprehensive-utilization enterprises",
        "{reporter} 于 {day} 将废旧电池 {codes} 交给 {recipient}，后者在该日无有效{scope_zh}资质",
        "{reporter} handed used batteries {codes} to {recipient} on {day}, which held no "
        "valid {scope} qualification that day",
    ),
    _rule(
        "BT-012",
        "prohibited-application",
        ING,
        Outcome.FLAG,
        H,
        "禁止用途",
        "prohibited application",
        MEASURES_ZH + "：禁止将废旧动力电池用于电动自行车等禁止领域",
        MEASURES_EN + ": retired power batteries must not be used in e-bikes and other "
        "prohibited fields",
        "{reporter} 于 {day} 将 {code} 用于禁止领域「{application_zh}」（来源：{origin_zh}）",
        "{reporter} put {code} into the prohibited application '{application}' on {day} "
        "(from {origin})",
    ),
    _rule(
        "BT-013",
        "quality-conformity",
        ING,
        Outcome.FLAG,
        M,
        "再生产品质量符合性",
        "quality conformity",
        MEASURES_ZH + "：再生产品应符合其新用途的质量标准；GB/T 34015",
        MEASURES_EN + ": reprocessed products meet the standards of their new application; "
        "GB/T 34015",
        "{reporter} 于 {day} 生产的再生产品 {code}（用途：{application_zh}）{problem_zh}",
        "reprocessed product {code} ({application}) made by {reporter} on {day}: {problem}",
    ),
    _rule(
        "BT-014",
        "recovery-rate",
        ING,
        Outcome.FLAG,
        M,
        "材料回收率",
        "material recovery rate",
        "《新能源汽车废旧动力电池综合利用行业规范条件》（2024年本）：锂≥90%，镍钴锰≥98%",
        "Industry specification conditions (2024): Li >= 90 %, Ni/Co/Mn >= 98 %",
        "{reporter} 于 {day} 再生利用 {code} 的回收率低于要求：{shortfalls}",
        "{reporter} recycled {code} on {day} below the required recovery rates: {shortfalls}",
    ),
    _rule(
        "BT-020",
        "late-report",
        ING,
        Outcome.FLAG,
        L,
        "迟报",
        "late report",
        "溯源信息上报时限（政策文件，默认取2018年溯源管理规定）",
        "reporting deadlines (policy file; defaults from the 2018 traceability provisions)",
        "{reporter} 于 {recorded_day} 上报 {day} 发生的「{node_zh}」({event_id})，"
        "超过 {limit} 个工作日时限（截止 {deadline}）{calendar_note_zh}",
        "{reporter} reported the {node} of {day} ({event_id}) on {recorded_day}, later than "
        "the {limit} working-day limit (due {deadline}){calendar_note}",
    ),
    _rule(
        "BT-021",
        "missing-report",
        AUD,
        Outcome.FLAG,
        M,
        "漏报",
        "missing report",
        "溯源信息上报时限（政策文件 missing_report_wd）；" + MEASURES_ZH + "：全生命周期溯源",
        "reporting deadlines (policy missing_report_wd); "
        + MEASURES_EN
        + ": full-lifecycle traceability",
        "{enterprise_name} 未上报 {code} 的「{next_step_zh}」：自 {since} 起已 {working_days} "
        "个工作日（截至 {as_of}），超过 {limit} 个工作日时限（截止 {deadline}）{calendar_note_zh}",
        "{enterprise_name} has not reported the {next_step} of {code}: {working_days} working "
        "days since {since} by {as_of}, beyond the {limit} working-day limit (due {deadline})"
        "{calendar_note}",
    ),
    _rule(
        "BT-022",
        "silent-battery",
        AUD,
        Outcome.FLAG,
        M,
        "电池失联",
        "silent battery",
        MEASURES_ZH + "：全生命周期溯源；严禁非法拆解",
        MEASURES_EN + ": full-lifecycle traceability; illegal dismantling is prohibited",
        "废旧电池 {code}（{state_zh}，持有人 {holder_name}）自 {last_day} 起已 {days} 天无任何记录"
        "（截至 {as_of}，限 {limit} 天），疑似流入非正规渠道",
        "used battery {code} ({state}, holder {holder_name}) has had no event for {days} days "
        "since {last_day} by {as_of} (limit {limit} days): lost to informal channels?",
    ),
    _rule(
        "BT-023",
        "mass-balance",
        AUD,
        Outcome.FLAG,
        M,
        "质量平衡",
        "mass balance",
        MEASURES_ZH + "：严禁非法拆解",
        MEASURES_EN + ": illegal dismantling is prohibited",
        "{enterprise_name} {period} 接收的废旧电池 {received_kg} kg 中："
        "申报处理 {processed_kg} kg，发出 {shipped_kg} kg，库存 {stock_kg} kg，"
        "差额 {gap_kg} kg（{gap_pct}%），超出容差 {tolerance_pct}%（截至 {as_of}）",
        "of the {received_kg} kg of used batteries {enterprise_name} received in {period}, it "
        "declared {processed_kg} kg processed, shipped {shipped_kg} kg and holds {stock_kg} kg: "
        "{gap_kg} kg ({gap_pct} %) unaccounted for, beyond the {tolerance_pct} % tolerance "
        "(as of {as_of})",
    ),
    _rule(
        "BT-024",
        "outlet-coverage",
        AUD,
        Outcome.FLAG,
        L,
        "回收服务网点覆盖",
        "outlet coverage",
        MEASURES_ZH + "：汽车生产企业应在销售地级行政区设立回收服务网点",
        MEASURES_EN + ": automakers run recycling outlets in every prefecture where they sell",
        "{enterprise_name} 在地级行政区 {region} 销售了 {vehicles} 辆车（{first_sold} 至 "
        "{last_sold}），但该地区没有为其服务的已登记回收服务网点",
        "{enterprise_name} sold {vehicles} vehicles in prefecture {region} ({first_sold} to "
        "{last_sold}) but no registered recycling service outlet there serves it",
    ),
    _rule(
        "BT-025",
        "reporting-quality",
        AUD,
        Outcome.SCORE,
        Severity.INFO,
        "上报质量",
        "reporting quality",
        "溯源信息上报时限",
        "reporting deadlines",
        "{enterprise_name}：{reportable} 条限时上报事件中按时 {on_time_pct}%；"
        "{lifecycles} 个经手编码中无缺口 {complete_pct}%（截至 {as_of}）",
        "{enterprise_name}: {on_time_pct} % of {reportable} time-limited events on time; "
        "{complete_pct} % of {lifecycles} codes in its hands without gaps (as of {as_of})",
    ),
)

RULES: dict[str, Rule] = {r.id: r for r in CATALOGUE}


def catalogue() -> list[dict[str, str]]:
    """Every rule of the catalogue (id, name, moment, outcome, severity, titles, provision)."""
    return [r.as_dict() for r in CATALOGUE]


def rule(rule_id: str) -> Rule:
    """The rule with this id; KeyError for unknown ids."""
    return RULES[rule_id]

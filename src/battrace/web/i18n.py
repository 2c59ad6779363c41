"""The dashboard's words in Chinese (the default) and English.

Every string the pages show comes from `MESSAGES` (or from the domain's own bilingual data:
rule titles, reporting-node labels, finding messages). `t(key, lang)` falls back to the key
itself, so a missing entry shows up in tests as an untranslated key, never as a crash.
"""

from __future__ import annotations

from battrace.domain.vocab import APPLICATION_NAMES, EVENT_TYPE_ZH

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

MESSAGES: dict[str, tuple[str, str]] = {
    # event fields in timelines (f_ + the field's name)
    "f_to": ("发往", "to"),
    "f_vin": ("车辆识别代号", "VIN"),
    "f_reason": ("原因", "reason"),
    "f_application": ("用途", "application"),
    "f_site": ("场所", "site"),
    "f_removed": ("拆下", "removed"),
    "f_inputs": ("原电池", "inputs"),
    "f_parts": ("拆出部件", "parts"),
    "f_batteries": ("电池", "batteries"),
    "f_batteries_present": ("随车电池", "batteries present"),
    "f_certificate_no": ("证明编号", "certificate no."),
    "f_method": ("方式", "method"),
    # export column headers (x_: only in downloads)
    "x_id": ("编号", "ID"),
    "x_enterprise_name": ("企业名称", "Enterprise name"),
    "x_as_of": ("截至日期", "As of"),
    "x_message_zh": ("说明（中文）", "Message (Chinese)"),
    "x_message_en": ("说明（英文）", "Message (English)"),
    "x_uscc": ("统一社会信用代码", "USCC"),
    "x_reportable": ("应报事件数", "Reportable events"),
    "x_gaps": ("缺报数", "Gaps"),
    "x_retired": ("已退役", "Retired"),
    "x_reprocessed": ("再生产品", "Reprocessed"),
    "x_to_party": ("收货方", "Addressee"),
    "x_energy_kwh": ("能量 (kWh)", "Energy (kWh)"),
    # chrome
    "app": ("动力电池数字身份证 · 溯源监管平台", "Power-battery digital ID · traceability"),
    "app_short": ("battrace", "battrace"),
    "switch_lang": ("English", "中文"),
    "overview": ("总览", "Overview"),
    "findings": ("违规线索", "Findings"),
    "enterprises": ("企业评分", "Scorecards"),
    "flows": ("流向", "Flows"),
    "lookup": ("电池查询", "Battery lookup"),
    "labels": ("标签生成", "Labels"),
    "upload": ("数据上报", "Upload events"),
    "my_enterprise": ("本企业", "My enterprise"),
    "my_batteries": ("本企业电池", "Our batteries"),
    "signin": ("登录", "Sign in"),
    "signout": ("退出", "Sign out"),
    "signed_in_as": ("当前身份", "Signed in as"),
    "tier_regulator": ("监管部门", "regulator"),
    "tier_enterprise": ("企业", "enterprise"),
    "tier_public": ("公众", "public"),
    "export_csv": ("导出 CSV", "Export CSV"),
    "export_xlsx": ("导出 Excel", "Export XLSX"),
    "filter": ("筛选", "Filter"),
    "reset": ("重置", "Reset"),
    "all": ("全部", "all"),
    "none": ("无", "none"),
    "total": ("合计", "Total"),
    "previous": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "page_of": ("第 {a}–{b} 条，共 {n} 条", "{a}–{b} of {n}"),
    "not_found": ("未找到", "Not found"),
    "error": ("出错了", "Something went wrong"),
    "access_denied": ("无权查看", "Access denied"),
    # the first line of an error page: the detail below it comes from the service, in English
    "not_found_lead": (
        "没有找到所查的内容：请核对编码、编号或链接。",
        "Nothing was found: check the code, number or link.",
    ),
    "error_lead": (
        "请求未能完成：请核对所填内容后重试。",
        "The request could not be completed: check what was entered and try again.",
    ),
    "access_denied_lead": (
        "您的账号无权查看此内容：仅监管部门和经手企业可见。",
        "Your account may not see this: only regulators and the enterprises involved may.",
    ),
    "server_error": ("平台出错", "Server error"),
    "server_error_lead": (
        "平台处理请求时出错：请稍后重试，问题持续时请联系平台运维。",
        "The platform failed to handle the request: try again later, and tell its operators "
        "if it persists.",
    ),
    "detail_in_english": ("详情（英文）", "Details"),
    "back_home": ("返回首页", "Back to the start"),
    "cached_note": (
        "统计截至日志第 {size} 条记录（{time}）",
        "Figures as of log entry {size} ({time})",
    ),
    # overview
    "kpi_batteries": ("在册编码", "Codes on record"),
    "kpi_vehicles": ("车辆", "Vehicles"),
    "kpi_events": ("日志记录", "Log entries"),
    "kpi_retired": ("退役电池", "Retired batteries"),
    "kpi_open_findings": ("未结违规线索", "Open findings"),
    "by_state_chemistry": ("按状态与化学体系的电池数", "Batteries by state and chemistry"),
    "events_per_month": ("每月事件数", "Events per month"),
    "retirements_per_month": ("每月退役电池数", "Retirements per month"),
    "findings_per_month": (
        "每月违规线索（按规则，以违规事件发生时间计）",
        "Findings per month, by rule (dated by the offending event)",
    ),
    "by_region": ("按省份", "By province"),
    "region_map": ("省份示意图（按未结线索着色）", "Province tile map (shaded by open findings)"),
    "latest_checkpoint": ("最新签名检查点", "Latest signed checkpoint"),
    "tree_size": ("树大小", "Tree size"),
    "root_hash": ("根哈希", "Root hash"),
    "timestamp": ("时间", "Time"),
    "no_checkpoint": ("尚无检查点", "No checkpoint yet"),
    "province": ("省份", "Province"),
    "col_enterprises": ("企业数", "Enterprises"),
    "col_vehicles": ("销售车辆", "Vehicles sold"),
    "col_held": ("持有电池", "Batteries held"),
    "col_retired_held": ("持有退役电池", "Retired held"),
    "col_findings": ("未结线索", "Open findings"),
    "state": ("状态", "State"),
    "chemistry": ("化学体系", "Chemistry"),
    "count": ("数量", "Count"),
    "month": ("月份", "Month"),
    # findings
    "rule": ("规则", "Rule"),
    "enterprise": ("企业", "Enterprise"),
    "region": ("地区", "Region"),
    "region_hint": ("行政区划代码前缀，如 44 或 4403", "division code prefix, e.g. 44 or 4403"),
    "status": ("状态", "Status"),
    "status_open": ("未结", "open"),
    "status_withdrawn": ("已撤回", "withdrawn"),
    "since": ("起始日期", "From"),
    "until": ("截止日期", "To"),
    "found_at": ("发现时间", "Found"),
    "severity": ("严重程度", "Severity"),
    "message": ("说明", "Message"),
    "codes": ("电池编码", "Codes"),
    "vins": ("车辆识别代号", "VINs"),
    "evidence": ("证据", "Evidence"),
    "legal_basis": ("法律依据", "Legal basis"),
    "finding": ("违规线索", "Finding"),
    "moment": ("发现环节", "Found at"),
    "moment_ingest": ("上报时", "ingest"),
    "moment_audit": ("审计时", "audit"),
    "detail": ("明细", "Figures"),
    "evidence_events": ("证据事件", "Evidence events"),
    "battery_timelines": ("相关电池履历", "Battery timelines"),
    "no_findings": ("没有符合条件的违规线索", "No findings match"),
    "by_rule_counts": ("按规则计数", "Counts by rule"),
    "withdrawn_reason": ("撤回原因", "Withdrawn because"),
    # scorecards
    "scorecard": ("企业评分卡", "Enterprise scorecard"),
    "roles": ("角色", "Roles"),
    "events_reported": ("上报事件", "Events reported"),
    "on_time_pct": ("按时上报率", "On time"),
    "complete_pct": ("无缺报比例", "Without gaps"),
    "open_findings": ("未结线索", "Open findings"),
    "batteries_held": ("持有电池", "Batteries held"),
    "retired_held": ("其中退役", "of which retired"),
    "on_time_by_node": ("各环节按时上报", "On time by reporting node"),
    "node": ("环节", "Node"),
    "limit_wd": ("时限（工作日）", "Limit (working days)"),
    "reported": ("已上报", "Reported"),
    "late": ("迟报", "Late"),
    "held_by_state": ("持有电池（按状态）", "Batteries held, by state"),
    "mass_balance": ("质量平衡", "Mass balance"),
    "mass_intake": ("接收", "Taken in"),
    "mass_processed": ("处理", "Processed"),
    "mass_shipped": ("转出", "Shipped on"),
    "mass_held": ("库存", "In stock"),
    "mass_gap": ("未说明去向", "Unaccounted for"),
    "mass_note": (
        "按经手的不同编码统计，质量取电池登记质量；规则 BT-023 按期间给出正式判定。",
        "Distinct codes through its hands, at their registered mass; rule BT-023 judges "
        "each period formally.",
    ),
    "codes_n": ("编码数", "Codes"),
    "kg": ("千克", "kg"),
    "audit_as_of": ("审计日期", "Audit as of"),
    "batteries_of_holder": ("持有的电池", "Batteries held"),
    "incoming": ("运输中（发往本企业）", "In transit to it"),
    "view_batteries": ("查看持有电池", "See batteries held"),
    "registered_in": ("注册地", "Registered in"),
    # battery page
    "battery": ("电池", "Battery"),
    "timeline": ("事件履历", "Timeline"),
    "holders_chain": ("持有人链", "Chain of holders"),
    "vehicles_of_battery": ("装载车辆", "Vehicles"),
    "components": ("组成部件", "Component tree"),
    "reprocessing": ("再生关联", "Reprocessing links"),
    "inputs": ("原电池（输入）", "Inputs (original codes)"),
    "successor": ("新编码（再生产品）", "Successor (reprocessed product)"),
    "proof_status": ("存证校验", "Inclusion proof"),
    "proof_ok": ("已验证", "verified"),
    "proof_bad": ("校验失败", "FAILED"),
    "proof_pending": ("待检查点", "not yet checkpointed"),
    "proof_summary": (
        "每条事件的默克尔包含证明已在服务器端对照最新签名检查点（第 {size} 条）验证",
        "Each event's Merkle inclusion proof was verified server-side against the latest "
        "signed checkpoint (size {size})",
    ),
    "download_bundle": ("下载履历证明包（JSON）", "Download history bundle (JSON)"),
    "event_type": ("事件", "Event"),
    "event_time": ("发生时间", "Event time"),
    "recorded_at": ("记录时间", "Recorded"),
    "reporter": ("上报企业", "Reporter"),
    "leaf": ("日志序号", "Leaf"),
    "withdrawn": ("已被更正", "withdrawn"),
    "holder": ("持有人", "Holder"),
    "vin": ("车辆识别代号", "VIN"),
    "product_type": ("产品类型", "Product type"),
    "energy_kwh": ("能量 (kWh)", "Energy (kWh)"),
    "mass_kg": ("质量 (kg)", "Mass (kg)"),
    "production_month": ("生产月份", "Production month"),
    "application": ("用途", "Application"),
    "obligated": ("回收责任主体", "Recycling obligation"),
    "public_view_only": (
        "您只能查看公开信息。持有或经手该电池的企业登录后可查看完整履历。",
        "You see the public fields only. Enterprises that hold or held this battery see its "
        "full history after signing in.",
    ),
    "parent": ("所属上级", "Part of"),
    "from": ("自", "from"),
    "to": ("至", "to"),
    "since_time": ("起始", "Since"),
    # flows
    "flows_title": ("电池流向（桑基图）", "Battery flows (Sankey)"),
    "flows_hint": (
        "按发运事件统计的电池数量；红色为流向无资质企业（BT-011）。",
        "Batteries per shipment event; red marks flows to unqualified recipients (BT-011).",
    ),
    "shipments": ("发运次数", "Shipments"),
    "batteries_shipped": ("发运电池", "Batteries shipped"),
    "flagged": ("流向无资质企业", "To unqualified firms"),
    "unqualified_recipients": ("无资质接收方", "Unqualified recipients"),
    "received_batteries": ("接收电池数", "Batteries received"),
    "top_links": ("主要流向", "Largest flows"),
    "source": ("发出方", "From"),
    "target": ("接收方", "To"),
    "stage_battery_maker": ("电池生产企业", "Battery makers"),
    "stage_automaker": ("汽车生产企业", "Automakers"),
    "stage_repairer_dismantler": ("维修 / 拆解企业", "Repairers / dismantlers"),
    "stage_outlet": ("回收服务网点", "Collection outlets"),
    "stage_utiliser": ("综合利用企业", "Reprocessors / recyclers"),
    # public
    "lookup_title": ("查询动力电池", "Look up a traction battery"),
    "lookup_hint": (
        "输入或扫描电池标签上的编码（GB/T 34014）。",
        "Type or scan the code on the battery's label (GB/T 34014).",
    ),
    "code": ("编码", "Code"),
    "search": ("查询", "Look up"),
    "scan": ("扫码", "Scan"),
    "scan_stop": ("停止扫码", "Stop scanning"),
    "scan_unsupported": (
        "此浏览器不支持扫码，请手动输入编码。",
        "This browser cannot scan codes; please type the code.",
    ),
    "scan_photo": ("拍照识别", "Read from a photo"),
    "unknown_code": (
        "平台上没有这个编码的记录。若它印在电池上，可能是伪造编码，请谨慎。",
        "The platform has no record of this code. If it is printed on a battery, the code "
        "may be forged: be careful.",
    ),
    "is_vin": (
        "这是车辆识别代号（VIN），不是电池编码：请查看电池包上的 24 位编码",
        "This is a vehicle identification number (VIN), not a battery code: look for the "
        "24-character code on the battery pack",
    ),
    "is_uscc": (
        "这是企业统一社会信用代码，不是电池编码",
        "This is an enterprise's Unified Social Credit Code, not a battery code",
    ),
    "invalid_code": ("这不是有效的 GB/T 34014 电池编码", "This is not a valid GB/T 34014 code"),
    "warn_retired": (
        "这是一块退役的动力电池。依法禁止将退役动力电池（直接或加工后）用于电动自行车等领域。",
        "This is a retired traction battery. By law, retired traction batteries must not be "
        "used — directly or after processing — in electric bicycles or other prohibited uses.",
    ),
    "warn_prohibited": (
        "警告：该电池已被用于禁止的用途（{application}）。请立即停止使用并向监管部门举报。",
        "Warning: this battery is in a prohibited use ({application}). Stop using it and "
        "report it to the regulator.",
    ),
    "prohibited_uses": ("禁止用途", "Prohibited uses"),
    "status_category": ("状态", "Status"),
    "assembled_into": ("所在电池包", "Assembled into"),
    "unit_status": (
        "组装在电池包中，状态跟随该电池包：{status}",
        "a pack, whose status it shares: {status}",
    ),
    "reprocessed_product": ("再生产品", "Reprocessed product"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "public_fields_note": (
        "公开信息仅包含电池身份与状态，不含车辆识别代号、持有人等保密信息。",
        "Public information covers identity and status only: no VINs, holders or other "
        "confidential data.",
    ),
    "make_label": ("生成标签", "Make a label"),
    # labels
    "label_title": ("电池标签（二维码）", "Battery label (QR code)"),
    "label_hint": (
        "二维码指向公开查询页 {url}。打印尺寸 {mm} 毫米，300 dpi。",
        "The QR code opens the public page {url}. Printed size {mm} mm at 300 dpi.",
    ),
    "download_svg": ("下载 SVG", "Download SVG"),
    "download_png": ("下载 PNG", "Download PNG"),
    "datamatrix": ("Data Matrix 码", "Data Matrix"),
    "qr": ("二维码", "QR code"),
    "size_mm": ("尺寸（毫米）", "Size (mm)"),
    # upload
    "upload_title": ("上报事件表格", "Upload a spreadsheet of events"),
    "upload_hint": (
        "下载对应事件类型的模板，填写后上传 CSV 或 Excel 文件。每行一条事件；"
        "“编号”列是幂等键：同一编号重复上传只保存一次，可放心修改错误行后整表重新上传。",
        "Download the template of the event type, fill it in and upload it as CSV or XLSX. One "
        "event per row; the id column is the idempotency key: a row sent again is stored once, "
        "so fix the rows in error and upload the whole sheet again.",
    ),
    "templates": ("模板", "Templates"),
    "event_kind": ("事件类型", "Event type"),
    "file": ("文件", "File"),
    "send": ("上传", "Upload"),
    "row": ("行", "Row"),
    "result": ("结果", "Result"),
    "errors": ("问题", "Problems"),
    "res_accepted": ("已保存", "stored"),
    "res_duplicate": ("此前已保存（未重复保存）", "already stored (not stored again)"),
    "res_rejected": ("未保存", "not stored"),
    "res_skipped": ("未提交（先改正本行）", "not sent (fix this row first)"),
    "upload_summary": (
        "共 {rows} 行：保存 {accepted} 行，已存在 {duplicates} 行，未保存 {rejected} 行。",
        "{rows} rows: {accepted} stored, {duplicates} already stored, {rejected} not stored.",
    ),
    "upload_fix": (
        "请改正标红的行后，将整张表重新上传：已保存的行不会重复保存。",
        "Fix the rows marked red and upload the whole sheet again: stored rows are not stored "
        "twice.",
    ),
    "flags_raised": ("已生成违规线索", "finding raised"),
    # sign-in
    "signin_title": ("登录", "Sign in"),
    "signin_hint": (
        "使用平台签发的 API 密钥登录（监管部门或企业）。"
        "密钥不会保存在浏览器中，只保存一个签名会话。",
        "Sign in with the API key the platform issued you (regulator or enterprise). The key "
        "is not kept in the browser: only a signed session is.",
    ),
    "api_key": ("API 密钥", "API key"),
    "bad_key": ("密钥无效、未知或已吊销。", "The key is malformed, unknown or revoked."),
    "signin_required": ("请先登录。", "Please sign in first."),
    "signin_refused": (
        "未登录：登录表单已过期，或不是从本站提交的。请重新输入密钥并登录。",
        "Not signed in: the sign-in form has expired or was not sent from this site. Enter "
        "your key and sign in again.",
    ),
}

#: the figures of a finding (its `detail`), by key: the finding page names each in the
#: viewer's language beside the key itself (a test checks every key the rules write)
DETAIL_LABELS: dict[str, tuple[str, str]] = {
    "addressee": ("收货方", "addressee"),
    "also_missing_report": ("同时漏报", "also a missing report"),
    "application": ("用途", "application"),
    "as_of": ("截至", "as of"),
    "automaker": ("汽车生产企业", "automaker"),
    "calendar_exact": ("按官方日历精确计算", "counted on the official calendar"),
    "calendar_note": ("日历说明", "calendar note"),
    "code": ("电池编码", "battery code"),
    "codes": ("电池编码", "battery codes"),
    "complete_pct": ("无缺口比例 (%)", "lifecycles without gaps (%)"),
    "day": ("发生日期", "day"),
    "days": ("天数", "days"),
    "deadline": ("截止日期", "deadline"),
    "elements_not_declared": ("未申报元素", "elements not declared"),
    "ended_day": ("终结日期", "ended on"),
    "enterprise_name": ("企业名称", "enterprise name"),
    "event_id": ("事件编号", "event id"),
    "event_type": ("事件类型", "event type"),
    "first_reporter": ("首次上报企业", "first reporter"),
    "first_sold": ("首次销售", "first sale"),
    "gap_kg": ("差额 (kg)", "gap (kg)"),
    "gap_pct": ("差额比例 (%)", "gap (%)"),
    "gaps": ("缺口数", "gaps"),
    "holder": ("持有人", "holder"),
    "holder_name": ("持有人名称", "holder name"),
    "largest_gaps": ("最大缺口", "largest gaps"),
    "last_day": ("最后记录日期", "last event day"),
    "last_event_type": ("最后事件类型", "last event type"),
    "last_holder": ("最后持有人", "last holder"),
    "last_holders": ("最后持有人", "last holders"),
    "last_sold": ("最后销售", "last sale"),
    "late": ("迟报数", "late reports"),
    "lifecycles": ("经手编码数", "codes handled"),
    "limit": ("时限", "limit"),
    "missing": ("缺少的电池包", "missing packs"),
    "model": ("车型", "vehicle model"),
    "next_step": ("应有的下一步", "expected next step"),
    "node": ("上报环节", "reporting node"),
    "node_name": ("环节代号", "node id"),
    "obligated": ("回收责任主体", "obligated enterprise"),
    "on_time_pct": ("按时比例 (%)", "on time (%)"),
    "origin": ("来源", "origin"),
    "period": ("期间", "period"),
    "problem": ("问题", "problem"),
    "processed_kg": ("申报处理 (kg)", "processed (kg)"),
    "rates_pct": ("回收率 (%)", "recovery rates (%)"),
    "receipts": ("接收批次", "receipts"),
    "receipts_unknown_mass": ("质量不明的接收", "receipts of unknown mass"),
    "received_kg": ("接收 (kg)", "received (kg)"),
    "recipient": ("接收方", "recipient"),
    "recorded_day": ("上报日期", "recorded on"),
    "region": ("地区", "region"),
    "rejected_event": ("被拒事件", "rejected event"),
    "reportable": ("限时上报事件数", "reports with a deadline"),
    "reporter": ("上报企业", "reporter"),
    "scope": ("资质范围", "qualification scope"),
    "shipped_kg": ("发出 (kg)", "shipped (kg)"),
    "shortfalls": ("不足项", "shortfalls"),
    "since": ("起算日期", "since"),
    "situation": ("情形", "situation"),
    "state": ("状态", "state"),
    "stock_kg": ("库存 (kg)", "in stock (kg)"),
    "tolerance_pct": ("容差 (%)", "tolerance (%)"),
    "vehicles": ("车辆数", "vehicles"),
    "vin": ("车辆识别代号", "VIN"),
    "working_days": ("工作日数", "working days"),
    "working_days_taken": ("用时（工作日）", "working days taken"),
}


def detail_label(key: str, lang: str) -> str:
    """A finding figure's name in `lang` (the key itself when it has none)."""
    pair = DETAIL_LABELS.get(key)
    return key if pair is None else pair[0 if lang == "zh" else 1]


#: lifecycle states, public status categories, roles, event types, applications
TERMS: dict[str, tuple[str, str]] = {
    # event types first: one that is also a state or status category (`recycled` …) gets the
    # state's name below, which the pages show far more often
    **{t: (zh, t.replace("_", " ")) for t, zh in EVENT_TYPE_ZH.items()},
    "registered": ("已登记", "registered"),
    "in_transit": ("运输中", "in transit"),
    "in_stock": ("库存", "in stock"),
    "in_pack": ("已组装", "in a pack"),
    "in_vehicle": ("装车", "in a vehicle"),
    "in_use": ("使用中", "in use"),
    "used": ("废旧", "used"),
    "superseded": ("已再生", "reprocessed"),
    "dismantled": ("已拆解", "dismantled"),
    "recycled": ("已再生利用", "recycled"),
    "disposed": ("已处置", "disposed"),
    "new": ("新品", "new"),
    "assembled": ("已组装", "assembled"),
    "in_service": ("在用", "in service"),
    "retired": ("已退役", "retired"),
    "defect": ("故障", "defect"),
    "accident": ("事故", "accident"),
    "scrapping": ("报废", "scrapping"),
    "reprocessed": ("再生产品", "reprocessed"),
    "battery_maker": ("电池生产", "battery maker"),
    "automaker": ("汽车生产", "automaker"),
    "importer": ("进口商", "importer"),
    "repairer": ("维修", "repairer"),
    "swap_operator": ("换电运营", "swap operator"),
    "outlet": ("回收服务网点", "outlet"),
    "dismantler": ("报废拆解", "dismantler"),
    "reprocessor": ("再生产品利用", "reprocessor"),
    "recycler": ("再生利用", "recycler"),
    "regulator": ("监管部门", "regulator"),
    **APPLICATION_NAMES,
    "pack": ("电池包", "pack"),
    "module": ("模块", "module"),
    "cell": ("单体", "cell"),
    "high": ("高", "high"),
    "medium": ("中", "medium"),
    "low": ("低", "low"),
    "info": ("提示", "info"),
}


def pick_lang(value: str | None) -> str | None:
    """A supported language from a query value or cookie (None when not one)."""
    return value if value in LANGS else None


def t(key: str, lang: str, **kw: object) -> str:
    """The message `key` in `lang`, formatted with `kw`."""
    pair = MESSAGES.get(key)
    text = key if pair is None else pair[0] if lang == "zh" else pair[1]
    return text.format(**kw) if kw else text


def term(value: str | None, lang: str) -> str:
    """A domain word (state, role, event type, application) in `lang`."""
    if value is None:
        return "—"
    pair = TERMS.get(value)
    return value if pair is None else pair[0] if lang == "zh" else pair[1]

"""Every word the templates use exists in Chinese and English."""

from __future__ import annotations

import re

from battrace.web import i18n
from battrace.web.context import TEMPLATES
from battrace.web.pages import ERROR_TITLES

DYNAMIC = {
    "tier_": ("public", "enterprise", "regulator"),
    "status_": ("open", "withdrawn"),
    "moment_": ("ingest", "audit"),
    "res_": ("accepted", "duplicate", "rejected", "skipped"),
    "stage_": ("battery_maker", "automaker", "repairer_dismantler", "outlet", "utiliser"),
    "is_": ("vin", "uscc"),  # lookup.html: a VIN or USCC scanned by mistake
    # the timeline's field labels (_macros.html); they showed as raw field names
    "f_": (
        "to",
        "vin",
        "reason",
        "application",
        "site",
        "removed",
        "inputs",
        "parts",
        "batteries",
        "batteries_present",
        "certificate_no",
        "method",
    ),
}


def test_every_message_key_in_the_templates_is_translated():
    used: set[str] = set()
    for path in TEMPLATES.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(['"]([a-z_]+)['"]""", text))
    for prefix, values in DYNAMIC.items():
        used |= {prefix + v for v in values}
    used -= set(DYNAMIC)  # the prefixes of t('status_' ~ …) themselves
    used |= {k for title in ERROR_TITLES for k in (title, f"{title}_lead")}  # error_page
    missing = sorted(k for k in used if k not in i18n.MESSAGES)
    assert missing == []
    for key, (zh, en) in i18n.MESSAGES.items():
        assert zh and en, key


def test_unknown_words_fall_back_to_themselves():
    assert i18n.t("no_such_key", "en") == "no_such_key"
    assert i18n.term("in_vehicle", "zh") == "装车"
    assert i18n.term(None, "en") == "—"
    for reason in ("retired", "defect", "accident", "scrapping"):  # REMOVAL_REASONS
        assert i18n.term(reason, "zh") != reason
    assert i18n.pick_lang("fr") is None

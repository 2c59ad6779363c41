"""The words of the domain: event types, roles, lifecycle states, vocabularies (EVENTS.md)."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    """Every event type of EVENTS.md: battery events, the correction, and registry facts."""

    PRODUCED = "produced"
    SHIPPED = "shipped"
    RECEIVED = "received"
    INSTALLED = "installed"
    VEHICLE_SOLD = "vehicle_sold"
    REPLACED = "replaced"
    REMOVED = "removed"
    VEHICLE_SCRAPPED = "vehicle_scrapped"
    COLLECTED = "collected"
    REPROCESSED = "reprocessed"
    DEPLOYED = "deployed"
    DISMANTLED = "dismantled"
    RECYCLED = "recycled"
    DISPOSED = "disposed"
    CORRECTION = "correction"
    ENTERPRISE_REGISTERED = "enterprise_registered"
    MANUFACTURER_CODE_ASSIGNED = "manufacturer_code_assigned"
    QUALIFICATION_GRANTED = "qualification_granted"
    QUALIFICATION_REVOKED = "qualification_revoked"
    OUTLET_REGISTERED = "outlet_registered"
    VEHICLE_MODEL_REGISTERED = "vehicle_model_registered"

    @property
    def is_registry(self) -> bool:
        """True for registry facts (no battery)."""
        return self in REGISTRY_TYPES


#: Chinese names of the battery event types (finding messages; the dashboard's terms too)
EVENT_TYPE_ZH: dict[str, str] = {
    "produced": "生产",
    "shipped": "发运",
    "received": "接收",
    "installed": "装车",
    "vehicle_sold": "车辆销售",
    "replaced": "更换",
    "removed": "拆卸",
    "vehicle_scrapped": "车辆报废",
    "collected": "网点入库",
    "reprocessed": "再加工",
    "deployed": "投入使用",
    "dismantled": "拆解",
    "recycled": "再生利用",
    "disposed": "处置",
    "correction": "更正",
}

REGISTRY_TYPES = frozenset(
    {
        EventType.ENTERPRISE_REGISTERED,
        EventType.MANUFACTURER_CODE_ASSIGNED,
        EventType.QUALIFICATION_GRANTED,
        EventType.QUALIFICATION_REVOKED,
        EventType.OUTLET_REGISTERED,
        EventType.VEHICLE_MODEL_REGISTERED,
    }
)

#: event types about vehicles rather than a single battery
VEHICLE_TYPES = frozenset(
    {
        EventType.INSTALLED,
        EventType.VEHICLE_SOLD,
        EventType.REPLACED,
        EventType.REMOVED,
        EventType.VEHICLE_SCRAPPED,
    }
)


class Role(StrEnum):
    """Roles of enterprises on the platform (DOMAIN.md §2)."""

    BATTERY_MAKER = "battery_maker"
    AUTOMAKER = "automaker"
    IMPORTER = "importer"
    REPAIRER = "repairer"
    SWAP_OPERATOR = "swap_operator"
    OUTLET = "outlet"
    DISMANTLER = "dismantler"
    REPROCESSOR = "reprocessor"
    RECYCLER = "recycler"
    REGULATOR = "regulator"


class State(StrEnum):
    """Lifecycle states of one code (EVENTS.md, plus the additions documented in docs/events.md).

    Additions: `in_pack` (a module or cell assembled into a higher unit; it follows its parent),
    `in_use` (a reprocessed product deployed in its application), `disposed` (terminal).
    """

    REGISTERED = "registered"
    IN_TRANSIT = "in_transit"
    IN_STOCK = "in_stock"
    IN_VEHICLE = "in_vehicle"
    USED = "used"
    IN_PACK = "in_pack"
    IN_USE = "in_use"
    SUPERSEDED = "superseded"
    DISMANTLED = "dismantled"
    RECYCLED = "recycled"
    DISPOSED = "disposed"

    @property
    def ended(self) -> bool:
        """True when nothing more may happen to the code (BT-005)."""
        return self in ENDED_STATES


ENDED_STATES = frozenset({State.SUPERSEDED, State.DISMANTLED, State.RECYCLED, State.DISPOSED})


class Scope(StrEnum):
    """Scopes of a comprehensive-utilisation qualification (white list)."""

    REPROCESSING = "reprocessing"
    RECYCLING = "recycling"


CHEMISTRIES = frozenset({"LFP", "NCM", "NCA", "LMO", "LCO", "LTO", "NiMH", "sodium_ion", "other"})
#: the applications a battery may be deployed in, with their names in Chinese and English
#: (finding messages and the dashboard)
APPLICATION_NAMES: dict[str, tuple[str, str]] = {
    "energy_storage": ("储能", "energy storage"),
    "backup_power": ("备用电源", "backup power"),
    "telecom_base_station": ("通信基站", "telecom base station"),
    "low_speed_vehicle": ("低速车", "low-speed vehicle"),
    "e_bike": ("电动自行车", "e-bike"),
    "e_motorcycle": ("电动摩托车", "e-motorcycle"),
    "street_lighting": ("路灯", "street lighting"),
    "other": ("其他", "other"),
}
APPLICATIONS = frozenset(APPLICATION_NAMES)
REMOVAL_REASONS = frozenset({"retired", "defect", "accident", "scrapping"})
ELEMENTS = ("li", "ni", "co", "mn", "cu", "al")
REQUIRED_ELEMENTS = ("li", "ni", "co", "mn")

#: the recoverable elements each chemistry contains (what a recycler must declare for BT-014)
CHEMISTRY_ELEMENTS: dict[str, frozenset[str]] = {
    "LFP": frozenset({"li"}),
    "NCM": frozenset({"li", "ni", "co", "mn"}),
    "NCA": frozenset({"li", "ni", "co"}),
    "LCO": frozenset({"li", "co"}),
    "LMO": frozenset({"li", "mn"}),
    "LTO": frozenset({"li"}),
    "NiMH": frozenset({"ni"}),
}

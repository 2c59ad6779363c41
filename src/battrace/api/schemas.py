"""Request and response models of the HTTP API (separate from the domain's types).

They define the OpenAPI document; schemathesis checks every response against them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from battrace.domain.rules import RULES
from battrace.domain.vocab import Role

ResultStatus = Literal["accepted", "rejected", "duplicate"]
Category = Literal[
    "new", "assembled", "in_service", "retired", "reprocessed", "dismantled", "recycled"
]


#: rule ids of the catalogue (RULES.md)
RuleId = StrEnum("RuleId", {r: r for r in RULES})  # type: ignore[misc]
#: enterprise roles (DOMAIN.md §2)
RoleName = StrEnum("RoleName", {r.value: r.value for r in Role})  # type: ignore[misc]


class Out(BaseModel):
    """Base of response models."""

    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- events
#: One event of a batch. Deliberately unconstrained: each event is judged on its own and a bad
#: one is a rejected *result* (with reasons), never a failed request (EVENTS.md has the fields).
EVENT_SCHEMA: dict[str, Any] = {
    "description": "A lifecycle event or registry fact (EVENTS.md): an object with `id`, "
    "`type`, `time` (RFC 3339 with offset) and `reporter` (USCC), plus the fields of its "
    "type. An event that is not valid is rejected in its result, not with an error. "
    "`recorded_at` is rejected: the platform stamps it.",
    "examples": [
        {
            "id": "p-1",
            "type": "produced",
            "time": "2025-01-03T09:00:00+08:00",
            "reporter": "91110000000000002L",
            "battery": "001PB01TRACE01F120000001",
            "chemistry": "LFP",
            "rated_capacity_ah": 150,
            "nominal_voltage_v": 350,
            "energy_kwh": 52.5,
            "mass_kg": 350,
        }
    ],
}


def batch_schema(max_events: int) -> dict[str, Any]:
    """JSON schema of `POST /v1/events`."""
    return {
        "type": "object",
        "required": ["events"],
        "properties": {"events": {"type": "array", "maxItems": max_events, "items": EVENT_SCHEMA}},
        "additionalProperties": False,
    }


class ReasonOut(Out):
    """Why an event was rejected: the field, the rule (if one applies) and a sentence."""

    field: str
    rule: str | None
    message: str


class ReceiptOut(Out):
    """A receipt (docs/transparency-log.md §5): the event, its leaf, and an inclusion proof
    against the checkpoint cut after the batch (both null when no signing key is set up)."""

    format: str
    event: dict[str, Any]
    recorded_at: str
    reporter: str
    leaf_index: int
    leaf_hash: str
    inclusion_proof: list[str] | None
    checkpoint: str | None
    previous_checkpoint: str | None = None
    consistency_proof: list[str] | None = None


class EventResultOut(Out):
    """What happened to one submitted event."""

    index: int = Field(description="position in the batch")
    id: str | None
    reporter: str | None
    status: ResultStatus
    reasons: list[ReasonOut]
    leaf_index: int | None = None
    leaf_hash: str | None = None
    flags: list[str] = Field(description="rules this event raised findings for")
    recorded_at: str | None = None
    receipt: ReceiptOut | None = None


class BatchResultOut(Out):
    """The outcome of a batch: counts and a result per event, in order."""

    accepted: int
    rejected: int
    duplicates: int
    flags: dict[str, int]
    results: list[EventResultOut]


# ---------------------------------------------------------------- uploads
class UploadCreatedOut(Out):
    """An upload accepted for background processing."""

    id: str
    status: str
    bytes_total: int
    location: str


class UploadLineOut(Out):
    """The result of one line of an upload."""

    line: int
    id: Any = None
    reporter: Any = None
    status: ResultStatus
    reasons: list[ReasonOut]
    leaf_index: int | None
    leaf_hash: str | None
    flags: list[str]


class UploadOut(Out):
    """An upload's progress and a page of its results."""

    id: str
    status: Literal["queued", "running", "done", "failed"]
    enterprise: str
    filename: str | None
    bytes_total: int
    bytes_read: int
    progress: float
    lines: int
    accepted: int
    rejected: int
    duplicates: int
    flags: dict[str, int]
    error: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    results_total: int
    #: which lines have a stored result: "all", or every accepted line and the first 10,000
    #: rejected or duplicate ones (the rest are counted in `rejected` / `duplicates` only)
    results_kept: str
    results: list[UploadLineOut]
    next_offset: int | None


# ---------------------------------------------------------------- batteries and vehicles
class UnitOut(Out):
    """The pack (outermost unit) a module or cell is assembled into: its status, and in the
    full view its code."""

    status: Category
    code: str | None = None


class BatteryOut(Out):
    """A code's view. Public fields always; the rest only in the full view (`view: full`),
    which regulators and enterprises involved with the code get."""

    code: str
    product_type: str
    chemistry: str
    production_month: str | None
    energy_kwh: float | None
    status: Category
    #: for a module or cell assembled into a pack: the outermost unit, whose status `status` is
    unit: UnitOut | None
    reprocessed_product: bool
    application: str | None
    in_prohibited_use: bool
    prohibited_applications: list[str]
    successor: str | None
    inputs: list[str]
    view: Literal["public", "full"]
    # full view only
    state: str | None = None
    holder: str | None = None
    to: str | None = None
    retired: bool | None = None
    vin: str | None = None
    parent: str | None = None
    components: list[str] | None = None
    reprocessed: bool | None = None
    obligated: str | None = None
    mass_kg: float | None = None
    as_of: str | None = None
    history: list[dict[str, Any]] | None = None


class HistoryOut(Out):
    """A code's events in event-time order, with record time, leaf index and withdrawal."""

    code: str
    history: list[dict[str, Any]]


class BundleEntryOut(Out):
    """One event of a bundle with its inclusion proof."""

    event: dict[str, Any]
    recorded_at: str
    reporter: str
    leaf_index: int
    leaf_hash: str
    inclusion_proof: list[str] | None


class BundleOut(Out):
    """A code's history proven against one checkpoint (docs/transparency-log.md §5)."""

    format: str
    code: str
    checkpoint: str
    entries: list[BundleEntryOut]
    previous_checkpoint: str | None = None
    consistency_proof: list[str] | None = None


class PackStintOut(Out):
    """A pack's time in a vehicle."""

    code: str
    bound_at: str
    bound_by: str
    unbound_at: str | None
    unbound_by: str | None


class VehicleOut(Out):
    """A vehicle, the packs bound to it now and every pack it carried."""

    vin: str
    model: str | None
    automaker: str | None
    sold_on: str | None
    scrapped_on: str | None
    scrapped_by: str | None
    packs_now: list[str]
    packs: list[PackStintOut]
    history: list[dict[str, Any]]


# ---------------------------------------------------------------- compliance
class FindingOut(Out):
    """A compliance finding (RULES.md)."""

    id: int
    rule: str
    name: str | None
    moment: str
    severity: str
    enterprise: str | None
    codes: list[str]
    vins: list[str]
    events: list[str]
    subject_key: str
    found_at: str
    as_of: str | None
    message_zh: str
    message_en: str
    status: str
    withdrawn_at: str | None
    withdrawn_reason: str | None
    policy_version: str
    trigger_seq: int | None
    detail: dict[str, Any]


class FindingsPageOut(Out):
    """A page of findings, newest first."""

    items: list[FindingOut]
    limit: int
    offset: int
    next_offset: int | None


class ScorecardOut(Out):
    """Reporting quality (BT-025, as of the latest audit) and open findings by rule."""

    enterprise: str
    events_reported: int
    on_time_pct: float | None
    reportable: int | None
    late: int | None
    complete_pct: float | None
    lifecycles: int | None
    gaps: int | None
    as_of: str | None
    open_findings: int
    open_findings_by_rule: dict[str, int]


# ---------------------------------------------------------------- registry and policy
class QualificationOut(Out):
    """A grant of a white-list qualification."""

    enterprise: str
    scope: str
    valid_from: str
    valid_until: str | None
    revoked_on: str | None
    granted_by: str


class OutletInfoOut(Out):
    """An enterprise's outlet registration."""

    region: str
    address: str
    serves: list[str]


class EnterpriseSummaryOut(Out):
    """A registered enterprise."""

    uscc: str
    name: str
    roles: list[str]
    region: str


class EnterpriseOut(EnterpriseSummaryOut):
    """A registered enterprise with its codes, qualifications and outlet registration."""

    manufacturer_codes: list[str]
    qualifications: list[QualificationOut]
    outlet: OutletInfoOut | None
    served_by_outlets: list[str]


class OutletOut(Out):
    """A recycling service outlet."""

    enterprise: str
    region: str
    address: str
    serves: list[str]


class VehicleModelOut(Out):
    """A vehicle model."""

    model: str
    automaker: str
    swap_model: bool


class EnterprisesPageOut(Out):
    """A page of enterprises."""

    items: list[EnterpriseSummaryOut]
    limit: int
    offset: int
    next_offset: int | None


class QualificationsPageOut(Out):
    """A page of qualifications."""

    items: list[QualificationOut]
    limit: int
    offset: int
    next_offset: int | None


class OutletsPageOut(Out):
    """A page of outlets."""

    items: list[OutletOut]
    limit: int
    offset: int
    next_offset: int | None


class VehicleModelsPageOut(Out):
    """A page of vehicle models."""

    items: list[VehicleModelOut]
    limit: int
    offset: int
    next_offset: int | None


class PolicyOut(BaseModel):
    """The compliance policy in force (docs/policy.md)."""

    model_config = ConfigDict(extra="allow")

    version: str
    name: str
    fingerprint: str
    timezone: str
    prohibited_applications: list[str]


# ---------------------------------------------------------------- the log
class CheckpointOut(Out):
    """A signed tree head (C2SP tlog-checkpoint signed note)."""

    tree_size: int
    root_hash: str
    timestamp: str
    note: str


class InclusionProofOut(Out):
    """RFC 9162 inclusion proof of a leaf in the tree of `tree_size` leaves."""

    leaf_index: int
    tree_size: int
    leaf_hash: str
    proof: list[str]
    checkpoint: str | None


class ConsistencyProofOut(Out):
    """RFC 9162 consistency proof between two tree sizes."""

    first: int
    second: int
    proof: list[str]
    first_checkpoint: str | None
    second_checkpoint: str | None


class PublicKeyOut(Out):
    """The log's verifier key (golang.org/x/mod/sumdb/note format)."""

    verifier_key: str
    name: str
    origin: str


# ---------------------------------------------------------------- API keys
class KeyIssueIn(BaseModel):
    """Issue a key for a registered enterprise."""

    model_config = ConfigDict(extra="forbid")

    enterprise: str = Field(min_length=18, max_length=18, description="USCC")
    role: Literal["enterprise", "regulator"] = "enterprise"
    label: str | None = Field(default=None, max_length=200)


class ApiKeyOut(Out):
    """An API key (never its secret)."""

    key_id: str
    enterprise: str
    role: str
    label: str | None
    created_at: str
    revoked_at: str | None
    active: bool


class IssuedKeyOut(ApiKeyOut):
    """A key just issued: `key` is shown this once and stored only as a hash."""

    key: str


class ApiKeysOut(Out):
    """A page of API keys."""

    items: list[ApiKeyOut]
    limit: int
    offset: int
    next_offset: int | None


# ---------------------------------------------------------------- operations
class HealthOut(Out):
    """Liveness and the store's state."""

    status: Literal["ok"]
    store: str
    tree_size: int
    signing: bool


class ProblemOut(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


class ProblemTypeOut(Out):
    """A kind of problem the API answers with."""

    type: str
    kind: str
    status: int
    title: str
    description: str

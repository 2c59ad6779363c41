"""The store's schema (SQLAlchemy Core). Alembic migrations in `migrations/` create it.

Events are the single source of truth; every other table is a projection that
`battrace rebuild` recomputes from them. Tables about batteries are keyed by battery code
(or VIN) so a distributed engine could shard them by that key; the log itself is keyed by its
position (`seq` = Merkle leaf index).

Times are integers: microseconds since the Unix epoch, UTC (`*_us`). Masses are integer grams
and energies integer watt-hours, so sums are exact on every engine.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: 64-bit integer key; on SQLite the INTEGER PRIMARY KEY (rowid) form
Seq = BigInteger().with_variant(Integer(), "sqlite")

CODE = 24
USCC = 18
VIN = 17

#: One row: the log's head (tree size and the Merkle frontier). Writers lock it.
log_head = Table(
    "log_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("frontier", LargeBinary, nullable=False),
    Column("registry_version", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

#: The append-only log. One row per accepted event; `seq` is its Merkle leaf index.
events = Table(
    "events",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=False),
    Column("reporter", String(USCC), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("type", String(32), nullable=False),
    #: the battery the event is about (NULL for registry facts and list-form events)
    Column("code", String(CODE)),
    Column("vin", String(VIN)),
    Column("time_us", BigInteger, nullable=False),
    Column("recorded_us", BigInteger, nullable=False),
    #: RFC 8785 canonical JSON of the event exactly as accepted
    Column("payload", Text, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    #: Merkle nodes completed by this leaf (see battrace.ledger.merkle)
    Column("nodes", LargeBinary, nullable=False),
    UniqueConstraint("event_id", "reporter", name="uq_events_key"),
    Index(
        "ix_events_code",
        "code",
        sqlite_where=text("code IS NOT NULL"),
        postgresql_where=text("code IS NOT NULL"),
    ),
    Index(
        "ix_events_vin",
        "vin",
        sqlite_where=text("vin IS NOT NULL"),
        postgresql_where=text("vin IS NOT NULL"),
    ),
)

#: Codes an event touches besides `events.code` (lists, inputs, parts, components…).
event_codes = Table(
    "event_codes",
    metadata,
    Column("code", String(CODE), primary_key=True),
    Column("seq", Seq, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,
)

#: Corrections: the target no longer counts; both stay in the log.
withdrawals = Table(
    "withdrawals",
    metadata,
    Column("target_seq", Seq, primary_key=True, autoincrement=False),
    Column("correction_seq", BigInteger, nullable=False),
)

#: Projection: the current state of each code.
batteries = Table(
    "batteries",
    metadata,
    Column("code", String(CODE), primary_key=True),
    Column("product_type", String(8), nullable=False),
    Column("battery_type", String(1), nullable=False),
    Column("chemistry", String(16), nullable=False),
    Column("manufacturer", String(3), nullable=False),
    Column("state", String(16), nullable=False),
    Column("holder", String(USCC), nullable=False),
    Column("to_party", String(USCC)),
    Column("retired", Boolean, nullable=False),
    Column("vin", String(VIN)),
    Column("parent", String(CODE)),
    Column("successor", String(CODE)),
    Column("reprocessed", Boolean, nullable=False),
    Column("application", String(40)),
    Column("obligated", String(USCC)),
    Column("mass_g", BigInteger),
    Column("energy_wh", BigInteger),
    Column("since_us", BigInteger, nullable=False),
    Column("last_us", BigInteger, nullable=False),
    Column("first_seq", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    #: its holder (an outlet) collected it and has held it since (`Battery.collected`)
    Column("collected", Boolean, nullable=False, server_default=false()),
    Index("ix_batteries_holder", "holder"),
    Index(
        "ix_batteries_parent",
        "parent",
        sqlite_where=text("parent IS NOT NULL"),
        postgresql_where=text("parent IS NOT NULL"),
    ),
    Index(
        "ix_batteries_successor",
        "successor",
        sqlite_where=text("successor IS NOT NULL"),
        postgresql_where=text("successor IS NOT NULL"),
    ),
    #: parts freed by dismantling whose manufacturer code had no owner yet: an assignment
    #: gives them one (`Writer.oblige_unobligated`)
    Index(
        "ix_batteries_unobligated",
        "manufacturer",
        sqlite_where=text("obligated IS NULL"),
        postgresql_where=text("obligated IS NULL"),
    ),
)

#: Projection: vehicles and the packs bound to them now.
vehicles = Table(
    "vehicles",
    metadata,
    Column("vin", String(VIN), primary_key=True),
    Column("model", String(64)),
    Column("automaker", String(USCC)),
    #: codes bound now, space-separated, in binding order
    Column("packs", Text, nullable=False),
    Column("sold_on", String(10)),
    Column("sold_region", String(6)),
    Column("scrapped_on", String(10)),
    Column("scrapped_by", String(USCC)),
    Column("last_us", BigInteger, nullable=False),
    Column("first_seq", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
)

# ---------------------------------------------------------------- registry projections
enterprises = Table(
    "enterprises",
    metadata,
    Column("uscc", String(USCC), primary_key=True),
    Column("name", Text, nullable=False),
    #: roles, comma-separated
    Column("roles", Text, nullable=False),
    Column("region", String(6), nullable=False),
)
manufacturer_codes = Table(
    "manufacturer_codes",
    metadata,
    Column("manufacturer_code", String(3), primary_key=True),
    Column("enterprise", String(USCC), nullable=False),
)
qualifications = Table(
    "qualifications",
    metadata,
    Column("enterprise", String(USCC), primary_key=True),
    Column("scope", String(16), primary_key=True),
    Column("valid_from", String(10), primary_key=True),
    Column("valid_until", String(10)),
    Column("revoked_on", String(10)),
    Column("granted_by", String(USCC), nullable=False),
)
outlets = Table(
    "outlets",
    metadata,
    Column("enterprise", String(USCC), primary_key=True),
    Column("region", String(6), nullable=False),
    Column("address", Text, nullable=False),
)
outlet_serves = Table(
    "outlet_serves",
    metadata,
    Column("outlet", String(USCC), primary_key=True),
    Column("party", String(USCC), primary_key=True),
)
vehicle_models = Table(
    "vehicle_models",
    metadata,
    Column("model", String(64), primary_key=True),
    Column("automaker", String(USCC), nullable=False),
    Column("swap_model", Boolean, nullable=False),
)

# ---------------------------------------------------------------- compliance
findings = Table(
    "findings",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    Column("rule", String(8), nullable=False),
    Column("severity", String(8), nullable=False),
    #: USCC of the enterprise responsible (NULL when none can be named)
    Column("enterprise", String(USCC)),
    #: JSON lists
    Column("codes", Text, nullable=False),
    Column("vins", Text, nullable=False),
    Column("events", Text, nullable=False),
    #: identifies what the finding is about, so re-running an audit never duplicates it
    Column("subject_key", String(200), nullable=False),
    #: the log position of the event that raised it at ingest (NULL for audit findings)
    Column("trigger_seq", BigInteger),
    Column("found_us", BigInteger, nullable=False),
    Column("as_of", String(10)),
    Column("message_zh", Text, nullable=False),
    Column("message_en", Text, nullable=False),
    Column("status", String(10), nullable=False),
    Column("withdrawn_us", BigInteger),
    Column("withdrawn_reason", Text),
    Column("policy_version", String(64), nullable=False),
    #: rule-specific figures (JSON): deadlines, rates, masses…
    Column("detail", Text, nullable=False),
    Index("ix_findings_rule_status", "rule", "status"),
    Index("ix_findings_enterprise", "enterprise"),
    Index(
        "ix_findings_trigger",
        "trigger_seq",
        sqlite_where=text("trigger_seq IS NOT NULL"),
        postgresql_where=text("trigger_seq IS NOT NULL"),
    ),
    Index(
        "uq_findings_open_subject",
        "rule",
        "subject_key",
        unique=True,
        sqlite_where=text("status = 'open'"),
        postgresql_where=text("status = 'open'"),
    ),
)

# ---------------------------------------------------------------- transparency log
checkpoints = Table(
    "checkpoints",
    metadata,
    Column("tree_size", Seq, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("timestamp_us", BigInteger, nullable=False),
    #: the signed note (C2SP tlog-checkpoint)
    Column("note", Text, nullable=False),
)

#: Projection: live events per China-Standard-Time day and type, and the packs they retired
#: (removed other than at scrapping, the old pack of a replacement, each pack found at
#: scrapping). Dashboards read this instead of scanning the log.
event_stats = Table(
    "event_stats",
    metadata,
    Column("day", Integer, primary_key=True, autoincrement=False),
    Column("type", String(32), primary_key=True),
    Column("events", BigInteger, nullable=False),
    Column("retirements", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

PROJECTIONS = (
    batteries,
    vehicles,
    event_stats,
    enterprises,
    manufacturer_codes,
    qualifications,
    outlets,
    outlet_serves,
    vehicle_models,
)

# ---------------------------------------------------------------- API (not projections)
#: API keys. Only the SHA-256 of each token is kept; the token is shown once, at issue.
api_keys = Table(
    "api_keys",
    metadata,
    #: the public part of the token (`btk_<key_id>_<secret>`), used to name and revoke it
    Column("key_id", String(16), primary_key=True),
    Column("key_hash", LargeBinary(32), nullable=False),
    #: USCC of the enterprise (or regulator) the key speaks for
    Column("enterprise", String(USCC), nullable=False),
    #: access tier: `enterprise` or `regulator`
    Column("role", String(16), nullable=False),
    Column("label", Text),
    Column("created_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger),
    UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    Index("ix_api_keys_enterprise", "enterprise"),
)

#: Bulk uploads (`POST /v1/uploads`): one row per file, updated as it is processed.
uploads = Table(
    "uploads",
    metadata,
    Column("id", String(32), primary_key=True),
    #: the enterprise whose key sent it, and that key
    Column("enterprise", String(USCC), nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("filename", Text),
    #: queued | running | done | failed
    Column("status", String(10), nullable=False),
    Column("bytes_total", BigInteger, nullable=False),
    Column("bytes_read", BigInteger, nullable=False),
    Column("lines", BigInteger, nullable=False),
    Column("accepted", BigInteger, nullable=False),
    Column("rejected", BigInteger, nullable=False),
    Column("duplicates", BigInteger, nullable=False),
    #: JSON object: rule id -> events flagged
    Column("flags", Text, nullable=False),
    Column("error", Text),
    Column("created_us", BigInteger, nullable=False),
    Column("started_us", BigInteger),
    Column("finished_us", BigInteger),
    Index("ix_uploads_enterprise", "enterprise"),
)

#: The result of each line of an upload (the JSON of an ingest result, without receipts).
upload_results = Table(
    "upload_results",
    metadata,
    Column("upload_id", String(32), primary_key=True),
    Column("line", BigInteger, primary_key=True, autoincrement=False),
    #: accepted | rejected | duplicate
    Column("status", String(10), nullable=False),
    Column("event_id", String(64)),
    Column("reporter", String(USCC)),
    Column("leaf_index", BigInteger),
    #: JSON: reasons, leaf_hash, flags
    Column("detail", Text, nullable=False),
    Index("ix_upload_results_status", "upload_id", "status"),
)

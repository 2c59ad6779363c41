"""The audit's SQL for BT-021, BT-022, BT-024 and BT-025, and the findings it keeps in step.

`AuditSql` is the one object a run uses: the plumbing (`audit_base`), the mass balance
(`audit_mass`) and the statements here. See docs/compliance.md for every rule's definition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection, Row

from battrace.store.audit_mass import MassBalanceSql
from battrace.store.schema import findings

__all__ = ["AuditSql", "select_findings"]

#: columns of a finding as the audit writes it (besides id, status and withdrawal)
FOUND_COLUMNS = (
    "rule",
    "severity",
    "enterprise",
    "codes",
    "vins",
    "events",
    "subject_key",
    "found_us",
    "as_of",
    "message_zh",
    "message_en",
    "policy_version",
    "detail",
)
#: columns a kept finding takes from the latest run
_REFRESHED = (
    "severity",
    "enterprise",
    "codes",
    "vins",
    "events",
    "as_of",
    "message_zh",
    "message_en",
    "policy_version",
    "detail",
)


class AuditSql(MassBalanceSql):
    """Every audit statement, on one connection (its TEMP tables live as long as it does)."""

    # ------------------------------------------------------------ BT-021
    def missing_reports(self, limits: Sequence[tuple[str, int, int]]) -> Sequence[Sequence[Any]]:
        """Batteries whose state began before their category's limit: (category, before_us,
        limit_wd) per category. The category follows from the state, the VIN and the holder's
        role kind (au_roles)."""
        self._x(
            "CREATE TEMPORARY TABLE au_limits (category VARCHAR(40) PRIMARY KEY, "
            "before_us BIGINT NOT NULL, limit_wd INTEGER NOT NULL)"
        )
        self._many(
            "INSERT INTO au_limits (category, before_us, limit_wd) VALUES (:c, :b, :l)",
            [{"c": c, "b": b, "l": lim} for c, b, lim in limits],
        )
        latest = max((b for _, b, _ in limits), default=0)
        return list(
            self._x(
                """
                SELECT x.code, x.category, x.state, x.holder, x.to_party, x.vin, x.obligated,
                       x.since_us, x.last_seq, l.limit_wd, e.reporter, e.event_id, e.type
                FROM (
                    SELECT b.code, b.state, b.holder, b.to_party, b.vin, b.obligated,
                           b.since_us, b.last_seq,
                           CASE
                               WHEN b.state = 'in_transit' THEN 'shipment_not_received'
                               WHEN b.vin IS NOT NULL THEN 'scrapped_pack_not_removed'
                               WHEN r.kind = 'utiliser' THEN 'recycler_intake_not_processed'
                               WHEN r.kind = 'outlet' THEN 'outlet_intake_not_handed_over'
                               ELSE 'removed_not_collected'
                           END AS category
                    FROM batteries b
                    LEFT JOIN au_roles r ON r.uscc = b.holder
                    WHERE b.state IN ('in_transit', 'used') AND b.since_us < :latest
                ) x
                JOIN au_limits l ON l.category = x.category
                LEFT JOIN events e ON e.seq = x.last_seq
                WHERE x.since_us < l.before_us
                """,
                {"latest": latest},
            )
        )

    # ------------------------------------------------------------ BT-022
    def silent_batteries(self, before_us: int) -> Sequence[Sequence[Any]]:
        """Used batteries (held, or in transit) whose last event is before `before_us`."""
        return list(
            self._x(
                """
                SELECT b.code, b.state, b.holder, b.to_party, b.obligated, b.last_us,
                       b.last_seq, e.reporter, e.event_id, e.type
                FROM batteries b
                LEFT JOIN events e ON e.seq = b.last_seq
                WHERE b.state IN ('used', 'in_transit') AND b.retired = :yes
                  AND b.last_us < :before
                """,
                {"yes": True, "before": before_us},
            )
        )

    # ------------------------------------------------------------ BT-024
    def uncovered_sales(self, as_of: dt.date, sample: int) -> Sequence[Sequence[Any]]:
        """(automaker, prefecture, vehicles, first and last sale, a sample VIN, its rank) for
        every prefecture where an automaker sold vehicles by `as_of` and no registered outlet
        serving it sits. Province-level sale regions (`xx00xx`) name no prefecture."""
        return list(
            self._x(
                """
                WITH sold AS (
                    SELECT v.vin, v.automaker, substr(v.sold_region, 1, 4) AS pref, v.sold_on
                    FROM vehicles v
                    WHERE v.automaker IS NOT NULL AND v.sold_on IS NOT NULL
                      AND v.sold_on <= :as_of AND length(v.sold_region) = 6
                      AND substr(v.sold_region, 3, 2) <> '00'
                ), covered AS (
                    SELECT DISTINCT s.party AS automaker, substr(o.region, 1, 4) AS pref
                    FROM outlet_serves s JOIN outlets o ON o.enterprise = s.outlet
                ), gap AS (
                    SELECT s.vin, s.automaker, s.pref, s.sold_on,
                           COUNT(*) OVER (PARTITION BY s.automaker, s.pref) AS n,
                           MIN(s.sold_on) OVER (PARTITION BY s.automaker, s.pref) AS first_on,
                           MAX(s.sold_on) OVER (PARTITION BY s.automaker, s.pref) AS last_on,
                           ROW_NUMBER() OVER (PARTITION BY s.automaker, s.pref
                                              ORDER BY s.sold_on, s.vin) AS rn
                    FROM sold s
                    WHERE NOT EXISTS (SELECT 1 FROM covered c
                                      WHERE c.automaker = s.automaker AND c.pref = s.pref)
                )
                SELECT automaker, pref, n, first_on, last_on, vin, rn
                FROM gap WHERE rn <= :sample
                ORDER BY automaker, pref, rn
                """,
                {"as_of": as_of.isoformat(), "sample": sample},
            )
        )

    def sale_events(self, vins: Sequence[str]) -> dict[str, str]:
        """VIN -> `reporter/id` of its (live) vehicle_sold event."""
        out: dict[str, str] = {}
        for i in range(0, len(vins), 500):
            chunk = list(vins[i : i + 500])
            marks = ", ".join(f":v{k}" for k in range(len(chunk)))
            rows = self._x(
                f"""
                SELECT e.vin, e.reporter, e.event_id FROM events e
                WHERE e.vin IN ({marks}) AND e.type = 'vehicle_sold'
                  AND NOT EXISTS (SELECT 1 FROM withdrawals w WHERE w.target_seq = e.seq)
                """,
                {f"v{k}": v for k, v in enumerate(chunk)},
            )
            out.update({r[0]: f"{r[1]}/{r[2]}" for r in rows})
        return out

    # ------------------------------------------------------------ BT-025
    def events_by_reporter(
        self, types: Sequence[str], when_keys: Mapping[str, Sequence[str]], cutoff_us: int
    ) -> list[tuple[str, str, tuple[str | None, ...], int]]:
        """Live events up to the cutoff per (reporter, type, values of the `when` fields):
        `when_keys` maps each field to the event types whose nodes test it."""
        keys = sorted(when_keys)
        extra = []
        for key in keys:
            marks = ", ".join(f"'{t}'" for t in sorted(when_keys[key])) or "''"
            value = self.json_text("e.payload", key)
            extra.append(f"COALESCE(CASE WHEN e.type IN ({marks}) THEN {value} END, '')")
        wcols = [f"w{k}" for k in range(len(keys))]
        marks = ", ".join(f":t{i}" for i in range(len(types)))
        params: dict[str, Any] = {f"t{i}": t for i, t in enumerate(types)}
        params["cutoff"] = cutoff_us
        where = f"e.type IN ({marks}) AND e.time_us <= :cutoff"
        select_cols = ", ".join(
            ["e.reporter AS reporter", "e.type AS type"]
            + [f"{x} AS {w}" for x, w in zip(extra, wcols, strict=True)]
        )
        group = ", ".join(["reporter", "type", *wcols])
        counts: dict[tuple[str, str, tuple[str | None, ...]], int] = {}
        if self.pg:
            rows = list(
                self._x(
                    f"SELECT {group}, COUNT(*) FROM (SELECT {select_cols} FROM events e "
                    f"WHERE {where}) x GROUP BY {group}",
                    params,
                )
            )
        else:
            # SQLite sorts to GROUP BY: on ten million rows an upsert into a small keyed
            # table is three times faster
            wdefs = "".join(f", {w} TEXT" for w in wcols)
            self._x(
                f"CREATE TEMPORARY TABLE au_evcount (reporter VARCHAR(18), type VARCHAR(32)"
                f"{wdefs}, n BIGINT, PRIMARY KEY ({group}))"
            )
            self._x(
                f"INSERT INTO au_evcount ({group}, n) SELECT {select_cols}, 1 FROM events e "
                f"WHERE {where} ON CONFLICT ({group}) DO UPDATE SET n = n + 1",
                params,
            )
            rows = list(self._x(f"SELECT {group}, n FROM au_evcount"))
            self._x("DROP TABLE au_evcount")
        withdrawn = self._x(
            f"SELECT {group}, COUNT(*) FROM (SELECT {select_cols} FROM events e "
            f"WHERE e.seq IN (SELECT w.target_seq FROM withdrawals w) AND {where}) x "
            f"GROUP BY {group}",
            params,
        )
        for sign, source in ((1, rows), (-1, list(withdrawn))):
            for r in source:
                values = tuple(v if v != "" else None for v in r[2 : 2 + len(keys)])
                counts[(r[0], r[1], values)] = counts.get((r[0], r[1], values), 0) + sign * int(
                    r[-1]
                )
        return [(k[0], k[1], k[2], n) for k, n in sorted(counts.items(), key=_sort_key) if n]

    def late_by_reporter(self, cutoff_us: int) -> dict[str, int]:
        """Open BT-020 (late report) findings per enterprise, for events up to the cutoff."""
        rows = self._x(
            """
            SELECT f.enterprise, COUNT(*) FROM findings f JOIN events e ON e.seq = f.trigger_seq
            WHERE f.rule = 'BT-020' AND f.status = 'open' AND f.trigger_seq IS NOT NULL
              AND e.time_us <= :cutoff AND f.enterprise IS NOT NULL
            GROUP BY f.enterprise
            """,
            {"cutoff": cutoff_us},
        )
        return {r[0]: int(r[1]) for r in rows}

    def lifecycles_by_party(self, cutoff_us: int) -> dict[str, int]:
        """Codes per party whose next step is theirs: the holder, or the addressee while in
        transit (components inside a unit are not lifecycles of their own)."""
        rows = self._x(
            """
            SELECT party, COUNT(*) FROM (
                SELECT CASE WHEN b.state = 'in_transit' THEN b.to_party ELSE b.holder END
                       AS party
                FROM batteries b WHERE b.state <> 'in_pack' AND b.since_us <= :cutoff
            ) x WHERE party IS NOT NULL GROUP BY party
            """,
            {"cutoff": cutoff_us},
        )
        return {r[0]: int(r[1]) for r in rows}

    def open_gaps_by_enterprise(self) -> dict[str, int]:
        """Open BT-021 (missing report) findings per enterprise."""
        rows = self._x(
            """
            SELECT enterprise, COUNT(*) FROM findings
            WHERE rule = 'BT-021' AND status = 'open' AND enterprise IS NOT NULL
            GROUP BY enterprise
            """
        )
        return {r[0]: int(r[1]) for r in rows}

    # ------------------------------------------------------------ findings
    def sync_findings(
        self, rule: str, found: Sequence[Mapping[str, Any]], *, now_us: int, reason: str
    ) -> tuple[int, int, int]:
        """Make the open audit findings of `rule` exactly `found` (keyed by subject): insert the
        new ones, refresh the kept ones, withdraw the rest. Returns (new, kept, withdrawn).

        Ingest-time findings (trigger_seq set) are never touched. The first statement on the
        store is a write, so on SQLite the transaction takes the write lock before it reads.
        """
        self._x("DROP TABLE IF EXISTS au_found")
        self._x(
            "CREATE TEMPORARY TABLE au_found (rule VARCHAR(8), severity VARCHAR(8), "
            "enterprise VARCHAR(18), codes TEXT, vins TEXT, events TEXT, "
            "subject_key VARCHAR(200) PRIMARY KEY, found_us BIGINT, as_of VARCHAR(10), "
            "message_zh TEXT, message_en TEXT, policy_version VARCHAR(64), detail TEXT)"
        )
        cols = ", ".join(FOUND_COLUMNS)
        marks = ", ".join(["%s" if self.pg else "?"] * len(FOUND_COLUMNS))
        rows = [tuple(f[c] for c in FOUND_COLUMNS) for f in found]
        for i in range(0, len(rows), 5000):
            # the driver's own executemany: SQLAlchemy's per-row parameter work would dominate
            self.c.exec_driver_sql(
                f"INSERT INTO au_found ({cols}) VALUES ({marks})", rows[i : i + 5000]
            )
        self._analyze("au_found")
        mine = "findings.rule = :rule AND findings.status = 'open' AND findings.trigger_seq IS NULL"
        withdrawn = self._x(
            f"""
            UPDATE findings SET status = 'withdrawn', withdrawn_us = :now,
                   withdrawn_reason = :reason
            WHERE {mine} AND NOT EXISTS (SELECT 1 FROM au_found f
                                         WHERE f.subject_key = findings.subject_key)
            """,
            {"rule": rule, "now": now_us, "reason": reason},
        ).rowcount
        sets = ", ".join(f"{c} = f.{c}" for c in _REFRESHED)
        changed = " OR ".join(f"findings.{c} <> f.{c}" for c in _REFRESHED if c != "enterprise")
        self._x(
            f"""
            UPDATE findings SET {sets}
            FROM au_found f
            WHERE {mine} AND findings.subject_key = f.subject_key
              AND ({changed} OR findings.enterprise IS NULL AND f.enterprise IS NOT NULL
                   OR findings.enterprise <> f.enterprise)
            """,
            {"rule": rule},
        )
        new = self._x(
            f"""
            INSERT INTO findings ({cols}, trigger_seq, status)
            SELECT {", ".join(f"f.{c}" for c in FOUND_COLUMNS)}, NULL, 'open'
            FROM au_found f
            WHERE NOT EXISTS (SELECT 1 FROM findings x
                              WHERE x.rule = :rule AND x.status = 'open'
                                AND x.subject_key = f.subject_key)
            """,
            {"rule": rule},
        ).rowcount
        self._x("DROP TABLE au_found")
        return int(new), len(found) - int(new), int(withdrawn)

    def open_findings(self, rules: Sequence[str]) -> list[Row[Any]]:
        """The open audit findings of these rules."""
        q = (
            select(findings)
            .where(
                and_(
                    findings.c.rule.in_(list(rules)),
                    findings.c.status == "open",
                    findings.c.trigger_seq.is_(None),
                )
            )
            .order_by(findings.c.rule, findings.c.id)
        )
        return list(self.c.execute(q))


def select_findings(
    conn: Connection,
    *,
    rule: str | None = None,
    enterprise: str | None = None,
    status: str | None = None,
    since_us: int | None = None,
    until_us: int | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> list[Row[Any]]:
    """Stored findings (ingest and audit), newest first, filtered."""
    q = select(findings)
    if rule is not None:
        q = q.where(findings.c.rule == rule)
    if enterprise is not None:
        q = q.where(findings.c.enterprise == enterprise)
    if status is not None:
        q = q.where(findings.c.status == status)
    if since_us is not None:
        q = q.where(findings.c.found_us >= since_us)
    if until_us is not None:
        q = q.where(findings.c.found_us <= until_us)
    q = q.order_by(findings.c.found_us.desc(), findings.c.id.desc())
    if limit is not None:
        q = q.limit(limit)
    if offset is not None:
        q = q.offset(offset)
    return list(conn.execute(q))


def _sort_key(item: tuple[tuple[str, str, tuple[str | None, ...]], int]) -> tuple[Any, ...]:
    (reporter, kind, values), _ = item
    return (reporter, kind, tuple("" if v is None else v for v in values))


def open_findings_by_rule(conn: Connection, enterprise: str) -> dict[str, int]:
    """An enterprise's open findings counted by rule, in rule order, without its BT-025
    reporting-quality score (a measure, not a breach)."""
    return {
        rule: int(n)
        for rule, n in conn.execute(
            select(findings.c.rule, func.count())
            .where(
                findings.c.enterprise == enterprise,
                findings.c.status == "open",
                findings.c.rule != "BT-025",
            )
            .group_by(findings.c.rule)
            .order_by(findings.c.rule)
        )
    }

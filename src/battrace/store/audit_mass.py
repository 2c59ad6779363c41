"""BT-023 mass balance in SQL: the utilisers' receipts followed to their fate, in grams.

See docs/compliance.md for the definition. One scan of the log collects the utilisers' custody
events; every receipt is then followed, by one index probe, to the utiliser's next event on
that code; dismantled packs are followed through their parts (`WITH RECURSIVE`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from battrace.store.audit_base import AuditBase

#: event types that move a used battery into, or out of, a utiliser's hands
UTILISER_EVENT_TYPES = (
    "received",
    "shipped",
    "recycled",
    "dismantled",
    "reprocessed",
    "deployed",
    "disposed",
)


class MassBalanceSql(AuditBase):
    """The BT-023 statements (they share the run's TEMP tables)."""

    def load_periods(self, periods: Sequence[tuple[str, int, int]]) -> None:
        """The contiguous periods, (key, start_us, end_us) half-open, receipts fall into."""
        self._periods = list(periods)

    def _period_case(self, column: str) -> tuple[str, dict[str, Any]]:
        """SQL naming the period of a time column (NULL outside), and its parameters: a CASE
        over a few dozen bounds is cheaper than a range join per row."""
        params: dict[str, Any] = {"pstart": self._periods[0][1] if self._periods else 0}
        whens = []
        for i, (key, _, end) in enumerate(self._periods):
            whens.append(f"WHEN {column} < :pe{i} THEN :pk{i}")
            params[f"pe{i}"], params[f"pk{i}"] = end, key
        if not whens:
            return "NULL", params
        return f"CASE WHEN {column} < :pstart THEN NULL {' '.join(whens)} END", params

    def utiliser_events(self, utilisers: Iterable[str], cutoff_us: int) -> None:
        """au_uev: the utilisers' live custody events up to the cutoff (one scan of the log),
        with the declared input mass of `recycled` events; au_ucode: one row per (code,
        event), indexed to find a code's next event."""
        self._x("CREATE TEMPORARY TABLE au_util (uscc VARCHAR(18) PRIMARY KEY)")
        self._many(
            "INSERT INTO au_util (uscc) VALUES (:u)", [{"u": u} for u in sorted(set(utilisers))]
        )
        self._x(
            f"CREATE TEMPORARY TABLE au_uev (seq {self._seq_key}, reporter VARCHAR(18), "
            "type VARCHAR(32), code VARCHAR(24), time_us BIGINT, declared_g BIGINT)"
        )
        types = ", ".join(f"'{t}'" for t in UTILISER_EVENT_TYPES)
        self._x(
            f"""
            INSERT INTO au_uev (seq, reporter, type, code, time_us, declared_g)
            SELECT e.seq, e.reporter, e.type, e.code, e.time_us,
                   CASE WHEN e.type = 'recycled'
                        THEN {self.json_grams("e.payload", "input_mass_kg")}
                        WHEN e.type = 'disposed'
                        THEN {self.json_grams("e.payload", "mass_kg")} END
            FROM events e
            WHERE e.reporter IN (SELECT uscc FROM au_util)
              AND e.type IN ({types})
              AND e.time_us <= :cutoff
              AND NOT EXISTS (SELECT 1 FROM withdrawals w WHERE w.target_seq = e.seq)
            """,
            {"cutoff": cutoff_us},
        )
        self._analyze("au_uev")
        self._x(
            "CREATE TEMPORARY TABLE au_ucode (code VARCHAR(24), seq BIGINT, "
            "reporter VARCHAR(18), type VARCHAR(32), time_us BIGINT)"
        )
        # the subject codes: the event's own `code`, or its list (shipped/received
        # `batteries`) and a reprocessed product's inputs, which live in event_codes
        self._x(
            """
            INSERT INTO au_ucode (code, seq, reporter, type, time_us)
            SELECT u.code, u.seq, u.reporter, u.type, u.time_us
            FROM au_uev u
            WHERE u.code IS NOT NULL AND u.type NOT IN ('reprocessed', 'disposed')
            """
        )
        self._x(
            """
            INSERT INTO au_ucode (code, seq, reporter, type, time_us)
            SELECT c.code, u.seq, u.reporter, u.type, u.time_us
            FROM au_uev u JOIN event_codes c ON c.seq = u.seq
            WHERE u.type IN ('received', 'shipped', 'reprocessed')
            """
        )
        self._x("CREATE INDEX au_ucode_next ON au_ucode (code, reporter, time_us, seq)")
        self._analyze("au_ucode")

    def first_receipt_us(self) -> int | None:
        """The earliest receipt by a utiliser (au_uev), if any."""
        value = self._x("SELECT MIN(time_us) FROM au_uev WHERE type = 'received'").scalar()
        return None if value is None else int(value)

    def dismantled_lots(self) -> None:
        """au_lotsum: for each pack a utiliser dismantled, what its parts (recursively)
        account for: declared recycled mass, known mass reprocessed and shipped, parts of
        unknown mass that left, parts still held."""
        self._x(
            "CREATE TEMPORARY TABLE au_lot (root VARCHAR(24), reporter VARCHAR(18), "
            "code VARCHAR(24))"
        )
        self._x(
            """
            WITH RECURSIVE lot(root, reporter, code) AS (
                SELECT d.code, d.reporter, b.code
                FROM au_uev d JOIN batteries b ON b.parent = d.code
                WHERE d.type = 'dismantled'
                UNION
                SELECT lot.root, lot.reporter, b.code
                FROM lot JOIN batteries b ON b.parent = lot.code
            )
            INSERT INTO au_lot (root, reporter, code) SELECT root, reporter, code FROM lot
            """
        )
        # the declared mass of what was left of a dismantled unit (its casing) and disposed of
        self._x(
            "CREATE TEMPORARY TABLE au_disp (code VARCHAR(24), reporter VARCHAR(18), "
            "disposed_g BIGINT, PRIMARY KEY (code, reporter))"
        )
        self._x(
            """
            INSERT INTO au_disp (code, reporter, disposed_g)
            SELECT code, reporter, SUM(declared_g) FROM au_uev
            WHERE type = 'disposed' AND code IS NOT NULL AND declared_g IS NOT NULL
            GROUP BY code, reporter
            """
        )
        self._x(
            "CREATE TEMPORARY TABLE au_lotsum (root VARCHAR(24), reporter VARCHAR(18), "
            "declared_g BIGINT, processed_g BIGINT, shipped_g BIGINT, unknown_n BIGINT, "
            "pending_n BIGINT)"
        )
        # each part's first own event by the utiliser decides what it accounts for; a part
        # it dismantled further is accounted for by its own parts and its disposed remains
        self._x(
            """
            INSERT INTO au_lotsum (root, reporter, declared_g, processed_g, shipped_g,
                                   unknown_n, pending_n)
            SELECT p.root, p.reporter,
                   SUM(CASE WHEN p.type = 'recycled' THEN p.declared_g
                            WHEN p.type = 'dismantled' THEN COALESCE(p.disposed_g, 0)
                            ELSE 0 END),
                   SUM(CASE WHEN p.type = 'reprocessed' THEN p.mass_g ELSE 0 END),
                   SUM(CASE WHEN p.type IN ('shipped', 'deployed') THEN p.mass_g ELSE 0 END),
                   SUM(CASE WHEN p.type IN ('reprocessed', 'shipped', 'deployed')
                             AND p.mass_g IS NULL THEN 1 ELSE 0 END),
                   SUM(CASE WHEN p.type IS NULL AND p.state IN ('used', 'in_transit')
                            THEN 1 ELSE 0 END)
            FROM (
                SELECT l.root, l.reporter, b.mass_g, b.state, n.type, n.declared_g,
                       d.disposed_g
                FROM au_lot l
                JOIN batteries b ON b.code = l.code
                LEFT JOIN au_uev n ON n.seq = (
                    SELECT o.seq FROM au_ucode o
                    WHERE o.code = l.code AND o.reporter = l.reporter
                      AND o.type IN ('recycled', 'reprocessed', 'shipped', 'deployed',
                                     'dismantled')
                    ORDER BY o.time_us, o.seq LIMIT 1)
                LEFT JOIN au_disp d ON d.code = l.code AND d.reporter = l.reporter
            ) p
            GROUP BY p.root, p.reporter
            """
        )
        self._x("CREATE INDEX au_lotsum_root ON au_lotsum (root, reporter)")

    def account_receipts(self) -> None:
        """au_acc: every receipt by a utiliser, followed to the utiliser's next event on that
        code (its fate), with its period and terms in grams (received, processed, shipped, in
        stock), and whether a mass it needs is unknown."""
        lot_done = "(s.declared_g + s.processed_g + s.shipped_g + COALESCE(d.disposed_g, 0))"
        period, params = self._period_case("f.t_in")
        self._x(
            "CREATE TEMPORARY TABLE au_acc (reporter VARCHAR(18), period VARCHAR(16), "
            "code VARCHAR(24), next_seq BIGINT, received_g BIGINT, processed_g BIGINT, "
            "shipped_g BIGINT, stock_g BIGINT, unknown INTEGER)"
        )
        # the fate is found by one index probe per receipt (cheaper on SQLite than a window
        # over every row); a dismantled pack with no part on record is processed whole
        self._x(
            f"""
            INSERT INTO au_acc (reporter, period, code, next_seq, received_g, processed_g,
                                shipped_g, stock_g, unknown)
            SELECT f.reporter, {period}, f.code, f.next_seq, b.mass_g,
                   CASE WHEN n.type = 'recycled' THEN n.declared_g
                        WHEN n.type = 'reprocessed' THEN b.mass_g
                        WHEN n.type = 'dismantled' AND s.root IS NULL THEN b.mass_g
                        WHEN n.type = 'dismantled'
                             THEN s.declared_g + s.processed_g + COALESCE(d.disposed_g, 0)
                        ELSE 0 END,
                   CASE WHEN n.type IN ('shipped', 'deployed') THEN b.mass_g
                        WHEN n.type = 'dismantled' AND s.root IS NOT NULL THEN s.shipped_g
                        ELSE 0 END,
                   CASE WHEN n.type IS NULL OR n.type = 'received' THEN b.mass_g
                        WHEN n.type = 'dismantled' AND s.pending_n > 0
                             AND b.mass_g > {lot_done}
                             THEN b.mass_g - {lot_done}
                        ELSE 0 END,
                   CASE WHEN b.mass_g IS NULL OR COALESCE(s.unknown_n, 0) > 0
                        OR (n.type = 'recycled' AND n.declared_g IS NULL)
                        THEN 1 ELSE 0 END
            FROM (
                SELECT r.code, r.reporter, r.time_us AS t_in,
                       (SELECT o.seq FROM au_ucode o
                        WHERE o.code = r.code AND o.reporter = r.reporter
                          AND (o.time_us > r.time_us
                               OR (o.time_us = r.time_us AND o.seq > r.seq))
                        ORDER BY o.time_us, o.seq LIMIT 1) AS next_seq
                FROM au_ucode r
                WHERE r.type = 'received'
            ) f
            JOIN batteries b ON b.code = f.code AND b.retired = :yes
            LEFT JOIN au_uev n ON n.seq = f.next_seq
            LEFT JOIN au_lotsum s ON s.root = f.code AND s.reporter = f.reporter
                 AND n.type = 'dismantled'
            LEFT JOIN au_disp d ON d.code = f.code AND d.reporter = f.reporter
                 AND s.root IS NOT NULL
            """,
            {"yes": True, **params},
        )
        self._analyze("au_acc")

    def mass_balances(self) -> Sequence[Sequence[Any]]:
        """Per utiliser and period of receipt: receipts, grams received, processed, shipped,
        in stock, and receipts left out for want of a known mass."""
        return list(
            self._x(
                """
                SELECT reporter, period, COUNT(*),
                       SUM(CASE WHEN unknown = 0 THEN received_g ELSE 0 END),
                       SUM(CASE WHEN unknown = 0 THEN processed_g ELSE 0 END),
                       SUM(CASE WHEN unknown = 0 THEN shipped_g ELSE 0 END),
                       SUM(CASE WHEN unknown = 0 THEN stock_g ELSE 0 END),
                       SUM(unknown)
                FROM au_acc
                WHERE period IS NOT NULL
                GROUP BY reporter, period
                """
            )
        )

    def mass_gaps(self, reporters: Sequence[str], limit: int) -> Sequence[Sequence[Any]]:
        """For these utilisers, the receipts of each period that leave the largest gaps
        (evidence): reporter, period, code, grams received, processed, shipped, in stock, and
        the fate event's `reporter`, `id`."""
        if not reporters:
            return []
        marks = ", ".join(f":r{i}" for i in range(len(reporters)))
        params: dict[str, Any] = {f"r{i}": r for i, r in enumerate(reporters)}
        params["n"] = limit
        return list(
            self._x(
                f"""
                SELECT g.reporter, g.period, g.code, g.received_g, g.processed_g, g.shipped_g,
                       g.stock_g, e.reporter, e.event_id
                FROM (
                    SELECT a.*, ROW_NUMBER() OVER (
                        PARTITION BY a.reporter, a.period
                        ORDER BY abs(a.received_g - a.processed_g - a.shipped_g - a.stock_g)
                                 DESC, a.code) AS rn
                    FROM au_acc a
                    WHERE a.reporter IN ({marks}) AND a.unknown = 0
                      AND a.received_g <> a.processed_g + a.shipped_g + a.stock_g
                ) g
                LEFT JOIN events e ON e.seq = g.next_seq
                WHERE g.rn <= :n
                ORDER BY g.reporter, g.period, g.rn
                """,
                params,
            )
        )

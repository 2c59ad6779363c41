"""The audit's SQL plumbing: one connection per run, its TEMP tables, and dialect helpers.

Every audit query is a set-based statement over the projections or the log, portable between
SQLite (>= 3.33) and PostgreSQL: window functions, `WITH RECURSIVE`, `UPDATE … FROM`. Per-run
inputs (role kinds, limits, periods, candidate findings) go into TEMP tables (`au_*`) on the
run's one connection and are dropped afterwards. Values are bound parameters, never pasted in;
the dialects differ only in reading a field out of a JSON payload and in DDL details.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

#: every TEMP table a run may create
TEMP_TABLES = (
    "au_roles",
    "au_limits",
    "au_util",
    "au_uev",
    "au_ucode",
    "au_lot",
    "au_lotsum",
    "au_disp",
    "au_evcount",
    "au_acc",
    "au_found",
)


class AuditBase:
    """The audit's queries on one connection (its TEMP tables live as long as the connection)."""

    def __init__(self, conn: Connection) -> None:
        self.c = conn
        self.pg = conn.dialect.name == "postgresql"
        self._periods: list[tuple[str, int, int]] = []
        # SQLite's rowid (appends in log order are cheap); PostgreSQL needs 64 bits for a log
        # of billions of events
        self._seq_key = "BIGINT PRIMARY KEY" if self.pg else "INTEGER PRIMARY KEY"

    # ------------------------------------------------------------ plumbing
    def _x(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.c.execute(text(sql), dict(params or {}))

    def _many(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.c.execute(text(sql), list(rows))

    def _analyze(self, table: str) -> None:
        # PostgreSQL never auto-analyses TEMP tables; without statistics it plans big joins badly.
        if self.pg:
            self._x(f"ANALYZE {table}")

    def json_grams(self, column: str, key: str) -> str:
        """SQL for `round(<payload>.<key> * 1000)` as an integer: kilograms to grams."""
        if self.pg:
            return (
                f"CAST(ROUND(CAST(CAST({column} AS jsonb) ->> '{key}' AS numeric) * 1000) "
                "AS BIGINT)"
            )
        return f"CAST(ROUND(json_extract({column}, '$.{key}') * 1000) AS INTEGER)"

    def json_text(self, column: str, key: str) -> str:
        """SQL for the text of a top-level payload field."""
        if self.pg:
            return f"(CAST({column} AS jsonb) ->> '{key}')"
        return f"CAST(json_extract({column}, '$.{key}') AS TEXT)"

    def widen_cache(self, kib: int) -> int | None:
        """On SQLite, give this connection a page cache of `kib` KiB for the run (the audit
        revisits the same pages across statements); the previous setting, to restore."""
        if self.pg:
            return None
        before = int(self.c.exec_driver_sql("PRAGMA cache_size").scalar_one())
        self.c.exec_driver_sql(f"PRAGMA cache_size = {-int(kib)}")
        return before

    def restore_cache(self, before: int | None) -> None:
        """Undo `widen_cache` (a pooled connection outlives the run)."""
        if before is not None:
            self.c.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")

    def drop_temp(self) -> None:
        """Drop every TEMP table of a run (a pooled connection outlives it)."""
        for table in TEMP_TABLES:
            self._x(f"DROP TABLE IF EXISTS {table}")

    def commit(self) -> None:
        """End the current transaction."""
        self.c.commit()

    # ------------------------------------------------------------ registry
    def enterprises(self) -> dict[str, tuple[str, frozenset[str]]]:
        """Every registered enterprise: USCC -> (name, roles)."""
        rows = self._x("SELECT uscc, name, roles FROM enterprises").all()
        return {r[0]: (r[1], frozenset(x for x in r[2].split(",") if x)) for r in rows}

    def load_roles(self, kinds: Mapping[str, str]) -> None:
        """au_roles: enterprise -> role kind (`utiliser`, `outlet`, `other`)."""
        self._x("CREATE TEMPORARY TABLE au_roles (uscc VARCHAR(18) PRIMARY KEY, kind VARCHAR(16))")
        self._many(
            "INSERT INTO au_roles (uscc, kind) VALUES (:u, :k)",
            [{"u": u, "k": k} for u, k in sorted(kinds.items())],
        )
        self._analyze("au_roles")

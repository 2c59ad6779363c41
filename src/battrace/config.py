"""Settings: the only module that reads environment variables.

Every driver (CLI, API, tests) builds one `Settings` and passes it down; nothing below reads
the environment on its own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from battrace.identity.tables import DEFAULT_TABLES, CodeTables

DEFAULT_DATABASE_URL = "sqlite:///battrace.db"

#: events per ingest transaction (file ingest, uploads). With the checking helper (`battrace
#: ingest`'s default for large files) each process holds two batches at once: 2,000 keeps
#: both together under 250 MB on a 1 M-event file, and ran faster there than 5,000 (28.9
#: against 30.8 s; docs/benchmarks.md). Here rather than in `services.ingest_file` so that the
#: CLI can show it without importing the ingest path.
DEFAULT_BATCH = 2000


@dataclass(frozen=True)
class Settings:
    """Where the store is and which configuration files apply."""

    #: SQLAlchemy URL of the store (`sqlite:///battrace.db` by default, or postgresql+psycopg://…)
    database_url: str = DEFAULT_DATABASE_URL
    #: TOML file with GB/T 34014 decoding tables (None: CODES.md defaults)
    code_tables_path: Path | None = None
    #: TOML policy file (None: the packaged default policy)
    policy_path: Path | None = None
    #: extra official calendar year files (a TOML file or a directory of them)
    calendar_dir: Path | None = None
    #: directory with the platform's signing key (`battrace keys init` writes it)
    key_dir: Path = field(default_factory=lambda: Path("battrace-keys"))
    #: name of the log in checkpoints (the C2SP "origin" line)
    log_origin: str = "battrace.example/log"
    #: the platform's public address (`https://trace.example.cn`) that printed labels link to;
    #: None: the address each request came to (its Host header), fit for a laptop only
    public_url: str | None = None

    @cached_property
    def code_tables(self) -> CodeTables:
        """The code tables in force."""
        if self.code_tables_path is None:
            return DEFAULT_TABLES
        return CodeTables.load(self.code_tables_path)

    @property
    def database_shown(self) -> str:
        """The store URL fit for logs and messages: any password replaced by `***`."""
        # SQLAlchemy is imported here, not at the top: a command that opens no store (`code
        # explain`, `verify-proof`) should not pay for loading it
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            return make_url(self.database_url).render_as_string(hide_password=True)
        except ArgumentError:  # not a URL SQLAlchemy can read: nothing it would hide
            return self.database_url

    def with_database(self, url: str | None) -> Settings:
        """A copy pointing at another store (None keeps the current one)."""
        return self if not url else replace(self, database_url=normalise_database_url(url))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from BATTRACE_* environment variables, defaults for the rest."""
        env = os.environ if env is None else env
        tables = env.get("BATTRACE_CODE_TABLES")
        policy = env.get("BATTRACE_POLICY")
        calendar = env.get("BATTRACE_CALENDAR")
        return cls(
            database_url=normalise_database_url(
                env.get("BATTRACE_DATABASE_URL", DEFAULT_DATABASE_URL)
            ),
            code_tables_path=Path(tables) if tables else None,
            policy_path=Path(policy) if policy else None,
            calendar_dir=Path(calendar) if calendar else None,
            key_dir=Path(env.get("BATTRACE_KEY_DIR", "battrace-keys")),
            log_origin=env.get("BATTRACE_LOG_ORIGIN", "battrace.example/log"),
            public_url=env.get("BATTRACE_PUBLIC_URL") or None,
        )

    def to_env(self) -> dict[str, str]:
        """The BATTRACE_* variables `from_env` turns back into these settings (how a
        multi-process server hands them to its workers)."""
        env = {
            "BATTRACE_DATABASE_URL": self.database_url,
            "BATTRACE_KEY_DIR": str(self.key_dir),
            "BATTRACE_LOG_ORIGIN": self.log_origin,
        }
        if self.public_url:
            env["BATTRACE_PUBLIC_URL"] = self.public_url
        for name, path in (
            ("BATTRACE_CODE_TABLES", self.code_tables_path),
            ("BATTRACE_POLICY", self.policy_path),
            ("BATTRACE_CALENDAR", self.calendar_dir),
        ):
            if path is not None:
                env[name] = str(path)
        return env


#: `postgresql:/host/db`, `sqlite:x.db`, `postgres//host/db`: a store URL with its `://`
#: mistyped, not a file name (each became a SQLite file: `./postgresql:/localhost/test`). A word
#: and a colon, or a database's name and `//`; one letter and a colon is a drive (`C:\x.db`).
_MISTYPED_URL = re.compile(
    r"[a-z][a-z0-9+.-]+:|(?:sqlite|postgres|postgresql|mysql|mariadb|oracle|mssql)(?:\+\w+)?//",
    re.IGNORECASE,
)


def normalise_database_url(url: str) -> str:
    """Accept plain paths and `postgresql://` URLs; return a SQLAlchemy URL. A mistyped URL
    is returned as it is, for the store to refuse when it is opened (`store.engine`): refusing
    here would stop commands that open no store (`code check`) over a setting they do not use.
    """
    if "://" not in url:
        return url if _MISTYPED_URL.match(url) else f"sqlite:///{url}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("postgres+"):  # SQLAlchemy knows the dialect as `postgresql` only
        return "postgresql+" + url.split("+", 1)[1]
    return url

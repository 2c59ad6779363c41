"""What a command loads at start: only what it uses (`battrace.cli` imports services inside
the commands). `battrace --help` and `code explain` took 0.6 s when every command's services
were imported with the CLI; a store-free command should not load SQLAlchemy at all."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kit import modules_loaded_after

#: modules the CLI itself must not load: the store (SQLAlchemy), the ingest path, the web app
HEAVY = (
    "sqlalchemy",
    "battrace.store.sql",
    "battrace.services.ingest",
    "battrace.services.audit",
    "battrace.sim.stream",
    "fastapi",
)


def _loaded_after(code: str, cwd: Any = None) -> list[str]:
    return modules_loaded_after(code, HEAVY, cwd=cwd)


def test_importing_the_cli_loads_no_service():
    assert _loaded_after("import battrace.cli") == []


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["code", "explain", "001PB01TRACE018120000001"],
        ["code", "check", "LBENCH00800000000"],
        ["keys", "--help"],
        ["verify-proof", "--help"],
        ["rules"],
    ],
)
def test_a_store_free_command_loads_no_store(argv):
    run = (
        "from battrace.cli import app\n"
        f"sys.argv = ['battrace', *{argv!r}]\n"
        "try:\n    app()\nexcept SystemExit:\n    pass"
    )
    assert _loaded_after(run) == []


def test_a_store_command_loads_the_store_it_needs(tmp_path):
    # the other side: the lazy imports do happen (a command that needs the store gets it)
    db = tmp_path / "s.db"
    run = (
        "from battrace.cli import app\n"
        f"sys.argv = ['battrace', 'init', '--db', {str(db)!r}]\n"
        "try:\n    app()\nexcept SystemExit:\n    pass"
    )
    loaded = _loaded_after(run, cwd=str(tmp_path))  # its signing key goes to ./battrace-keys
    assert "sqlalchemy" in loaded and "battrace.store.sql" in loaded
    assert db.exists()

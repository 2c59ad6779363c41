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


def test_command_lists_show_each_summary_on_its_own_lines() -> None:
    """`battrace --help` lists a command by its docstring's first paragraph; with the
    docstring's own line breaks kept, a summary broke mid-sentence ("… from the log alone;
    ingest" / "waits while it runs …"). Each is one line now, wrapped by the table."""
    from typer.testing import CliRunner

    from battrace.cli import app

    for args in (["--help"], ["keys", "--help"], ["proof", "--help"], ["code", "--help"]):
        out = CliRunner().invoke(app, args, env={"COLUMNS": "400"}).output
        rows = [ln for ln in out.splitlines() if ln.startswith("│ ") and "─" not in ln]
        assert rows, out
        for row in rows:  # at 400 columns a row that starts blank continues a summary
            assert row[2] != " ", row
    out = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "400"}).output
    assert "from the log alone; ingest waits while it runs" in out

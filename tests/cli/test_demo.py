"""`battrace demo` end to end on a small country (without starting the server)."""

import json

import pytest
from typer.testing import CliRunner

from battrace.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()


def test_the_demo_builds_a_signed_audited_store_and_prints_a_regulators_summary(tmp_path):
    demo_dir = tmp_path / "demo"
    r = runner.invoke(
        app,
        ["demo", "--dir", str(demo_dir), "--vehicles", "300", "--no-serve"],
        env={"COLUMNS": "80"},
    )
    assert r.exit_code == 0, r.output
    for words in ("batteries by state", "open findings by rule", "lowest on-time", "root"):
        assert words in r.stdout
    # bilingual titles stay on one line over narrow tables (rich wrapped them to the table)
    assert "packs by chemistry · 电池包化学体系" in r.stdout
    keys = demo_dir / "demo-keys.txt"
    assert keys.stat().st_mode & 0o077 == 0
    assert "regulator" in keys.read_text() and "enterprise" in keys.read_text()
    db = f"sqlite:///{demo_dir / 'battrace.db'}"
    v = runner.invoke(app, ["verify", "--db", db, "--key", str(demo_dir / "keys"), "--json"])
    assert v.exit_code == 0, v.output
    assert json.loads(v.stdout)["ok"]
    again = runner.invoke(app, ["demo", "--dir", str(demo_dir), "--no-serve"])
    assert again.exit_code == 0
    assert "using the demo store" in again.stdout

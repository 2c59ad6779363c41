"""`battrace demo` end to end on a small country (without starting the server)."""

import json
import re

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


def test_fresh_deletes_only_what_the_demo_wrote_and_refuses_beside_anything_else(
    tmp_path, monkeypatch
):
    """`demo --dir . --fresh` deleted the whole working directory (shutil.rmtree)."""
    monkeypatch.chdir(tmp_path)
    args = ["demo", "--dir", ".", "--vehicles", "100", "--no-serve"]
    assert runner.invoke(app, args).exit_code == 0
    wrote = sorted(p.name for p in tmp_path.iterdir())
    assert {"battrace.db", "keys", "demo-keys.txt", "country.jsonl"} <= set(wrote)
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "src").mkdir()
    refused = runner.invoke(app, [*args, "--fresh"])
    assert refused.exit_code == 2
    said = " ".join(refused.stderr.split())
    assert "notes.txt" in said and "src/" in said and "Traceback" not in said
    assert (tmp_path / "notes.txt").read_text() == "mine" and (tmp_path / "src").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*wrote, "notes.txt", "src"])
    # a key directory holding anything but the demo's key is not the demo's to delete
    (tmp_path / "notes.txt").unlink()
    (tmp_path / "src").rmdir()
    (tmp_path / "keys" / "other.key").write_text("x")
    assert runner.invoke(app, [*args, "--fresh"]).exit_code == 2
    assert (tmp_path / "keys" / "other.key").exists()
    (tmp_path / "keys" / "other.key").unlink()
    # a directory holding only what the demo wrote is rebuilt from scratch
    first_keys = (tmp_path / "demo-keys.txt").read_text()
    again = runner.invoke(app, [*args, "--fresh"])
    assert again.exit_code == 0, again.output
    assert "using the demo store" not in again.stdout
    assert (tmp_path / "demo-keys.txt").read_text() != first_keys  # new keys, new store


def test_the_commands_the_demo_prints_act_on_its_store_and_its_log(tmp_path):
    """The printed hint gave the store and the key but not the log's origin: a checkpoint cut
    by following it named the default log, and consistency proofs across it failed."""
    demo_dir = tmp_path / "demo"
    r = runner.invoke(
        app,
        ["demo", "--dir", str(demo_dir), "--vehicles", "100", "--no-serve"],
        env={"COLUMNS": "1000"},
    )
    assert r.exit_code == 0, r.output
    hint = next(line for line in r.stdout.splitlines() if "other commands" in line)
    env = dict(re.findall(r"(BATTRACE_\w+)=(\S+)", hint))
    assert env["BATTRACE_LOG_ORIGIN"] == "demo.battrace.example/log"
    cut = runner.invoke(app, ["checkpoint", "--json"], env=env)
    assert cut.exit_code == 0, cut.output
    assert json.loads(cut.stdout)["note"].startswith("demo.battrace.example/log\n")
    # without the origin the demo's key is refused, not used to sign another log's checkpoint
    wrong = runner.invoke(app, ["checkpoint"], env=env | {"BATTRACE_LOG_ORIGIN": None})
    assert wrong.exit_code == 2
    assert "BATTRACE_LOG_ORIGIN=demo.battrace.example/log" in " ".join(wrong.stderr.split())

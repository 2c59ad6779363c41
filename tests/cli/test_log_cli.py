"""`battrace init | checkpoint | verify | trace --bundle | verify-proof`, as a regulator."""

import json
import sqlite3

from typer.testing import CliRunner

from battrace.cli import app
from tests.cli.test_ledger_cli import write
from tests.kit import free_port, simple_lifecycles

runner = CliRunner()


def test_a_regulator_verifies_the_log_and_a_bundle_offline(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'b.db'}"
    r = runner.invoke(app, ["init", "--db", db])
    assert "signing key created" in r.stdout
    assert (tmp_path / "battrace-keys" / "signing.key").stat().st_mode & 0o077 == 0
    f = write(tmp_path / "e.jsonl", simple_lifecycles(3))
    assert runner.invoke(app, ["ingest", str(f), "--db", db]).exit_code == 0
    r = runner.invoke(app, ["verify", "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["ok"] is True

    pack = json.loads(f.read_text().splitlines()[21])["battery"]
    bundle = tmp_path / "bundle.json"
    r = runner.invoke(app, ["trace", pack, "--db", db, "--bundle", str(bundle)])
    assert r.exit_code == 0, r.output
    key = tmp_path / "battrace-keys" / "verifier.pub"
    r = runner.invoke(app, ["verify-proof", str(bundle), "--key", str(key)])
    assert r.exit_code == 0, r.output

    # someone edits the database behind the platform's back
    con = sqlite3.connect(tmp_path / "b.db")
    con.execute("UPDATE events SET payload = replace(payload, '350', '351') WHERE seq = 21")
    con.commit()
    con.close()
    r = runner.invoke(app, ["verify", "--db", db, "--json"])
    assert r.exit_code == 1
    problems = json.loads(r.stdout)["problems"]
    assert (problems[0]["kind"], problems[0]["leaf_index"]) == ("leaf", 21)
    assert problems[0]["expected"] != problems[0]["actual"]
    # the terminal lists the first problems and counts the rest (one changed leaf made
    # every later checkpoint fail: a thousand lines of hashes)
    assert len(problems) > 1
    monkeypatch.setattr("battrace.cli.log.SHOWN_PROBLEMS", 1)
    r = runner.invoke(app, ["verify", "--db", db], env={"COLUMNS": "200"})
    assert r.exit_code == 1
    assert f"and {len(problems) - 1:,} more problem" in r.stdout
    kinds = {p["kind"] for p in problems}
    rows = [
        line for line in r.stdout.splitlines() if line.startswith(tuple(f"│ {k} " for k in kinds))
    ]
    assert len(rows) == 1


def test_a_signing_key_readable_by_others_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'b.db'}"
    runner.invoke(app, ["init", "--db", db])
    (tmp_path / "battrace-keys" / "signing.key").chmod(0o644)
    r = runner.invoke(app, ["checkpoint", "--db", db])
    assert r.exit_code == 2
    assert "chmod 600" in r.stderr


def test_output_files_and_store_directories_fail_clearly_or_are_made(tmp_path, monkeypatch):
    """A bundle or receipt written into a missing directory raised FileNotFoundError with a
    traceback (exit 1, which means "rejected" elsewhere); `init` of a store in a missing
    directory failed with "unable to open database file"; `--as-of` was silently ignored by
    `--bundle`; `verify --json` without a key said ok with nothing about signatures."""
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'new' / 'dir' / 'b.db'}"
    assert runner.invoke(app, ["init", "--db", db]).exit_code == 0
    f = write(tmp_path / "e.jsonl", simple_lifecycles(1))
    assert runner.invoke(app, ["ingest", str(f), "--db", db]).exit_code == 0
    pack = next(json.loads(x)["battery"] for x in f.read_text().splitlines() if '"battery"' in x)
    for args in (
        ["trace", pack, "--db", db, "--bundle", str(tmp_path / "nodir" / "b.json")],
        ["trace", pack, "--db", db, "--bundle", str(tmp_path)],
        ["receipt", json.loads(f.read_text().splitlines()[0])["reporter"], "reg-1", "--db", db,
         "-o", str(tmp_path / "nodir" / "r.json")],
    ):  # fmt: skip
        r = runner.invoke(app, args)
        assert r.exit_code == 2, (args, r.output)
        assert "error (file)" in r.stderr
    r = runner.invoke(app, ["trace", pack, "--db", db, "--as-of", "2025-06-30", "--bundle", "b"])
    assert r.exit_code == 2 and "--as-of" in r.stderr
    monkeypatch.setenv("BATTRACE_KEY_DIR", str(tmp_path / "none"))
    r = runner.invoke(app, ["verify", "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["signatures_checked"] is False


def test_a_key_named_for_another_log_signs_nothing_until_the_origin_names_it(tmp_path, monkeypatch):
    """A checkpoint cut under the origin 'battrace.example/log' with the demo's key (named
    'demo.battrace.example/log': the demo's hint left the origin out) made later consistency
    proofs fail. A key whose name is not the origin is refused, naming both and the fix."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BATTRACE_LOG_ORIGIN", raising=False)
    db = f"sqlite:///{tmp_path / 'b.db'}"
    made = runner.invoke(app, ["keys", "init", "--name", "gov.example/log"])
    assert made.exit_code == 0
    assert "BATTRACE_LOG_ORIGIN=gov.example/log" in " ".join(made.stdout.split())
    assert runner.invoke(app, ["init", "--db", db]).exit_code == 0
    f = write(tmp_path / "e.jsonl", simple_lifecycles(1))
    for args in (["ingest", str(f), "--db", db], ["checkpoint", "--db", db]):
        r = runner.invoke(app, args)
        assert r.exit_code == 2, (args, r.output)
        said = " ".join(r.stderr.split())
        assert "'gov.example/log'" in said and "'battrace.example/log'" in said, said
        assert "set BATTRACE_LOG_ORIGIN=gov.example/log" in said and "Traceback" not in said
    monkeypatch.setenv("BATTRACE_LOG_ORIGIN", "gov.example/log")
    assert runner.invoke(app, ["ingest", str(f), "--db", db]).exit_code == 0
    r = runner.invoke(app, ["checkpoint", "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["note"].startswith("gov.example/log\n")


def test_a_server_of_several_workers_refuses_such_a_key_before_it_starts(tmp_path, monkeypatch):
    """Each worker refused it with a traceback of its own; the supervisor says it once."""
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'b.db'}"
    assert runner.invoke(app, ["init", "--db", db]).exit_code == 0  # a key for the default log
    monkeypatch.setenv("BATTRACE_LOG_ORIGIN", "gov.example/log")
    port = str(free_port())
    r = runner.invoke(app, ["serve", "--db", db, "--port", port, "--workers", "2"])
    assert r.exit_code == 2, r.output
    said = " ".join(r.stderr.split())
    assert "'battrace.example/log'" in said and "'gov.example/log'" in said, said

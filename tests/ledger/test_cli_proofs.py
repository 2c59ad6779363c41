"""`battrace verify-proof FILE --key PUBKEY [--previous OLD] [--json]` as a reader runs it."""

import json
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from battrace.cli.proofs import verify_proof
from tests.ledger.sample_log import LOG, VERIFIER

app = typer.Typer()
app.command("verify-proof")(verify_proof)
app.command("unused")(lambda: None)  # a second command keeps `verify-proof` a subcommand
runner = CliRunner()


def write(tmp_path: Path, doc: Any, name: str = "doc.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_a_good_bundle_exits_zero_and_shows_every_check(tmp_path: Path) -> None:
    file = write(tmp_path, LOG.bundle(30, previous=10))
    result = runner.invoke(app, ["verify-proof", file, "--key", VERIFIER.text])
    assert result.exit_code == 0, result.output
    assert "consistency" in result.stdout
    assert "verified" in result.stdout


def test_a_tampered_receipt_exits_one_and_names_the_failed_check(tmp_path: Path) -> None:
    receipt = LOG.receipt(4, 30)
    receipt["event"]["mass_kg"] = 1.0
    result = runner.invoke(app, ["verify-proof", write(tmp_path, receipt), "--key", VERIFIER.text])
    assert result.exit_code == 1
    assert "FAILED" in result.stdout
    assert "not verified" in result.stdout


def test_json_output_lists_checks_and_the_checkpoint(tmp_path: Path) -> None:
    file = write(tmp_path, LOG.receipt(4, 30))
    key = tmp_path / "verifier.pub"
    key.write_text(VERIFIER.text + "\n")
    result = runner.invoke(app, ["verify-proof", file, "--key", str(key), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["checkpoint"]["size"] == 30
    assert [c["check"] for c in report["checks"]][-1] == "leaf 4: inclusion"


def test_previous_checkpoint_from_a_file_is_checked_for_consistency(tmp_path: Path) -> None:
    bundle = LOG.bundle(30, previous=12)
    old = tmp_path / "old.checkpoint"
    old.write_text(LOG.checkpoint(13), encoding="utf-8")
    args = ["verify-proof", write(tmp_path, bundle), "--key", VERIFIER.text, "--previous", str(old)]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 1
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["consistency"]["ok"] is False


def test_unreadable_inputs_exit_two_with_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = runner.invoke(app, ["verify-proof", str(bad), "--key", VERIFIER.text])
    assert result.exit_code == 2
    assert "is not JSON" in " ".join(result.output.split())
    missing = runner.invoke(app, ["verify-proof", str(tmp_path / "nope.json"), "--key", "x+y+z"])
    assert missing.exit_code == 2

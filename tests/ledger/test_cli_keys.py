"""`battrace keys init|public` as an operator runs them."""

import stat
from pathlib import Path

import typer
from typer.testing import CliRunner

from battrace.cli import keys
from battrace.ledger.keys import load_signer, parse_verifier

app = typer.Typer()
app.add_typer(keys.app, name="keys")
runner = CliRunner()


def test_init_creates_the_key_files_and_prints_the_verifier_key(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    result = runner.invoke(app, ["keys", "init", "--dir", str(directory), "--name", "gov.cn/log"])
    assert result.exit_code == 0, result.output
    verifier = load_signer(directory).verifier()
    assert verifier.name == "gov.cn/log"
    assert verifier.text in result.stdout
    assert "PRIVATE" not in result.stdout
    assert stat.S_IMODE((directory / "signing.key").stat().st_mode) == 0o600


def test_init_twice_fails_with_one_clear_line_and_keeps_the_first_key(tmp_path: Path) -> None:
    assert runner.invoke(app, ["keys", "init", "--dir", str(tmp_path)]).exit_code == 0
    before = (tmp_path / "signing.key").read_bytes()
    result = runner.invoke(app, ["keys", "init", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "refusing to overwrite" in result.output
    assert (tmp_path / "signing.key").read_bytes() == before


def test_public_prints_the_verifier_key_alone(tmp_path: Path) -> None:
    runner.invoke(app, ["keys", "init", "--dir", str(tmp_path)])
    result = runner.invoke(app, ["keys", "public", "--dir", str(tmp_path)])
    assert result.exit_code == 0
    verifier = parse_verifier(result.stdout)
    assert verifier.name == "battrace.example/log"


def test_public_without_keys_says_what_is_missing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["keys", "public", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "verifier" in result.output

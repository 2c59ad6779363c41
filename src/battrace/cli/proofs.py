"""`battrace verify-proof`: check a receipt or history bundle offline, with the public key only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from battrace.cli._common import JsonOption, console, print_json, titled_table, translated_errors
from battrace.errors import InvalidInput

if TYPE_CHECKING:
    from battrace.ledger.documents import VerificationReport


def verify_proof(
    file: Path = typer.Argument(..., help="A receipt or bundle (JSON) from the platform."),
    key: str = typer.Option(
        ..., "--key", help="The log's verifier key, or a file or key directory holding it."
    ),
    previous: Path | None = typer.Option(
        None,
        "--previous",
        help="An older signed checkpoint you hold: also prove the log only grew since.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Verify signature, event hashes, inclusion and consistency; exit 0 only if all pass."""
    from battrace.ledger.documents import verify_document
    from battrace.ledger.keys import load_verifier

    with translated_errors():
        verifier = load_verifier(key)
        document = _read_json(file)
        held = None if previous is None else _read_text(previous)
    report = verify_document(document, verifier, previous_checkpoint=held)
    if as_json:
        print_json(report.as_dict())
    else:
        _render(report, file)
    raise typer.Exit(0 if report.ok else 1)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path} is not JSON: {exc}") from None


def _render(report: VerificationReport, file: Path) -> None:
    table = titled_table(escape(f"{file.name} · {report.kind} · 证明验证"), show_lines=False)
    for column in ("check", "result", "details"):
        table.add_column(column)
    for check in report.checks:
        result = "[green]ok[/]" if check.ok else "[bold red]FAILED[/]"
        table.add_row(escape(check.name), result, escape(check.message))
    console.print(table)
    if report.ok:
        console.print("[green]verified[/] · 验证通过")
    else:
        console.print(
            f"[bold red]not verified[/] · 验证失败: {len(report.failures)} check(s) failed"
        )

"""The `battrace` command: thin drivers that parse, call one service and render."""

from __future__ import annotations

import typer

from battrace.cli import code

app = typer.Typer(
    name="battrace",
    help="battrace — China's power-battery digital ID: codes, lifecycle ledger, compliance.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(code.app, name="code")


def main() -> None:
    """Console entry point."""
    app()

"""`battrace keys init|public`: the log's checkpoint signing key."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from battrace.cli._common import console, settings, translated_errors
from battrace.ledger.keys import init_key_dir, load_verifier

app = typer.Typer(help="Create and show the log's checkpoint signing key (Ed25519).")

DirOption = typer.Option(
    None,
    "--dir",
    help="Key directory (default: BATTRACE_KEY_DIR or ./battrace-keys).",
    show_default=False,
)


@app.command("init")
def init(
    directory: Path | None = DirOption,
    name: str | None = typer.Option(
        None,
        "--name",
        help="Key name, the log's origin (default: BATTRACE_LOG_ORIGIN or battrace.example/log).",
        show_default=False,
    ),
) -> None:
    """Create signing.key (private, 0600) and verifier.pub (publish it) in a new key directory."""
    with translated_errors():
        s = settings()
        keys = init_key_dir(directory or s.key_dir, name or s.log_origin)
    console.print(f"signing key (keep private): {escape(str(keys.signing_key))}")
    console.print(f"verifier key (publish):     {escape(str(keys.verifier_key))}")
    console.print(keys.verifier.text, soft_wrap=True, markup=False)


@app.command("public")
def public(directory: Path | None = DirOption) -> None:
    """Print the verifier key that anyone uses to check checkpoints and proofs."""
    with translated_errors():
        verifier = load_verifier(directory or settings().key_dir)
    console.print(verifier.text, soft_wrap=True, markup=False)

"""`battrace keys init|public`: the log's checkpoint signing key; `battrace keys
issue|revoke|list`: API keys."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from battrace.cli._common import (
    DbOption,
    JsonOption,
    console,
    print_json,
    settings,
    titled_table,
    translated_errors,
)
from battrace.services.key_roles import KeyRole

app = typer.Typer(
    help="The log's checkpoint signing key (init, public) and API keys (issue, revoke, list)."
)

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
    from battrace.ledger.keys import init_key_dir

    with translated_errors():
        s = settings()
        keys = init_key_dir(directory or s.key_dir, name or s.log_origin)
    console.print(f"signing key (keep private): {escape(str(keys.signing_key))}")
    console.print(f"verifier key (publish):     {escape(str(keys.verifier_key))}")
    console.print(keys.verifier.text, soft_wrap=True, markup=False)
    if keys.verifier.name != s.log_origin:
        name, origin = escape(keys.verifier.name), escape(s.log_origin)
        console.print(
            f"[yellow]this key signs as the log '{name}', not '{origin}': set "
            f"BATTRACE_LOG_ORIGIN={name} wherever it is used, or checkpoints are refused[/]"
        )


@app.command("public")
def public(directory: Path | None = DirOption) -> None:
    """Print the verifier key that anyone uses to check checkpoints and proofs."""
    from battrace.ledger.keys import load_verifier

    with translated_errors():
        verifier = load_verifier(directory or settings().key_dir)
    console.print(verifier.text, soft_wrap=True, markup=False)


# ---------------------------------------------------------------- API keys
@app.command("issue")
def issue(
    enterprise: str = typer.Option(
        ..., "--enterprise", help="USCC of the enterprise or regulator."
    ),
    role: KeyRole = typer.Option(
        KeyRole.ENTERPRISE, "--role", help="enterprise, or regulator (reads everything)."
    ),
    label: str | None = typer.Option(None, "--label", help="A note: who uses the key, where."),
    db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """Issue an API key; it is shown once (the store keeps only its SHA-256).

    The enterprise must be registered in the store; a regulator key for an unregistered USCC
    is issued only on an empty store, to bootstrap it.
    """
    from battrace import bootstrap
    from battrace.services import apikeys
    from battrace.services.clock import utc_now

    with translated_errors():
        store = bootstrap.open_store(settings(db))
        try:
            issued = apikeys.issue(
                store, enterprise=enterprise, role=role, label=label, now=utc_now()
            )
        finally:
            store.close()
    if as_json:
        print_json(issued.as_dict())
        return
    console.print(f"key id {issued.key.key_id} · {issued.key.role.value} · {issued.key.enterprise}")
    console.print("API key (shown once — store it now; send it as `Authorization: Bearer …`):")
    console.print(issued.token, soft_wrap=True, markup=False)


@app.command("revoke")
def revoke(
    key: str = typer.Argument(..., help="The key id (or an unambiguous prefix of it)."),
    db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """Revoke an API key: it stops working at once."""
    from battrace import bootstrap
    from battrace.domain.events import to_us
    from battrace.services import apikeys
    from battrace.services.clock import utc_now

    with translated_errors():
        store = bootstrap.open_store(settings(db))
        now = utc_now()
        try:
            revoked = apikeys.revoke(store, key, now=now)
        finally:
            store.close()
    if as_json:
        print_json(revoked.as_dict())
        return
    who = f"{revoked.key_id} ({revoked.enterprise}, {revoked.role.value})"
    if revoked.revoked_us is not None and revoked.revoked_us < to_us(now):
        console.print(f"{who} was already revoked at {revoked.as_dict()['revoked_at']}")
    else:
        console.print(f"revoked {who}")


@app.command("list")
def list_keys(
    enterprise: str | None = typer.Option(None, "--enterprise", help="Only this USCC's keys."),
    db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """List API keys (never their secrets)."""
    from battrace import bootstrap
    from battrace.services import apikeys

    with translated_errors():
        store = bootstrap.open_store(settings(db))
        try:
            keys = apikeys.list_keys(store, enterprise=enterprise)
        finally:
            store.close()
    if as_json:
        print_json([k.as_dict() for k in keys])
        return
    table = titled_table("API keys")
    for column in ("key id", "enterprise", "role", "created", "revoked", "label"):
        table.add_column(column)
    for k in keys:
        d = k.as_dict()
        table.add_row(
            k.key_id,
            k.enterprise,
            k.role.value,
            d["created_at"],
            d["revoked_at"] or "",
            k.label or "",
        )
    console.print(table)

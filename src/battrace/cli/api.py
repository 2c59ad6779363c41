"""`battrace serve`: the HTTP API."""

from __future__ import annotations

import typer

from battrace.cli._common import DbOption, err_console, settings, translated_errors


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    db: str | None = DbOption,
    access_log: bool = typer.Option(
        True, "--access-log/--no-access-log", help="Log one line per request (never the key)."
    ),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        help="Processes serving the store: parsing, validation and receipts run in parallel, "
        "writes take turns (see docs/api.md).",
    ),
    forwarded_allow_ips: str | None = typer.Option(
        None,
        "--forwarded-allow-ips",
        help="Behind a reverse proxy: its addresses or networks (comma-separated, or *), "
        "whose X-Forwarded-For and X-Forwarded-Proto are trusted. Off by default.",
    ),
) -> None:
    """Serve the HTTP API (docs at /docs, OpenAPI at /openapi.json) until interrupted."""
    from battrace.api.server import run

    with translated_errors():
        s = settings(db)
        err_console.print(
            f"battrace API on http://{host}:{port} (store {s.database_shown}"
            + (f", {workers} workers)" if workers > 1 else ")")
        )
        run(
            s,
            host=host,
            port=port,
            access_log=access_log,
            workers=workers,
            forwarded_allow_ips=forwarded_allow_ips,
        )

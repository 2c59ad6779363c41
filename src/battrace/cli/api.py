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
) -> None:
    """Serve the HTTP API (docs at /docs, OpenAPI at /openapi.json) until interrupted."""
    from battrace.api.server import run

    with translated_errors():
        s = settings(db)
        err_console.print(f"battrace API on http://{host}:{port} (store {s.database_url})")
        run(s, host=host, port=port, access_log=access_log)

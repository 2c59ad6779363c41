"""`python -m battrace.api [--host H] [--port P] [--db URL] [--workers N]
[--forwarded-allow-ips IPS]`: serve the API (`battrace serve`)."""

from __future__ import annotations

import argparse

from battrace.api.server import run
from battrace.config import Settings


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve."""
    parser = argparse.ArgumentParser(prog="python -m battrace.api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--db", default=None, help="store URL or SQLite path")
    parser.add_argument("--no-access-log", action="store_true")
    parser.add_argument("--log-level", default="info")
    parser.add_argument(
        "--workers", type=int, default=1, help="processes serving the one store (default 1)"
    )
    parser.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="reverse proxies whose X-Forwarded-For/-Proto are trusted (comma-separated, or *)",
    )
    args = parser.parse_args(argv)
    settings = Settings.from_env().with_database(args.db)
    run(
        settings,
        host=args.host,
        port=args.port,
        access_log=not args.no_access_log,
        log_level=args.log_level,
        workers=args.workers,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )


if __name__ == "__main__":
    main()

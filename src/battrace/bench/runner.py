"""Run the benchmark suite, print a markdown table, and write it to docs/benchmarks.md."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from battrace.bench import audit, identity, ingest, ledger, web
from battrace.bench._report import Figure, machine, markdown

SUITES: dict[str, Callable[[str], list[Figure]]] = {
    "identity": identity.run,
    "ingest": ingest.run,
    "ledger": ledger.run,
    "audit": audit.run,
    "web": web.run,
}


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run the chosen suites, report."""
    parser = argparse.ArgumentParser(prog="python -m battrace.bench", description=__doc__)
    parser.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    parser.add_argument("--only", action="append", choices=sorted(SUITES), default=None)
    parser.add_argument(
        "--write", type=Path, default=None, help="write the report (markdown) to this file"
    )
    args = parser.parse_args(argv)
    figures: list[Figure] = []
    for name in args.only or list(SUITES):
        print(f"running {name} ({args.scale}) …", file=sys.stderr, flush=True)
        figures += SUITES[name](args.scale)
    report = f"Machine: {machine()} · scale `{args.scale}`\n\n{markdown(figures)}\n"
    print(report)
    if args.write:
        args.write.write_text(report, encoding="utf-8")

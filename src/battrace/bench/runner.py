"""Run the benchmark suite, print a markdown table, and record it in docs/benchmarks.md.

Each scale has its own section in the document (between `<!-- bench:SCALE -->` markers), so a
`small` run in CI never overwrites the recorded `large` figures; a run of some suites only
(`--only`) gets a section of its own (`<!-- bench:SCALE:SUITE+SUITE -->`), so the long `large`
suites can be recorded one session at a time. A suite that fails is reported
in the table and makes the exit status 1: benchmarks must not rot silently.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from battrace.bench import api_load, audit, identity, ingest, ledger, web
from battrace.bench._report import Figure, machine, markdown

SUITES: dict[str, Callable[[str], list[Figure]]] = {
    "identity": identity.run,
    "ingest": ingest.run,
    "ledger": ledger.run,
    "audit": audit.run,
    "web": web.run,
    "api": api_load.run,
}
DOC = Path("docs/benchmarks.md")


def run_suites(scale: str, names: list[str]) -> tuple[list[Figure], list[str]]:
    """Figures of the chosen suites, and the names of those that failed."""
    figures: list[Figure] = []
    failed: list[str] = []
    for name in names:
        print(f"running {name} ({scale}) …", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            figures += SUITES[name](scale)
        except Exception as exc:  # a broken benchmark is reported, not hidden
            traceback.print_exc()
            failed.append(name)
            figures.append(Figure(name, "FAILED", 0, "", note=f"{type(exc).__name__}: {exc}"))
        print(f"  {name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return figures, failed


def section_key(scale: str, names: list[str]) -> str:
    """The section a run is recorded in: the scale, plus the suites when not all of them ran."""
    return scale if names == list(SUITES) else f"{scale}:{'+'.join(names)}"


def record(doc: Path, key: str, report: str) -> None:
    """Replace (or add) the section `key` (see `section_key`) in the benchmarks document."""
    start, end = f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"
    block = f"{start}\n{report}\n{end}"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        scale, _, suites = key.partition(":")
        title = f"Scale `{scale}`" + (f" — suites {suites.replace('+', ', ')}" if suites else "")
        text = text.rstrip() + f"\n\n## {title}\n\n{block}\n"
    doc.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run the chosen suites, report."""
    parser = argparse.ArgumentParser(prog="python -m battrace.bench", description=__doc__)
    parser.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    parser.add_argument("--only", action="append", choices=sorted(SUITES), default=None)
    parser.add_argument("--skip", action="append", choices=sorted(SUITES), default=[])
    parser.add_argument(
        "--write",
        type=Path,
        default=DOC if DOC.parent.is_dir() else None,
        help="markdown document to record the figures in (default: docs/benchmarks.md)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    names = [n for n in (args.only or list(SUITES)) if n not in args.skip]
    started = time.perf_counter()
    figures, failed = run_suites(args.scale, names)
    elapsed = time.perf_counter() - started
    report = (
        f"Machine: {machine()} · scale `{args.scale}` · suites {', '.join(names)} · "
        f"{elapsed:.0f} s\n\n{markdown(figures)}\n"
    )
    print(report)
    if args.write and not args.no_write:
        record(args.write, section_key(args.scale, names), report)
        print(f"recorded in {args.write}", file=sys.stderr)
    if failed:
        print(f"failed suites: {', '.join(failed)}", file=sys.stderr)
        raise SystemExit(1)

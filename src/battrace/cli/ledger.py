"""`battrace init | ingest | trace | vehicle`: the lifecycle ledger from the terminal.

Services are imported inside the commands that use them (see `battrace.cli`)."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from battrace.cli._common import (
    DbOption,
    JsonOption,
    console,
    err_console,
    print_json,
    settings,
    titled_table,
    translated_errors,
)
from battrace.config import DEFAULT_BATCH
from battrace.errors import InvalidInput

if TYPE_CHECKING:
    from battrace.services.ingest import EventResult
    from battrace.services.ingest_file import Tally

#: `ingest --json` lists every rejected and duplicate event, and accepted ones up to this many
ACCEPTED_RESULTS_LIMIT = 1000
#: a file that added this many events is a bulk load: the store refreshes its read statistics
#: afterwards (`SqlStore.settle`, PostgreSQL only)
SETTLE_AFTER = 100_000


def init(db: str | None = DbOption) -> None:
    """Create the store, or migrate it to this version's schema."""
    from battrace import bootstrap
    from battrace.store import migrate

    with translated_errors():
        s = settings(db)
        store = bootstrap.open_store(s, create=True)
        rev = migrate.current_revision(store.engine)
        store.close()
        keys = bootstrap.ensure_keys(s)
    console.print(f"store ready: {s.database_shown} (schema {rev})")
    if keys is not None:
        console.print(
            f"checkpoint signing key created in {keys.signing_key.parent}/ — keep "
            f"{keys.signing_key.name} private, publish {keys.verifier_key.name}"
        )


def ingest(
    # a str, checked below: typer 0.29's Path(allow_dash=True) still requires a file "-"
    file: str = typer.Argument(
        ..., help="A .jsonl file of events, or - for standard input (zcat x.jsonl.gz | … ingest -)."
    ),
    db: str | None = DbOption,
    keep_recorded_at: bool = typer.Option(
        False,
        "--keep-recorded-at",
        help="Trusted back-fill: keep each event's own recorded_at (see EVENTS.md).",
    ),
    batch_size: int = typer.Option(
        DEFAULT_BATCH, min=1, max=10_000, help="Events per transaction."
    ),
    check_ahead: bool = typer.Option(
        True,
        "--check-ahead/--no-check-ahead",
        help="Check the next batch in a helper process while one commits, for files over "
        "4 MB on two cores or more: about 1.3x faster; the helper holds about 80 MB.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Ingest a JSONL file of any size; exit 0 when nothing was rejected, 1 otherwise.

    The file is read a batch at a time: a line longer than 1 MiB is rejected unread, so memory
    stays bounded whatever the file holds; a byte order mark before a line is skipped. `-`
    reads standard input (checked in this process: the helper needs a file it can seek in).

    With --json, `results` lists every rejected and duplicate event and the first 1000
    accepted ones; `accepted_results_omitted` counts the accepted ones left out. On
    PostgreSQL, a file that added 100,000 events or more is followed by VACUUM (ANALYZE) of
    the tables reads use, so the first reads after a bulk load are not slow. If standard
    output is closed by its reader (`--json | head`), the ingest stops there, says how many
    events are stored, and exits with status 2; after Ctrl-C it says so too, with status 130.
    A re-run stores the rest.
    """
    from battrace import bootstrap
    from battrace.services.ingest_file import Tally, ingest_file, ingest_stream

    shown = Tally()

    def stopped() -> str:  # what the batches committed so far hold (`on_batch` counts them)
        return (
            f"Ingest stopped after {shown.accepted + shown.rejected + shown.duplicates:,} events "
            f"in committed batches ({shown.accepted:,} accepted and stored); run the same "
            f"command again to continue: events already stored are skipped as duplicates."
        )

    with translated_errors(stopped=stopped):
        piped = file == "-"
        path = Path(file)
        if not piped and not path.is_file():
            why = "is a directory" if path.is_dir() else "no such file"
            raise InvalidInput(f"{file}: {why}")
        s = settings(db)
        store = bootstrap.open_store(s)
        ingestor = bootstrap.make_ingestor(s, store, trusted=keep_recorded_at)
        out = _JsonStream() if as_json else None
        size = None if piped else path.stat().st_size
        with Progress(
            TextColumn("[bold]ingest[/]"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[counts]}"),
            console=err_console,
            transient=as_json,
        ) as progress:
            task = progress.add_task("ingest", total=size, counts="")

            def on_batch(batch: list[tuple[int, EventResult]], read: int) -> None:
                for _, r in batch:  # committed: counted before anything is written
                    shown.add(r)
                for line, r in batch:
                    if out is not None:
                        out.result(line, r)
                    elif r.status == "rejected":
                        _print_rejection(progress.console, line, r)
                if out is not None:
                    out.flush()  # the batch is committed: acknowledge it now
                progress.update(
                    task,
                    completed=read,
                    counts=f"{shown.accepted:,} ok · {shown.rejected:,} rejected · "
                    f"{shown.duplicates:,} dup",
                )

            if piped:
                tally = ingest_stream(
                    ingestor, sys.stdin.buffer, batch_size=batch_size, on_batch=on_batch
                )
            else:
                tally = ingest_file(
                    ingestor,
                    path,
                    batch_size=batch_size,
                    on_batch=on_batch,
                    ahead=None if check_ahead else False,
                )
        if tally.accepted >= SETTLE_AFTER:
            started = time.perf_counter()
            if store.settle():
                err_console.print(
                    f"refreshed the store's statistics for reads (VACUUM ANALYZE, "
                    f"{time.perf_counter() - started:.0f} s)"
                )
        store.close()
    if out is not None:
        out.close(tally)
    else:
        _print_tally(tally)
    raise typer.Exit(1 if tally.rejected else 0)


class _JsonStream:
    """Writes the ingest JSON as results arrive, one result per line, so memory stays bounded
    and what was acknowledged is on stdout even if the process dies."""

    def __init__(self) -> None:
        self.accepted_shown = 0
        self.omitted = 0
        self.first = True
        sys.stdout.write('{"results": [\n')
        sys.stdout.flush()

    def result(self, line: int, r: EventResult) -> None:
        if r.status == "accepted":
            if self.accepted_shown >= ACCEPTED_RESULTS_LIMIT:
                self.omitted += 1
                return
            self.accepted_shown += 1
        item = r.as_dict() | {"line": line}
        sys.stdout.write(("" if self.first else ",\n") + orjson.dumps(item).decode())
        self.first = False

    def flush(self) -> None:
        sys.stdout.flush()

    def close(self, tally: Tally) -> None:
        tail = {
            "accepted": tally.accepted,
            "rejected": tally.rejected,
            "duplicates": tally.duplicates,
            "accepted_results_omitted": self.omitted,
            "flags": tally.flags,
        }
        body = orjson.dumps(tail).decode()[1:]
        sys.stdout.write(f"\n], {body}\n")
        sys.stdout.flush()


def _print_rejection(con: Any, line: int, r: EventResult) -> None:
    con.print(f"[red]line {line}[/] {r.reporter or '?'}/{r.id or '?'} rejected:")
    for reason in r.reasons:
        rule = f"[{reason.rule}] " if reason.rule else ""
        con.print(f"    {reason.field}: {rule}{reason.message}", markup=False)


def _print_tally(tally: Tally) -> None:
    table = titled_table("Ingest · 数据导入")
    table.add_column("outcome")
    table.add_column("events", justify="right")
    table.add_row("accepted · 接收", f"{tally.accepted:,}")
    table.add_row("rejected · 拒收", f"{tally.rejected:,}")
    table.add_row("duplicates · 重复", f"{tally.duplicates:,}")
    for rule, n in sorted(tally.flags.items()):
        table.add_row(f"flagged {rule}", f"{n:,}")
    console.print(table)


def trace(
    code: str = typer.Argument(..., help="A GB/T 34014 battery code."),
    as_of: str | None = typer.Option(None, "--as-of", help="State on this day (YYYY-MM-DD)."),
    bundle: Path | None = typer.Option(
        None, "--bundle", help="Also write the history with inclusion proofs to this file."
    ),
    db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """A code's state, holder, vehicle, links and full history in event-time order."""
    from battrace import bootstrap
    from battrace.services import log as log_service
    from battrace.services.trace import trace as trace_code

    with translated_errors():
        day = _day(as_of)
        if day is not None and bundle is not None:
            raise InvalidInput(
                "--bundle proves the whole history against the latest checkpoint: leave out "
                "--as-of (the bundle's events carry their times; a verifier can cut them)"
            )
        s = settings(db)
        store = bootstrap.open_store(s)
        view = trace_code(store, code, as_of=day, validation=bootstrap.validation_context(s))
        if bundle is not None:
            doc = log_service.bundle(store, code)
            bundle.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
            err_console.print(
                f"bundle of {len(doc['entries'])} events with inclusion proofs written to {bundle}"
            )
        store.close()
    data = view.as_dict()
    if as_json:
        print_json(data)
        return
    head = titled_table(f"{code}" + (f" as of {day}" if day else ""), show_header=False)
    for key in ("state", "holder", "vin", "parent", "successor", "chemistry", "obligated"):
        head.add_row(key, str(data[key]) if data[key] is not None else "—")
    head.add_row("components", ", ".join(data["components"]) or "—")
    head.add_row("inputs", ", ".join(data["inputs"]) or "—")
    if (unit := data["unit"]) is not None:  # where a module or cell in a pack is now
        head.add_row("unit · 所在电池包", f"{unit['code']}\n{unit['state']}, {unit['holder']}")
    console.print(head)
    # readable at 80 columns: identifiers stacked, the details take what is left
    hist = titled_table("history · 履历", show_lines=True)
    hist.add_column("time · leaf", no_wrap=True)
    hist.add_column("event · reporter", no_wrap=True)
    hist.add_column("details", overflow="fold", ratio=1)
    for e in data["history"]:
        style = "strike dim" if "withdrawn_by_leaf" in e else ""
        hist.add_row(
            f"{e['time'][:10]}\n{e['time'][11:]}\nleaf {e['leaf_index']}",
            f"{e['type']}\n{e['reporter']}",
            _details(e),
            style=style,
        )
    console.print(hist)


_NOT_DETAILS = frozenset({"id", "type", "time", "reporter", "recorded_at", "leaf_index", "battery"})


def _details(e: dict[str, Any]) -> str:
    """An event's other fields, one per line, lists and objects written out plainly."""
    lines = []
    for k, v in e.items():
        if k in _NOT_DETAILS:
            continue
        if isinstance(v, list):
            text = ", ".join(str(x) if not isinstance(x, dict) else _plain(x) for x in v)
        elif isinstance(v, dict):
            text = _plain(v)
        else:
            text = str(v)
        lines.append(f"{k}: {text}")
    return "\n".join(lines)


def _plain(d: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items())


def vehicle(
    vin: str = typer.Argument(..., help="A VIN."),
    db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """The packs a vehicle has carried, in order."""
    from battrace import bootstrap
    from battrace.services.trace import vehicle_view

    with translated_errors():
        s = settings(db)
        store = bootstrap.open_store(s)
        view = vehicle_view(store, vin)
        store.close()
    data = view.as_dict()
    if as_json:
        print_json(data)
        return
    console.print(
        f"[bold]{vin}[/] model {data['model']} · automaker {data['automaker']} · sold "
        f"{data['sold_on'] or '—'} · scrapped {data['scrapped_on'] or '—'}"
    )
    table = titled_table("packs · 电池包")
    table.add_column("code", no_wrap=True)  # the key: never cut
    table.add_column("bound", overflow="fold")
    table.add_column("unbound", overflow="fold")
    for p in data["packs"]:
        table.add_row(
            p["code"],
            f"{p['bound_at'][:16].replace('T', ' ')}\n{p['bound_by']}",
            f"{p['unbound_at'][:16].replace('T', ' ')}\n{p['unbound_by']}"
            if p["unbound_at"]
            else "—",
        )
    console.print(table)


def _day(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--as-of {text!r} is not a calendar date written YYYY-MM-DD") from None


def rebuild(db: str | None = DbOption, as_json: bool = JsonOption) -> None:
    """Recompute every projection (states, vehicles, registry) from the log alone; ingest
    waits while it runs (the log head is held from the fold to the write)."""
    from battrace import bootstrap
    from battrace.services.rebuild import rebuild as rebuild_projections

    with translated_errors():
        s = settings(db)
        store = bootstrap.open_store(s)
        with err_console.status("folding the log …"):  # stderr: --json stays clean
            report = rebuild_projections(store, validation=bootstrap.validation_context(s))
        store.close()
    if as_json:
        print_json(report.as_dict())
    else:
        console.print(
            f"rebuilt from {report.events:,} events: {report.batteries:,} codes, "
            f"{report.vehicles:,} vehicles"
        )
        for older in report.older_rules:
            err_console.print(f"[yellow]accepted under older rules[/] {escape(older)}")
        for misfit in report.misfits:
            err_console.print(f"[red]misfit[/] {escape(misfit)}")
    raise typer.Exit(1 if report.misfits else 0)

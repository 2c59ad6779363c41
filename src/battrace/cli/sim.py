"""`battrace simulate`: a synthetic national event stream with ground truth, and its check.

The generator and the checker are imported by the functions that use them (see
`battrace.cli`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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
from battrace.errors import InvalidInput
from battrace.sim.params import DEFAULT_END, SimParams, parse_years

if TYPE_CHECKING:
    from battrace.sim.check import QualityReport
    from battrace.sim.stream import SimResult


def simulate(
    out: Path = typer.Argument(..., dir_okay=False, help="The .jsonl file to write."),
    vehicles: int = typer.Option(20_000, "--vehicles", min=1, help="Vehicles sold in all."),
    years: str = typer.Option("2018-2026", "--years", help="Sales years, FIRST-LAST."),
    regions: int = typer.Option(30, "--regions", min=1, max=400, help="Prefectures."),
    cells: bool = typer.Option(False, "--cells", help="Code cells too (~10x the events)."),
    violation_rate: float = typer.Option(
        0.02, "--violation-rate", min=0.0, max=0.5, help="Injection rate per violation kind."
    ),
    seed: int = typer.Option(1, "--seed", help="Same seed, same bytes."),
    end: str = typer.Option(
        DEFAULT_END.isoformat(), "--end", help="Nothing happens after this day (YYYY-MM-DD)."
    ),
    labels: Path | None = typer.Option(
        None, "--labels", dir_okay=False, help="Ground truth JSONL (default: OUT.labels.jsonl)."
    ),
    check: bool = typer.Option(
        False, "--check", help="Ingest into a fresh store, audit, score every rule."
    ),
    db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """Generate a reproducible national event stream with injected violations and their labels.

    With --check, the data is ingested (trusted back-fill) into a fresh SQLite store (--db, or
    OUT.check.db), audited as of --end, and battrace's findings are scored against the labels:
    precision and recall per rule. The exit status is then 1 if any rule is not perfect.
    """
    with translated_errors():
        first, last = parse_years(years)
        try:
            end_day = dt.date.fromisoformat(end)
        except ValueError:
            raise InvalidInput(f"--end {end!r} is not a date (YYYY-MM-DD)") from None
        params = SimParams(
            vehicles=vehicles,
            first_year=first,
            last_year=last,
            regions=regions,
            cells=cells,
            violation_rate=violation_rate,
            seed=seed,
            end=end_day,
        )
        labels_path = labels or out.with_name(out.stem + ".labels.jsonl")
        result = _generate(params, out, labels_path, quiet=as_json)
        report = None
        if check:
            report = _check(out, labels_path, db, end_day, quiet=as_json)
    if as_json:
        data = result.as_dict()
        if report is not None:
            data["check"] = report.as_dict()
        print_json(data)
    else:
        _print_result(result)
        if report is not None:
            _print_report(report)
    if report is not None and report.imperfect():
        raise typer.Exit(1)


def _generate(params: SimParams, out: Path, labels: Path, *, quiet: bool) -> SimResult:
    from battrace.sim.stream import run

    with Progress(
        TextColumn("[bold]{task.description}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=quiet,
    ) as progress:
        gen = progress.add_task("generate", total=params.vehicles)
        srt = progress.add_task("sort", total=None, visible=False)

        def step(phase: str, done: int, total: int) -> None:
            if phase == "generate":
                progress.update(gen, completed=done)
            else:
                progress.update(srt, completed=done, total=total, visible=True)

        return run(params, out, labels=labels, progress=step)


def _check(
    events: Path, labels: Path, db: str | None, as_of: dt.date, *, quiet: bool
) -> QualityReport:
    from battrace.sim.check import check as check_quality

    if db:
        url = settings(db).database_url
    else:
        path = events.with_name(events.stem + ".check.db")
        path.unlink(missing_ok=True)  # ours: named after the output
        url = f"sqlite:///{path}"
    size = events.stat().st_size
    with Progress(
        TextColumn("[bold]check[/]"),
        BarColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[what]}"),
        console=err_console,
        transient=quiet,
    ) as progress:
        task = progress.add_task("check", total=size, what="ingest")

        def on_batch(read: int) -> None:
            progress.update(task, completed=read, what="ingest" if read < size else "audit")

        return check_quality(
            events, labels, url, as_of=as_of, settings=settings(db), on_batch=on_batch
        )


def _print_result(r: SimResult) -> None:
    p = r.params
    console.print(
        f"[bold]{r.events:,}[/] events · {r.vehicles:,} vehicles · {r.enterprises:,} enterprises "
        f"· {r.regions} regions · {p.first_year}–{p.last_year} (end {p.end}) · seed {p.seed}"
    )
    types = titled_table("Events by type · 事件类型")
    types.add_column("type")
    types.add_column("events", justify="right")
    for kind, n in sorted(r.by_type.items(), key=lambda kv: -kv[1]):
        types.add_row(kind, f"{n:,}")
    console.print(types)
    rules = titled_table("Violations injected · 注入违规")
    rules.add_column("rule")
    rules.add_column("labels", justify="right")
    for rule, n in sorted(r.labels_by_rule.items()):
        rules.add_row(rule, f"{n:,}")
    console.print(rules)
    console.print(f"events → {r.out}\nlabels → {r.labels}")
    console.print(
        f"generated in {r.seconds:.2f} s: [bold]{r.events_per_second:,.0f} events/s[/] "
        f"(generate {r.generate_seconds:.2f} s, sort {r.sort_seconds:.2f} s)"
    )


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def _print_report(q: QualityReport) -> None:
    from battrace.sim.check import AUDIT_RULES

    console.print(
        f"check as of {q.as_of}: {q.accepted:,} accepted · {q.rejected:,} rejected · {q.audit}"
    )
    table = titled_table("Detection quality · 检出质量")
    for col in ("rule", "labelled", "detected", "matched", "precision", "recall", "examples"):
        table.add_column(
            col, justify="right" if col in ("labelled", "detected", "matched") else "left"
        )
    for row in q.rules:
        audit_missing = row.rule in AUDIT_RULES and not q.audit_ran
        style = "" if row.perfect else "red"
        examples = ", ".join(
            [f"missed {x}" for x in row.missed[:2]] + [f"extra {x}" for x in row.unexpected[:2]]
        )
        table.add_row(
            row.rule,
            str(row.labelled),
            "n/a" if audit_missing else str(row.detected),
            str(row.matched),
            _pct(row.precision),
            _pct(row.recall),
            examples,
            style=style,
        )
    console.print(table)
    if q.unexpected_rejection_count:
        console.print(f"[red]{q.unexpected_rejection_count} rejections no label accounts for[/]")
        for item in q.unexpected_rejections[:5]:
            console.print(f"  {item['event']}: {item['reasons']}", markup=False)

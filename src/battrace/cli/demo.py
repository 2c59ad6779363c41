"""`battrace demo`: a province's worth of batteries, end to end, in one command.

Services are imported inside the functions that use them (see `battrace.cli`)."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from battrace.cli._common import console, titled_table, translated_errors
from battrace.config import Settings
from battrace.domain.rules import RULES
from battrace.errors import InvalidInput

if TYPE_CHECKING:
    from battrace.services.summary import Summary
    from battrace.store.sql import SqlStore


def demo(
    directory: Path = typer.Option(Path("battrace-demo"), "--dir", help="Where the demo lives."),
    vehicles: int = typer.Option(20_000, "--vehicles", min=100, help="Vehicles sold 2018–2026."),
    seed: int = typer.Option(1, "--seed", help="Same seed, same country."),
    fresh: bool = typer.Option(
        False,
        "--fresh",
        help="Rebuild even if the demo store exists: first delete what the demo wrote in --dir "
        "(its store, keys and data files) and nothing else; refuses if --dir holds anything "
        "the demo did not write.",
    ),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Start the server at the end."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to serve on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port to serve on."),
) -> None:
    """Simulate a province, ingest it into embedded SQLite, sign the log, audit it, print what a
    regulator would want to see, and serve the dashboard and API."""
    from battrace import bootstrap
    from battrace.services.summary import summarise

    started = time.perf_counter()
    with translated_errors():
        settings = Settings(
            database_url=f"sqlite:///{directory / 'battrace.db'}",
            key_dir=directory / "keys",
            log_origin="demo.battrace.example/log",
        )
        store_file = directory / "battrace.db"
        if fresh:
            _remove_demo_files(directory)
        if store_file.exists():
            console.print(f"[dim]using the demo store in {directory}/ (--fresh rebuilds it)[/]")
            store = bootstrap.open_store(settings, create=True)
        else:
            store = _build(settings, directory, vehicles, seed)
        summary = summarise(store)
        keys = _demo_keys(store, directory)
        store.close()
    _print_summary(summary, time.perf_counter() - started)
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in settings.to_env().items())
    where = (
        f"dashboard  · 监管看板     http://{host}:{port}/\n"
        f"public page · 公众查询    http://{host}:{port}/b/{keys['sample_code']}\n"
        f"API docs   · 接口文档     http://{host}:{port}/docs\n"
        if serve
        else f"serve it   · 启动服务     battrace demo --dir {directory}\n"
    )
    console.print(
        Panel.fit(
            where
            + f"sign-in keys (regulator, enterprise) · 登录密钥: {directory / 'demo-keys.txt'}\n"
            f"other commands on this store · 其他命令: {env} battrace …",
            title="battrace demo",
        )
    )
    if serve:
        from battrace.api.server import run

        run(settings, host=host, port=port, access_log=False, log_level="warning")


#: what the demo writes in its directory: the store (with SQLite's WAL, shared-memory, journal
#: and battrace's writer lock beside it), the sign-in keys, the simulated events and labels
DEMO_FILES = frozenset(
    {
        "battrace.db",
        "battrace.db-wal",
        "battrace.db-shm",
        "battrace.db-journal",
        "battrace.db-writer.lock",
        "demo-keys.txt",
        "country.jsonl",
        "labels.jsonl",
    }
)
#: the log's signing key directory, and what `ensure_keys` writes in it
DEMO_KEY_DIR = "keys"
DEMO_KEY_FILES = frozenset({"signing.key", "verifier.pub"})


def _remove_demo_files(directory: Path) -> None:
    """Delete what the demo wrote in `directory`, and nothing else: `demo --dir . --fresh`
    deleted the whole working directory. Refuses (InvalidInput) if `directory` holds anything
    the demo did not write, before deleting anything."""
    if not directory.exists():
        return
    if not directory.is_dir():
        raise InvalidInput(f"--dir {directory} is not a directory")
    ours: list[Path] = []
    others: list[Path] = []
    for entry in sorted(directory.iterdir()):
        (ours if _written_by_the_demo(entry) else others).append(entry)
    if others:
        names = ", ".join(escape(e.name) + ("/" if e.is_dir() else "") for e in others[:5])
        more = f" and {len(others) - 5} more" if len(others) > 5 else ""
        raise InvalidInput(
            f"--fresh deletes only what the demo wrote, and {escape(str(directory))} holds "
            f"other things too ({names}{more}): move them away, or give the demo a directory of "
            "its own with --dir"
        )
    for entry in ours:
        if entry.name == DEMO_KEY_DIR and entry.is_dir() and not entry.is_symlink():
            for key in entry.iterdir():
                key.unlink()
            entry.rmdir()
        else:
            entry.unlink()


def _written_by_the_demo(entry: Path) -> bool:
    if entry.name == DEMO_KEY_DIR and entry.is_dir() and not entry.is_symlink():
        return all(k.name in DEMO_KEY_FILES and not k.is_dir() for k in entry.iterdir())
    return entry.name in DEMO_FILES and not entry.is_dir()


def _build(settings: Settings, directory: Path, vehicles: int, seed: int) -> SqlStore:
    from battrace import bootstrap
    from battrace.services.audit import audit
    from battrace.services.clock import utc_now
    from battrace.services.ingest_file import ingest_file
    from battrace.sim.clock import platform_clock
    from battrace.sim.params import DEFAULT_END, SimParams
    from battrace.sim.stream import run as simulate

    directory.mkdir(parents=True, exist_ok=True)
    data = directory / "country.jsonl"
    params = SimParams(vehicles=vehicles, seed=seed)
    with _progress() as progress:
        gen = progress.add_task("simulate · 模拟", total=vehicles)

        def step(phase: str, done: int, total: int) -> None:
            if phase == "generate":
                progress.update(gen, completed=done)

        result = simulate(params, data, labels=directory / "labels.jsonl", progress=step)
    console.print(f"simulated {result.events:,} events · 模拟事件 → {data}")
    store = bootstrap.open_store(settings, create=True)
    bootstrap.ensure_keys(settings)
    ingestor = bootstrap.make_ingestor(settings, store, trusted=True, clock=platform_clock(data))
    size = data.stat().st_size
    with _progress(bytes_=True) as progress:
        task = progress.add_task("ingest · 导入", total=size)
        tally = ingest_file(
            ingestor, data, on_batch=lambda _b, read: progress.update(task, completed=read)
        )
    console.print(
        f"ingested {tally.accepted:,} events · 接收; rejected {tally.rejected:,} · 拒收 "
        "(the simulator injects violations on purpose)"
    )
    policy = bootstrap.load_policy(settings)
    with console.status("auditing · 审计 …"):
        report = audit(
            store,
            as_of=DEFAULT_END,
            policy=policy,
            calendar=bootstrap.load_calendar(settings),
            now=utc_now(),
            with_findings=False,
        )
    console.print(
        f"audited as of {DEFAULT_END} · 审计 in {report.seconds:.1f} s: "
        f"{sum(report.counts.values()):,} open audit findings"
    )
    return store


def _progress(*, bytes_: bool = False) -> Progress:
    columns = [TextColumn("[bold]{task.description}"), BarColumn()]
    columns.append(DownloadColumn() if bytes_ else TextColumn("{task.completed:,.0f}"))
    columns.append(TimeElapsedColumn())
    return Progress(*columns, console=console, transient=True)


def _demo_keys(store: SqlStore, directory: Path) -> dict[str, str]:
    """A regulator key and an enterprise key to sign in with (written once, mode 0600)."""
    from sqlalchemy import select

    from battrace.services import apikeys
    from battrace.store.schema import batteries, enterprises

    path = directory / "demo-keys.txt"
    with store.engine.connect() as c:
        rows = c.execute(select(enterprises.c.uscc, enterprises.c.name, enterprises.c.roles)).all()
        sample = c.execute(
            select(batteries.c.code)
            .where(batteries.c.product_type == "pack", batteries.c.state == "used")
            .order_by(batteries.c.code)
            .limit(1)
        ).scalar()
    out = {"sample_code": sample or ""}
    if path.exists():
        return out
    regulator = next(r for r in rows if "regulator" in r.roles.split(","))
    automaker = next(r for r in rows if "automaker" in r.roles.split(","))
    now = dt.datetime.now(dt.UTC)
    lines = ["# battrace demo sign-in keys (demo data only; keep them out of real systems)"]
    for row, role in ((regulator, "regulator"), (automaker, "enterprise")):
        issued = apikeys.issue(
            store,
            enterprise=row.uscc,
            role=role,
            now=now,
            label="demo",
        )
        lines.append(f"{role:10} {row.uscc} {row.name}: {issued.token}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.chmod(path, 0o600)
    return out


def _print_summary(s: Summary, seconds: float) -> None:
    states = titled_table("batteries by state · 电池状态")
    states.add_column("state")
    states.add_column("codes", justify="right")
    for state, n in s.batteries_by_state.items():
        states.add_row(state, f"{n:,}")
    chem = titled_table("packs by chemistry · 电池包化学体系")
    chem.add_column("chemistry")
    chem.add_column("packs", justify="right")
    for c, n in s.packs_by_chemistry.items():
        chem.add_row(c, f"{n:,}")
    console.print(states, chem)
    found = titled_table("open findings by rule · 违规发现")
    for col in ("rule", "name · 名称", "open"):
        found.add_column(col)
    for rule_id, n in sorted(s.open_findings_by_rule.items()):
        r = RULES.get(rule_id)
        found.add_row(rule_id, f"{r.title_zh} · {r.title_en}" if r else "", f"{n:,}")
    console.print(found)
    worst = titled_table("lowest on-time reporting · 按时上报率最低")
    for col in ("enterprise", "name", "events", "late", "on time"):
        worst.add_column(col)
    for w in s.worst_on_time:
        worst.add_row(
            w["enterprise"],
            w["name"],
            f"{w['events']:,}",
            f"{w['late']:,}",
            f"{w['on_time_pct']} %",
        )
    console.print(worst)
    console.print(
        f"log · 日志: {s.tree_size:,} leaves, root {s.root_hash} · demo ready in {seconds:.0f} s"
    )

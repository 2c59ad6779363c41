"""`battrace audit | findings | rules`: the compliance engine from the terminal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import typer

from battrace.cli._common import (
    DbOption,
    JsonOption,
    console,
    print_json,
    settings,
    titled_table,
    translated_errors,
)
from battrace.errors import InvalidInput

#: findings a table shows unless asked for more (the JSON always has them all)
SHOWN = 50


def audit(
    as_of: str | None = typer.Option(
        None, "--as-of", help="Judge as of the end of this day (YYYY-MM-DD; default: today)."
    ),
    rule: list[str] | None = typer.Option(
        None, "--rule", help="Run only this audit rule (repeatable), e.g. --rule BT-021."
    ),
    show: int = typer.Option(SHOWN, "--show", min=0, help="Findings to list in the table."),
    rewind: bool = typer.Option(
        False,
        "--rewind",
        help="Allow an --as-of earlier than the stored findings' day: what was found since is "
        "withdrawn and that day's findings open instead.",
    ),
    db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """Run the audit rules (BT-021 … BT-025) over the whole store and update their findings
    (the open findings are always those of the latest audit)."""
    from battrace import bootstrap
    from battrace.services.audit import audit as run_audit

    with translated_errors():
        s = settings(db)
        policy = bootstrap.load_policy(s)
        calendar = bootstrap.load_calendar(s)
        now = dt.datetime.now(dt.UTC)
        day = _day(as_of, "--as-of") or policy.local_date(now)
        store = bootstrap.open_store(s)
        try:
            report = run_audit(
                store,
                as_of=day,
                policy=policy,
                calendar=calendar,
                rules=set(rule) if rule else None,
                now=now,
                rewind=rewind,
            )
        finally:
            store.close()
    if as_json:
        print_json(report.as_dict())
        return
    runs = titled_table(f"Audit as of {report.as_of} · 审计（政策 {report.policy_version}）")
    for col in ("rule", "name", "open", "new", "kept", "withdrawn", "seconds"):
        runs.add_column(col, justify="left" if col in ("rule", "name") else "right")
    for r in report.runs:
        runs.add_row(
            r.rule,
            r.as_dict()["name"],
            f"{r.found:,}",
            f"{r.new:,}",
            f"{r.kept:,}",
            f"{r.withdrawn:,}",
            f"{r.seconds:.2f}",
        )
    console.print(runs)
    _print_findings(report.findings, show, title="open findings · 未关闭的发现")


def findings(
    rule: str | None = typer.Option(None, "--rule", help="Only this rule, e.g. BT-020."),
    enterprise: str | None = typer.Option(None, "--enterprise", help="Only this USCC."),
    status: str | None = typer.Option(None, "--status", help="open or withdrawn."),
    since: str | None = typer.Option(None, "--since", help="Found on or after (YYYY-MM-DD)."),
    until: str | None = typer.Option(None, "--until", help="Found on or before (YYYY-MM-DD)."),
    limit: int = typer.Option(1000, "--limit", min=1, help="At most this many (newest first)."),
    db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """List stored findings, ingest-time and audit, newest first."""
    from battrace import bootstrap
    from battrace.services.audit import list_findings

    with translated_errors():
        s = settings(db)
        store = bootstrap.open_store(s)
        try:
            rows = list_findings(
                store,
                rule=rule,
                enterprise=enterprise,
                status=status,
                since=_day(since, "--since"),
                until=_day(until, "--until"),
                limit=limit,
            )
        finally:
            store.close()
    if as_json:
        print_json({"findings": rows})
        return
    _print_findings(rows, limit, title="findings · 发现")


def rules(as_json: bool = JsonOption) -> None:
    """The rule catalogue: id, name, moment, outcome, severity and the provision enforced."""
    from battrace.domain.rules import catalogue

    rows = catalogue()
    if as_json:
        print_json(rows)
        return
    table = titled_table("Compliance rules · 合规规则")
    for col in ("id", "name", "moment", "outcome", "severity", "provision"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r["id"],
            f"{r['name']}\n{r['title_zh']}",
            r["moment"],
            r["outcome"],
            r["severity"],
            f"{r['provision_en']}\n{r['provision_zh']}",
        )
    console.print(table)


#: China Standard Time, as the dashboard shows times
_CST = dt.timezone(dt.timedelta(hours=8), "CST")


def _print_findings(rows: list[dict[str, Any]], show: int, *, title: str) -> None:
    if not rows:
        console.print("no findings · 无")
        return
    if show > 0:
        # readable at 80 columns: the message takes what the identifiers leave
        table = titled_table(title, show_lines=True)
        table.add_column("id / rule", no_wrap=True)
        table.add_column("enterprise / found (CST)", no_wrap=True)
        table.add_column("message", overflow="fold", ratio=1)
        for f in rows[:show]:
            found = dt.datetime.fromisoformat(f["found_at"].replace("Z", "+00:00"))
            table.add_row(
                f"{f['id']}\n{f['rule']}\n{f['severity']}"
                + ("" if f["status"] == "open" else f"\n{f['status']}"),
                f"{f['enterprise'] or '—'}\n{found.astimezone(_CST):%Y-%m-%d %H:%M}",
                f"{f['message_en']}\n{f['message_zh']}",
            )
        console.print(table)
    if len(rows) > show:
        more = "" if show == 0 else "more "
        console.print(f"… {len(rows) - show:,} {more}findings (use --show N, --json, or filter)")


def _day(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{option} {text!r}: a date written YYYY-MM-DD is expected") from None

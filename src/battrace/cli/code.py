"""`battrace code …`: check and explain battery codes, VINs and USCCs."""

from __future__ import annotations

import typer

from battrace.cli._common import (
    JsonOption,
    console,
    err_console,
    print_json,
    settings,
    titled_table,
    translated_errors,
)
from battrace.identity import check_identifier
from battrace.identity.explain import explain as explain_parts

app = typer.Typer(help="Check and explain identifiers (GB/T 34014 codes, VINs, USCCs).")


@app.command("check")
def check(
    codes: list[str] = typer.Argument(..., help="Battery codes, VINs or USCCs."),
    as_json: bool = JsonOption,
) -> None:
    """Validate identifiers; exit 0 when all are valid, 1 otherwise."""
    with translated_errors():
        tables = settings().code_tables
    results = [check_identifier(c, tables=tables) for c in codes]
    if as_json:
        print_json([r.as_dict() for r in results])
    else:
        table = titled_table("Identifier check · 编码校验", show_lines=False)
        for col in ("code", "kind", "valid", "details"):
            table.add_column(col)
        for r in results:
            if r.valid:
                if r.battery is not None:
                    b = r.battery
                    detail = (
                        f"maker {b.manufacturer} · {b.product_type.value} · "
                        f"{b.battery_type.chemistry} · made {b.production_date} · "
                        f"serial {b.serial}"
                    )
                else:
                    detail = "check character correct"
                table.add_row(r.code, r.kind, "[green]yes[/]", detail)
            else:
                detail = "\n".join(f"pos {e.position}: {e.message}" for e in r.errors)
                table.add_row(repr(r.code), r.kind, "[red]no[/]", detail)
        console.print(table)
    raise typer.Exit(0 if all(r.valid for r in results) else 1)


@app.command("explain")
def explain(code: str = typer.Argument(..., help="A battery code, VIN or USCC.")) -> None:
    """Print a field-by-field breakdown in Chinese and English."""
    with translated_errors():
        tables = settings().code_tables
    result = check_identifier(code, tables=tables)
    if not result.valid:
        what = "identifier" if result.kind == "unknown" else result.kind
        err_console.print(f"[red]{code!r} is not a valid {what} · 编码无效[/]")
        for e in result.errors:
            err_console.print(f"  position {e.position}: {e.message}")
        raise typer.Exit(1)
    table = titled_table(f"{code} · {result.kind}")
    for col in ("pos.", "field", "字段", "value", "meaning", "含义"):
        table.add_column(col)
    for p in explain_parts(result):
        table.add_row(p.positions, p.field_en, p.field_zh, p.value, p.meaning_en, p.meaning_zh)
    console.print(table)

"""`battrace checkpoint | verify | proof | receipt`: the tamper-evident log from the terminal.

Services are imported inside the commands that use them (see `battrace.cli`)."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer

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
from battrace.errors import SigningKeyError

proof_app = typer.Typer(help="Inclusion and consistency proofs from the store.")


def checkpoint(db: str | None = DbOption, as_json: bool = JsonOption) -> None:
    """Sign and store the current tree head (C2SP tlog-checkpoint)."""
    from battrace import bootstrap
    from battrace.services import log as log_service
    from battrace.services.clock import utc_now

    with translated_errors():
        s = settings(db)
        signer = bootstrap.signer(s)
        if signer is None:
            raise SigningKeyError(f"no signing key in {s.key_dir}: run `battrace keys init`")
        store = bootstrap.open_store(s)
        cp = log_service.cut_checkpoint(store, signer=signer, origin=s.log_origin, now=utc_now())
        store.close()
    if as_json:
        print_json(cp.as_dict())
    else:
        console.print(f"checkpoint at tree size {cp.size:,} · root {cp.root.hex()}")
        console.print(cp.note, markup=False, soft_wrap=True)


def verify(
    db: str | None = DbOption,
    key: str | None = typer.Option(
        None, "--key", help="Verifier key (text or file); default: the deployment's own."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Recompute the whole log from the stored events and check every checkpoint; exit 1 on
    any failure, naming the first bad leaf with the expected and actual hash."""
    from battrace import bootstrap
    from battrace.services import log as log_service

    with translated_errors():
        s = settings(db)
        verifier = bootstrap.verifier(s, key)
        store = bootstrap.open_store(s)
        with err_console.status("recomputing the log …"):  # stderr: --json stays clean
            report = log_service.verify_log(store, verifier)
        store.close()
    if as_json:
        print_json({**report.as_dict(), "signatures_checked": verifier is not None})
    else:
        if verifier is None:
            err_console.print("[yellow]no verifier key: checkpoint signatures not checked[/]")
        verdict = "[green]OK[/]" if report.ok else "[bold red]FAILED[/]"
        if report.ok and verifier is None:
            verdict += " [yellow](hashes only: signatures not checked)[/]"
        console.print(
            f"{verdict} · {_n(report.leaves, 'leaf', 'leaves')}, "
            f"{_n(report.checkpoints, 'checkpoint', 'checkpoints')} in "
            f"{report.seconds:.1f} s"
        )
        if report.problems:
            table = titled_table("problems")
            for col in ("kind", "leaf", "message", "expected", "actual"):
                table.add_column(col, overflow="fold")
            for p in report.problems[:SHOWN_PROBLEMS]:
                table.add_row(
                    p.kind,
                    str(p.leaf_index if p.leaf_index is not None else ""),
                    p.message,
                    p.expected or "",
                    p.actual or "",
                )
            console.print(table)
            if len(report.problems) > SHOWN_PROBLEMS:
                more = len(report.problems) - SHOWN_PROBLEMS
                console.print(
                    f"… and {_n(more, 'more problem', 'more problems')}, which follow from the "
                    "first as a rule (a changed leaf changes every tree head over it); "
                    "`--json` lists them all"
                )
    raise typer.Exit(0 if report.ok else 1)


#: problems listed in the terminal: one changed event makes every later checkpoint fail too
SHOWN_PROBLEMS = 10


def _n(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


@proof_app.command("inclusion")
def inclusion(
    leaf: int = typer.Argument(..., help="Leaf index (log position) of the event."),
    size: int | None = typer.Option(None, "--size", help="Tree size (default: latest checkpoint)."),
    db: str | None = DbOption,
) -> None:
    """Print an inclusion proof (JSON, hashes in hex)."""
    from battrace import bootstrap
    from battrace.services import log as log_service

    with translated_errors():
        store = bootstrap.open_store(settings(db))
        cp = (
            log_service.checkpoint_at(store, size)
            if size is not None
            else log_service.latest_checkpoint(store)
        )
        n = cp.size if cp else store.tree_size()
        proof = log_service.inclusion(store, leaf, n)
        store.close()
    print_json(
        {
            "leaf_index": leaf,
            "tree_size": n,
            "checkpoint": cp.note if cp else None,
            "inclusion_proof": [h.hex() for h in proof],
        }
    )


@proof_app.command("consistency")
def consistency(
    old: int = typer.Argument(..., help="Older tree size."),
    new: int = typer.Argument(..., help="Newer tree size."),
    db: str | None = DbOption,
) -> None:
    """Print a consistency proof between two tree sizes (JSON, hashes in hex)."""
    from battrace import bootstrap
    from battrace.services import log as log_service

    with translated_errors():
        store = bootstrap.open_store(settings(db))
        proof = log_service.consistency(store, old, new)
        store.close()
    print_json({"old_size": old, "new_size": new, "consistency_proof": [h.hex() for h in proof]})


def receipt(
    reporter: str = typer.Argument(..., help="USCC of the reporter."),
    event_id: str = typer.Argument(..., help="The reporter's event id."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the receipt here."),
    db: str | None = DbOption,
) -> None:
    """A receipt (leaf, checkpoint, inclusion proof) for a stored event."""
    from battrace import bootstrap
    from battrace.services import log as log_service

    with translated_errors():
        store = bootstrap.open_store(settings(db))
        doc = log_service.receipt(store, reporter, event_id)
        store.close()
        if out:
            out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    if out:
        console.print(f"receipt written to {out}")
    else:
        print_json(doc)

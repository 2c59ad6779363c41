"""What every command shares: the console, JSON output, settings and error translation."""

from __future__ import annotations

import os
import select
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import orjson
import typer
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from battrace.config import Settings
from battrace.errors import BattraceError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])

DbOption = typer.Option(
    None,
    "--db",
    help="Store URL or SQLite path (default: BATTRACE_DATABASE_URL or ./battrace.db).",
    show_default=False,
)
JsonOption = typer.Option(False, "--json", help="Print JSON for machines instead of tables.")


def titled_table(title: str, **options: Any) -> Table:
    """A table at least as wide as its title: rich wraps a title to the table's width, which
    broke bilingual titles over narrow tables ("packs by chemistry · " / "电池包化学体系")."""
    return Table(title=title, min_width=cell_len(title), **options)


def settings(db: str | None = None) -> Settings:
    """The settings in force, with `--db` applied."""
    return Settings.from_env().with_database(db)


def print_json(data: Any) -> None:
    """Write `data` as JSON on stdout (UTF-8, non-ASCII kept readable)."""
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2, default=_default))
    sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()


def _default(obj: Any) -> Any:
    if hasattr(obj, "as_dict"):
        return obj.as_dict()
    if isinstance(obj, set | frozenset | tuple):
        return sorted(obj) if isinstance(obj, set | frozenset) else list(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


@contextmanager
def translated_errors(stopped: Callable[[], str] | None = None) -> Iterator[None]:
    """Turn a battrace error, or a file that cannot be read or written, into one clear line
    on stderr and exit status 2. Standard output closed by its reader (`… --json | head`)
    stops the command with a line that says so, and `stopped()` (what was done by then),
    instead of a traceback or "Broken pipe". With `stopped`, Ctrl-C too ends in a line that
    says what was done (exit status 130, as a shell gives a command ended by SIGINT)."""
    try:
        yield
    except KeyboardInterrupt:
        if stopped is None:
            raise
        err_console.print(f"[bold red]interrupted[/]: {stopped()}")
        raise typer.Exit(130) from None
    except BattraceError as exc:
        err_console.print(f"[bold red]error[/] ({exc.kind}): {exc}")
        raise typer.Exit(2) from None
    except OSError as exc:  # a file to write or read: a missing directory, a directory, rights
        if isinstance(exc, BrokenPipeError) and stdout_closed():
            devnull = os.open(os.devnull, os.O_WRONLY)  # the interpreter flushes it at exit
            os.dup2(devnull, sys.stdout.fileno())
            done = f" {stopped()}" if stopped is not None else ""
            err_console.print(
                f"[bold red]error[/] (output): standard output was closed before the command "
                f"finished.{done}"
            )
            raise typer.Exit(2) from None
        where = f"{escape(str(exc.filename))}: " if exc.filename else ""
        err_console.print(f"[bold red]error[/] (file): {where}{escape(exc.strerror or str(exc))}")
        raise typer.Exit(2) from None


def stdout_closed() -> bool:
    """True when standard output is a pipe or socket whose reader has gone."""
    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poll.poll(0))
    except (OSError, ValueError, AttributeError):  # no descriptor (captured), or no poll
        return False

"""Field validation one batch ahead, in a helper process (ingest of large files).

A batch's work splits in two. Decoding, field validation, canonical bytes and the Merkle leaf
hash need no store (`batch.check_batch`); idempotency, the state machine, flags and rows do,
in order, in one transaction (`Ingestor.commit`). With a second core, a helper process checks
batch n+1 while this process commits batch n.

Events do not cross the process boundary: pickling an `Event` (datetimes, decoded codes,
dataclasses) cost as much as validating it. The helper answers each line with plain values
— the reasons it was refused, or the canonical bytes, leaf hash, event time and the codes it
named — and this process rebuilds the `Event` from its own decoding of the line, trusting the
helper's verdict (`rebuild`: no checks, a few µs).

The helper only computes. If it dies, the batch it held is checked here and ingest goes on
in-process; nothing is acknowledged before `commit`, so nothing is lost either way.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from battrace.compat import fast_enum_members
from battrace.domain.event_model import iso_moment
from battrace.domain.events import Event, Reason, ValidationContext, from_us, to_us
from battrace.domain.lifecycle import Part
from battrace.domain.vocab import EventType
from battrace.identity import BatteryCode, CodeTables, parse_battery_code
from battrace.services.batch import check_batch, decode_line, fewer_collections, parse_line

log = logging.getLogger(__name__)

#: a valid event, as the helper reports it: time (epoch µs), canonical bytes (None: cannot be
#: encoded), (record time µs, leaf hash), the codes it named, plain_numbers, integral_floats,
#: and the codes it touches with the part each plays (`lifecycle.parts_of`, as values)
Verdict = tuple[
    int,
    bytes | None,
    tuple[int, bytes] | None,
    tuple[str, ...],
    bool,
    bool,
    tuple[tuple[str, str], ...],
]
#: a refused line: (field, rule, message) per problem
Refusal = list[tuple[str, str | None, str]]

_TYPES = {t.value: t for t in EventType}
_PARTS = {p.value: p for p in Part}


def _send(fh: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    fh.write(len(data).to_bytes(8, "little"))
    fh.write(data)
    fh.flush()


def _recv(fh: BinaryIO) -> Any:
    head = fh.read(8)
    if len(head) < 8:
        raise EOFError("the other end closed the pipe")
    size = int.from_bytes(head, "little")
    data = fh.read(size)
    if len(data) < size:
        raise EOFError("the other end closed the pipe mid-message")
    return pickle.loads(data)


def serve(source: BinaryIO, sink: BinaryIO) -> None:
    """The helper's loop: the validation context and the file, then the byte range of a batch
    in and a verdict per line out, until EOF. The helper reads the file itself: sending the
    lines through the pipe cost the ingesting process as much as a tenth of its time."""
    try:
        validation, path = _recv(source)
    except EOFError:
        return
    fast_enum_members()  # as in the ingesting process (bootstrap)
    _widen(sink)
    with open(path, "rb") as fh, fewer_collections():  # see ingest_file: for the whole run
        while True:
            try:
                now_us, start, end = _recv(source)
            except EOFError:  # the ingesting process is gone or done
                return
            fh.seek(start)
            # the lines `ingest_file.batches` took: split at b"\n" only, blank ones skipped
            lines = [line for line in fh.read(end - start).split(b"\n") if line.strip()]
            answer = verdicts(validation, lines, now_us)
            try:
                _send(sink, answer)
            except OSError:  # the ingesting process is gone
                return


def verdicts(
    validation: ValidationContext, lines: list[bytes], now_us: int
) -> list[Verdict | Refusal]:
    """What the helper answers for a batch of lines received at `now_us`."""
    raws = [decode_line(line) for line in lines]
    answer: list[Verdict | Refusal] = []
    for c in check_batch(validation, raws, from_us(now_us)):
        if isinstance(c, Event):
            codes = tuple(c.codes)
            # `_value_`: `.value` is a property, 4x slower per member (docs/benchmarks.md)
            parts = tuple([(code, part._value_) for code, part in c.parts])
            answer.append(
                (c.time_us, c.body, c.leaf, codes, c.plain_numbers, c.integral_floats, parts)
            )
        else:
            answer.append([(r.field, r.rule, r.message) for r in c])
    return answer


def _widen(fh: BinaryIO) -> None:
    """Let the pipe hold a whole answer (Linux: up to its pipe-max-size, 1 MiB by default),
    so the helper can hand it over and go on, and the ingesting process read it at once."""
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        with contextlib.suppress(OSError):
            fcntl.fcntl(fh.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)


class _Codes(dict[str, BatteryCode]):
    """`Event.codes` decoded on first use: the codes the helper found valid, each decoded the
    first time it is looked up. Only a code's first event needs its decoding (the manufacturer
    prefix, the chemistry letter); decoding every code of every event cost the committing
    process about 4 % of its time. Any other key is a KeyError, as with a plain dict."""

    __slots__ = ("_named", "_tables")
    _named: tuple[str, ...]
    _tables: CodeTables

    @classmethod
    def of(cls, named: tuple[str, ...], tables: CodeTables) -> _Codes:
        """Codes `named` by an event, to decode with `tables` (no `__init__` of our own: a
        Python-level one cost more than the dict itself)."""
        codes = cls()
        codes._named = named
        codes._tables = tables
        return codes

    def __missing__(self, code: str) -> BatteryCode:
        if code not in self._named:
            raise KeyError(code)
        decoded = self[code] = parse_battery_code(code, tables=self._tables)
        return decoded


def rebuild(raw: dict[str, Any], verdict: Verdict, validation: ValidationContext) -> Event:
    """The `Event` that validation built from `raw`, from the helper's verdict (no checks)."""
    time_us, body, leaf, codes, plain, integral, parts = verdict
    get = raw.get
    event_id = raw["id"]
    reporter = raw["reporter"]
    recorded = get("recorded_at")
    # every field in one call, in `Event`'s field order (not eight of them set again after
    # the constructor has set their defaults)
    return Event(
        event_id,
        _TYPES[raw["type"]],
        iso_moment(raw["time"]),
        time_us,
        reporter,
        raw,
        _Codes.of(codes, validation.tables),
        None if recorded is None else iso_moment(recorded),
        [(code, _PARTS[part]) for code, part in parts],
        (reporter, event_id),
        get("vin"),
        plain,
        integral,
        body,
        leaf,
    )


class CheckAhead:
    """A helper process that checks the next batch while this process commits the current one.

    `submit(lines, start, end, now)` hands a batch over; `result()` waits for the oldest
    submitted batch and returns its decoded lines, checked events and receive time, as
    `Ingestor.check` would. Take each result before submitting the next batch: the helper
    holds one batch at a time. Use as a context manager.
    """

    def __init__(self, validation: ValidationContext, path: Path) -> None:
        self.validation = validation
        self._pending: list[tuple[list[bytes | None], dt.datetime, bool]] = []
        # A plain child process on two pipes of its own (not multiprocessing: its "spawn"
        # re-runs the caller's main module, its "fork" copies the caller's threads' locks).
        self._proc: subprocess.Popen[bytes] | None = None
        self._out: BinaryIO | None = None
        self._in: BinaryIO | None = None
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", __name__, str(to_child), str(from_child)],
                pass_fds=(to_child, from_child),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
        except OSError as exc:  # no helper: everything is checked here
            log.warning("could not start the checking helper (%s); checking in this process", exc)
            os.close(from_parent)
            os.close(to_parent)
            return
        finally:
            os.close(to_child)
            os.close(from_child)
        self._out = os.fdopen(from_parent, "wb")
        self._in = os.fdopen(to_parent, "rb")
        try:
            _send(self._out, (validation, str(path)))
        except OSError as exc:
            self._lost(exc)

    @property
    def alive(self) -> bool:
        """The helper is still there (it goes when it fails; checking then happens here)."""
        return self._out is not None

    @property
    def pid(self) -> int | None:
        """The helper's process id (tests stop it to see ingest go on without it)."""
        return self._proc.pid if self._proc is not None else None

    def submit(self, lines: list[bytes | None], start: int, end: int, now: dt.datetime) -> None:
        """Queue a batch received at `now` for checking: its non-blank `lines`, which are bytes
        `start` to `end` of the file. A batch with a line the reader skipped as too long (None)
        is checked here: the helper reads whole byte ranges, and would read that line."""
        here = None in lines
        self._pending.append((lines, now, here))
        if self._out is not None and not here:
            try:
                _send(self._out, (to_us(now), start, end))
            except OSError as exc:
                self._lost(exc)

    def result(self) -> tuple[list[Any], list[Event | list[Reason]], dt.datetime]:
        """The oldest submitted batch: its decoded lines, checked events and receive time."""
        lines, now, here = self._pending.pop(0)
        answer: list[Verdict | Refusal] | None = None
        if self._in is not None and not here:
            try:
                answer = _recv(self._in)
            except (EOFError, OSError, pickle.UnpicklingError) as exc:
                self._lost(exc)
        if answer is not None and len(answer) != len(lines):
            log.warning("the checking helper cut a batch differently; checking it here")
            answer = None
        if answer is None:
            raws = [decode_line(line) for line in lines]
            return raws, check_batch(self.validation, raws, now), now
        raws = []
        checked: list[Event | list[Reason]] = []
        validation = self.validation
        sent: list[bytes] = lines  # type: ignore[assignment]  # no None: see `submit`
        for line, a in zip(sent, answer, strict=True):
            if isinstance(a, tuple):
                raw = parse_line(line)  # as the helper decoded it (a BOM skipped)
                raws.append(raw)
                checked.append(rebuild(raw, a, validation))
            else:
                raws.append(parse_line(line))
                checked.append([Reason(*why) for why in a])
        return raws, checked, now

    def _lost(self, exc: BaseException) -> None:
        """The helper failed: check in this process from now on (what it held is re-checked)."""
        log.warning("the checking helper stopped (%s); checking in this process", exc)
        self.close()
        # the batches it had not answered are checked here by `result`

    def close(self) -> None:
        """Stop the helper (it exits when its input pipe closes)."""
        out, inp, proc = self._out, self._in, self._proc
        self._out = self._in = self._proc = None
        for fh in (out, inp):
            if fh is not None:
                with contextlib.suppress(OSError):
                    fh.close()
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> CheckAhead:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


#: files smaller than this are checked in process (the helper starts in ~0.4 s: its imports)
MIN_BYTES = 4 << 20


def worth_a_helper(size: int) -> bool:
    """A file of `size` bytes is checked ahead in a helper when it is large enough and a
    second core is there to run it."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return cores >= 2 and size >= MIN_BYTES


if __name__ == "__main__":  # the helper: python -m battrace.services.ingest_ahead IN OUT
    # Ctrl-C reaches the whole process group: the ingesting process decides; the helper
    # leaves when its input closes
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _sink = os.fdopen(int(sys.argv[2]), "wb")
    try:
        with os.fdopen(int(sys.argv[1]), "rb") as _source:
            serve(_source, _sink)
    finally:
        # the ingesting process may be gone (SIGTERM, kill): what the answer left in the
        # buffer has no reader, and flushing it raised BrokenPipeError with a traceback
        with contextlib.suppress(OSError):
            _sink.close()

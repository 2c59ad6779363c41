"""Checking the next batch in a helper process gives the same results as checking in process,
and ingest goes on when the helper dies."""

import datetime as dt
import os
import pickle
import signal
import subprocess
import sys

import orjson
import pytest
import sqlalchemy as sa

from battrace.domain.calendar import WorkingCalendar
from battrace.domain.events import Event, ValidationContext, to_us
from battrace.domain.ingest_rules import IngestRules
from battrace.domain.policy import Policy
from battrace.identity import CodeTables, InvalidCode, parse_battery_code
from battrace.services import ingest_ahead
from battrace.services.ingest import Ingestor, check_batch
from battrace.services.ingest_ahead import CheckAhead, rebuild, verdicts
from battrace.services.ingest_file import ingest_file
from battrace.sim.build import event
from battrace.store.schema import batteries, events, findings
from battrace.store.sql import SqlStore
from tests.kit import (
    AUTOMAKER,
    MAKER,
    code,
    modules_loaded_after,
    simple_lifecycles,
    spy_key_lookups,
)

pytestmark = pytest.mark.slow

NOW = dt.datetime(2025, 3, 1, 10, tzinfo=dt.UTC)


def mixed_lines() -> list[bytes]:
    """Valid lifecycles with every kind of trouble mixed in: refused events, lines that are not
    JSON, blank lines, duplicates, a reused id, a late (out-of-order) event and a correction."""
    evs = simple_lifecycles(300)
    lines = [orjson.dumps(e) for e in evs]
    late = event("shipped", "late-ship", "2025-01-02T08:30:00+08:00", MAKER,
                 battery=code(299_001), to=AUTOMAKER)  # fmt: skip
    trouble = [
        b"",
        b"   ",
        b"{not json",
        orjson.dumps({"id": "x1", "type": "produced", "reporter": MAKER}),  # fields missing
        orjson.dumps({**evs[40], "colour": "red"}),  # unknown field, known id
        orjson.dumps(evs[41]),  # an exact duplicate
        orjson.dumps({**evs[42], "to": MAKER}),  # the same id for a different event
        orjson.dumps(
            event(
                "correction",
                "c1",
                "2025-01-09T10:00:00+08:00",
                MAKER,
                target=evs[41]["id"],
                reason="typo",
            )
        ),
        orjson.dumps(late),
        b'{"id": "a\rb", "type": "produced"}',  # bytes.splitlines would cut it in two
        b"[1, 2]",
    ]
    for i, t in enumerate(trouble):
        lines.insert(60 + i * 97, t)
    return lines


def ingest(url, path, *, ahead, batch_size=113):
    store = SqlStore.open(url, create=True)
    ingestor = Ingestor(
        store,
        rules=IngestRules(Policy.default(), WorkingCalendar.default()),
        clock=lambda: NOW,
    )
    seen = []
    tally = ingest_file(
        ingestor,
        path,
        batch_size=batch_size,
        ahead=ahead,
        on_batch=lambda rs, _read: seen.extend((n, r.as_dict()) for n, r in rs),
    )
    with store.engine.connect() as c:
        rows = {
            "events": c.execute(sa.select(events).order_by(events.c.seq)).all(),
            "batteries": c.execute(sa.select(batteries).order_by(batteries.c.code)).all(),
            "findings": c.execute(
                sa.select(findings.c.rule, findings.c.subject_key).order_by(findings.c.subject_key)
            ).all(),
        }
    root = store.head()
    store.close()
    return tally, seen, rows, root


def test_checking_ahead_gives_the_results_and_store_of_checking_in_process(tmp_path, caplog):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(mixed_lines()) + b"\n")
    here = ingest(f"sqlite:///{tmp_path / 'here.db'}", path, ahead=False)
    ahead = ingest(f"sqlite:///{tmp_path / 'ahead.db'}", path, ahead=True)
    tally, seen, rows, root = ahead
    assert not caplog.records, "the helper was not used throughout"
    assert tally.rejected >= 6 and tally.duplicates >= 1 and tally.accepted > 1400
    assert seen == here[1]  # line by line: status, reasons, leaf index and hash, flags
    assert rows == here[2]
    assert root == here[3]
    assert (tally.accepted, tally.rejected, tally.duplicates) == (
        here[0].accepted,
        here[0].rejected,
        here[0].duplicates,
    )


@pytest.mark.postgres
def test_checking_ahead_on_postgresql_gives_the_results_of_checking_in_process(
    tmp_path, pg_schema_url, monkeypatch, caplog
):
    """The same file on PostgreSQL with the helper as on SQLite without it, in batches of
    600 (decided without the key lookup), two stored keys sent again in the second batch
    (so it is written, refused by the unique key, and decided again)."""
    evs = simple_lifecycles(300)
    lines = mixed_lines()
    lines[700:700] = [orjson.dumps(evs[5]), orjson.dumps(evs[100])]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    here = ingest(f"sqlite:///{tmp_path / 'here.db'}", path, ahead=False, batch_size=600)
    looked_up = spy_key_lookups(monkeypatch)
    there = ingest(pg_schema_url, path, ahead=True, batch_size=600)
    assert not caplog.records, "the helper was not used throughout"
    assert max(looked_up) > 500  # the second batch was decided again, its keys looked up
    assert there[1] == here[1]  # line by line: status, reasons, leaf index and hash, flags
    assert there[3] == here[3]  # the same log
    assert [len(rows) for rows in there[2].values()] == [len(rows) for rows in here[2].values()]
    assert sum(r["status"] == "duplicate" for _, r in there[1]) >= 3


@pytest.mark.parametrize("ahead", [False, True], ids=["in-process", "ahead"])
def test_byte_order_marks_from_windows_editors_are_skipped(tmp_path, ahead, caplog):
    """A file saved by Notepad starts with a UTF-8 byte order mark; two such files joined by
    `cat` carry another at the start of a line. Both are skipped, not refused as bad JSON."""
    bom = b"\xef\xbb\xbf"
    evs = simple_lifecycles(20)
    first, second = evs[:53], evs[53:]  # a lifecycle cut across the two files
    path = tmp_path / "joined.jsonl"
    path.write_bytes(
        b"".join(
            bom + b"\r\n".join(orjson.dumps(e) for e in part) + b"\r\n" for part in (first, second)
        )
    )
    tally, seen, _rows, _root = ingest(f"sqlite:///{tmp_path / 'b.db'}", path, ahead=ahead)
    assert not caplog.records, "the helper was used throughout"
    assert (tally.accepted, tally.rejected) == (len(evs), 0), [r for _, r in seen][:1]


def test_a_file_without_a_final_newline_and_with_blank_runs_is_cut_the_same_way(tmp_path):
    lines = [orjson.dumps(e) for e in simple_lifecycles(40)]
    body = b"\n\n".join(lines[:50]) + b"\n \n\t\n" + b"\n".join(lines[50:])  # no final newline
    path = tmp_path / "ragged.jsonl"
    path.write_bytes(body)
    here = ingest(f"sqlite:///{tmp_path / 'here.db'}", path, ahead=False, batch_size=7)
    ahead = ingest(f"sqlite:///{tmp_path / 'ahead.db'}", path, ahead=True, batch_size=7)
    assert ahead[1] == here[1] and ahead[0].accepted == len(lines)


def test_a_rebuilt_event_is_the_event_validation_built():
    validation = ValidationContext(trusted=True)
    lines = [x for x in mixed_lines() if x.startswith(b'{"')]
    rebuilt_some = 0
    answers = verdicts(validation, lines, 1_740_823_200_000_000)
    for line, verdict in zip(lines, answers, strict=True):
        if type(verdict) is not tuple:
            continue
        raw = orjson.loads(line)
        [checked] = check_batch(validation, [orjson.loads(line)], NOW)
        rebuilt = rebuild(raw, verdict, validation)
        assert isinstance(checked, Event)
        # codes are decoded when first looked up: each one as validation decoded it
        assert len(rebuilt.codes) == 0 or not checked.codes
        for named, decoded in checked.codes.items():
            assert rebuilt.codes[named] == decoded
        assert rebuilt == checked
        rebuilt_some += 1
    assert rebuilt_some > 1400


def test_a_rebuilt_event_decodes_only_the_codes_it_names():
    validation = ValidationContext(trusted=True)
    line = next(x for x in mixed_lines() if b'"type":"produced"' in x)
    [verdict] = verdicts(validation, [line], 1_740_823_200_000_000)
    assert type(verdict) is tuple
    rebuilt = rebuild(orjson.loads(line), verdict, validation)
    named = rebuilt.payload["battery"]
    assert rebuilt.codes[named].manufacturer == named[:3]
    with pytest.raises(KeyError):
        rebuilt.codes[code(9_999_999)]  # a valid code the event does not name


def test_ingest_goes_on_in_process_when_the_helper_dies(tmp_path):
    path = tmp_path / "events.jsonl"
    lines = [orjson.dumps(e) for e in simple_lifecycles(60)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    validation = ValidationContext()
    with CheckAhead(validation, path) as helper:
        assert helper.alive and helper.pid is not None
        first = lines[:100]
        helper.submit(first, 0, sum(len(x) + 1 for x in first), NOW)
        raws, checked, now = helper.result()
        assert now == NOW and len(checked) == 100 and raws[0] == orjson.loads(lines[0])
        os.kill(helper.pid, signal.SIGKILL)
        rest = lines[100:]
        start = sum(len(x) + 1 for x in first)
        helper.submit(rest, start, start + sum(len(x) + 1 for x in rest), NOW)
        raws, checked, _ = helper.result()
        assert not helper.alive
        assert [type(c).__name__ for c in checked] == ["Event"] * len(rest)
        assert checked == check_batch(validation, [orjson.loads(x) for x in rest], NOW)


def test_the_helper_leaves_when_the_ingest_does(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in simple_lifecycles(5)) + b"\n")
    helper = CheckAhead(ValidationContext(), path)
    proc = helper._proc
    helper.close()
    assert proc is not None and proc.returncode == 0


def test_code_tables_travel_to_a_helper_as_their_definition():
    tables = CodeTables.from_mapping({"date": {"year_base": 2010}})
    copy = pickle.loads(pickle.dumps(tables))
    assert (copy.name, copy.date_alphabet, copy.year_base, copy.battery_types) == (
        tables.name,
        tables.date_alphabet,
        tables.year_base,
        tables.battery_types,
    )
    assert copy.dates == tables.dates


def test_a_remembered_code_still_checks_its_production_date_against_the_event():
    pack = code(1, made=dt.date(2025, 1, 5))
    assert parse_battery_code(pack).production_date == dt.date(2025, 1, 5)
    with pytest.raises(InvalidCode):
        parse_battery_code(pack, not_after=dt.date(2025, 1, 4))
    assert parse_battery_code(pack, not_after=dt.date(2025, 1, 5)).code == pack


def test_without_a_helper_everything_is_checked_in_process(tmp_path, monkeypatch, caplog):
    import battrace.services.ingest_ahead as ahead

    def no_process(*_a, **_k):
        raise OSError("no more processes")

    monkeypatch.setattr(ahead.subprocess, "Popen", no_process)
    path = tmp_path / "events.jsonl"
    lines = [orjson.dumps(e) for e in simple_lifecycles(3)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    with CheckAhead(ValidationContext(), path) as helper:
        assert not helper.alive
        helper.submit(lines, 0, path.stat().st_size, NOW)
        raws, checked, _ = helper.result()
    assert checked == check_batch(ValidationContext(), raws, NOW)
    assert "could not start the checking helper" in caplog.text


@pytest.mark.parametrize("ahead", [False, True])
def test_a_file_ingest_keeps_the_collector_calm_between_batches(tmp_path, ahead):
    """Between batches the next one is already decoded (and, ahead, checked): a collection
    there would scan all of it, once per batch. The whole file runs with the batch threshold,
    and the process's own is back afterwards."""
    import gc

    from battrace.services import ingest as ingest_module

    path = tmp_path / "l.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in simple_lifecycles(30)) + b"\n")
    store = SqlStore.open(f"sqlite:///{tmp_path / 's.db'}", create=True)
    seen: list[int] = []
    saved = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        ingest_file(
            Ingestor(store, clock=lambda: NOW),
            path,
            batch_size=17,
            ahead=ahead,
            on_batch=lambda _rs, _read: seen.append(gc.get_threshold()[0]),
        )
        assert len(seen) > 3
        assert set(seen) == {ingest_module.GC_YOUNG_THRESHOLD}
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*saved)
        store.close()


def test_the_helper_does_not_load_the_store():
    """The helper only checks: the store's imports (SQLAlchemy and the drivers, ~30 MB) would
    make it twice as heavy."""
    store = ("sqlalchemy", "psycopg", "sqlite3", "battrace.store.sql")
    assert modules_loaded_after("import battrace.services.ingest_ahead", store) == []


@pytest.mark.parametrize("ahead", [False, True], ids=["in-process", "ahead"])
def test_an_over_long_line_is_rejected_unread_and_memory_stays_bounded(tmp_path, ahead, caplog):
    """A line longer than MAX_LINE (a file with no newline at all, a binary pasted in) is not
    read into memory: it is rejected as such and the lines around it go on, with or without
    the helper (which is not given the batch that holds it: it would read the whole range)."""
    import tracemalloc

    from battrace.services.batch import MAX_LINE

    evs = simple_lifecycles(30)
    lines = [orjson.dumps(e) for e in evs]
    lines.insert(70, b"x" * (24 * MAX_LINE))  # 24 MiB without a newline
    path = tmp_path / "long.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    tracemalloc.start()
    try:
        tally, seen, _rows, _root = ingest(f"sqlite:///{tmp_path / 'b.db'}", path, ahead=ahead)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not caplog.records, "the helper was used throughout"
    assert (tally.accepted, tally.rejected) == (len(evs), 1)
    [(line, bad)] = [(n, r) for n, r in seen if r["status"] == "rejected"]
    assert line == 71
    assert bad["reasons"] == [
        {
            "field": "(line)",
            "rule": None,
            "message": f"line longer than {MAX_LINE:,} bytes: not read",
        }
    ]
    assert peak < 14 * MAX_LINE  # the line is 24 MiB; the ingest itself, ~9 MiB here


def test_a_batch_is_cut_early_when_its_lines_hold_too_many_bytes():
    import io

    from battrace.services.ingest_file import batches

    data = b"".join(b"%d" % i + b"." * 98 + b"\n" for i in range(10))  # 10 lines of 101 bytes
    cut = [[n for n, _ in chunk] for chunk, _ in batches(io.BytesIO(data), 8, max_bytes=350)]
    assert cut == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]


@pytest.mark.slow
def test_the_helper_leaves_quietly_when_the_ingesting_process_is_gone(tmp_path):
    """An ingest stopped by SIGTERM left its helper answering into a pipe nobody read: the
    helper died of BrokenPipeError with a traceback on the terminal they share."""
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in simple_lifecycles(20)) + b"\n")
    to_helper, helper_in = os.pipe()
    answers, helper_out = os.pipe()
    helper = subprocess.Popen(
        [sys.executable, "-m", "battrace.services.ingest_ahead", str(to_helper), str(helper_out)],
        pass_fds=(to_helper, helper_out),
        stderr=subprocess.PIPE,
    )
    os.close(to_helper)
    os.close(helper_out)
    os.close(answers)  # the ingesting process is gone: nobody reads the answer
    with os.fdopen(helper_in, "wb") as ask:
        ingest_ahead._send(ask, (ValidationContext(), str(path)))
        ingest_ahead._send(ask, (to_us(NOW), 0, path.stat().st_size))
    assert helper.stderr is not None
    with helper.stderr:
        said = helper.stderr.read().decode()
    assert helper.wait(timeout=60) == 0 and said == ""

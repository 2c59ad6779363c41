"""`battrace init | ingest | trace | vehicle` as an operator runs them."""

import datetime as dt
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys

import orjson
import pytest
from typer.testing import CliRunner

from battrace.cli import app
from battrace.identity import CodeTables, build_vin, parse_battery_code
from tests.kit import AUTOMAKER, VIN1, code, simple_lifecycles

runner = CliRunner()


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'b.db'}"
    assert runner.invoke(app, ["init", "--db", url]).exit_code == 0
    return url


def write(path, events):
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")
    return path


def test_ingest_json_counts_and_lists_rejections_with_reasons(db, tmp_path):
    evs = simple_lifecycles(3)
    evs.append({"id": "bad", "type": "produced"})
    f = write(tmp_path / "e.jsonl", evs)
    r = runner.invoke(app, ["ingest", str(f), "--db", db, "--json"])
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert (out["accepted"], out["rejected"], out["duplicates"]) == (len(evs) - 1, 1, 0)
    [bad] = [x for x in out["results"] if x["status"] == "rejected"]
    assert bad["id"] == "bad" and bad["line"] == len(evs)
    assert {x["field"] for x in bad["reasons"]} >= {"time", "reporter", "battery"}


def test_ingest_twice_is_all_duplicates_and_exits_zero(db, tmp_path):
    f = write(tmp_path / "e.jsonl", simple_lifecycles(2))
    assert runner.invoke(app, ["ingest", str(f), "--db", db]).exit_code == 0
    r = runner.invoke(app, ["ingest", str(f), "--db", db, "--json"])
    assert r.exit_code == 0
    assert json.loads(r.stdout)["duplicates"] == len(simple_lifecycles(2))


def test_json_results_leave_out_accepted_events_beyond_a_thousand_and_say_so(db, tmp_path):
    f = write(tmp_path / "e.jsonl", simple_lifecycles(250))
    out = json.loads(runner.invoke(app, ["ingest", str(f), "--db", db, "--json"]).stdout)
    assert len(out["results"]) == 1000
    assert out["accepted_results_omitted"] == out["accepted"] - 1000


def test_trace_json_has_the_documented_keys(db, tmp_path):
    f = write(tmp_path / "e.jsonl", simple_lifecycles(1))
    runner.invoke(app, ["ingest", str(f), "--db", db])
    pack = code(1, made=dt.date(2025, 1, 2))
    r = runner.invoke(app, ["trace", pack, "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    for key in (
        "code",
        "state",
        "holder",
        "vin",
        "parent",
        "components",
        "inputs",
        "successor",
        "history",
    ):
        assert key in out
    assert out["state"] == "in_vehicle" and out["holder"] == AUTOMAKER
    assert all("recorded_at" in e for e in out["history"])
    r = runner.invoke(app, ["trace", pack, "--db", db, "--as-of", "2025-01-01", "--json"])
    assert r.exit_code == 2  # nothing named it yet
    assert runner.invoke(app, ["trace", pack, "--db", db]).exit_code == 0


def test_vehicle_lists_the_packs_it_carried(db, tmp_path):
    write(tmp_path / "e.jsonl", simple_lifecycles(1))
    runner.invoke(app, ["ingest", str(tmp_path / "e.jsonl"), "--db", db])
    vin = build_vin("LSVBB21800000000")
    out = json.loads(runner.invoke(app, ["vehicle", vin, "--db", db, "--json"]).stdout)
    assert [p["code"] for p in out["packs"]] == [code(1, made=dt.date(2025, 1, 2))]
    assert out["sold_on"] == "2025-01-02"
    r = runner.invoke(app, ["vehicle", VIN1, "--db", db])
    assert r.exit_code == 2  # unknown vehicle: one clear line


def test_a_store_that_was_never_initialised_says_how_to_fix_it(tmp_path):
    r = runner.invoke(app, ["trace", code(1), "--db", f"sqlite:///{tmp_path / 'none.db'}"])
    assert r.exit_code == 2
    assert "battrace init" in r.stderr
    assert not (tmp_path / "none.db").exists()  # a read leaves no empty store behind


@pytest.mark.slow
def test_a_large_file_is_checked_ahead_by_default_and_not_when_told(db, tmp_path, monkeypatch):
    """Over 4 MB on two cores the next batch is checked in a helper process unless
    `--no-check-ahead` says otherwise; the results are the same either way."""
    from battrace.services import ingest_ahead, ingest_file

    started: list[int] = []
    real_init = ingest_ahead.CheckAhead.__init__

    def spy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        started.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(ingest_ahead.CheckAhead, "__init__", spy)
    # two cores or not, as on the machines the default is for
    monkeypatch.setattr(ingest_file, "worth_a_helper", lambda size: size >= ingest_ahead.MIN_BYTES)
    evs = simple_lifecycles(4800)  # about 4.4 MB
    f = write(tmp_path / "big.jsonl", evs)
    assert f.stat().st_size >= ingest_ahead.MIN_BYTES
    r = runner.invoke(app, ["ingest", str(f), "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    assert started == [1]
    assert json.loads(r.stdout)["accepted"] == len(evs)
    r = runner.invoke(app, ["ingest", str(f), "--db", db, "--json", "--no-check-ahead"])
    assert started == [1]  # no second helper
    assert json.loads(r.stdout)["duplicates"] == len(evs)


def test_a_mistyped_code_or_vin_is_told_why_it_matches_nothing(db, tmp_path):
    write(tmp_path / "e.jsonl", simple_lifecycles(1))
    runner.invoke(app, ["ingest", str(tmp_path / "e.jsonl"), "--db", db])
    pack = code(1, made=dt.date(2025, 1, 2))
    r = runner.invoke(app, ["trace", pack.lower(), "--db", db])
    assert r.exit_code == 2
    said = " ".join(r.stderr.split())  # the console wraps long lines
    assert "not a valid GB/T 34014 code" in said and "upper case" in said
    vin = build_vin("LSVBB21800000000")
    typo = vin[:8] + ("1" if vin[8] != "1" else "2") + vin[9:]  # a wrong check digit
    r = runner.invoke(app, ["vehicle", typo, "--db", db])
    assert r.exit_code == 2
    said = " ".join(r.stderr.split())
    assert "not a valid VIN" in said and "check digit" in said
    # a valid code that no event names is only not found
    r = runner.invoke(app, ["trace", code(2, made=dt.date(2025, 1, 2)), "--db", db])
    assert r.exit_code == 2
    said = " ".join(r.stderr.split())
    assert "no event names" in said and "not a valid" not in said


def test_the_deployment_code_tables_read_the_log_back(tmp_path, monkeypatch):
    """`trace --as-of` and `rebuild` decode stored events with the deployment's own code tables
    (BATTRACE_CODE_TABLES), as ingest did: with the packaged ones, a code whose date letters
    mean another year under them no longer validates."""
    monkeypatch.chdir(tmp_path)
    tables_file = tmp_path / "tables.toml"
    tables_file.write_text("name = 'older plants'\n[date]\nyear_base = 2000\n")
    monkeypatch.setenv("BATTRACE_CODE_TABLES", str(tables_file))
    theirs = CodeTables.load(tables_file)
    made = dt.date(2015, 3, 2)
    ours = code(1, made=made)  # date letters written with the packaged tables
    pack = ours[:14] + theirs.encode_date(made) + ours[17:]
    assert parse_battery_code(pack, tables=theirs).production_date == made
    assert parse_battery_code(pack).production_date.year == 2025  # after the events
    evs = [
        e | ({"battery": pack} if e.get("battery") == ours else {})
        for e in simple_lifecycles(1, start=made.isoformat())
    ]
    url = f"sqlite:///{tmp_path / 'b.db'}"
    assert runner.invoke(app, ["init", "--db", url]).exit_code == 0
    r = runner.invoke(app, ["ingest", str(write(tmp_path / "e.jsonl", evs)), "--db", url])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["trace", pack, "--as-of", "2015-03-02", "--db", url, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["state"] == "in_vehicle"
    r = runner.invoke(app, ["rebuild", "--db", url, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["batteries"] == 1


def test_ingest_reads_standard_input_for_a_dash(db, tmp_path):
    """`zcat events.jsonl.gz | battrace ingest -`: the same results as from the file."""
    evs = simple_lifecycles(3)
    data = write(tmp_path / "e.jsonl", evs).read_bytes()
    r = runner.invoke(app, ["ingest", "-", "--db", db, "--json"], input=data)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["accepted"] == len(evs)
    again = runner.invoke(app, ["ingest", str(tmp_path / "e.jsonl"), "--db", db, "--json"])
    assert json.loads(again.stdout)["duplicates"] == len(evs)


def test_ingest_of_a_missing_file_or_a_directory_says_so(db, tmp_path):
    for target, why in ((tmp_path / "none.jsonl", "no such file"), (tmp_path, "is a directory")):
        r = runner.invoke(app, ["ingest", str(target), "--db", db])
        assert r.exit_code == 2
        assert why in " ".join(r.stderr.split())


def test_tables_are_readable_at_80_columns(tmp_path, monkeypatch):
    """`trace` cut times, reporters and codes to "2021-01-28T15:17…" and printed lists as
    Python reprs; `vehicle` cut the pack code, the table's key; `findings` gave the message
    13 columns."""
    monkeypatch.chdir(tmp_path)  # `init` makes ./battrace-keys
    db = f"sqlite:///{tmp_path / 'w.db'}"
    runner.invoke(app, ["init", "--db", db])
    events = simple_lifecycles(1)
    f = write(tmp_path / "e.jsonl", events)
    assert runner.invoke(app, ["ingest", str(f), "--db", db]).exit_code == 0
    pack = next(e["battery"] for e in events if "battery" in e)
    env = {"COLUMNS": "80"}
    out = runner.invoke(app, ["trace", pack, "--db", db], env=env).stdout
    assert "…" not in out and "['" not in out
    assert AUTOMAKER in out
    vin = next(e["vin"] for e in events if "vin" in e)
    out = runner.invoke(app, ["vehicle", vin, "--db", db], env=env).stdout
    assert pack in out and "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80


@pytest.mark.slow
def test_ingest_json_into_a_closed_pipe_stops_saying_what_is_stored(db, tmp_path):
    """`battrace ingest --json | head`: the reader goes away after the first lines. The ingest
    stops with one line saying so and how many events are stored (the batches committed), not
    "Broken pipe"; running it again stores the rest and nothing twice."""
    evs = simple_lifecycles(400)
    f = write(tmp_path / "e.jsonl", evs)
    args = [sys.executable, "-m", "battrace", "ingest", str(f), "--db", db, "--json"]
    proc = subprocess.Popen(
        [*args, "--batch-size", "100"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(20).startswith(b'{"results": [')
    proc.stdout.close()  # `head -c 20`
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 2
    said = " ".join(err.split())
    assert "Traceback" not in said and "Broken pipe" not in said
    m = re.search(r"standard output was closed .* stopped after ([\d,]+) events", said)
    assert m is not None, said
    stored = int(m.group(1).replace(",", ""))
    assert 100 <= stored < len(evs) and stored % 100 == 0
    again = json.loads(runner.invoke(app, ["ingest", str(f), "--db", db, "--json"]).stdout)
    assert (again["duplicates"], again["accepted"]) == (stored, len(evs) - stored)


@pytest.mark.slow
def test_ctrl_c_mid_ingest_says_what_is_stored_and_how_to_go_on(db, tmp_path):
    """Ctrl-C stopped `battrace ingest` with exit status 130 and nothing said. It now says how
    many events the committed batches hold and that running it again continues."""
    evs = simple_lifecycles(2000)
    f = write(tmp_path / "e.jsonl", evs)
    proc = subprocess.Popen(
        [sys.executable, "-m", "battrace", "ingest", str(f), "--db", db, "--json",
         "--batch-size", "100"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    while not (line := proc.stdout.readline()).startswith(b'{"id"'):  # a batch is committed
        assert line, proc.stderr.read().decode()
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
    proc.stdout.read()
    with proc.stdout, proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 130
    said = " ".join(err.split())
    assert "Traceback" not in said
    m = re.search(r"interrupted: Ingest stopped after ([\d,]+) events in committed batches", said)
    assert m is not None, said
    assert "run the same command again to continue" in said
    stored = int(m.group(1).replace(",", ""))
    assert 100 <= stored < len(evs) and stored % 100 == 0
    again = json.loads(runner.invoke(app, ["ingest", str(f), "--db", db, "--json"]).stdout)
    assert (again["duplicates"], again["accepted"]) == (stored, len(evs) - stored)


def test_a_mistyped_or_unsupported_store_url_is_one_line_and_creates_nothing(tmp_path, monkeypatch):
    """`init --db postgresql:/localhost/test` created the SQLite file
    ./postgresql:/localhost/test, `postgres//oops` ./postgres/oops, and `--db mysql://x/y`
    ended in a traceback (no module MySQLdb)."""
    monkeypatch.chdir(tmp_path)
    for url in ("postgresql:/localhost/test", "postgres//oops", "sqlite:x.db", "SQLite:/x.db"):
        r = runner.invoke(app, ["init", "--db", url])
        assert r.exit_code == 2, (url, r.output)
        said = " ".join(r.stderr.split())
        assert "expected sqlite:///path.db, postgresql://host/db or a file path" in said, said
    for url in ("mysql://x/y", "oracle+cx_oracle://h/d"):
        for args in (["init", "--db", url], ["trace", code(1), "--db", url]):
            r = runner.invoke(app, args)
            assert r.exit_code == 2, (args, r.output)
            assert "battrace stores on SQLite or PostgreSQL, not" in " ".join(r.stderr.split())
    assert list(tmp_path.iterdir()) == []
    # a setting no store is opened with does not stop the commands that need none
    r = runner.invoke(
        app, ["code", "check", code(1)], env={"BATTRACE_DATABASE_URL": "postgresql:/oops"}
    )
    assert r.exit_code == 0, r.output
    # file paths are SQLite stores as before, one with a colon when it starts with ./
    for path in ("sub/b.db", "./odd:name.db", str(tmp_path / "abs.db")):
        assert runner.invoke(app, ["init", "--db", path]).exit_code == 0, path
        assert (tmp_path / path).is_file()


def _read_only(*paths, run):
    """`battrace *run` with `paths` mounted read-only (a bind mount in a user and mount
    namespace of its own: chmod stops no one running as root, a read-only mount does)."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-rm", "true"]).returncode:
        pytest.skip("no user namespaces here (unshare -rm) to mount a read-only store")
    mounts = " && ".join(
        f"mount --bind {q} {q} && mount -o remount,bind,ro {q} {q}"
        for q in map(shlex.quote, map(str, paths))
    )
    command = " ".join(map(shlex.quote, [sys.executable, "-m", "battrace", *run]))
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", f"{mounts} && exec {command}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_read_only_store_or_directory_says_why_in_one_line(db, tmp_path):
    """Ingest into a store file SQLite cannot write ended in a traceback ("attempt to write
    a readonly database"); any command on a store in a read-only directory said "unable to
    open database file" (SQLite cannot create the WAL's -wal and -shm files there)."""
    store = tmp_path / "b.db"
    f = write(tmp_path / "e.jsonl", simple_lifecycles(1))
    pack = next(e["battery"] for e in simple_lifecycles(1) if "battery" in e)
    r = _read_only(store, run=["ingest", str(f), "--db", db])
    said = " ".join(r.stderr.split())
    assert r.returncode == 2 and "Traceback" not in said, said
    assert f"the store {store} cannot be written here: the file is not writable" in said
    assert "b.db-wal and b.db-shm" in said and "copy the store to a writable place" in said
    store_dir = tmp_path / "dir"  # a fresh store: no -wal or -shm beside it
    store_dir.mkdir()
    url = f"sqlite:///{store_dir / 'b.db'}"
    assert runner.invoke(app, ["init", "--db", url]).exit_code == 0
    r = _read_only(store_dir, run=["trace", pack, "--db", url])
    said = " ".join(r.stderr.split())
    assert r.returncode == 2 and "Traceback" not in said, said
    assert f"the file and its directory {store_dir} are not writable" in said, said


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="chmod does not stop root writing"
)
def test_a_store_without_write_permission_says_why_in_one_line(db, tmp_path):
    """The same, as most people meet it: a store file or directory without write permission
    (EACCES rather than the read-only mount's EROFS)."""
    store = tmp_path / "b.db"
    f = write(tmp_path / "e.jsonl", simple_lifecycles(1))
    store.chmod(0o444)
    try:
        r = runner.invoke(app, ["ingest", str(f), "--db", db])
        assert r.exit_code == 2, r.output
        said = " ".join(r.stderr.split())  # SQLite gives the WAL's files the store's rights
        assert re.search(r"written here: the file(, b.db-wal and b.db-shm are| is) not writ", said)
    finally:
        store.chmod(0o644)
    store_dir = tmp_path / "dir"
    store_dir.mkdir()
    url = f"sqlite:///{store_dir / 'b.db'}"
    assert runner.invoke(app, ["init", "--db", url]).exit_code == 0
    store_dir.chmod(0o555)
    try:
        r = runner.invoke(app, ["trace", code(1), "--db", url])
        assert r.exit_code == 2, r.output
        assert f"its directory {store_dir} is not writable" in " ".join(r.stderr.split())
    finally:
        store_dir.chmod(0o755)

"""Ingest: the happy path through a battery's first life, on both backends."""

from tests.kit import AUTOMAKER, MAKER, VIN1, code


def test_a_pack_is_produced_shipped_received_installed_and_sold(world, store):
    pack = code(1)
    world.pack_in_vehicle(pack)
    b = store.battery(pack)
    assert b.state == "in_vehicle"
    assert b.holder == AUTOMAKER
    assert b.vin == VIN1
    assert b.obligated == AUTOMAKER
    v = store.vehicle(VIN1)
    assert v.packs == (pack,)
    assert v.sold_on == "2025-01-03"


def test_an_unregistered_maker_cannot_produce(world):
    result = world.one(world.produce(code(2), reporter=AUTOMAKER))
    assert result.status == "rejected"
    assert {r.rule for r in result.reasons} == {"BT-004"}


def test_a_code_of_another_maker_is_forged(world):
    result = world.one(world.produce(code(3, maker="002"), reporter=MAKER))
    assert result.status == "rejected"
    assert [r.rule for r in result.reasons] == ["BT-002"]


def test_a_bulk_load_leaves_postgresql_with_fresh_read_statistics(store, tmp_path, monkeypatch):
    import orjson
    from typer.testing import CliRunner

    from battrace.cli import app
    from battrace.cli import ledger as ledger_cli
    from tests.kit import simple_lifecycles

    monkeypatch.setattr(ledger_cli, "SETTLE_AFTER", 10)  # a "bulk load" of a few events
    f = tmp_path / "e.jsonl"
    f.write_bytes(b"\n".join(orjson.dumps(e) for e in simple_lifecycles(3)))
    url = store.engine.url.render_as_string(hide_password=False)
    r = CliRunner().invoke(app, ["ingest", str(f), "--db", url, "--keep-recorded-at"])
    assert r.exit_code == 0, r.output
    if store.dialect != "postgresql":
        assert "refreshed" not in r.output  # nothing to do on SQLite
        return
    assert "refreshed the store's statistics for reads" in r.output
    with store.engine.connect() as c:
        done = dict(
            c.exec_driver_sql(
                "SELECT relname, last_vacuum IS NOT NULL AND last_analyze IS NOT NULL "
                "FROM pg_stat_user_tables WHERE schemaname = current_schema()"
            ).all()
        )
    assert all(done[t] for t in store.READ_TABLES), done


def test_leaves_computed_before_the_transaction_follow_the_record_time_of_the_commit(world):
    """check() encodes each event and hashes its leaf outside the writer lock, for its `now`;
    a commit at another time must log the leaf of the time it records, not the early one."""
    import datetime as dt

    from battrace.services.batch import event_leaf
    from battrace.services.common import canonical

    ing = world.ingestor
    raws = [world.produce(code(40)), world.produce(code(41))]
    early = dt.datetime(2025, 1, 10, 9, tzinfo=dt.UTC)
    late = early + dt.timedelta(hours=1)
    checked = ing.check(raws, early)
    assert all(ev.leaf is not None and ev.body is not None for ev in checked)
    results = ing.commit(raws, checked, late)
    assert [r.status for r in results] == ["accepted", "accepted"]
    late_us = int(late.timestamp()) * 1_000_000
    for raw, r in zip(raws, results, strict=True):
        want = event_leaf(canonical(raw, plain=True), late_us, MAKER)
        assert r.leaf_hash == want and r.recorded_at == "2025-01-10T10:00:00.000000Z"
        assert want != checked[0].leaf[1] and want != checked[1].leaf[1]


def test_a_batch_runs_the_garbage_collector_less_often_and_only_the_batch(world):
    import gc

    from battrace.services import ingest as ingest_module

    seen = []

    class Spy:
        policy_version = "spy"

        def flags(self, ev, ctx):
            seen.append(gc.get_threshold()[0])
            return []

        def rejected(self, raw):
            return []

    saved = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)  # CPython's default
        world.ingestor.rules = Spy()
        world.ok(world.produce(code(42)))
        assert seen == [ingest_module.GC_YOUNG_THRESHOLD]  # during the batch
        assert gc.get_threshold() == (700, 10, 10)  # and back after it (read latency)
        gc.set_threshold(5_000_000, 10, 10)  # a process's own, higher setting stays
        world.ok(world.produce(code(43)))
        assert seen[-1] == 5_000_000 and gc.get_threshold()[0] == 5_000_000
    finally:
        gc.set_threshold(*saved)


def test_a_line_that_is_not_json_says_where_in_the_line_it_stopped():
    """The parser counted the line's own newline as a second line: the first line of a file
    was reported as failing at 'line 2 column 1'."""
    from battrace.services.batch import BadJson, parse_line

    cut = parse_line(b'{"id": "x"\n')
    assert isinstance(cut, BadJson)
    assert cut.message == "unexpected end of data at character 11 of the line"
    odd = parse_line(b'{"id": x}\r\n')
    assert isinstance(odd, BadJson)
    assert odd.message.endswith("at character 8 of the line")
    assert "line 2" not in cut.message + odd.message

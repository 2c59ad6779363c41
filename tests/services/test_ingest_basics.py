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

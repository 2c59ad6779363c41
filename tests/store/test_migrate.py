"""Opening a store checks its schema revision without Alembic; creating or migrating it
runs Alembic."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.runtime.migration import MigrationContext

from battrace.errors import SchemaError
from battrace.services.rebuild import fold_log
from battrace.store import migrate
from battrace.store.engine import make_engine
from battrace.store.sql import SqlStore
from tests.kit import DISMANTLER, OUTLET, OUTLET2, VIN1, VIN2, VIN3, code, modules_loaded_after


def test_the_schema_head_constant_is_the_newest_migration():
    assert migrate.head_revision() == migrate.SCHEMA_HEAD


def _alembic_says(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_the_revision_is_read_as_alembic_reads_it(store_url: str):
    engine = make_engine(store_url)
    try:
        assert migrate.current_revision(engine) is None is _alembic_says(engine)
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.SCHEMA_HEAD == _alembic_says(engine)
        with engine.begin() as conn:  # a store left at an older revision
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '0002'"))
        assert migrate.current_revision(engine) == "0002" == _alembic_says(engine)
        needs = f"store schema is 0002, this code needs {migrate.SCHEMA_HEAD}"
        with pytest.raises(SchemaError, match=needs):
            SqlStore(engine).check_schema()
        with engine.begin() as conn:  # branches, which this code never makes
            conn.execute(
                sa.text("INSERT INTO alembic_version (version_num) VALUES (:v)"),
                {"v": migrate.SCHEMA_HEAD},
            )
        with pytest.raises(SchemaError, match="several schema revisions"):
            SqlStore(engine).check_schema()
    finally:
        engine.dispose()


def test_opening_a_store_does_not_load_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'b.db'}"
    SqlStore.open(url, create=True).close()
    opened = (
        f"import battrace.cli\nfrom battrace.store.sql import SqlStore\n"
        f"SqlStore.open({url!r}).close()"
    )
    assert modules_loaded_after(opened, ("alembic", "mako")) == []


def test_0004_and_0005_mark_the_batteries_their_holder_collected_from_the_log(world, store):
    """A store written before 0004 has no `collected` column: the migrations add it and mark,
    from the log, the batteries their holder collected and has held since (0004: whose last
    transition was that collection; 0005: shipped on but not yet received counts too), as a
    fold of the log does, so a second `collected` is refused on an upgraded store as on a new
    one."""
    held, moving, moved = code(70), code(71), code(72)
    for pack, vin in ((held, VIN1), (moving, VIN2), (moved, VIN3)):
        world.pack_in_vehicle(pack, vin)
    world.set_now("2025-03-20")
    for pack, vin in ((held, VIN1), (moving, VIN2), (moved, VIN3)):
        world.ok(
            world.ev("vehicle_scrapped", "2025-03-01", DISMANTLER, vin=vin,
                     certificate_no=f"SC-{vin[-2:]}", batteries_present=[pack]),
            world.ev("removed", "2025-03-02", DISMANTLER, battery=pack, vin=vin,
                     reason="scrapping"),
            world.ev("collected", "2025-03-04", OUTLET, battery=pack),
        )  # fmt: skip
    world.ok(
        world.ev("shipped", "2025-03-05", OUTLET, battery=moving, to=OUTLET2),
        world.ev("shipped", "2025-03-05", OUTLET, battery=moved, to=OUTLET2),
        world.ev("received", "2025-03-06", OUTLET2, battery=moved),
    )
    with store.engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0003")
    assert "collected" not in {c["name"] for c in sa.inspect(store.engine).get_columns("batteries")}
    migrate.upgrade(store.engine)
    with store.engine.connect() as conn:
        marked = {
            k: bool(v) for k, v in conn.execute(sa.text("SELECT code, collected FROM batteries"))
        }
    assert (marked[held], marked[moving], marked[moved]) == (True, True, False)
    assert marked == {k: b.collected for k, b in fold_log(store)[0].items()}
    again = world.one(world.ev("collected", "2025-03-07", OUTLET, battery=held))
    assert [(x.field, x.rule) for x in again.reasons] == [("battery", "BT-005")]
    world.ok(world.ev("collected", "2025-03-07", OUTLET2, battery=moved))


def test_0006_gives_parts_without_an_obligated_enterprise_their_codes_owner(world, store):
    """A store written before 0006 kept nobody obligated for a part freed by dismantling
    before its manufacturer code had an owner, after the code was assigned: 0006 gives it the
    owner, as a fold of the log with today's registry does."""
    from battrace.identity import ProductType
    from tests.kit import MAKER2, REGULATOR

    pack, part = code(73), code(8, kind=ProductType.MODULE, maker="003")
    world.set_now("2025-03-20")
    world.dismantled_into(pack, part)
    world.ok(
        world.ev("manufacturer_code_assigned", "2025-02-10", REGULATOR, enterprise=MAKER2,
                 manufacturer_code="003"),
    )  # fmt: skip
    with store.engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0005")
        conn.execute(sa.text("UPDATE batteries SET obligated = NULL WHERE code = :c"), {"c": part})
    migrate.upgrade(store.engine)
    with store.engine.connect() as conn:
        obligated = dict(conn.execute(sa.text("SELECT code, obligated FROM batteries")).all())
    assert obligated[part] == MAKER2
    assert obligated == {k: b.obligated for k, b in fold_log(store)[0].items()}
    indexes = {i["name"] for i in sa.inspect(store.engine).get_indexes("batteries")}
    assert "ix_batteries_unobligated" in indexes

"""The projections are a fold of the log: rebuilding them from scratch changes nothing."""

import datetime as dt

import sqlalchemy as sa

from battrace.identity import ProductType
from battrace.services.rebuild import rebuild
from battrace.store.schema import PROJECTIONS, batteries
from tests.kit import (
    AUTOMAKER,
    DISMANTLER,
    MAKER,
    MODEL,
    OUTLET,
    RECYCLER,
    REGULATOR,
    REPAIRER,
    REPROCESSOR,
    VIN1,
    VIN2,
    code,
    registry_events,
    simple_lifecycles,
)


def snapshot(store):
    out = {}
    with store.engine.connect() as c:
        for table in PROJECTIONS:
            rows = c.execute(sa.select(table)).all()
            out[table.name] = sorted(tuple(str(v) for v in r) for r in rows)
    return out


def busy_history(world):
    """Modules, packs, a sale, a late upload, a repair, scrapping, reprocessing, a correction."""
    m1, m2 = code(1, kind=ProductType.MODULE), code(2, kind=ProductType.MODULE)
    p1, p2, p3 = code(3), code(4), code(5)
    product = code(1, maker="R01", made=dt.date(2025, 3, 20))
    world.ok(
        world.produce(m1, "2025-01-02"),
        world.produce(m2, "2025-01-02"),
        world.produce(p1, "2025-01-02", components=[m1, m2], hour=12),
    )
    world.pack_in_vehicle(p2, VIN2)
    world.ok(
        world.ev("shipped", "2025-01-03", MAKER, battery=p1, to=AUTOMAKER),
        world.ev("received", "2025-01-04", AUTOMAKER, battery=p1),
    )
    world.ok(
        world.ev("vehicle_sold", "2025-01-07", AUTOMAKER, vin=VIN1, certificate_date="2025-01-07")
    )
    world.ok(
        world.ev("installed", "2025-01-05", AUTOMAKER, battery=p1, vin=VIN1, vehicle_model=MODEL)
    )  # arrives after the sale it precedes
    world.set_now("2025-04-01")
    world.ok(
        world.produce(p3, "2025-02-01"),
        world.ev("shipped", "2025-02-01", MAKER, battery=p3, to=REPAIRER, hour=11),
        world.ev("received", "2025-02-02", REPAIRER, battery=p3),
        world.ev("replaced", "2025-02-03", REPAIRER, battery=p3, removed=p1, vin=VIN1),
        world.ev("shipped", "2025-02-04", REPAIRER, battery=p1, to=RECYCLER),
        world.ev("received", "2025-02-05", RECYCLER, battery=p1),
        world.ev("dismantled", "2025-02-06", RECYCLER, battery=p1, parts=[m1, m2]),
    )
    world.ok(
        world.ev(
            "vehicle_scrapped",
            "2025-03-01",
            DISMANTLER,
            vin=VIN2,
            certificate_no="S-2",
            batteries_present=[p2],
        ),
        world.ev("removed", "2025-03-02", DISMANTLER, battery=p2, vin=VIN2, reason="scrapping"),
    )
    wrong = world.ev("shipped", "2025-03-03", DISMANTLER, battery=p2, to=OUTLET)
    world.ok(wrong)
    fixed = dict(wrong, id="fixed", to=REPROCESSOR)
    world.ok(
        world.ev(
            "correction",
            "2025-03-04",
            DISMANTLER,
            target=wrong["id"],
            reason="wrong addressee",
            replacement=fixed,
        )
    )
    world.ok(
        world.ev("received", "2025-03-05", REPROCESSOR, battery=p2),
        world.ev(
            "reprocessed",
            "2025-03-20",
            REPROCESSOR,
            battery=product,
            inputs=[p2],
            application="energy_storage",
            standard="GB/T 34015.3-2021",
            tests={"residual_capacity_pct": 80},
        ),
    )


def test_rebuilding_the_projections_from_the_log_changes_nothing(world, store):
    busy_history(world)
    before = snapshot(store)
    report = rebuild(store)
    assert report.misfits == []
    assert snapshot(store) == before
    assert report.batteries == len(before["batteries"]) == 6


def test_the_statistics_migration_fills_the_table_as_ingest_keeps_it(world, store):
    from alembic import command

    from battrace.store.migrate import alembic_config, upgrade
    from battrace.store.schema import event_stats

    busy_history(world)
    with store.engine.connect() as c:
        kept = sorted(c.execute(sa.select(event_stats)).all())
    assert sum(r.retirements for r in kept) == 2  # the replaced pack, the one found at scrapping
    with store.engine.begin() as c:
        command.downgrade(alembic_config(c), "0002")
    upgrade(store.engine)
    with store.engine.connect() as c:
        assert sorted(c.execute(sa.select(event_stats)).all()) == kept


def test_a_back_fill_older_than_the_registry_rebuilds_as_it_was_ingested(world, store):
    """The registry is the one ingest decided with: its facts in log order, whatever their
    event time. A platform that registers its enterprises today and then back-fills their
    history of 2019 accepts that history; a rebuild folding the registry facts by their event
    time among the 2019 events judged all of it "not a registered enterprise" and dropped it
    from the projections."""
    history = simple_lifecycles(2, start="2019-03-01")[len(registry_events()) :]
    assert all(e["time"] < "2025" for e in history)  # the registry facts are of 2025-01-02
    world.ok(*history)
    before = snapshot(store)
    assert len(before["batteries"]) == 2
    report = rebuild(store)
    assert report.misfits == []
    assert snapshot(store) == before


def test_an_ingest_during_a_rebuild_is_not_overwritten(world, store, monkeypatch):
    """An event committed while the log is being folded must not vanish when the rebuilt
    projections are written: the rebuild holds the log head, so the ingest waits for it."""
    import threading

    from battrace.services import rebuild as rebuild_module

    busy_history(world)
    late_code = code(77)
    real_fold = rebuild_module.fold_log
    done: list[object] = []

    def fold_while_someone_ingests(*args, **kwargs):
        folded = real_fold(*args, **kwargs)  # the log as read: without the new event
        t = threading.Thread(target=lambda: done.append(world.ok(world.produce(late_code))))
        t.start()
        t.join(0.5)  # time enough for the ingest to commit, if nothing holds it back
        fold_while_someone_ingests.thread = t  # type: ignore[attr-defined]
        return folded

    monkeypatch.setattr(rebuild_module, "fold_log", fold_while_someone_ingests)
    report = rebuild(store)
    fold_while_someone_ingests.thread.join(30)  # type: ignore[attr-defined]
    assert done, "the concurrent ingest did not finish"
    assert report.misfits == []
    with store.engine.connect() as c:
        stored = c.execute(sa.select(batteries.c.code).where(batteries.c.code == late_code)).all()
    assert stored, "the event ingested during the rebuild is missing from the projection"
    before = snapshot(store)
    monkeypatch.setattr(rebuild_module, "fold_log", real_fold)
    rebuild(store)
    assert snapshot(store) == before


def test_a_later_registration_with_other_roles_does_not_undo_what_was_accepted(world, store):
    """Registering an enterprise again replaces its roles; the events it reported before, in
    the role it then had, stay as ingest accepted them. The rebuild decided them with the
    final registry only: "produced is reported by battery_maker" — and erased the pack."""
    world.pack_in_vehicle(code(81))
    world.set_now("2025-02-01")
    world.ok(
        world.ev("enterprise_registered", "2025-02-01", REGULATOR, enterprise=MAKER,
                 name="Maker A", roles=["recycler"], region="110100")
    )  # fmt: skip
    before = snapshot(store)
    report = rebuild(store)
    assert report.misfits == []
    assert snapshot(store) == before


def test_a_withdrawn_registry_fact_does_not_undo_what_ingest_accepted_with_it(world, store):
    """A correction of the manufacturer-code assignment is accepted (the registry is folded
    again without it) while the pack produced under it stays as it was; the rebuild decided
    that production with the final registry and erased the pack ("3 misfits")."""
    pack = code(82)
    world.ok(world.produce(pack), world.ev("shipped", "2025-01-03", MAKER, battery=pack,
                                           to=AUTOMAKER, hour=11))  # fmt: skip
    assigned = next(e["id"] for e in registry_events() if e["type"] == "manufacturer_code_assigned")
    world.set_now("2025-01-04")
    world.ok(world.ev("correction", "2025-01-04", REGULATOR, target=assigned, reason="typo"))
    world.ok(world.ev("received", "2025-01-04", AUTOMAKER, battery=pack, hour=12))
    before = snapshot(store)
    report = rebuild(store)
    assert report.misfits == []
    assert snapshot(store) == before


def test_a_stored_event_that_a_tightened_check_refuses_is_still_history(
    world, store, monkeypatch, caplog
):
    """After an upgrade that tightens a bound, an event accepted before no longer validates.
    Reviving it raised ("no longer validates"): every `trace --as-of`, rebuild and late
    arrival touching its code failed, for good. It comes back as stored, with a warning."""
    from battrace.domain import fields
    from battrace.services import common
    from battrace.services.trace import trace

    pack = code(90)
    docs = [{"kind": "manifest", "uri": f"https://example.org/{i}"} for i in range(3)]
    world.ok(
        world.produce(pack),
        world.ev("shipped", "2025-01-03", MAKER, battery=pack, to=AUTOMAKER, hour=11,
                 evidence=docs),
    )  # fmt: skip
    before = snapshot(store)
    monkeypatch.setattr(fields, "MAX_EVIDENCE", 2)  # what a newer version might allow
    monkeypatch.setattr(common, "_warned", set())
    for _ in range(2):
        then = trace(store, pack, as_of=dt.date(2025, 1, 3)).battery
        assert then is not None and (then.state.value, then.to) == ("in_transit", AUTOMAKER)
    warned = [r for r in caplog.records if "no longer passes today's checks" in r.message]
    assert len(warned) == 1  # once per event, not per revival
    report = rebuild(store)
    assert report.misfits == []
    assert snapshot(store) == before
    received = world.ev("received", "2025-01-03", AUTOMAKER, battery=pack, hour=12)
    world.ok(received)
    world.set_now("2025-01-04")
    undo = world.one(  # the code's events are folded again without it
        world.ev("correction", "2025-01-04", AUTOMAKER, target=received["id"], reason="typo")
    )
    assert undo.status == "accepted", undo.reasons
    assert store.battery(pack).state.value == "in_transit"


def test_an_event_a_tightened_reporting_rule_refuses_is_rebuilt_as_accepted(
    world, store, monkeypatch
):
    """A newer version may narrow who may report an event (today: a hand-in from another
    outlet). Events ingest accepted before stay history: the rebuild folds them as accepted
    and lists them, instead of dropping them as misfits and rewriting the projection."""
    from battrace.domain.lifecycle import REPORTER_ROLES
    from battrace.domain.vocab import EventType, Role

    pack = code(91)
    world.pack_in_vehicle(pack)
    world.set_now("2025-03-10")
    world.ok(
        world.ev("removed", "2025-03-02", AUTOMAKER, battery=pack, vin=VIN1, reason="retired"),
        world.ev("collected", "2025-03-04", OUTLET, battery=pack),
    )
    before = snapshot(store)
    monkeypatch.setitem(REPORTER_ROLES, EventType.COLLECTED, frozenset({Role.RECYCLER}))
    report = rebuild(store)
    assert report.misfits == []
    assert len(report.older_rules) == 1 and "collected" in report.older_rules[0]
    assert snapshot(store) == before


def test_the_registry_at_a_log_position_counts_the_facts_stored_and_not_yet_withdrawn(world, store):
    """`_EarlierRegistries.at` finds the facts by bisection: at every position of a log with
    a registration, a re-registration and a withdrawn fact, it gives the registry of the facts
    stored before that position and not withdrawn by then."""
    from battrace.services.common import registry_from
    from battrace.services.rebuild import _EarlierRegistries

    assigned = next(e["id"] for e in registry_events() if e["type"] == "manufacturer_code_assigned")
    world.set_now("2025-02-01")
    world.ok(world.produce(code(83)))
    world.ok(
        world.ev("enterprise_registered", "2025-02-01", REGULATOR, enterprise=MAKER,
                 name="Maker A", roles=["recycler"], region="110100")
    )  # fmt: skip
    world.ok(world.ev("correction", "2025-02-01", REGULATOR, target=assigned, reason="typo"))
    world.ok(world.ev("shipped", "2025-02-01", MAKER, battery=code(83), to=AUTOMAKER, hour=11))
    history = store.registry_history()
    assert any(w is not None for _, w in history)
    earlier = _EarlierRegistries(list(reversed(history)), None)  # any order in
    last = max(max(f.seq, w or 0) for f, w in history) + 2
    seen = set()
    for seq in range(1, last):
        facts = [f for f, w in history if f.seq < seq and (w is None or w > seq)]
        assert earlier.at(seq) == registry_from(facts, None), seq
        seen.add(tuple(f.seq for f in facts))
    assert len(seen) >= len(history)  # each fact and the withdrawal changed it


def test_corrections_refold_with_what_other_codes_gave_and_rebuild_agrees(world, store):
    """A correction names no code of its own, so its batch had not loaded the target's codes:
    the refold ran without what other subjects gave them, and the product below lost the mass
    of its inputs and pack q its recycling obligation (the automaker's), unlike a rebuild."""
    p, q = code(1), code(2)
    product = code(1, maker="R01", made=dt.date(2025, 3, 1))
    world.set_now("2025-03-10")
    world.pack_in_vehicle(p)
    world.ok(
        world.produce(q, "2025-01-04"),
        world.ev("shipped", "2025-01-04", MAKER, battery=q, to=REPAIRER, hour=11),
        world.ev("received", "2025-01-04", REPAIRER, battery=q, hour=12),
        world.ev("replaced", "2025-02-01", REPAIRER, battery=q, removed=p, vin=VIN1,
                 reason="defect"),
        world.ev("shipped", "2025-02-02", REPAIRER, battery=p, to=REPROCESSOR),
        world.ev("received", "2025-02-03", REPROCESSOR, battery=p),
        world.ev("reprocessed", "2025-03-01", REPROCESSOR, battery=product, inputs=[p],
                 application="energy_storage", standard="GB/T 34015.3-2021",
                 tests={"residual_capacity_pct": 80}),  # no mass_kg: weighs its inputs
    )  # fmt: skip
    deployed = world.ev("deployed", "2025-03-02", REPROCESSOR, battery=product,
                        application="energy_storage", site="S")  # fmt: skip
    removed = world.ev("removed", "2025-03-03", REPAIRER, battery=q, vin=VIN1, reason="defect")
    world.ok(deployed, removed)
    for target, who in ((deployed, REPROCESSOR), (removed, REPAIRER)):
        world.ok(world.ev("correction", "2025-03-05", who, target=target["id"], reason="sent"))
    with store.engine.connect() as c:
        rows = {r.code: r for r in c.execute(sa.select(batteries))}
    assert rows[product].mass_g == rows[p].mass_g is not None
    assert rows[q].obligated == AUTOMAKER
    before = snapshot(store)
    report = rebuild(store)
    assert report.misfits == [] and report.older_rules == []
    assert snapshot(store) == before


def test_a_part_takes_its_manufacturer_codes_owner_when_the_code_is_assigned_later(world, store):
    """A module freed by dismantling, its manufacturer code (003) held by nobody yet, had
    nobody obligated for it; once 003 is assigned, a rebuild (and `trace --as-of`, folding
    with today's registry) gave it the new owner while the projection kept none."""
    from battrace.identity import ProductType
    from tests.kit import MAKER2

    pack, part = code(1), code(7, kind=ProductType.MODULE, maker="003")
    world.set_now("2025-03-10")
    world.dismantled_into(pack, part)
    assert store.battery(part).obligated is None
    assign = world.ev("manufacturer_code_assigned", "2025-02-10", REGULATOR, enterprise=MAKER2,
                      manufacturer_code="003")  # fmt: skip
    # in the same batch as an event that reads the part's state afterwards
    world.ok(assign, world.ev("shipped", "2025-02-11", RECYCLER, battery=part, to=REPROCESSOR))
    assert store.battery(part).obligated == MAKER2
    before = snapshot(store)
    assert rebuild(store).misfits == []
    assert snapshot(store) == before

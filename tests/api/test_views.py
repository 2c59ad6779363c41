"""What each read endpoint returns: battery states for the public, vehicles, bundles, the
registry, findings pages, scorecards and the log's proofs."""

from __future__ import annotations

import datetime as dt

from battrace.ledger.documents import verify_document
from battrace.ledger.keys import load_verifier
from battrace.ledger.merkle import verify_consistency, verify_inclusion
from tests import kit
from tests.api.conftest import Api

PACK = kit.code(20)
PRODUCT = kit.code(1, maker="R01", made=dt.date(2025, 1, 8))


def _reprocess_into_an_e_bike(api: Api) -> None:
    api.pack_in_vehicle(PACK)
    api.ok(
        api.ev(
            "removed", "2025-01-04", kit.AUTOMAKER, battery=PACK, vin=kit.VIN1, reason="retired"
        ),
        api.ev("shipped", "2025-01-05", kit.AUTOMAKER, battery=PACK, to=kit.REPROCESSOR),
    )
    api.ok(api.ev("received", "2025-01-06", kit.REPROCESSOR, battery=PACK),
           api.ev("reprocessed", "2025-01-08", kit.REPROCESSOR, battery=PRODUCT, inputs=[PACK],
                  application="energy_storage", standard="GB/T 34015.3-2021",
                  tests={"residual_capacity_pct": 78.5}),
           api.ev("deployed", "2025-01-09", kit.REPROCESSOR, battery=PRODUCT,
                  application="e_bike", site="a shop"))  # fmt: skip


def test_the_public_sees_a_pack_taken_out_of_its_vehicle_as_retired(
    api: Api,
) -> None:
    api.pack_in_vehicle(PACK)
    api.ok(
        api.ev("removed", "2025-01-04", kit.AUTOMAKER, battery=PACK, vin=kit.VIN1, reason="retired")
    )
    assert api.get(f"/v1/batteries/{PACK}").json()["status"] == "retired"


def test_a_reprocessed_product_in_a_prohibited_use_is_visible_to_the_public(api: Api) -> None:
    _reprocess_into_an_e_bike(api)
    old = api.get(f"/v1/batteries/{PACK}").json()
    assert (old["status"], old["successor"]) == ("reprocessed", PRODUCT)
    new = api.get(f"/v1/batteries/{PRODUCT}").json()
    assert new["status"] == "in_service"
    assert new["reprocessed_product"] is True
    assert (new["application"], new["in_prohibited_use"]) == ("e_bike", True)
    assert new["inputs"] == [PACK]
    assert "holder" not in new and kit.REPROCESSOR not in str(new)


def test_the_vehicle_view_lists_every_pack_it_carried(api: Api) -> None:
    api.pack_in_vehicle(PACK)
    v = api.get(f"/v1/vehicles/{kit.VIN1}", kit.AUTOMAKER).json()
    assert v["automaker"] == kit.AUTOMAKER
    assert v["packs_now"] == [PACK]
    assert v["packs"][0]["code"] == PACK
    assert v["sold_on"] == "2025-01-03"


def test_a_bundle_verifies_offline_and_proves_consistency_with_an_older_checkpoint(
    api: Api,
) -> None:
    old = api.get("/v1/checkpoints/latest").json()["tree_size"]
    api.pack_in_vehicle(PACK)
    r = api.get(f"/v1/batteries/{PACK}/bundle?previous_size={old}", kit.MAKER)
    assert r.status_code == 200
    bundle = r.json()
    assert len(bundle["entries"]) == 4
    assert verify_document(bundle, load_verifier(api.key_dir)).ok


def test_proofs_from_the_log_endpoints_verify(api: Api) -> None:
    first = api.get("/v1/checkpoints/latest").json()
    api.pack_in_vehicle(PACK)
    latest = api.get("/v1/checkpoints/latest").json()
    assert latest["tree_size"] > first["tree_size"]
    inc = api.get("/v1/log/proof/inclusion", params={"leaf_index": 3}).json()
    assert inc["tree_size"] == latest["tree_size"]
    assert inc["checkpoint"] == latest["note"]
    verify_inclusion(
        bytes.fromhex(inc["leaf_hash"]),
        3,
        inc["tree_size"],
        [bytes.fromhex(h) for h in inc["proof"]],
        bytes.fromhex(latest["root_hash"]),
    )
    con = api.get("/v1/log/proof/consistency", params={"first": first["tree_size"]}).json()
    assert con["first_checkpoint"] == first["note"]
    verify_consistency(
        first["tree_size"],
        latest["tree_size"],
        bytes.fromhex(first["root_hash"]),
        bytes.fromhex(latest["root_hash"]),
        [bytes.fromhex(h) for h in con["proof"]],
    )
    key = api.get("/v1/log/public-key").json()
    assert key["verifier_key"] == load_verifier(api.key_dir).text
    assert api.get(f"/v1/checkpoints/{first['tree_size']}").json() == first


def test_the_published_registry_can_be_read_by_anyone(api: Api) -> None:
    ent = api.get(f"/v1/enterprises/{kit.REPROCESSOR}").json()
    assert ent["roles"] == ["reprocessor"]
    assert ent["manufacturer_codes"] == ["R01"]
    assert ent["qualifications"][0]["scope"] == "reprocessing"
    outlet = api.get(f"/v1/enterprises/{kit.OUTLET}").json()
    assert outlet["outlet"]["serves"] == [kit.AUTOMAKER]
    auto = api.get(f"/v1/enterprises/{kit.AUTOMAKER}").json()
    assert auto["served_by_outlets"] == [kit.OUTLET]
    recyclers = api.get("/v1/enterprises", params={"role": "recycler"}).json()["items"]
    assert {e["uscc"] for e in recyclers} == {kit.RECYCLER, kit.SHADY}
    page = api.get("/v1/enterprises", params={"limit": 5}).json()
    assert (len(page["items"]), page["next_offset"]) == (5, 5)
    white = api.get("/v1/qualifications", params={"valid_on": "2025-01-05"}).json()["items"]
    assert {q["enterprise"] for q in white} == {kit.REPROCESSOR, kit.RECYCLER}
    assert api.get("/v1/qualifications", params={"valid_on": "2023-12-31"}).json()["items"] == []
    outlets = api.get("/v1/outlets", params={"serves": kit.AUTOMAKER2}).json()["items"]
    assert [o["enterprise"] for o in outlets] == [kit.OUTLET2]
    models = api.get("/v1/vehicle-models").json()["items"]
    assert {m["model"]: m["swap_model"] for m in models} == {kit.MODEL: False, kit.SWAP_MODEL: True}
    policy = api.get("/v1/policy").json()
    assert policy["prohibited_applications"] == ["e_bike"]
    assert policy["recovery_min_pct"]["li"] == 90
    rules = api.get("/v1/rules").json()
    assert "BT-025" in {r["id"] for r in rules}


def test_findings_filter_and_paginate(api: Api) -> None:
    api.pack_in_vehicle(PACK)
    for i, vin in enumerate((kit.VIN2, kit.VIN3)):
        late = api.ev("vehicle_sold", f"2024-11-0{i + 1}", kit.AUTOMAKER, vin=vin,
                      certificate_date=f"2024-11-0{i + 1}")  # fmt: skip
        api.ok(late)
    reg = kit.REGULATOR
    page = api.get("/v1/findings", reg, params={"rule": "BT-020", "limit": 1}).json()
    assert (len(page["items"]), page["next_offset"]) == (1, 1)
    rest = api.get("/v1/findings", reg, params={"rule": "BT-020", "offset": 1}).json()
    assert rest["next_offset"] is None
    assert {f["vins"][0] for f in page["items"] + rest["items"]} == {kit.VIN2, kit.VIN3}
    q = {"enterprise": kit.AUTOMAKER, "status": "open", "since": "2025-01-10"}
    assert len(api.get("/v1/findings", reg, params=q).json()["items"]) == 2
    q = {"until": "2025-01-09"}
    assert api.get("/v1/findings", reg, params=q).json()["items"] == []


def test_the_scorecard_counts_open_findings_by_rule(api: Api) -> None:
    late = api.ev("vehicle_sold", "2024-11-01", kit.AUTOMAKER, vin=kit.VIN2,
                  certificate_date="2024-11-01")  # fmt: skip
    api.ok(late)
    card = api.get(f"/v1/enterprises/{kit.AUTOMAKER}/scorecard", kit.AUTOMAKER).json()
    assert card["open_findings_by_rule"] == {"BT-020": 1}
    assert card["open_findings"] == 1
    assert card["events_reported"] == 1
    assert card["on_time_pct"] is None  # no audit has run yet


def test_health_and_docs_work_offline(api: Api) -> None:
    assert api.get("/healthz").json()["status"] == "ok"
    html = api.get("/docs").text
    assert "cdn" not in html.lower()
    assert "/docs/assets/swagger-ui-bundle.js" in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert api.get(f"/docs/assets/{asset}").status_code == 200
    spec = api.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert "apiKey" in spec["components"]["securitySchemes"]


def test_a_scorecard_with_nothing_to_count_says_null_not_a_dash(api: Api) -> None:
    from battrace.domain.calendar import WorkingCalendar
    from battrace.domain.policy import Policy
    from battrace.services.audit import audit

    pack = kit.code(77)
    api.ok(api.produce(pack), api.ev("shipped", "2025-01-03", kit.MAKER, battery=pack,
                                     to=kit.DISMANTLER, hour=11))  # fmt: skip
    api.ok(api.ev("received", "2025-01-03", kit.DISMANTLER, battery=pack, hour=12))
    audit(api.store, as_of=dt.date(2025, 1, 9), policy=Policy.default(),
          calendar=WorkingCalendar.default(), now=api.clock[0])  # fmt: skip
    r = api.get(f"/v1/enterprises/{kit.DISMANTLER}/scorecard", kit.DISMANTLER)
    assert r.status_code == 200, r.text
    assert r.json()["on_time_pct"] is None


def test_a_previous_size_past_64_bits_is_a_422(api: Api) -> None:
    r = api.get(f"/v1/batteries/{kit.code(1)}/bundle?previous_size={2**63}", kit.REGULATOR)
    assert r.status_code == 422, r.text


def test_an_unknown_code_that_is_not_a_valid_code_says_why(api) -> None:
    """The API said only "no event names XYZ"; `trace` also says why the code looks mistyped."""
    r = api.get("/v1/batteries/XYZ")
    assert r.status_code == 404
    assert "no event names XYZ, and it is not a valid GB/T 34014 code" in r.json()["detail"]
    valid = api.get(f"/v1/batteries/{kit.code(99)}").json()["detail"]
    assert "not a valid" not in valid

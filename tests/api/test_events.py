"""`POST /v1/events`: authorised reporting, per-event results and verifiable receipts."""

from __future__ import annotations

from battrace.ledger.documents import verify_document
from battrace.ledger.keys import load_verifier
from tests import kit
from tests.api.conftest import Api


def test_a_batch_gets_a_result_and_a_verifiable_receipt_per_accepted_event(api: Api) -> None:
    pack = kit.code(1)
    body = api.ok(
        api.produce(pack),
        api.ev("shipped", "2025-01-03", kit.MAKER, battery=pack, to=kit.AUTOMAKER),
    )
    assert (body["accepted"], body["rejected"], body["duplicates"]) == (2, 0, 0)
    verifier = load_verifier(api.key_dir)
    for i, result in enumerate(body["results"]):
        assert result["index"] == i
        assert result["reporter"] == kit.MAKER
        assert len(result["leaf_hash"]) == 64
        receipt = result["receipt"]
        assert receipt["leaf_index"] == result["leaf_index"]
        report = verify_document(receipt, verifier)
        assert report.ok, report.as_dict()


def test_the_batch_s_record_time_is_stamped_by_the_platform(api: Api) -> None:
    body = api.ok(api.produce(kit.code(1)))
    assert body["results"][0]["recorded_at"] == "2025-01-10T10:00:00.000000Z"


def test_an_event_carrying_recorded_at_is_rejected(api: Api) -> None:
    ev = api.produce(kit.code(1)) | {"recorded_at": "2025-01-03T10:00:00+08:00"}
    result = api.send(ev)["results"][0]
    assert result["status"] == "rejected"
    assert result["receipt"] is None
    assert [r["field"] for r in result["reasons"]] == ["recorded_at"]


def test_reporting_for_another_enterprise_is_rejected_per_event(api: Api) -> None:
    mine = api.produce(kit.code(1, maker="002"), reporter=kit.MAKER2)
    forged = api.produce(kit.code(2), reporter=kit.MAKER)
    body = api.send(mine, forged, who=kit.MAKER2)
    ok, bad = body["results"]
    assert ok["status"] == "accepted"
    assert bad["status"] == "rejected"
    assert bad["reasons"] == [
        {
            "field": "reporter",
            "rule": "BT-004",
            "message": f"this API key speaks for {kit.MAKER2}; it may not report events for "
            f"{kit.MAKER}",
        }
    ]
    assert api.store.battery(kit.code(2)) is None


def test_custody_rules_decide_what_the_reporter_may_do(api: Api) -> None:
    pack = kit.code(1)
    api.ok(api.produce(pack))
    theft = api.ev("shipped", "2025-01-04", kit.MAKER2, battery=pack, to=kit.RECYCLER)
    result = api.send(theft)["results"][0]
    assert result["status"] == "rejected"
    assert {r["rule"] for r in result["reasons"]} == {"BT-004"}


def test_a_resent_batch_is_stored_once(api: Api) -> None:
    ev = api.produce(kit.code(1))
    first = api.ok(ev)["results"][0]
    again = api.send(ev)["results"][0]
    assert again["status"] == "duplicate"
    assert again["leaf_index"] == first["leaf_index"]
    assert again["receipt"] is None


def test_receipts_can_be_left_out(api: Api) -> None:
    r = api.post(
        "/v1/events?receipts=false", kit.MAKER, json={"events": [api.produce(kit.code(1))]}
    )
    assert r.status_code == 200
    assert r.json()["results"][0]["receipt"] is None


def test_a_correction_with_a_replacement_still_gets_verifiable_receipts(api: Api) -> None:
    pack = kit.code(1)
    ship = api.ev("shipped", "2025-01-04", kit.MAKER, battery=pack, to=kit.AUTOMAKER)
    api.ok(api.produce(pack), ship)
    fix = api.ev(
        "correction", "2025-01-05", kit.MAKER, target=ship["id"], reason="wrong addressee",
        replacement={**ship, "id": "ship-fixed", "to": kit.AUTOMAKER2},
    )  # fmt: skip
    body = api.ok(fix, api.produce(kit.code(2)))
    verifier = load_verifier(api.key_dir)
    for result in body["results"]:
        assert verify_document(result["receipt"], verifier).ok


def test_flags_are_counted_per_rule(api: Api) -> None:
    api.pack_in_vehicle(kit.code(1))
    late = api.ev(
        "vehicle_sold", "2024-11-01", kit.AUTOMAKER, vin=kit.VIN2, certificate_date="2024-11-01"
    )
    body = api.ok(late)
    assert body["flags"] == {"BT-020": 1}
    assert body["results"][0]["flags"] == ["BT-020"]


def test_a_stored_event_s_receipt_can_be_fetched_by_its_reporter_and_regulators(
    api: Api,
) -> None:
    ev = api.produce(kit.code(1))
    api.ok(ev)
    path = f"/v1/receipts/{kit.MAKER}/{ev['id']}"
    verifier = load_verifier(api.key_dir)
    for who in (kit.MAKER, kit.REGULATOR):
        r = api.get(path, who)
        assert r.status_code == 200
        assert verify_document(r.json(), verifier).ok
    assert api.get(path, kit.MAKER2).status_code == 403
    assert api.get(path).status_code == 401
    assert api.get(f"/v1/receipts/{kit.MAKER}/nope", kit.MAKER).status_code == 404


def test_metrics_count_ingest_outcomes_and_rejections_by_rule(api: Api) -> None:
    api.ok(api.produce(kit.code(1)))
    api.send(api.produce(kit.code(2)), who=kit.MAKER2)  # reporter is MAKER: rejected
    text = api.get("/metrics").text
    assert 'battrace_ingested_events_total{source="api",status="accepted"}' in text
    assert 'battrace_event_rejections_total{rule="BT-004"} 1.0' in text
    assert 'battrace_http_request_duration_seconds_bucket{le="0.001",method="POST"' in text
    assert 'route="/v1/events"' in text

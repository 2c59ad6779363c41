"""Errors are RFC 9457 problem documents with a stable type; bad requests are 4xx, never 500."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from battrace.store.sql import SqlStore
from tests import kit
from tests.api.conftest import Api, make_api


def _problem(r: Any, status: int, kind: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["type"] == f"/problems/{kind}"
    assert body["status"] == status
    assert body["title"]
    return body


@pytest.mark.parametrize(
    ("kwargs", "status", "kind"),
    [
        ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400,
         "malformed-json"),
        ({"content": b"\xff\xfe", "headers": {"Content-Type": "application/json"}}, 400,
         "malformed-json"),
        ({"content": b'{"events": []}', "headers": {"Content-Type": "text/plain"}}, 415,
         "unsupported-media-type"),
        ({"content": b'{"events": []}'}, 415, "unsupported-media-type"),
        ({"json": []}, 422, "invalid-input"),
        ({"json": {"events": {}}}, 422, "invalid-input"),
        ({"json": {"events": [], "extra": 1}}, 422, "invalid-input"),
        ({"json": {"events": [{}] * 10_001}}, 422, "too-many-events"),
    ],
)  # fmt: skip
def test_bad_batches_are_4xx_problems(
    api: Api, kwargs: dict[str, Any], status: int, kind: str
) -> None:
    _problem(api.post("/v1/events", kit.MAKER, **kwargs), status, kind)


def test_odd_events_are_rejected_one_by_one_not_with_an_error(api: Api) -> None:
    odd = [1, "x", None, [], {"id": 5}, {"type": "produced", "time": "yesterday"},
           {"id": "a", "type": "produced", "time": "2025-01-03T10:00:00+08:00",
            "reporter": kit.MAKER, "battery": "not-a-code"}]  # fmt: skip
    body = api.send(*odd, who=kit.MAKER)
    assert body["rejected"] == len(odd)
    assert all(r["reasons"] for r in body["results"])


def test_an_oversized_body_is_refused_before_it_is_read(store: SqlStore, tmp_path: Path) -> None:
    for api in make_api(store, tmp_path, max_body_bytes=20_000):
        big = {"events": [api.produce(kit.code(i)) for i in range(1, 100)]}
        body = _problem(api.post("/v1/events", kit.MAKER, json=big), 413, "payload-too-large")
        assert "20,000 bytes" in body["detail"]


def test_a_batch_of_a_million_empty_objects_is_refused_before_it_is_parsed(
    store: SqlStore, tmp_path: Path
) -> None:
    """Parsed, each `{},` of a body became ~70 bytes of objects: 64 MiB of them took 2.1 GB
    before the batch-size check could run. Objects and arrays are counted first."""
    for api in make_api(store, tmp_path, max_batch_events=30):  # the registry takes 21
        flood = b'{"events": [' + b"{}," * 8000 + b"{}]}"
        r = api.post(
            "/v1/events", kit.MAKER, content=flood, headers={"Content-Type": "application/json"}
        )
        body = _problem(r, 413, "payload-too-large")
        assert "7,680 JSON objects and arrays" in body["detail"]
        # a batch at the limit, with nested objects, is not affected
        ok = [api.ev("shipped", "2025-01-03", kit.MAKER, battery=kit.code(i), to=kit.AUTOMAKER,
                     location={"region": "110100"}) for i in range(1, 31)]  # fmt: skip
        assert api.send(*ok)["rejected"] == 30  # judged (never produced), not refused unread
        assert api.post("/v1/events", kit.MAKER, json={"events": [{}] * 31}).status_code == 422


def test_a_streamed_body_over_the_limit_is_refused(store: SqlStore, tmp_path: Path) -> None:
    for api in make_api(store, tmp_path, max_body_bytes=20_000):

        def chunks() -> Any:
            for _ in range(30):
                yield b" " * 1000

        r = api.post(
            "/v1/events",
            kit.MAKER,
            content=chunks(),
            headers={"Content-Type": "application/json"},
        )
        _problem(r, 413, "payload-too-large")


def test_unknown_routes_methods_and_parameters_are_problems(api: Api) -> None:
    _problem(api.get("/v1/nowhere"), 404, "not-found")
    _problem(api.client.put("/v1/events"), 405, "method-not-allowed")
    body = _problem(api.get("/v1/findings?limit=0", kit.REGULATOR), 422, "invalid-input")
    assert body["errors"][0]["loc"] == ["query", "limit"]
    _problem(api.get("/v1/findings?since=tomorrow", kit.REGULATOR), 422, "invalid-input")
    _problem(api.get("/v1/findings?rule=BT-999", kit.REGULATOR), 422, "invalid-input")
    _problem(api.get("/v1/log/proof/inclusion?leaf_index=999999"), 404, "not-found")
    body = _problem(api.get("/v1/log/proof/consistency?first=5&second=2"), 404, "not-found")
    assert "the first size (5) is larger than the second (2)" in body["detail"]
    body = _problem(api.get("/v1/log/proof/consistency?first=1&second=9999"), 404, "not-found")
    assert "the log holds" in body["detail"]


def test_unknown_things_are_404_with_what_was_asked_in_the_detail(api: Api) -> None:
    body = _problem(api.get(f"/v1/batteries/{kit.code(77)}"), 404, "not-found")
    assert kit.code(77) in body["detail"]
    assert body["instance"] == f"/v1/batteries/{kit.code(77)}"
    _problem(api.get(f"/v1/vehicles/{kit.VIN3}", kit.REGULATOR), 404, "not-found")
    _problem(api.get(f"/v1/enterprises/{kit.uscc(99)}"), 404, "not-found")
    _problem(api.get("/v1/uploads/nope", kit.MAKER), 404, "not-found")


def test_every_problem_type_is_described_at_its_uri(api: Api) -> None:
    kinds = api.get("/problems").json()
    assert {k["kind"] for k in kinds} >= {"unauthenticated", "access-denied", "not-found"}
    for k in kinds:
        assert api.get(k["type"]).json()["status"] == k["status"]
    _problem(api.get("/problems/nothing"), 404, "not-found")


def test_a_store_error_is_a_503_problem(api: Api) -> None:
    api.store.engine.dispose()
    state = api.app.state.battrace
    original = state.store.tree_size

    def broken() -> int:
        from battrace.errors import StoreError

        raise StoreError("the store is unreachable")

    state.store.tree_size = broken
    try:
        _problem(api.get("/healthz"), 503, "store")
    finally:
        state.store.tree_size = original


def test_a_refused_event_nested_past_json_writers_gets_its_reasons_not_a_500(api: Api) -> None:
    """The enterprise's rejection message was built with orjson, which refuses more than 255
    levels: a batch holding such an event answered 500 after it had committed the rest."""
    deep: Any = 1
    for _ in range(300):
        deep = [deep]
    pack = kit.code(71)
    body = api.send(api.produce(pack), {**api.produce(kit.code(72)), "extra": deep})
    assert [x["status"] for x in body["results"]] == ["accepted", "rejected"]
    assert [r["field"] for r in body["results"][1]["reasons"]] == ["extra"]

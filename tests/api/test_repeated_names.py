"""`POST /v1/events` with a field given twice: that event is refused, naming the field; the
rest of the batch goes on (`services.json_names`)."""

from __future__ import annotations

import sys

import orjson

from tests.api.conftest import Api
from tests.kit import MAKER, code


def test_the_api_refuses_the_event_that_repeats_a_field_and_takes_the_rest(api: Api) -> None:
    good, bad = api.produce(code(1)), api.produce(code(2))
    body = orjson.dumps({"events": [good, bad]})
    cut = body.index(b'"battery":"' + code(2).encode())
    body = body[:cut] + b'"battery": "' + code(3).encode() + b'", ' + body[cut:]
    r = api.post("/v1/events", MAKER, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["accepted", "rejected"]
    assert [x["field"] for x in results[1]["reasons"]] == ["battery"]
    assert results[1]["id"] == bad["id"]
    assert api.get(f"/v1/batteries/{code(3)}", MAKER).status_code == 404


def test_a_body_that_repeats_events_is_a_problem(api: Api) -> None:
    body = b'{"events": [], "events": [{"id": "x"}]}'
    r = api.post("/v1/events", MAKER, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["type"] == "/problems/malformed-json"
    assert "`events` more than once" in r.json()["detail"]


def test_a_body_too_deep_for_the_exact_check_is_refused_whole(api: Api) -> None:
    """A deep item beside an event that repeats `battery` made the exact check give up and
    report no repeat: the event was stored with its last value."""
    twice = orjson.dumps(api.produce(code(5)))
    twice = b'{"battery": "' + code(6).encode() + b'", ' + twice[1:]
    body = b'{"events": [' + twice + b", " + b"[" * 1000 + b"]" * 1000 + b"]}"
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(500)  # the standard library gives up here whatever the process allows
    try:
        r = api.post(
            "/v1/events", MAKER, content=body, headers={"Content-Type": "application/json"}
        )
    finally:
        sys.setrecursionlimit(limit)
    assert r.status_code == 400, r.text
    assert r.json()["type"] == "/problems/malformed-json"
    assert "too deep" in r.json()["detail"]
    assert api.get(f"/v1/batteries/{code(5)}", MAKER).status_code == 404

"""Every endpoint × every tier: who gets what (services/access.py decides, the API answers).

Callers: the public (no key); enterprise A = battery maker A, which made and shipped pack P1;
enterprise B = battery maker B, which never touched P1; automaker A, which holds P1 in VIN1;
and a regulator. A test below fails when a route is added without a row here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from battrace.services import apikeys
from battrace.store.sql import SqlStore
from tests import kit
from tests.api.conftest import NOW, Api, make_api

P1 = kit.code(1)
P2 = kit.code(1, maker="002")
A, B, AUTO, REG, PUBLIC = kit.MAKER, kit.MAKER2, kit.AUTOMAKER, kit.REGULATOR, None
WHO = {"public": PUBLIC, "A": A, "B": B, "auto": AUTO, "regulator": REG}


@dataclass
class Scene:
    """The API with P1 in VIN1 (via A and automaker A), P2 made by B, a finding for automaker A
    and an upload by A."""

    api: Api
    upload: str
    event_id: str
    key_id: str


@pytest.fixture
def scene(store: SqlStore, tmp_path: Path) -> Iterator[Scene]:
    """The scene on each backend."""
    for api in make_api(store, tmp_path):
        produced = api.produce(P1)
        api.ok(produced)
        api.ok(api.ev("shipped", "2025-01-03", A, battery=P1, to=AUTO, hour=11))
        api.ok(
            api.ev("received", "2025-01-03", AUTO, battery=P1, hour=12),
            api.ev("installed", "2025-01-03", AUTO, battery=P1, vin=kit.VIN1,
                   vehicle_model=kit.MODEL, hour=13),
            api.ev("vehicle_sold", "2024-11-01", AUTO, vin=kit.VIN2,
                   certificate_date="2024-11-01"),  # late: BT-020 for automaker A
        )  # fmt: skip
        api.ok(api.produce(P2, reporter=B))
        r = api.post(
            "/v1/uploads",
            A,
            content=b"",
            headers={"Content-Type": "application/x-ndjson"},
        )
        assert r.status_code == 202
        spare = apikeys.issue(store, enterprise=B, role="enterprise", now=NOW)
        yield Scene(api, r.json()["id"], produced["id"], spare.key.key_id)


def _upload(s: Scene) -> dict[str, Any]:
    return {"content": b"", "headers": {"Content-Type": "application/x-ndjson"}}


def _event(s: Scene) -> dict[str, Any]:
    return {"json": {"events": [s.api.produce(kit.code(9))]}}


#: (method, route template, concrete path, request kwargs, status per caller)
ALL_200 = {"public": 200, "A": 200, "B": 200, "auto": 200, "regulator": 200}
KEYED = {"public": 401}
MATRIX: list[tuple[str, str, str, Any, dict[str, int]]] = [
    ("POST", "/v1/events", "/v1/events", _event,
     KEYED | {"A": 200, "B": 200, "auto": 200, "regulator": 200}),
    ("POST", "/v1/uploads", "/v1/uploads", _upload,
     KEYED | {"A": 202, "B": 202, "auto": 202, "regulator": 202}),
    ("GET", "/v1/uploads/{upload_id}", "/v1/uploads/{upload}", None,
     KEYED | {"A": 200, "B": 404, "auto": 404, "regulator": 200}),
    ("GET", "/v1/receipts/{reporter}/{event_id}", f"/v1/receipts/{A}/{{event_id}}", None,
     KEYED | {"A": 200, "B": 403, "auto": 403, "regulator": 200}),
    ("GET", "/v1/batteries/{code}", f"/v1/batteries/{P1}", None, ALL_200),
    ("GET", "/v1/batteries/{code}/history", f"/v1/batteries/{P1}/history", None,
     KEYED | {"A": 200, "B": 403, "auto": 200, "regulator": 200}),
    ("GET", "/v1/batteries/{code}/bundle", f"/v1/batteries/{P1}/bundle", None,
     KEYED | {"A": 200, "B": 403, "auto": 200, "regulator": 200}),
    ("GET", "/v1/vehicles/{vin}", f"/v1/vehicles/{kit.VIN1}", None,
     KEYED | {"A": 403, "B": 403, "auto": 200, "regulator": 200}),
    ("GET", "/v1/findings", "/v1/findings", None,
     KEYED | {"A": 200, "B": 200, "auto": 200, "regulator": 200}),
    ("GET", "/v1/findings", f"/v1/findings?enterprise={AUTO}", None,
     KEYED | {"A": 403, "B": 403, "auto": 200, "regulator": 200}),
    ("GET", "/v1/rules", "/v1/rules", None, ALL_200),
    ("GET", "/v1/enterprises", "/v1/enterprises", None, ALL_200),
    ("GET", "/v1/enterprises/{uscc}", f"/v1/enterprises/{A}", None, ALL_200),
    ("GET", "/v1/enterprises/{uscc}/scorecard", f"/v1/enterprises/{A}/scorecard", None,
     KEYED | {"A": 200, "B": 403, "auto": 403, "regulator": 200}),
    ("GET", "/v1/qualifications", "/v1/qualifications", None, ALL_200),
    ("GET", "/v1/outlets", "/v1/outlets", None, ALL_200),
    ("GET", "/v1/vehicle-models", "/v1/vehicle-models", None, ALL_200),
    ("GET", "/v1/policy", "/v1/policy", None, ALL_200),
    ("GET", "/v1/checkpoints/latest", "/v1/checkpoints/latest", None, ALL_200),
    ("GET", "/v1/checkpoints/{tree_size}", f"/v1/checkpoints/{len(kit.registry_events())}", None,
     ALL_200),
    ("GET", "/v1/log/proof/inclusion", "/v1/log/proof/inclusion?leaf_index=0", None, ALL_200),
    ("GET", "/v1/log/proof/consistency", "/v1/log/proof/consistency?first=1", None, ALL_200),
    ("GET", "/v1/log/public-key", "/v1/log/public-key", None, ALL_200),
    ("POST", "/v1/keys", "/v1/keys", lambda s: {"json": {"enterprise": A}},
     KEYED | {"A": 403, "B": 403, "auto": 403, "regulator": 201}),
    ("GET", "/v1/keys", "/v1/keys", None,
     KEYED | {"A": 403, "B": 403, "auto": 403, "regulator": 200}),
    ("DELETE", "/v1/keys/{key_id}", "/v1/keys/{key_id}", None,
     KEYED | {"A": 403, "B": 403, "auto": 403, "regulator": 200}),
    ("GET", "/healthz", "/healthz", None, ALL_200),
    ("GET", "/metrics", "/metrics", None, ALL_200),
    ("GET", "/problems", "/problems", None, ALL_200),
    ("GET", "/problems/{kind}", "/problems/not-found", None, ALL_200),
]  # fmt: skip


def test_every_route_has_a_row_in_the_matrix(scene: Scene) -> None:
    paths = scene.api.app.openapi()["paths"]
    routes = {(m.upper(), path) for path, ops in paths.items() for m in ops}
    assert routes == {(m, t) for m, t, *_ in MATRIX}


@pytest.mark.parametrize("caller", list(WHO))
def test_each_tier_gets_what_the_matrix_says(scene: Scene, caller: str) -> None:
    api = scene.api
    checkpoint_size = api.get("/v1/checkpoints/latest").json()["tree_size"]
    assert checkpoint_size > 1
    wrong = []
    for method, _, path, kwargs, expected in MATRIX:
        url = path.format(upload=scene.upload, event_id=scene.event_id, key_id=scene.key_id)
        kw = kwargs(scene) if kwargs else {}
        headers = api.auth(WHO[caller]) | kw.pop("headers", {})
        r = api.client.request(method, url, headers=headers, **kw)
        if r.status_code != expected[caller]:
            wrong.append((method, url, r.status_code, expected[caller], r.text[:200]))
        if r.status_code >= 400:
            assert r.headers["content-type"] == "application/problem+json"
            if r.status_code == 401:
                assert r.headers["www-authenticate"].startswith("Bearer")
    assert not wrong


def _leaks(text: str, *secrets: str) -> list[str]:
    return [s for s in secrets if s in text]


def test_the_public_sees_identity_fields_and_never_vins_or_holders(scene: Scene) -> None:
    r = scene.api.get(f"/v1/batteries/{P1}")
    view = r.json()
    assert view == {
        "code": P1,
        "product_type": "pack",
        "chemistry": "LFP",
        "production_month": "2025-01",
        "energy_kwh": 52.5,
        "status": "in_service",
        "unit": None,
        "reprocessed_product": False,
        "application": None,
        "in_prohibited_use": False,
        "prohibited_applications": ["e_bike"],
        "successor": None,
        "inputs": [],
        "view": "public",
    }
    assert not _leaks(r.text, kit.VIN1, A, AUTO)


def test_enterprise_a_sees_the_full_view_of_a_code_it_held(scene: Scene) -> None:
    view = scene.api.get(f"/v1/batteries/{P1}", A).json()
    assert view["view"] == "full"
    assert (view["holder"], view["vin"], view["state"]) == (AUTO, kit.VIN1, "in_vehicle")
    assert [e["type"] for e in view["history"]] == ["produced", "shipped", "received", "installed"]


def test_enterprise_a_cannot_read_the_confidential_data_of_b_s_battery(scene: Scene) -> None:
    api = scene.api
    r = api.get(f"/v1/batteries/{P2}", A)
    assert r.json()["view"] == "public"
    assert not _leaks(r.text, B)
    for sub in ("history", "bundle"):
        denied = api.get(f"/v1/batteries/{P2}/{sub}", A)
        assert denied.status_code == 403
        assert denied.json()["type"] == "/problems/access-denied"
        assert not _leaks(denied.text, B)


def test_enterprise_a_cannot_report_for_b(scene: Scene) -> None:
    api = scene.api
    forged = api.ev("shipped", "2025-01-04", B, battery=P2, to=kit.RECYCLER)
    result = api.send(forged, who=A)["results"][0]
    assert result["status"] == "rejected"
    assert result["reasons"][0]["field"] == "reporter"
    assert api.store.battery(P2).state.value == "registered"  # type: ignore[union-attr]


def test_an_enterprise_sees_only_its_own_findings(scene: Scene) -> None:
    api = scene.api
    mine = api.get("/v1/findings", AUTO).json()["items"]
    assert {f["enterprise"] for f in mine} == {AUTO}
    assert [f["rule"] for f in mine] == ["BT-020"]
    assert api.get("/v1/findings", B).json()["items"] == []
    everything = api.get("/v1/findings", REG).json()["items"]
    assert len(everything) >= len(mine)


def test_the_addressee_of_a_shipment_sees_the_code_before_receiving_it(scene: Scene) -> None:
    api = scene.api
    api.ok(api.ev("shipped", "2025-01-04", B, battery=P2, to=kit.AUTOMAKER2))
    assert api.get(f"/v1/batteries/{P2}/history", B).status_code == 200
    api.keys[kit.AUTOMAKER2] = apikeys.issue(
        api.store, enterprise=kit.AUTOMAKER2, role="enterprise", now=NOW
    ).token
    assert api.get(f"/v1/batteries/{P2}", kit.AUTOMAKER2).json()["view"] == "full"


def test_a_revoked_key_is_refused_at_once(scene: Scene) -> None:
    api = scene.api
    assert api.get("/v1/findings", B).status_code == 200
    key_id = api.keys[B].split("_")[1]
    assert api.delete(f"/v1/keys/{key_id}", REG).json()["active"] is False
    r = api.get("/v1/findings", B)
    assert r.status_code == 401
    assert "invalid_token" in r.headers["www-authenticate"]
    # and a revoked key does not fall back to the public tier
    assert api.get(f"/v1/batteries/{P1}", B).status_code == 401


def test_a_whole_key_in_a_url_is_cut_to_its_id_never_echoed(scene: Scene) -> None:
    """`DELETE /v1/keys/<the whole token>` answered 422 with the secret in its body (and the
    access log's line); the URL is cut to the key id first, so the revocation works."""
    api = scene.api
    token = api.keys[B]
    secret = token.split("_", 2)[2]
    r = api.delete(f"/v1/keys/{token}", REG)
    assert r.status_code == 200, r.text
    assert secret not in r.text
    assert r.json()["active"] is False
    r = api.get(f"/v1/findings?note={token}", REG)
    assert secret not in r.text


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Basic dXNlcjpwYXNz", "Bearer btk_000000000000_" + "x" * 43, "Bearer nonsense"],
)
def test_a_bad_authorization_header_is_a_401_never_the_public_tier(
    scene: Scene, header: str
) -> None:
    r = scene.api.client.get(f"/v1/batteries/{P1}", headers={"Authorization": header})
    assert r.status_code == 401
    assert r.json()["type"] == "/problems/unauthenticated"


def test_regulators_administer_keys_and_the_key_is_shown_once(scene: Scene) -> None:
    api = scene.api
    r = api.post("/v1/keys", REG, json={"enterprise": kit.RECYCLER, "label": "ERP"})
    assert r.status_code == 201
    assert r.headers["cache-control"] == "no-store"
    issued = r.json()
    assert issued["key"].startswith("btk_")
    listed = api.get(f"/v1/keys?enterprise={kit.RECYCLER}", REG).json()["items"]
    assert issued["key_id"] in {k["key_id"] for k in listed}
    assert all("key" not in k for k in listed)
    api.keys["new"] = issued["key"]
    assert api.get("/v1/findings", "new").status_code == 200
    # listed a page at a time, like every list (docs/api.md)
    everyone = api.get("/v1/keys", REG).json()
    assert (everyone["limit"], everyone["offset"], everyone["next_offset"]) == (100, 0, None)
    first = api.get("/v1/keys?limit=2", REG).json()
    assert first["next_offset"] == 2
    rest = api.get("/v1/keys?limit=100&offset=2", REG).json()["items"]
    assert [k["key_id"] for k in first["items"] + rest] == [k["key_id"] for k in everyone["items"]]


def test_keys_are_issued_only_for_registered_enterprises(scene: Scene) -> None:
    r = scene.api.post("/v1/keys", REG, json={"enterprise": kit.uscc(99), "role": "enterprise"})
    assert r.status_code == 404
    assert "not registered" in r.json()["detail"]
    r = scene.api.post("/v1/keys", REG, json={"enterprise": A, "role": "regulator"})
    assert r.status_code == 422


def test_a_regulator_key_loses_its_powers_when_the_role_is_taken_away(scene: Scene) -> None:
    """Tiers follow the registry as it is now: a second regulator re-registered as a recycler
    keeps a working key, but as an enterprise key (it could mint keys for others before)."""
    api = scene.api
    second = kit.uscc(98, kind="11")
    api.ok(
        api.ev("enterprise_registered", "2025-01-04", REG, enterprise=second, name="SAMR",
               roles=["regulator"], region="110000"),
    )  # fmt: skip
    api.keys["second"] = api.post(
        "/v1/keys", REG, json={"enterprise": second, "role": "regulator"}
    ).json()["key"]
    assert api.get("/v1/keys", "second").status_code == 200
    assert api.get(f"/v1/batteries/{P1}/history", "second").status_code == 200
    api.ok(
        api.ev("enterprise_registered", "2025-01-05", REG, enterprise=second, name="SAMR",
               roles=["recycler"], region="110000"),
    )  # fmt: skip
    assert api.get("/v1/keys", "second").status_code == 403
    assert api.post("/v1/keys", "second", json={"enterprise": A}).status_code == 403
    assert api.get(f"/v1/batteries/{P1}/history", "second").status_code == 403
    assert api.get(f"/v1/batteries/{P1}", "second").json()["view"] != "full"
    # the key still works as its enterprise's own key
    assert api.get("/v1/findings", "second").status_code == 200
    # the regulator role given back restores them
    api.ok(
        api.ev("enterprise_registered", "2025-01-06", REG, enterprise=second, name="SAMR",
               roles=["regulator"], region="110000"),
    )  # fmt: skip
    assert api.get("/v1/keys", "second").status_code == 200


@pytest.mark.parametrize("path", ["/v1/rules", "/v1/policy", "/v1/enterprises", "/healthz"])
def test_a_revoked_or_unknown_key_is_refused_on_public_routes_too(scene: Scene, path: str) -> None:
    """A key that does not work is a 401 everywhere (docs/api.md): the public routes answered
    200 to it, so a client never learned its key had stopped working."""
    api = scene.api
    assert api.get(path).status_code == 200
    bogus = {"Authorization": "Bearer btk_000000000000_" + "x" * 43}
    assert api.client.get(path, headers=bogus).status_code == 401
    assert api.get(path, B).status_code == 200
    key_id = api.keys[B].split("_")[1]
    api.delete(f"/v1/keys/{key_id}", REG)
    assert api.get(path, B).status_code == 401

"""An API over the `store` fixture (SQLite and PostgreSQL), bootstrapped through the API itself:
a regulator key on the empty store, the registry posted as events, then a key per enterprise."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from battrace.api import ApiOptions, create_app
from battrace.config import Settings
from battrace.ledger.keys import init_key_dir
from battrace.services import apikeys
from battrace.sim.build import at, event, produced
from battrace.store.sql import SqlStore
from tests import kit

NOW = dt.datetime(2025, 1, 10, 10, tzinfo=dt.UTC)
ENTERPRISES = (
    kit.MAKER,
    kit.MAKER2,
    kit.AUTOMAKER,
    kit.AUTOMAKER2,
    kit.REPAIRER,
    kit.OUTLET,
    kit.DISMANTLER,
    kit.REPROCESSOR,
    kit.RECYCLER,
)


@dataclass
class Api:
    """A test client with a key per enterprise, and event helpers."""

    client: TestClient
    app: FastAPI
    store: SqlStore
    keys: dict[str, str]
    clock: list[dt.datetime]
    key_dir: Path
    _n: int = field(default=0)

    def auth(self, who: str | None) -> dict[str, str]:
        """Headers for `who` (a USCC with a key; None: the public)."""
        return {} if who is None else {"Authorization": f"Bearer {self.keys[who]}"}

    def get(self, path: str, who: str | None = None, **kw: Any) -> Any:
        """GET as `who`."""
        return self.client.get(path, headers=self.auth(who) | kw.pop("headers", {}), **kw)

    def post(self, path: str, who: str | None = None, **kw: Any) -> Any:
        """POST as `who`."""
        return self.client.post(path, headers=self.auth(who) | kw.pop("headers", {}), **kw)

    def delete(self, path: str, who: str | None = None, **kw: Any) -> Any:
        """DELETE as `who`."""
        return self.client.delete(path, headers=self.auth(who) | kw.pop("headers", {}), **kw)

    def send(self, *events: dict[str, Any], who: str | None = None, **kw: Any) -> dict[str, Any]:
        """POST events as `who` (default: the first event's reporter); the JSON body."""
        who = who or events[0]["reporter"]
        r = self.post("/v1/events", who, json={"events": list(events)}, **kw)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def ok(self, *events: dict[str, Any], who: str | None = None) -> dict[str, Any]:
        """POST events and insist every one is accepted."""
        body = self.send(*events, who=who)
        bad = [x for x in body["results"] if x["status"] != "accepted"]
        assert not bad, bad
        return body

    def ev(self, kind: str, day: str, reporter: str, **f: Any) -> dict[str, Any]:
        """An event with a fresh id."""
        self._n += 1
        hour = f.pop("hour", 10)
        return event(kind, f"api-{self._n}", at(day, hour), reporter, **f)

    def produce(self, battery: str, reporter: str = kit.MAKER, day: str = "2025-01-03") -> Any:
        """A `produced` event with a fresh id."""
        self._n += 1
        return produced(f"api-{self._n}", at(day, 9), reporter, battery)

    def pack_in_vehicle(self, pack: str, vin: str = kit.VIN1, day: str = "2025-01-03") -> None:
        """Maker A produces and ships a pack; automaker A receives, installs it and sells."""
        self.ok(
            self.produce(pack, day=day),
            self.ev("shipped", day, kit.MAKER, battery=pack, to=kit.AUTOMAKER, hour=11),
        )
        self.ok(
            self.ev("received", day, kit.AUTOMAKER, battery=pack, hour=12),
            self.ev(
                "installed", day, kit.AUTOMAKER, battery=pack, vin=vin,
                vehicle_model=kit.MODEL, hour=13,
            ),
            self.ev("vehicle_sold", day, kit.AUTOMAKER, vin=vin, certificate_date=day, hour=14),
        )  # fmt: skip


def make_api(store: SqlStore, tmp_path: Path, **options: Any) -> Iterator[Api]:
    """An app on `store`, bootstrapped through the API; closed afterwards."""
    key_dir = tmp_path / "keys"
    if not key_dir.exists():
        init_key_dir(key_dir, "battrace.example/log")
    clock = [NOW]
    settings = Settings(
        database_url=store.engine.url.render_as_string(hide_password=False), key_dir=key_dir
    )
    opts = ApiOptions(clock=lambda: clock[0], upload_dir=tmp_path / "spool", web=False, **options)
    app = create_app(settings, options=opts, store=store)
    with TestClient(app) as client:
        regulator = apikeys.issue(store, enterprise=kit.REGULATOR, role="regulator", now=NOW)
        api = Api(client, app, store, {kit.REGULATOR: regulator.token}, clock, key_dir)
        api.ok(*kit.registry_events())
        for who in ENTERPRISES:
            api.keys[who] = apikeys.issue(store, enterprise=who, role="enterprise", now=NOW).token
        yield api


@pytest.fixture
def api(store: SqlStore, tmp_path: Path) -> Iterator[Api]:
    """The API on each backend, with the test registry and a key per enterprise."""
    yield from make_api(store, tmp_path)

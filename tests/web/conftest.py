"""The dashboard over the API fixture (SQLite and PostgreSQL): a small scenario with a recycled
pack, a scrapped vehicle without its pack (BT-010) and a leak to an unqualified workshop
(BT-011), and signed-in test clients for a regulator, the recycler and the public."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from battrace.api import ApiOptions, create_app
from battrace.config import Settings
from battrace.domain.calendar import WorkingCalendar
from battrace.domain.policy import Policy
from battrace.ledger.keys import init_key_dir
from battrace.services import apikeys, audit
from battrace.store.sql import SqlStore
from tests import kit
from tests.api.conftest import ENTERPRISES, NOW, Api

DAY = "2025-01-03"


@dataclass
class Scenario:
    """The codes the tests look at."""

    recycled: str
    missing: str
    leaked: str
    new: str


def build_scenario(api: Api) -> Scenario:
    """Three packs in three vehicles; all scrapped; one recycled, one missing, one leaked."""
    recycled, missing, leaked, new = kit.code(101), kit.code(102), kit.code(103), kit.code(104)
    api.pack_in_vehicle(recycled, kit.VIN1)
    api.pack_in_vehicle(missing, kit.VIN2)
    api.pack_in_vehicle(leaked, kit.VIN3)
    api.ok(api.produce(new, day=DAY))
    d = kit.DISMANTLER
    scrap = "vehicle_scrapped"
    api.ok(
        api.ev(scrap, "2025-01-04", d, vin=kit.VIN1, certificate_no="S1",
               batteries_present=[recycled]),
        api.ev("removed", "2025-01-04", d, battery=recycled, vin=kit.VIN1, reason="scrapping",
               hour=11),
        api.ev("shipped", "2025-01-05", d, battery=recycled, to=kit.RECYCLER),
        api.ev(scrap, "2025-01-04", d, vin=kit.VIN2, certificate_no="S2", batteries_present=[]),
        api.ev(scrap, "2025-01-04", d, vin=kit.VIN3, certificate_no="S3",
               batteries_present=[leaked]),
        api.ev("shipped", "2025-01-05", d, battery=leaked, to=kit.SHADY, hour=12),
    )  # fmt: skip
    api.ok(api.ev("received", "2025-01-06", kit.RECYCLER, battery=recycled))
    api.ok(
        api.ev(
            "recycled", "2025-01-07", kit.RECYCLER, battery=recycled, input_mass_kg=350,
            recovered={"li": 3.8, "ni": 0, "co": 0, "mn": 0}, contained={"li": 4.0},
        )
    )  # fmt: skip
    return Scenario(recycled, missing, leaked, new)


@dataclass
class Web:
    """The API fixture, the scenario, and a way to act as someone in the browser's place."""

    api: Api
    scenario: Scenario

    @property
    def client(self) -> TestClient:
        """The shared test client."""
        return self.api.client

    @property
    def store(self) -> SqlStore:
        """The store under the app."""
        return self.api.store

    def sign_in(self, who: str | None) -> None:
        """Sign in as `who` (a USCC with a key; None: sign out, the public)."""
        self.client.cookies.clear()
        if who is None:
            return
        r = self.sign_in_with(self.api.keys[who])
        assert r.status_code == 303, r.text

    def sign_in_with(self, key: str, *, headers: dict[str, str] | None = None, **form: str) -> Any:
        """Open the sign-in form and send it with `key` (and other fields), as a browser
        does: the form's token and its cookie go along."""
        page = self.client.get("/signin")
        data = {"key": key, "csrf": self.csrf(page.text), **form}
        return self.client.post("/signin", data=data, headers=headers, follow_redirects=False)

    def get(self, path: str, who: str | None = None, **kw: Any) -> Any:
        """GET a page as `who` (redirects not followed)."""
        self.sign_in(who)
        return self.client.get(path, follow_redirects=False, **kw)

    def csrf(self, html: str) -> str:
        """The form token in a page."""
        marker = 'name="csrf" value="'
        start = html.index(marker) + len(marker)
        return html[start : html.index('"', start)]


def make_web_api(store: SqlStore, tmp_path: Path) -> Iterator[Api]:
    """The app with the dashboard on `store`, bootstrapped through the API (a key for the
    regulator and for every enterprise of the test registry, SHADY included)."""
    key_dir = tmp_path / "keys"
    init_key_dir(key_dir, "battrace.example/log")
    clock = [NOW]
    settings = Settings(
        database_url=store.engine.url.render_as_string(hide_password=False), key_dir=key_dir
    )
    opts = ApiOptions(clock=lambda: clock[0], upload_dir=tmp_path / "spool")
    app = create_app(settings, options=opts, store=store)
    with TestClient(app) as client:
        regulator = apikeys.issue(store, enterprise=kit.REGULATOR, role="regulator", now=NOW)
        api = Api(client, app, store, {kit.REGULATOR: regulator.token}, clock, key_dir)
        api.ok(*kit.registry_events())
        for who in (*ENTERPRISES, kit.SHADY, kit.OUTLET2):
            api.keys[who] = apikeys.issue(store, enterprise=who, role="enterprise", now=NOW).token
        yield api


@pytest.fixture
def web(store: SqlStore, tmp_path: Path) -> Iterator[Web]:
    """The app with the scenario, on each backend."""
    for api in make_web_api(store, tmp_path):
        scenario = build_scenario(api)
        audit.audit(
            store,
            as_of=dt.date(2025, 1, 9),
            policy=Policy.default(),
            calendar=WorkingCalendar.default(),
            now=api.clock[0],
        )
        yield Web(api, scenario)

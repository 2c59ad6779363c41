"""The dashboard plugs into the API: `battrace.web.router` is included, its static files are
served at /static, and it reuses the API's state and caller dependencies."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from battrace.api import ApiOptions, create_app
from battrace.api.deps import Caller, State
from battrace.config import Settings
from battrace.store.sql import SqlStore


def test_the_web_package_s_router_and_static_files_are_plugged_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    router = APIRouter()

    @router.get("/dashboard", include_in_schema=False)
    def dashboard(state: State, caller: Caller) -> PlainTextResponse:
        return PlainTextResponse(f"{caller.tier.value} on {state.store.dialect}")

    static = tmp_path / "static"
    static.mkdir()
    (static / "app.css").write_text("body {}")
    web = types.ModuleType("battrace.web")
    web.router = router  # type: ignore[attr-defined]
    web.STATIC_DIR = static  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "battrace.web", web)

    url = f"sqlite:///{tmp_path / 'battrace.db'}"
    SqlStore.open(url, create=True).close()
    app = create_app(Settings(database_url=url, key_dir=tmp_path / "keys"), options=ApiOptions())
    with TestClient(app) as client:
        assert client.get("/dashboard").text == "public on sqlite"
        assert client.get("/static/app.css").text == "body {}"
        assert "/dashboard" not in client.get("/openapi.json").json()["paths"]

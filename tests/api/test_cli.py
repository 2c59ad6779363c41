"""`battrace keys issue|revoke|list` and `battrace serve`, as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest
import typer
from typer.testing import CliRunner

from battrace.cli import api as api_cli
from battrace.cli import keys
from battrace.services import apikeys
from battrace.store.sql import SqlStore
from tests import kit
from tests.api.conftest import NOW

app = typer.Typer()
app.add_typer(keys.app, name="keys")
app.command("serve")(api_cli.serve)
runner = CliRunner()


def _issue(db: str, *args: str) -> dict[str, str]:
    result = runner.invoke(app, ["keys", "issue", "--db", db, "--json", *args])
    assert result.exit_code == 0, result.output
    out: dict[str, str] = json.loads(result.stdout)
    return out


def test_issue_shows_the_key_once_and_stores_only_its_hash(store: SqlStore) -> None:
    db = store.engine.url.render_as_string(hide_password=False)
    issued = _issue(db, "--enterprise", kit.REGULATOR, "--role", "regulator")
    token = issued["key"]
    assert token.startswith(f"btk_{issued['key_id']}_")
    with store.engine.connect() as c:
        rows = [tuple(r) for r in c.exec_driver_sql("SELECT * FROM api_keys")]
    assert token not in repr(rows)
    assert apikeys.token_hash(token) in [
        bytes(v) for r in rows for v in r if isinstance(v, bytes | memoryview)
    ]
    assert apikeys.authenticate(store, token) is not None


def test_an_unregistered_enterprise_gets_no_key_once_the_store_has_a_registry(
    store: SqlStore,
) -> None:
    from battrace.services.ingest import Ingestor

    Ingestor(store).ingest(kit.registry_events())
    db = store.engine.url.render_as_string(hide_password=False)
    result = runner.invoke(app, ["keys", "issue", "--db", db, "--enterprise", kit.uscc(99)])
    assert result.exit_code == 2
    assert "not registered" in result.output
    bad = runner.invoke(app, ["keys", "issue", "--db", db, "--enterprise", "nonsense"])
    assert bad.exit_code == 2
    assert "not a valid USCC" in bad.output
    assert _issue(db, "--enterprise", kit.MAKER)["role"] == "enterprise"


def test_list_and_revoke_by_prefix(store: SqlStore) -> None:
    db = store.engine.url.render_as_string(hide_password=False)
    issued = _issue(db, "--enterprise", kit.REGULATOR, "--role", "regulator", "--label", "ops")
    listed = runner.invoke(app, ["keys", "list", "--db", db, "--json"])
    [row] = json.loads(listed.stdout)
    assert (row["key_id"], row["label"], row["active"]) == (issued["key_id"], "ops", True)
    assert "key" not in row and issued["key"] not in listed.stdout
    table = runner.invoke(app, ["keys", "list", "--db", db])
    assert issued["key_id"] in table.stdout and issued["key"] not in table.stdout
    result = runner.invoke(app, ["keys", "revoke", "--db", db, issued["key_id"][:6]])
    assert result.exit_code == 0, result.output
    assert "revoked" in result.stdout and "already" not in result.stdout
    assert apikeys.authenticate(store, issued["key"]) is None
    again = runner.invoke(app, ["keys", "revoke", "--db", db, issued["key_id"]])
    assert again.exit_code == 0 and "was already revoked at" in again.stdout
    missing = runner.invoke(app, ["keys", "revoke", "--db", db, "abcdef"])
    assert missing.exit_code == 2


def test_an_ambiguous_prefix_revokes_nothing(store: SqlStore) -> None:
    for _ in range(40):  # enough keys that some two share a first hex digit
        apikeys.issue(store, enterprise=kit.REGULATOR, role="regulator", now=NOW)
    firsts = [k.key_id[0] for k in apikeys.list_keys(store)]
    shared = next(c for c in firsts if firsts.count(c) > 1)
    db = store.engine.url.render_as_string(hide_password=False)
    result = runner.invoke(app, ["keys", "revoke", "--db", db, shared])
    assert result.exit_code == 2
    assert "several keys" in result.output
    assert all(k.active for k in apikeys.list_keys(store))


@pytest.mark.slow
@contextmanager
def _server(tmp_path: Path, *args: str) -> Iterator[str]:
    """`python -m battrace.api` on a free loopback port over a fresh store: its address."""
    db = tmp_path / "battrace.db"
    if not db.exists():
        SqlStore.open(f"sqlite:///{db}", create=True).close()
    port = kit.free_port()
    env = os.environ | {"BATTRACE_KEY_DIR": str(tmp_path / "keys")}
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "battrace.api", "--port", str(port), "--db", str(db), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx2.TransportError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_answers_on_loopback(tmp_path: Path) -> None:
    with _server(tmp_path) as base:
        r = httpx2.get(f"{base}/healthz", timeout=5)
        assert r.json()["store"] == "sqlite"
        assert "server" not in r.headers


def test_forwarded_headers_count_only_from_the_proxies_named(tmp_path: Path) -> None:
    """Behind a TLS proxy a request arrives as http: with `--forwarded-allow-ips` naming the
    proxy, its `X-Forwarded-Proto: https` makes the label's link https; without it, a client
    cannot make the server believe a forged header."""
    code = kit.code(1)
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}

    def label_link(base: str) -> str:
        page = httpx2.get(f"{base}/labels", params={"code": code}, headers=headers, timeout=5)
        assert page.status_code == 200
        host = base.split("://", 1)[1]
        for scheme in ("https", "http"):
            if f"{scheme}://{host}/b/{code}" in page.text:
                return scheme
        raise AssertionError(page.text)

    with _server(tmp_path) as base:
        assert label_link(base) == "http"
    with _server(tmp_path, "--forwarded-allow-ips", "127.0.0.1") as base:
        assert label_link(base) == "https"
    with _server(tmp_path, "--forwarded-allow-ips", "192.0.2.1") as base:  # another proxy
        assert label_link(base) == "http"

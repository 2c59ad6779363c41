"""`battrace serve --workers N`: several processes write to one store and keep one log."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest

from battrace.config import Settings
from battrace.ledger.documents import verify_document
from battrace.ledger.keys import init_key_dir, load_verifier
from battrace.services import apikeys, uploads
from battrace.services import log as log_service
from battrace.services.ingest import Ingestor
from battrace.store.sql import SqlStore
from battrace.web import session
from tests import kit
from tests.api.conftest import NOW, make_api

THREADS, BATCHES, SIZE = 4, 6, 40


def _batch(t: int, b: int) -> list[dict[str, Any]]:
    """Client t's b-th batch: SIZE packs of its own, produced."""
    first = (t * BATCHES + b) * SIZE + 1
    return [
        kit.produced(f"w{t}-{b}-{k}", "2025-01-03T10:00:00+08:00", kit.MAKER, kit.code(first + k))
        for k in range(SIZE)
    ]


@pytest.mark.slow
def test_two_workers_share_one_store_and_one_log(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'battrace.db'}"
    store = SqlStore.open(url, create=True)
    Ingestor(store).ingest(kit.registry_events())
    issued = apikeys.issue(store, enterprise=kit.MAKER, role="enterprise", now=NOW)
    stale = uploads.create(
        store, enterprise=kit.MAKER, key_id=issued.key.key_id, filename="old.jsonl", size=1, now=NOW
    )
    store.close()
    keys = tmp_path / "keys"
    init_key_dir(keys, "test.example/log")
    port = kit.free_port()
    env = os.environ | Settings(database_url=url, key_dir=keys).to_env()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "battrace.api", "--port", str(port), "--db", url,
             "--workers", "2", "--log-level", "info", "--no-access-log"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    headers = {"authorization": f"Bearer {issued.token}"}
    try:
        deadline = time.monotonic() + 60
        while len(re.findall(r"Application startup complete", log.read_text())) < 2:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)

        def post(t: int) -> list[dict[str, Any]]:
            out = []
            with httpx2.Client(base_url=base, headers=headers, timeout=60) as client:
                for b in range(BATCHES):
                    r = client.post("/v1/events", json={"events": _batch(t, b)})
                    assert r.status_code == 200, r.text
                    out.append(r.json())
            return out

        with ThreadPoolExecutor(THREADS) as pool:
            bodies = [body for done in pool.map(post, range(THREADS)) for body in done]
        assert sum(b["accepted"] for b in bodies) == THREADS * BATCHES * SIZE
        # a batch sent again (a client that lost the answer) is stored once
        with httpx2.Client(base_url=base, headers=headers, timeout=60) as client:
            again = client.post("/v1/events", json={"events": _batch(1, 2)}).json()
            upload = client.get(f"/v1/uploads/{stale}").json()
        assert (again["accepted"], again["duplicates"]) == (0, SIZE)
        # the supervisor, not a worker, failed the upload an earlier server left queued
        assert upload["status"] == "failed"
        assert len(re.findall(r"Started server process", log.read_text())) == 2
    finally:
        proc.terminate()
        proc.wait(30)

    verifier = load_verifier(keys)
    receipts = [r["receipt"] for b in bodies for r in b["results"]]
    for receipt in receipts[:: len(receipts) // 25]:
        assert verify_document(receipt, verifier).ok
    store = SqlStore.open(url)
    try:
        report = log_service.verify_log(store, verifier)
        assert report.ok, report.problems[:3]
        assert report.leaves == len(kit.registry_events()) + THREADS * BATCHES * SIZE
        leaf_indexes = sorted(r["leaf_index"] for b in bodies for r in b["results"])
        assert leaf_indexes == list(range(len(kit.registry_events()), report.leaves))
    finally:
        store.close()


def test_workers_starting_together_share_one_session_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_link = os.link
    theirs = b"s" * 32

    def beaten_to_it(src: Any, dst: Any) -> None:
        Path(dst).write_bytes(theirs)  # another worker linked its secret a moment earlier
        real_link(src, dst)

    monkeypatch.setattr(os, "link", beaten_to_it)
    assert session.load_secret(tmp_path) == theirs
    monkeypatch.setattr(os, "link", real_link)
    assert session.load_secret(tmp_path) == theirs
    assert [p.name for p in tmp_path.iterdir()] == [session.SECRET_FILE]
    fresh = tmp_path / "fresh"
    mine = session.load_secret(fresh)
    assert len(mine) == 32 and session.load_secret(fresh) == mine
    assert (fresh / session.SECRET_FILE).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("recover", [True, False])
def test_only_a_server_that_owns_recovery_fails_unfinished_uploads(
    store: SqlStore, tmp_path: Path, recover: bool
) -> None:
    left = uploads.create(
        store, enterprise=kit.MAKER, key_id="k", filename="a.jsonl", size=1, now=NOW
    )
    gen = make_api(store, tmp_path, recover_uploads=recover)
    next(gen)  # the app has started (lifespan ran)
    try:
        status = uploads.view(store, left)["status"]
    finally:
        gen.close()
    assert status == ("failed" if recover else "queued")

"""`battrace serve --workers N`: several processes write to one store and keep one log."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest

from battrace.api import workers
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


def _children(pid: int) -> list[int]:
    """Worker processes of the supervisor `pid` (multiprocessing's helpers run `-c`)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in cmd:
            out.append(int(entry.name))
    return sorted(out)


def _connections_per_worker(supervisor: int, port: int, n: int) -> dict[int, int]:
    """Open `n` keep-alive connections at once, make a request on each, and count the
    established server-side sockets each worker holds (from /proc)."""
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
    try:
        for c in clients:
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        for c in clients:
            assert c.recv(65536).startswith(b"HTTP/1.1 200")
        established = set()
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            f = line.split()
            if int(f[1].split(":")[1], 16) == port and f[3] == "01":  # local port, ESTABLISHED
                established.add(f"socket:[{f[9]}]")
        counts = {}
        for pid in _children(supervisor):
            fds = Path(f"/proc/{pid}/fd").iterdir()
            counts[pid] = sum(1 for fd in fds if os.readlink(fd) in established)
        assert sum(counts.values()) == n, counts
        return counts
    finally:
        for c in clients:
            c.close()


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
    settings = Settings(database_url=url, key_dir=keys, log_origin="test.example/log")
    env = os.environ | settings.to_env()
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
        # clients connecting together are spread over both workers (each has its own socket)
        spread = _connections_per_worker(proc.pid, port, 32)
        assert sorted(spread) == sorted(_children(proc.pid)) and min(spread.values()) > 0, spread
        # a worker that dies is replaced, and the server answers all along
        victim = _children(proc.pid)[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while len(re.findall(r"Application startup complete", log.read_text())) < 3:
            assert httpx2.get(f"{base}/healthz", timeout=10).status_code == 200
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert victim not in _children(proc.pid) and len(_children(proc.pid)) == 2
    finally:
        proc.terminate()
        status = proc.wait(60)
    assert status == 0, log.read_text()[-2000:]

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


def _exit_at_startup(sock: socket.socket, options: dict[str, Any], parent: int) -> None:
    raise SystemExit(workers.STARTUP_FAILURE)


def _exit_once_then_serve(sock: socket.socket, options: dict[str, Any], parent: int) -> None:
    """Dies the first time (a crash after startup), then accepts one connection and exits."""
    marker = Path(options["marker"])
    if not marker.exists():
        marker.write_text("crashed")
        raise SystemExit(1)
    conn, _ = sock.accept()
    conn.sendall(b"served")
    conn.close()
    time.sleep(60)


@pytest.mark.skipif(not workers.BALANCED, reason="the kernel balances SO_REUSEPORT on Linux")
def test_sockets_of_the_workers_share_one_port_and_split_connections() -> None:
    socks = workers.listening_sockets("127.0.0.1", 0, 2)
    try:
        port = socks[0].getsockname()[1]
        assert port != 0 and {s.getsockname()[1] for s in socks} == {port}
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
        time.sleep(0.2)
        accepted = []
        for s in socks:
            s.setblocking(False)
            n = 0
            while True:
                try:
                    conn, _ = s.accept()
                except BlockingIOError:
                    break
                conn.close()
                n += 1
            accepted.append(n)
        for c in clients:
            c.close()
        # the kernel hashes each connection to one socket: 32 on one side is a 2**-31 chance
        assert sum(accepted) == 32 and min(accepted) > 0, accepted
    finally:
        for s in socks:
            s.close()


def test_supervisor_gives_up_on_a_worker_that_cannot_start() -> None:
    socks = workers.listening_sockets("127.0.0.1", 0, 1)
    sup = workers.Supervisor(socks, {}, target=_exit_at_startup)
    t0 = time.monotonic()
    assert sup.run(poll=0.05) == workers.STARTUP_FAILURE
    assert time.monotonic() - t0 < 30
    assert all(s.fileno() == -1 for s in socks)  # closed


@pytest.mark.slow
def test_supervisor_replaces_a_worker_that_exits(tmp_path: Path) -> None:
    socks = workers.listening_sockets("127.0.0.1", 0, 1)
    port = socks[0].getsockname()[1]
    sup = workers.Supervisor(socks, {"marker": str(tmp_path / "m")}, target=_exit_once_then_serve)
    got: list[bytes] = []

    def client() -> None:
        # connects while the first worker crashes: the socket stays open, so it waits in the
        # queue and the replacement serves it
        with socket.create_connection(("127.0.0.1", port), timeout=60) as c:
            got.append(c.recv(100))
        sup.stop()

    t = threading.Thread(target=client)
    t.start()
    assert sup.run(poll=0.05) == 0
    t.join(60)
    assert got == [b"served"] and (tmp_path / "m").read_text() == "crashed"
    assert all(not p.is_alive() for p in sup.procs)


def test_a_port_another_server_listens_on_is_refused() -> None:
    from battrace.errors import ConfigError

    socks = workers.listening_sockets("127.0.0.1", 0, 2)
    try:
        port = socks[0].getsockname()[1]
        # SO_REUSEPORT alone would let a second server join the first one's port
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            workers.listening_sockets("127.0.0.1", port, 2)
    finally:
        for s in socks:
            s.close()


def _start_server(
    tmp_path: Path, env_extra: dict[str, str]
) -> tuple[subprocess.Popen[bytes], Path]:
    url = f"sqlite:///{tmp_path / 'battrace.db'}"
    SqlStore.open(url, create=True).close()
    env = os.environ | Settings(database_url=url, key_dir=tmp_path / "keys").to_env() | env_extra
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "battrace.api", "--port", str(kit.free_port()),
             "--db", url, "--workers", "2", "--log-level", "info"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return proc, log


@pytest.mark.slow
def test_a_worker_that_cannot_build_the_app_stops_the_server(tmp_path: Path) -> None:
    bad = tmp_path / "policy.toml"
    bad.write_text("this is not a policy = [")
    proc, log = _start_server(tmp_path, {"BATTRACE_POLICY": str(bad)})
    try:
        status = proc.wait(90)  # not a loop of restarts
    finally:
        proc.kill()
    assert status == workers.STARTUP_FAILURE, log.read_text()[-2000:]
    assert "could not start: stopping the server" in log.read_text()


@pytest.mark.slow
def test_workers_stop_when_their_supervisor_is_killed(tmp_path: Path) -> None:
    proc, log = _start_server(tmp_path, {})
    try:
        deadline = time.monotonic() + 60
        while len(re.findall(r"Application startup complete", log.read_text())) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        children = _children(proc.pid)
        assert len(children) == 2
        proc.kill()  # no chance to stop them itself
        proc.wait(10)
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{c}").exists() and _state(c) != "Z" for c in children):
            assert time.monotonic() < deadline, "orphaned workers kept serving"
            time.sleep(0.1)
    finally:
        for c in _children(proc.pid):
            os.kill(c, signal.SIGKILL)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"

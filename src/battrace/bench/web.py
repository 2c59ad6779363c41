"""Dashboard render times on the demo dataset: every page, server time, against 500 ms.

The dataset is `battrace simulate`'s (20,000 vehicles at `medium`), ingested as a trusted
back-fill with a signing key (so checkpoints exist), then audited. Each page is requested
through the real app (FastAPI's TestClient, no network) as a signed-in regulator, an
enterprise or the public; the figure is the median of a few requests after one warm-up, and
the worst request is reported in the note.
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from battrace import bootstrap
from battrace.bench._report import Figure
from battrace.config import Settings
from battrace.services import apikeys, audit
from battrace.services.ingest_file import ingest_file
from battrace.sim.params import SimParams
from battrace.sim.stream import run as simulate

VEHICLES = {"small": 2_000, "medium": 20_000, "large": 100_000}
TARGET_MS = 500.0
REPEAT = 5


@dataclass
class Demo:
    """A demo store on disk and the settings that open it."""

    settings: Settings
    events: int
    as_of: dt.date


def build_demo(folder: Path, vehicles: int, *, seed: int = 1, violation_rate: float = 0.02) -> Demo:
    """Simulate `vehicles` vehicles, ingest them with checkpoints, audit (SQLite in `folder`)."""
    params = SimParams(vehicles=vehicles, seed=seed, violation_rate=violation_rate)
    jsonl = folder / "demo.jsonl"
    simulate(params, jsonl)
    settings = Settings(database_url=f"sqlite:///{folder / 'demo.db'}", key_dir=folder / "keys")
    bootstrap.ensure_keys(settings)
    store = bootstrap.open_store(settings, create=True)
    try:
        tally = ingest_file(bootstrap.make_ingestor(settings, store, trusted=True), jsonl)
        now = dt.datetime.combine(params.end + dt.timedelta(days=2), dt.time(), tzinfo=dt.UTC)
        audit.audit(
            store,
            as_of=params.end,
            policy=bootstrap.load_policy(settings),
            calendar=bootstrap.load_calendar(settings),
            now=now,
            with_findings=False,
        )
    finally:
        store.close()
    jsonl.unlink()
    return Demo(settings, tally.accepted, params.end)


@contextmanager
def demo_client(demo: Demo) -> Iterator[tuple[Any, dict[str, str]]]:
    """A TestClient on the demo store and session cookies for a regulator and one enterprise
    of each kind the pages need (keys issued on the fly)."""
    from fastapi.testclient import TestClient

    from battrace.api import ApiOptions, create_app
    from battrace.web.samples import sample_subjects

    store = bootstrap.open_store(demo.settings)
    try:
        app = create_app(demo.settings, options=ApiOptions(), store=store)
        with TestClient(app) as client:
            subjects = sample_subjects(store)
            now = dt.datetime.now(dt.UTC)
            cookies: dict[str, str] = {}
            for who, uscc, role in (
                ("regulator", subjects["regulator"], "regulator"),
                ("enterprise", subjects["recycler"], "enterprise"),
            ):
                token = apikeys.issue(store, enterprise=uscc, role=role, now=now).token
                form = client.get("/signin").text
                csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
                r = client.post(
                    "/signin", data={"key": token, "csrf": csrf}, follow_redirects=False
                )
                cookies[f"cookie_{who}"] = r.cookies.get("bt_session") or ""
                client.cookies.clear()
            yield client, {**cookies, **subjects}
    finally:
        store.close()


def _clear_cache(client: Any) -> None:
    web = getattr(client.app.state, "battrace_web", None)
    if web is not None:
        web.cache.clear()


def pages(s: dict[str, str]) -> list[tuple[str, str, str]]:
    """(name, who, path) of every page timed."""
    return [
        ("overview", "regulator", "/overview"),
        ("findings", "regulator", "/findings"),
        ("finding evidence", "regulator", f"/findings/{s['finding']}"),
        ("scorecards", "regulator", "/enterprises"),
        ("scorecard (recycler)", "regulator", f"/enterprises/{s['recycler']}"),
        ("battery page", "regulator", f"/battery/{s['battery']}"),
        ("batteries of a holder", "regulator", f"/batteries?holder={s['recycler']}"),
        ("flows", "regulator", "/flows"),
        ("public lookup", "public", f"/b/{s['battery']}"),
        ("label", "public", f"/labels?code={s['battery']}"),
        ("enterprise scorecard", "enterprise", f"/enterprises/{s['recycler']}"),
        ("upload", "enterprise", "/upload"),
        ("export findings (xlsx)", "regulator", "/export/findings.xlsx"),
    ]


def time_pages(
    client: Any, ctx: dict[str, str], repeat: int = REPEAT, clear: Any = None
) -> list[Figure]:
    """Median and worst server time of each page, and its cold time (the first request after
    the statistics cache was emptied, as after an ingest batch or an audit)."""
    figures = []
    for name, who, path in pages(ctx):
        client.cookies.clear()
        if who != "public":
            client.cookies.set("bt_session", ctx[f"cookie_{who}"])
        if clear is not None:
            clear()
        samples = []
        for _ in range(repeat + 1):
            t0 = time.perf_counter()
            r = client.get(path, follow_redirects=False)
            samples.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                raise RuntimeError(f"{path} answered {r.status_code}: {r.text[:300]}")
        cold, warm = samples[0], samples[1:]
        med = statistics.median(warm)
        page = not path.startswith("/export/")  # downloads are not pages: no target
        figures.append(
            Figure(
                "web",
                name,
                med,
                "ms",
                f"≤ {TARGET_MS:.0f} ms" if page else "",
                med <= TARGET_MS if page else None,
                f"`{_route(path)}`; worst {max(warm):.0f} ms; cold {cold:.0f} ms",
            )
        )
    client.cookies.clear()
    return figures


def _route(path: str) -> str:
    """The page's route, without the subject (codes and USCCs vary with the data)."""
    head = path.split("?")[0]
    parts = head.split("/")
    if len(parts) > 2 and any(ch.isdigit() for ch in parts[2]):
        parts[2] = "{…}"
    return "/".join(parts) + ("?…" if "?" in path else "")


def run(scale: str) -> list[Figure]:
    """Build the demo dataset at this scale and time every page."""
    vehicles = VEHICLES[scale]
    with tempfile.TemporaryDirectory(prefix="battrace-web-bench-") as tmp:
        t0 = time.perf_counter()
        demo = build_demo(Path(tmp), vehicles)
        build = time.perf_counter() - t0
        with demo_client(demo) as (client, ctx):
            figures = time_pages(client, ctx, clear=lambda: _clear_cache(client))
    note = f"{vehicles:,} vehicles, {demo.events:,} events; dataset built in {build:.0f} s"
    return [Figure("web", "demo dataset", demo.events, "events", note=note), *figures]

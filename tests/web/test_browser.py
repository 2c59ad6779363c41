"""The dashboard in a real browser: Debian's Chromium driven by Playwright (never a downloaded
browser), against the app served by uvicorn on 127.0.0.1 over a simulated province.

Every page loads without console errors or failed requests, the charts draw, key figures match
the API, the language switch works and sticks, the public page hides confidential fields, and
an enterprise uploads a sheet. Screenshots go to $BATTRACE_SCREENSHOT_DIR (docs/screenshots to
refresh the committed ones) or a temporary folder.

Without Chromium these tests skip, saying so; with BATTRACE_REQUIRE_BROWSER=1 (CI) they fail.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from battrace import bootstrap
from battrace.bench.web import Demo, build_demo
from battrace.services import apikeys
from battrace.web import sheets
from battrace.web.samples import sample_subjects
from tests import kit

CHROMIUM = os.environ.get("BATTRACE_CHROMIUM", "/usr/bin/chromium")
REQUIRE = os.environ.get("BATTRACE_REQUIRE_BROWSER") == "1"
#: as root Chromium needs --no-sandbox; the rest keep it off this machine's closed network
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _browser_problem() -> str | None:
    if not Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is None:
        return f"{CHROMIUM} not found (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"playwright is not installed: {exc}"
    return None


@dataclass
class Site:
    """The served app and who may sign in to it."""

    base: str
    demo: Demo
    keys: dict[str, str]
    subjects: dict[str, str]
    shots: Path
    errors: list[str] = field(default_factory=list)

    def api(self, path: str, who: str | None = None, body: Any = None) -> Any:
        """GET an API path as JSON (with the key of `who`); POST `body` when given."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if who is not None:
            req.add_header("Authorization", f"Bearer {self.keys[who]}")
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def rename(self, uscc: str, name: str) -> None:
        """Register `uscc` again under another name (the regulator's registry fact)."""
        e = self.api(f"/v1/enterprises/{uscc}")
        event = {
            "id": f"rename-{time.time_ns()}",
            "type": "enterprise_registered",
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "reporter": self.subjects["regulator"],
            "enterprise": uscc,
            "name": name,
            "roles": e["roles"],
            "region": e["region"],
        }
        out = self.api("/v1/events", "regulator", {"events": [event]})
        assert out["results"][0]["status"] == "accepted", out


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A simulated province, served on a free loopback port for the module."""
    problem = _browser_problem()
    if problem is not None:
        if REQUIRE:
            pytest.fail(f"a browser is required (BATTRACE_REQUIRE_BROWSER=1): {problem}")
        pytest.skip(f"BROWSER TESTS SKIPPED: {problem}")
    import uvicorn

    from battrace.api import ApiOptions, create_app

    folder = tmp_path_factory.mktemp("site")
    demo = build_demo(folder, 400, seed=3, violation_rate=0.05)
    store = bootstrap.open_store(demo.settings)
    subjects = sample_subjects(store)
    now = dt.datetime.now(dt.UTC)
    keys = {
        "regulator": apikeys.issue(
            store, enterprise=subjects["regulator"], role="regulator", now=now
        ).token,
        "recycler": apikeys.issue(
            store, enterprise=subjects["recycler"], role="enterprise", now=now
        ).token,
    }
    app = create_app(demo.settings, options=ApiOptions(), store=store)
    port = kit.free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    shots = Path(os.environ.get("BATTRACE_SCREENSHOT_DIR") or folder / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    try:
        yield Site(f"http://127.0.0.1:{port}", demo, keys, subjects, shots)
    finally:
        server.should_exit = True
        thread.join(30)
        store.close()


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    """Debian's Chromium, headless."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


class Watched:
    """A page that records console errors, page errors and failed requests."""

    def __init__(self, browser: Any, site: Site, who: str | None, lang: str = "zh") -> None:
        self.ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
        self.page = self.ctx.new_page()
        self.site = site
        self.problems: list[str] = []
        self.page.on(
            "console",
            lambda m: (
                self.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on(
            "response",
            lambda r: self.problems.append(f"{r.status} {r.url}") if r.status >= 500 else None,
        )
        self.page.on("requestfailed", self._failed)
        if who is not None:
            self.page.goto(site.base + "/signin")
            self.page.fill("#key", site.keys[who])
            self.page.click("#signin-submit")
            self.page.wait_for_load_state("load")
        if lang != "zh":
            self.page.goto(site.base + f"/b?lang={lang}")

    def _failed(self, request: Any) -> None:
        # a request cut short because the test navigated on is not a failure of the page
        if "ERR_ABORTED" not in (request.failure or ""):
            self.problems.append(f"failed {request.url}: {request.failure}")

    def open(self, path: str) -> Any:
        """Go to a page and wait until it is loaded and its charts are drawn."""
        resp = self.page.goto(self.site.base + path, wait_until="load")
        if self.page.locator("[data-chart]").count():
            self.page.wait_for_selector("body[data-charts-ready='1']", timeout=15_000)
        return resp

    def shot(self, name: str) -> None:
        """A screenshot of the page's top (at most 1,800 px: long tables are cut short)."""
        height = min(int(self.page.evaluate("document.body.scrollHeight")), 1800)
        self.page.screenshot(
            path=str(self.site.shots / f"{name}.png"),
            full_page=True,
            clip={"x": 0, "y": 0, "width": 1360, "height": height},
        )

    def close(self) -> None:
        """Close the browser context."""
        self.ctx.close()


def pages(s: dict[str, str]) -> list[tuple[str, str | None, str]]:
    """(screenshot name, who, path) of every page."""
    return [
        ("overview", "regulator", "/overview"),
        ("findings", "regulator", "/findings"),
        ("finding", "regulator", f"/findings/{s['finding']}"),
        ("scorecards", "regulator", "/enterprises"),
        ("scorecard-recycler", "regulator", f"/enterprises/{s['recycler']}"),
        ("battery", "regulator", f"/battery/{s['battery']}"),
        ("batteries-of-holder", "regulator", f"/batteries?holder={s['recycler']}"),
        ("flows", "regulator", "/flows"),
        ("public-lookup", None, f"/b/{s['battery']}"),
        ("public-lookup-form", None, "/b"),
        ("label", None, f"/labels?code={s['battery']}"),
        ("signin", None, "/signin"),
        ("enterprise-home", "recycler", "/"),
        ("enterprise-findings", "recycler", "/findings"),
        ("upload", "recycler", "/upload"),
    ]


def test_every_page_loads_without_errors_and_draws_its_charts(site, browser):
    by_who: dict[str | None, Watched] = {}
    try:
        for name, who, path in pages(site.subjects):
            w = by_who.get(who) or by_who.setdefault(who, Watched(browser, site, who))
            resp = w.open(path)
            assert resp is not None and resp.status == 200, (path, resp and resp.status)
            charts = w.page.locator("[data-chart]")
            drawn = w.page.locator("[data-chart][data-drawn='1'] svg")
            assert drawn.count() >= charts.count(), path
            w.shot(name)
        for who, w in by_who.items():
            assert w.problems == [], (who, w.problems)
    finally:
        for w in by_who.values():
            w.close()


def test_key_figures_match_the_api(site, browser):
    w = Watched(browser, site, "regulator")
    try:
        w.open("/overview")
        cp = site.api("/v1/checkpoints/latest")
        assert _num(w.page.text_content("#cp-size")) == cp["tree_size"]
        assert w.page.text_content("#cp-root").strip() == cp["root_hash"]
        open_findings = _count_findings(site)
        assert _num(w.page.text_content("#kpi-findings")) == open_findings
        rec = site.subjects["recycler"]
        w.open(f"/enterprises/{rec}")
        card = site.api(f"/v1/enterprises/{rec}/scorecard", "regulator")
        assert _num(w.page.text_content("#sc-open")) == card["open_findings"]
        assert _num(w.page.text_content("#sc-events")) == card["events_reported"]
        code = site.subjects["battery"]
        w.open(f"/battery/{code}")
        view = site.api(f"/v1/batteries/{code}", "regulator")
        assert w.page.text_content("#battery-holder").strip() == view["holder"]
        assert w.page.locator("#timeline .tag.ok").count() == len(view["history"])
    finally:
        w.close()


def test_the_language_switch_works_and_sticks(site, browser):
    w = Watched(browser, site, "regulator")
    try:
        w.open("/overview")
        assert w.page.get_attribute("html", "lang") == "zh-CN"
        assert "总览" in w.page.text_content("h1")
        w.page.click("#lang-switch")
        w.page.wait_for_selector("html[lang='en']")
        assert w.page.text_content("h1").strip() == "Overview"
        w.open("/findings")
        assert w.page.get_attribute("html", "lang") == "en"
        assert w.page.text_content("h1").strip() == "Findings"
        w.shot("findings-en")
        w.page.click("#lang-switch")
        w.page.wait_for_selector("html[lang='zh-CN']")
        assert w.problems == []
    finally:
        w.close()


def test_the_public_page_hides_confidential_fields_and_warns_about_e_bikes(site, browser):
    code = site.subjects["battery"]
    full = site.api(f"/v1/batteries/{code}", "regulator")
    public = site.api(f"/v1/batteries/{code}")
    w = Watched(browser, site, None)
    try:
        w.open(f"/b/{code}")
        text = w.page.text_content("body")
        secrets = {full.get("holder"), full.get("vin"), full.get("obligated")} - {None}
        secrets |= {e.get("vin") for e in full["history"] if e.get("vin")}
        assert secrets and not [s for s in secrets if s in text]
        assert public["status"] in ("retired", "reprocessed", "dismantled", "recycled")
        assert w.page.is_visible("#warn-retired")
        assert "电动自行车" in w.page.text_content("#warn-retired")
        assert w.problems == []
        # a VIN typed into the lookup: not a battery code (the page answers 404, which the
        # console reports as the document's status — the only message allowed)
        w.page.fill("#code-input", "LSVAA218N2000017")
        w.page.click("button[type=submit]")
        w.page.wait_for_selector("#invalid-code")
        assert all("404" in p for p in w.problems)
    finally:
        w.close()


def test_an_enterprise_uploads_a_sheet_and_sees_each_row(site, browser, tmp_path):
    rec = site.subjects["recycler"]
    held = site.api(f"/v1/batteries/{site.subjects['battery']}", "regulator")
    head = [c.header for c in sheets.columns("shipped")]
    rows = [
        ["web-1", "2025-13-40 10:00", held["code"], "", rec, "", ""],
        ["web-2", "2026-01-05 10:00", held["code"], "", rec, "", "shipped to ourselves"],
    ]
    path = tmp_path / "shipped.csv"
    path.write_bytes(sheets.to_csv(head, rows))
    w = Watched(browser, site, "recycler")
    try:
        w.open("/upload")
        w.page.select_option("#event-type", "shipped")
        w.page.set_input_files("#upload-file", str(path))
        w.page.click("#upload-submit")
        w.page.wait_for_selector("#upload-summary")
        statuses = w.page.locator("#upload-rows tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.status)"
        )
        assert statuses[0] == "skipped" and statuses[1] in ("rejected", "accepted")
        assert w.page.locator("#upload-rows .problems div").count() >= 1
        w.shot("upload-result")
        assert w.problems == []
    finally:
        w.close()


#: shows the Sankey's tooltip for the renamed node (ECharts puts the formatter's HTML in a
#: <div> of the chart), and gives the formatter's HTML for a link into or out of it (showTip
#: cannot pick a link)
SHOW_TIPS = """async () => {
  const el = document.getElementById("sankey");
  const chart = window.echarts.getInstanceByDom(el);
  const series = chart.getOption().series[0];
  const node = series.data.findIndex((n) => n.label_.includes("tip-injected"));
  const id = node >= 0 ? series.data[node].name : null;
  const link = series.links.find((l) => l.source === id || l.target === id);
  chart.dispatchAction({ type: "showTip", seriesIndex: 0, dataIndex: node });
  await new Promise((done) => setTimeout(done, 50));
  const nodeTip = [...el.querySelectorAll("div")]
    .filter((d) => !d.querySelector("svg") && d.textContent.includes("tip-injected"))
    .map((d) => d.textContent);
  const formatter = chart.getOption().tooltip[0].formatter;
  const linkHtml = link ? formatter({ dataType: "edge", data: link }) : null;
  return { node, nodeTip, linkHtml, injected: !!document.getElementById("tip-injected") };
}"""


def test_names_in_chart_tooltips_are_text_not_html(site, browser):
    """The Sankey's tooltip formatter built HTML from enterprise names, which ECharts shows as
    HTML: a name with an <img onerror=…> became an element (CSP stopped the handler, not the
    markup)."""
    uscc = site.subjects["recycler"]
    before = site.api(f"/v1/enterprises/{uscc}")["name"]
    hostile = '<img id="tip-injected" src="/x.png" onerror="document.title=1">'
    site.rename(uscc, hostile + before)
    w = Watched(browser, site, "regulator")
    try:
        w.open("/flows")
        shown = w.page.evaluate(SHOW_TIPS)
        assert shown["node"] >= 0 and shown["linkHtml"], shown
        assert shown["injected"] is False
        assert any(hostile in t for t in shown["nodeTip"]), shown
        assert "<img" not in shown["linkHtml"] and "&lt;img id=" in shown["linkHtml"]
        assert w.problems == []
    finally:
        w.close()
        site.rename(uscc, before)


def _count_findings(site: Site) -> int:
    n, offset = 0, 0
    while True:
        page = site.api(f"/v1/findings?status=open&limit=1000&offset={offset}", "regulator")
        n += sum(1 for f in page["items"] if f["rule"] != "BT-025")
        if page["next_offset"] is None:
            return n
        offset = page["next_offset"]


def _num(text: str | None) -> int:
    return int(re.sub(r"[^\d]", "", text or "") or -1)

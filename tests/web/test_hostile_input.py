"""Names and paths chosen by an attacker: they are shown as text, never run as markup."""

from __future__ import annotations

import json
import re

import pytest

from battrace.web.context import script_json
from tests import kit

BREAKOUT = "</script><h1 id=injected>x</h1><!-- & \u2028 \u2029 '"


def _chart_data(html: str) -> object:
    m = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)
    assert m is not None
    return json.loads(m.group(1))


def test_script_json_escapes_what_could_end_a_script_element_and_reads_back():
    text = str(script_json({"name": BREAKOUT}))
    assert not set(text) & set("<>&'\u2028\u2029")
    assert "\\u003c/script\\u003e" in text
    assert json.loads(text) == {"name": BREAKOUT}


def test_an_enterprise_name_cannot_break_out_of_the_flows_chart_data(web):
    """json.dumps left `</script>` as it was, and the page emitted it with `| safe`: the
    name of a registered enterprise ended the script element and added its own HTML."""
    web.api.ok(
        web.api.ev(
            "enterprise_registered", "2025-01-08", kit.REGULATOR, enterprise=kit.SHADY,
            name=BREAKOUT, roles=["recycler"], region="110100",
        )
    )  # fmt: skip
    page = web.get("/flows", kit.REGULATOR)
    assert page.status_code == 200
    assert "</script><h1" not in page.text and "<h1 id=injected>" not in page.text
    labels = {n["label"] for n in _chart_data(page.text)["sankey"]["nodes"]}
    assert BREAKOUT in labels


def test_the_overview_chart_data_parses(web):
    page = web.get("/overview", kit.REGULATOR).text
    assert set(_chart_data(page)) == {"state_chemistry", "events", "retirements", "findings"}


def test_a_bundle_path_with_a_line_break_downloads_under_the_codes_own_name(web):
    """`/battery/<code>%0d%0a/bundle.json` put the raw path into Content-Disposition, which
    uvicorn refused to send: a 500."""
    web.sign_in(kit.REGULATOR)
    code = web.scenario.recycled
    r = web.client.get(f"/battery/{code}%0d%0a/bundle.json", follow_redirects=False)
    assert r.status_code == 200
    assert r.headers["content-disposition"] == f'attachment; filename="{code}.bundle.json"'
    assert code in r.text


@pytest.mark.parametrize(
    "path",
    [
        "{code}%0d%0aSet-Cookie:%20x=1",
        "{code}%22%3B%20filename=evil.exe",
        "{code}%E2%80%A8x",
        "%2E%2E",
    ],
)
def test_a_bundle_path_with_characters_no_code_has_is_not_found(web, path):
    web.sign_in(kit.REGULATOR)
    raw = path.format(code=web.scenario.recycled)
    r = web.client.get(f"/battery/{raw}/bundle.json", follow_redirects=False)
    assert r.status_code == 404
    assert "content-disposition" not in r.headers

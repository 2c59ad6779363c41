"""Pages by tier and language, with figures that agree with the API."""

from __future__ import annotations

import re

import pytest

from battrace.analytics import overview
from tests import kit

REGULATOR_PAGES = ["/overview", "/enterprises", "/flows"]


@pytest.mark.parametrize("path", REGULATOR_PAGES)
def test_regulator_pages_send_the_public_to_sign_in_and_refuse_enterprises(web, path):
    r = web.get(path)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/signin?next=")
    assert web.get(path, kit.RECYCLER).status_code == 403
    ok = web.get(path, kit.REGULATOR)
    assert ok.status_code == 200
    assert "text/html" in ok.headers["content-type"]
    assert "script-src 'self'" in ok.headers["content-security-policy"]


def test_pages_are_chinese_by_default_and_english_one_click_away(web):
    zh = web.get("/overview", kit.REGULATOR)
    assert '<html lang="zh-CN">' in zh.text
    assert "总览" in zh.text
    assert 'href="/overview?lang=en"' in zh.text
    en = web.client.get("/overview?lang=en", follow_redirects=False)
    assert '<html lang="en">' in en.text
    assert "Overview" in en.text and "总览" not in en.text.split("</nav>")[1].split("<footer")[0]
    assert en.cookies.get("bt_lang") == "en"
    # the choice sticks: the next page is English without the query parameter
    assert '<html lang="en">' in web.client.get("/findings").text


def test_the_start_page_depends_on_who_signed_in(web):
    assert web.get("/").headers["location"] == "/b"
    assert web.get("/", kit.REGULATOR).headers["location"] == "/overview"
    assert web.get("/", kit.RECYCLER).headers["location"] == f"/enterprises/{kit.RECYCLER}"


def test_a_bad_key_does_not_sign_in_and_the_cookie_never_holds_the_key(web):
    r = web.sign_in_with("btk_nope_nope")
    assert r.status_code == 401
    assert "bt_session" not in r.cookies
    web.sign_in(kit.REGULATOR)
    cookie = web.client.cookies.get("bt_session")
    secret = web.api.keys[kit.REGULATOR].split("_", 2)[2]  # the secret may hold "_" itself
    assert cookie and secret not in cookie


def test_a_forged_session_cookie_is_the_public(web):
    web.sign_in(kit.REGULATOR)
    body, mac = web.client.cookies.get("bt_session").split(".")
    web.client.cookies.clear()
    web.client.cookies.set("bt_session", body + "." + mac[::-1])
    assert web.client.get("/overview", follow_redirects=False).status_code == 303


def test_revoking_the_key_ends_its_sessions(web):
    from battrace.services import apikeys

    web.sign_in(kit.RECYCLER)
    assert web.client.get("/upload", follow_redirects=False).status_code == 200
    key_id = web.api.keys[kit.RECYCLER].split("_")[1]
    apikeys.revoke(web.store, key_id, now=web.api.clock[0])
    assert web.client.get("/upload", follow_redirects=False).status_code == 303


def test_a_sign_in_posted_from_another_site_is_refused(web):
    """Login CSRF: a page elsewhere auto-submitted the form with the attacker's key and the
    viewer was signed in as the attacker (then uploaded into the attacker's account). A post
    from another site brings no SameSite cookie of the sign-in form, hence no valid token."""
    attacker = web.api.keys[kit.SHADY]
    web.client.cookies.clear()
    r = web.client.post("/signin", data={"key": attacker}, follow_redirects=False)
    assert r.status_code == 403
    assert "bt_session" not in r.headers.get("set-cookie", "")
    assert 'id="signin-refused"' in r.text and "不是从本站提交的" in r.text
    # the attacker's own form token is no good without the cookie it was made for
    token = web.csrf(web.client.get("/signin").text)
    web.client.cookies.clear()
    r = web.client.post("/signin", data={"key": attacker, "csrf": token}, follow_redirects=False)
    assert r.status_code == 403 and "bt_session" not in r.headers.get("set-cookie", "")
    # nor a cookie without the form's token, or with another one
    web.client.get("/signin")
    for bad in ({}, {"csrf": "x" * 24}, {"csrf": "é"}):
        r = web.client.post("/signin", data={"key": attacker, **bad}, follow_redirects=False)
        assert r.status_code == 403, bad
    assert web.client.get("/upload", follow_redirects=False).status_code == 303


def test_the_refusal_is_in_english_too_and_offers_a_fresh_form(web):
    web.client.cookies.clear()
    r = web.client.post(
        "/signin?lang=en", data={"key": web.api.keys[kit.MAKER]}, follow_redirects=False
    )
    assert r.status_code == 403 and "was not sent from this site" in r.text
    # the refusal page's form works
    r = web.client.post(
        "/signin",
        data={"key": web.api.keys[kit.MAKER], "csrf": web.csrf(r.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "bt_session" in r.headers["set-cookie"]


def test_the_sign_in_form_cookie_is_strict_http_only_and_short_lived(web):
    web.client.cookies.clear()
    cookie = web.client.get("/signin").headers["set-cookie"].lower()
    assert "bt_signin=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert "max-age=3600" in cookie


def test_a_sign_in_form_expires_after_an_hour():
    from battrace.web import session

    secret = b"k" * 32
    cookie = session.signin_cookie(now=1_000_000)
    token = session.signin_token(secret, cookie)
    assert session.check_signin(secret, cookie, token, now=1_000_000 + 3599)
    assert not session.check_signin(secret, cookie, token, now=1_000_000 + 3600)
    assert not session.check_signin(b"j" * 32, cookie, token, now=1_000_000)
    assert not session.check_signin(secret, cookie + "0", token, now=1_000_000)
    assert not session.check_signin(secret, "garbage", token, now=1_000_000)


def test_sign_in_only_returns_to_local_pages(web):
    r = web.sign_in_with(web.api.keys[kit.REGULATOR], next="//evil.example/x")
    assert r.headers["location"] == "/"


def test_overview_figures_match_the_store_and_the_api(web):
    page = web.get("/overview", kit.REGULATOR).text
    o = overview.overview(web.store)
    assert _figure(page, "kpi-batteries") == o.batteries
    assert _figure(page, "kpi-vehicles") == 3
    api = web.api.get("/v1/findings?status=open&limit=1000", kit.REGULATOR).json()["items"]
    assert _figure(page, "kpi-findings") == len([f for f in api if f["rule"] != "BT-025"])
    cp = web.api.get("/v1/checkpoints/latest").json()
    assert _figure(page, "cp-size") == cp["tree_size"]
    assert cp["root_hash"] in page
    assert o.retirements_per_month == {"2025-01": 2}


def test_findings_filter_by_rule_and_region_and_open_their_evidence(web):
    page = web.get("/findings?rule=BT-011", kit.REGULATOR).text
    ids = re.findall(r'href="/findings/(\d+)"', page)
    assert ids
    assert "BT-010" not in page.split('id="findings-table"')[1]
    assert "no-findings" in web.get("/findings?region=65", kit.REGULATOR).text
    detail = web.get(f"/findings/{ids[0]}", kit.REGULATOR).text
    assert ('id="legal-basis"' in detail and "合规企业" in detail) or "qualified" in detail
    assert "shipped" in detail or "发运" in detail
    assert web.scenario.leaked in detail


def test_an_enterprise_sees_only_its_own_findings_and_scorecard(web):
    page = web.get("/findings", kit.DISMANTLER).text
    enterprises = set(re.findall(r'<span class="mono muted">(\d{2}\w{16})</span>', page))
    assert enterprises <= {kit.DISMANTLER}
    assert web.get(f"/findings?enterprise={kit.RECYCLER}", kit.DISMANTLER).status_code == 403
    assert web.get(f"/enterprises/{kit.RECYCLER}", kit.DISMANTLER).status_code == 403
    assert web.get(f"/enterprises/{kit.DISMANTLER}", kit.DISMANTLER).status_code == 200


def test_scorecard_figures_match_the_api(web):
    page = web.get(f"/enterprises/{kit.RECYCLER}", kit.REGULATOR).text
    api = web.api.get(f"/v1/enterprises/{kit.RECYCLER}/scorecard", kit.REGULATOR).json()
    assert _figure(page, "sc-open") == api["open_findings"]
    assert _figure(page, "sc-events") == api["events_reported"]


def test_a_recyclers_scorecard_has_its_mass_balance(web):
    page = web.get(f"/enterprises/{kit.RECYCLER}", kit.REGULATOR).text
    assert 'id="mass-balance"' in page
    assert _figure(page, "mass-gap", float) == 0.0


def test_the_battery_page_verifies_every_event_against_the_checkpoint(web):
    code = web.scenario.recycled
    page = web.get(f"/battery/{code}", kit.REGULATOR).text
    history = web.api.get(f"/v1/batteries/{code}/history", kit.REGULATOR).json()["history"]
    assert page.count("✓") == len(history)
    assert "✗" not in page
    assert kit.RECYCLER in page.split('id="holders"')[1].split("</ol>")[0]
    assert kit.VIN1 in page
    bundle = web.client.get(f"/battery/{code}/bundle.json")
    assert bundle.status_code == 200
    assert len(bundle.json()["entries"]) == len(history)


def test_an_enterprise_never_involved_gets_the_public_page(web):
    r = web.get(f"/battery/{web.scenario.recycled}", kit.MAKER2)
    assert r.status_code == 303
    assert r.headers["location"] == f"/b/{web.scenario.recycled}"


def test_flows_show_the_leak_to_the_unqualified_workshop(web):
    page = web.get("/flows", kit.REGULATOR).text
    table = page.split('id="unqualified"')[1].split("</table>")[0]
    assert kit.SHADY in table
    assert kit.RECYCLER not in table
    assert _figure(page, "fl-flagged") == 1


def test_unknown_pages_and_findings_are_html_404s(web):
    r = web.get("/findings/999999", kit.REGULATOR)
    assert r.status_code == 404
    assert "text/html" in r.headers["content-type"]


def test_an_error_page_says_in_the_viewers_language_what_went_wrong(web):
    """The detail comes from the service in English: a Chinese page showed only that."""
    zh = web.get("/findings/999999", kit.REGULATOR).text
    assert "没有找到所查的内容" in zh.split('id="error-lead"')[1].split("</p>")[0]
    assert "详情（英文）" in zh.split('id="error-detail"')[1].split("</p>")[0]
    en = web.get("/findings/999999?lang=en", kit.REGULATOR).text
    assert "Nothing was found" in en.split('id="error-lead"')[1].split("</p>")[0]
    bad = web.get("/findings?since=31.12.2025&lang=en", kit.REGULATOR)
    assert bad.status_code in (400, 422)
    assert "check what was entered" in bad.text and "is not a date" in bad.text


def _figure(page: str, element_id: str, kind: type = int):
    m = re.search(rf'id="{element_id}"[^>]*>(?:<a [^>]*>)?([^<]+)<', page)
    assert m, element_id
    return kind(m.group(1).replace(",", "").strip())


def test_non_ascii_in_a_cookie_or_form_token_is_refused_not_a_500(web):
    """hmac.compare_digest raises TypeError on non-ASCII text: `Cookie: bt_session=a.é`
    answered 500 on every dashboard page, `csrf=é` on the upload form."""
    from battrace.web import session

    assert session.read(b"k" * 32, "a.é") is None
    assert session.check_csrf(b"k" * 32, None, "é") is False
    r = web.client.get("/overview", headers={"Cookie": "bt_session=a.é".encode()})
    assert r.status_code != 500
    web.sign_in(kit.MAKER)
    r = web.client.post("/upload", data={"event_type": "shipped", "csrf": "é"},
                        files={"file": ("x.csv", b"id\n")})  # fmt: skip
    assert r.status_code in (400, 403), r.status_code


@pytest.mark.parametrize(
    "path",
    [
        "/findings?offset=100000000000000000000",
        "/batteries?offset=100000000000000000000",
        "/findings/99999999999999999999",
        "/flows?since=0001-01-01&until=9999-12-31",
        "/findings?since=9999-12-31",
    ],
)
def test_numbers_and_days_past_any_table_are_not_a_500(web, path):
    r = web.get(path, kit.REGULATOR)
    assert r.status_code in (200, 400, 404, 422), (r.status_code, r.text[:300])


def test_a_browser_gets_the_error_page_and_an_api_client_the_problem_document(web):
    """A mistyped page URL, a malformed path parameter or a code with a "/" typed into the
    lookup answered a browser with raw application/problem+json."""
    html = {"Accept": "text/html,application/xhtml+xml"}
    for path, status in (("/overveiw", 404), ("/findings/abc", 422)):
        r = web.client.get(path, headers=html, follow_redirects=False)
        assert r.status_code == status
        assert r.headers["content-type"].startswith("text/html"), (path, r.text[:200])
        r = web.client.get(path, follow_redirects=False)
        assert r.headers["content-type"] == "application/problem+json"
    r = web.client.get("/v1/nope", headers=html)
    assert r.headers["content-type"] == "application/problem+json"
    r = web.client.get("/b?code=../../etc/passwd", headers=html, follow_redirects=False)
    assert r.headers["location"] == "/b/..%2F..%2FETC%2FPASSWD"


def test_a_findings_figures_show_the_viewers_language_and_no_empty_ones():
    from battrace.web.routes.findings import _detail_rows

    detail = {"node": "sale", "node_zh": "车辆销售", "calendar_note": "", "days": 3}
    assert _detail_rows(detail, "en") == [
        ("node", "reporting node", "sale"),
        ("days", "days", "3"),
    ]
    assert _detail_rows(detail, "zh") == [("node", "上报环节", "车辆销售"), ("days", "天数", "3")]
    assert _detail_rows({"new_figure": 1}, "zh") == [("new_figure", "new_figure", "1")]


def test_the_session_cookie_is_secure_when_the_platform_is_served_over_https(web):
    """Behind a TLS proxy every request arrives as http: the cookie never got `Secure`."""
    import dataclasses

    state = web.api.app.state.battrace
    state.settings = dataclasses.replace(state.settings, public_url="https://trace.example.cn")
    r = web.sign_in_with(web.api.keys[kit.MAKER])
    assert "secure" in r.headers["set-cookie"].lower()


def test_signing_out_needs_the_pages_form_token(web):
    """POST /signout without the token cleared the cookie: any site could sign a viewer out."""
    web.sign_in(kit.MAKER)
    r = web.client.post("/signout", data={}, follow_redirects=False)
    assert "bt_session" not in r.headers.get("set-cookie", "")
    assert web.client.get("/upload", follow_redirects=False).status_code == 200
    page = web.client.get("/upload").text
    r = web.client.post("/signout", data={"csrf": web.csrf(page)}, follow_redirects=False)
    assert 'bt_session=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]

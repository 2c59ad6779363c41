"""The public lookup and the label generator."""

from __future__ import annotations

from tests import kit


def test_the_public_page_shows_identity_and_hides_confidential_fields(web):
    code = web.scenario.leaked
    full = web.api.get(f"/v1/batteries/{code}", kit.REGULATOR).json()
    page = web.get(f"/b/{code}").text
    assert code in page
    assert full["chemistry"] in page
    for secret in (kit.VIN3, kit.DISMANTLER, kit.SHADY, kit.MAKER, kit.AUTOMAKER):
        assert secret not in page


def test_a_signed_in_regulator_still_sees_only_the_public_tier_there(web):
    page = web.get(f"/b/{web.scenario.leaked}", kit.REGULATOR).text
    facts = page.split('id="public-facts"')[1].split("</dl>")[0]
    assert kit.VIN3 not in facts and kit.SHADY not in facts


def test_a_retired_traction_battery_carries_the_e_bike_warning(web):
    retired = web.get(f"/b/{web.scenario.leaked}").text
    assert 'id="warn-retired"' in retired
    assert "电动自行车" in retired
    new = web.get(f"/b/{web.scenario.new}").text
    assert 'id="warn-retired"' not in new


def test_unknown_and_invalid_codes_are_told_apart(web):
    unknown = web.get(f"/b/{kit.code(999)}")
    assert unknown.status_code == 404
    assert 'id="unknown-code"' in unknown.text
    invalid = web.get("/b/NOT-A-CODE")
    assert invalid.status_code == 404
    assert 'id="invalid-code"' in invalid.text


def test_the_lookup_form_goes_to_the_short_url(web):
    r = web.get(f"/b?code={web.scenario.new.lower()}")
    assert r.status_code == 303
    assert r.headers["location"] == f"/b/{web.scenario.new}"


def test_labels_come_as_svg_sized_in_millimetres_and_as_png(web):
    code = web.scenario.new
    svg = web.get(f"/labels/{code}.svg?mm=40")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert 'width="40mm"' in svg.text and code in svg.text
    png = web.get(f"/labels/{code}.png?mm=40")
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    dm = web.get(f"/labels/{code}.dm.svg")
    assert dm.status_code == 200 and "<rect" in dm.text
    assert web.get(f"/labels/{code}.dm.png").content[:4] == b"\x89PNG"
    page = web.get(f"/labels?code={code}").text
    assert f"/labels/{code}.svg" in page and f"/b/{code}" in page


def test_the_qr_code_encodes_the_short_url(web):
    import re

    import segno

    code = web.scenario.new
    svg = web.get(f"/labels/{code}.svg").text
    qr = segno.make(f"http://testserver/b/{code}", error="q", micro=False)
    path = re.search(r' d="([^"]+)"', qr.svg_inline(scale=1, border=4, omitsize=True))
    assert path and path.group(1) in svg


def test_a_vin_or_uscc_scanned_by_mistake_is_named(web):
    """docs/dashboard.md: a non-battery code is explained; a VIN showed only "not a valid
    GB/T 34014 code"."""
    from tests import kit as k

    r = web.client.get(f"/b/{k.VIN1}?lang=en")
    assert 'id="other-code"' in r.text and "vehicle identification number" in r.text
    r = web.client.get(f"/b/{k.MAKER}?lang=zh")
    assert 'id="other-code"' in r.text and "统一社会信用代码" in r.text


def test_labels_are_for_battery_codes_and_link_to_the_configured_address(web):
    """`/labels/XYZ.svg` drew a QR code for anything; every label linked to whatever Host
    header the request carried (cached for a day)."""
    import dataclasses

    import segno

    assert web.get("/labels/XYZ.svg").status_code == 404
    assert web.get(f"/labels/{kit.VIN1}.png").status_code == 404
    page = web.get("/labels?code=XYZ").text
    assert 'id="no-label"' in page and "/labels/XYZ.svg" not in page
    state = web.api.app.state.battrace
    state.settings = dataclasses.replace(state.settings, public_url="https://trace.example.cn/")
    code = web.scenario.new
    svg = web.client.get(f"/labels/{code}.svg", headers={"Host": "evil.example"}).text
    qr = segno.make(f"https://trace.example.cn/b/{code}", error="q", micro=False)
    assert qr.svg_inline(scale=1, border=4, omitsize=True).split(' d="')[1].split('"')[0] in svg


def test_a_module_of_a_retired_pack_carries_the_warning_and_names_its_pack(web):
    """E-bike packs are built from the modules of retired traction packs: scanning such a
    module said "assembled" and gave no warning."""
    from battrace.identity import ProductType
    from battrace.sim.build import at, produced

    module, pack = kit.code(41, kind=ProductType.MODULE), kit.code(42)
    day = "2025-01-03"
    web.api.ok(
        produced("w-m", at(day, 8), kit.MAKER, module),
        produced("w-p", at(day, 9), kit.MAKER, pack, components=[module]),
    )
    page = web.get(f"/b/{module}").text
    assert 'id="warn-retired"' not in page and 'id="public-unit"' in page
    assert pack not in page  # the pack's code is the `parent` link: not public
    web.api.ok(web.api.ev("shipped", day, kit.MAKER, battery=pack, to=kit.AUTOMAKER, hour=11))
    web.api.ok(
        web.api.ev("received", day, kit.AUTOMAKER, battery=pack, hour=12),
        web.api.ev("installed", day, kit.AUTOMAKER, battery=pack, vin=kit.VIN2,
                   vehicle_model=kit.MODEL, hour=13),
        web.api.ev("removed", "2025-01-05", kit.AUTOMAKER, battery=pack, vin=kit.VIN2,
                   reason="retired"),
    )  # fmt: skip
    page = web.get(f"/b/{module}").text
    assert 'id="warn-retired"' in page
    unit = page.split('id="public-unit"')[1].split("</dd>")[0]
    assert "已退役" in unit or "retired" in unit

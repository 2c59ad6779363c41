"""`battrace audit | findings | rules` as an operator runs them."""

import json

import pytest
import typer
from typer.testing import CliRunner

from battrace.cli import compliance
from tests.compliance import scenes as s
from tests.kit import DISMANTLER, code

runner = CliRunner()
app = typer.Typer()
app.command("audit")(compliance.audit)
app.command("findings")(compliance.findings)
app.command("rules")(compliance.rules)


@pytest.fixture
def db(world, store):
    s.scrapped_with_pack(world, code(81), s.vin(81), "2025-09-22")
    world.pack_in_vehicle(code(82), s.vin(82))  # reported long after: a late-report finding
    return store.engine.url.render_as_string(hide_password=False)


def test_audit_json_has_the_documented_keys_and_the_time_of_each_rule(db):
    r = runner.invoke(app, ["audit", "--db", db, "--as-of", "2026-06-30", "--json"])

    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["as_of"] == "2026-06-30"
    assert out["policy_version"] == s.POLICY.version
    assert [x["rule"] for x in out["rules"]] == ["BT-021", "BT-022", "BT-023", "BT-024", "BT-025"]
    [missing] = [f for f in out["findings"] if f["rule"] == "BT-021"]
    for key in ("severity", "enterprise", "codes", "vins", "events", "found_at", "message_zh",
                "message_en", "status"):  # fmt: skip
        assert key in missing
    assert missing["enterprise"] == DISMANTLER and missing["status"] == "open"


def test_audit_of_one_rule_prints_a_table(db):
    r = runner.invoke(app, ["audit", "--db", db, "--as-of", "2026-06-30", "--rule", "BT-021"])

    assert r.exit_code == 0, r.output
    assert "BT-021" in r.stdout and "missing-report" in r.stdout
    assert "BT-022" not in r.stdout


def test_findings_lists_ingest_and_audit_findings_with_filters(db):
    runner.invoke(app, ["audit", "--db", db, "--as-of", "2026-06-30"])

    every = json.loads(runner.invoke(app, ["findings", "--db", db, "--json"]).stdout)["findings"]
    mine = runner.invoke(
        app, ["findings", "--db", db, "--json", "--rule", "BT-021", "--enterprise", DISMANTLER]
    )

    assert {f["moment"] for f in every} == {"ingest", "audit"}
    assert [f["rule"] for f in json.loads(mine.stdout)["findings"]] == ["BT-021"]
    table = runner.invoke(app, ["findings", "--db", db, "--status", "open"])
    assert table.exit_code == 0 and "BT-021" in table.stdout


def test_rules_lists_the_catalogue():
    r = runner.invoke(app, ["rules", "--json"])

    ids = [x["id"] for x in json.loads(r.stdout)]
    assert ids[0] == "BT-001" and "BT-025" in ids
    assert "provision" in runner.invoke(app, ["rules"]).stdout


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "--as-of", "30/06/2026"],
        ["audit", "--rule", "BT-020"],
        ["findings", "--status", "closed"],
    ],
)
def test_bad_arguments_are_one_clear_line_and_exit_two(db, args):
    r = runner.invoke(app, [*args, "--db", db])

    assert r.exit_code == 2
    assert "error" in r.output

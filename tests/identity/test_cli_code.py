"""`battrace code check|explain` as a user runs them."""

import json

from typer.testing import CliRunner

from battrace.cli import app

runner = CliRunner()


def test_check_json_reports_each_input_with_kind_and_decoded_fields():
    result = runner.invoke(
        app, ["code", "check", "--json", "001PB01ABC1234FC70000001", "1M8GDM9AXKP042788"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["kind"] for r in rows] == ["battery", "vin"]
    pack = rows[0]
    assert pack["valid"] is True
    assert pack["errors"] == []
    assert pack["manufacturer"] == "001"
    assert pack["product_type"] == "pack"
    assert pack["battery_type"] == "B"
    assert pack["chemistry"] == "LFP"
    assert pack["production_date"] == "2025-12-07"
    assert pack["serial"] == "0000001"


def test_check_exits_one_when_any_input_is_invalid_and_names_positions():
    result = runner.invoke(
        app, ["code", "check", "--json", "91350100M000100Y43", "91110000100000000D"]
    )
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert [r["valid"] for r in rows] == [True, False]
    assert rows[1]["kind"] == "uscc"
    assert rows[1]["errors"][0]["position"] == 18
    assert rows[1]["errors"][0]["message"]


def test_reprocessed_short_form_is_reported_as_its_own_kind():
    result = runner.invoke(app, ["code", "check", "--json", "001PB01FC70000001RP"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["kind"] == "battery_reprocessed"


def test_check_table_output_for_people():
    result = runner.invoke(app, ["code", "check", "001pB01ABC1234FC70000001"])
    assert result.exit_code == 1
    assert "lower-case" in result.stdout


def test_explain_prints_chinese_and_english():
    result = runner.invoke(app, ["code", "explain", "001PB01ABC1234FC70000001"])
    assert result.exit_code == 0
    assert "2025-12-07" in result.stdout
    assert "电池包" in result.stdout
    assert "pack" in result.stdout


def test_explain_of_an_invalid_code_exits_one():
    result = runner.invoke(app, ["code", "explain", "001PB01ABC1234G2X0000001"])
    assert result.exit_code == 1
    assert "position 17" in result.stderr  # an error, like every other command's
    assert result.stdout == ""
    result = runner.invoke(app, ["code", "explain", "XYZ"])
    assert "not a valid identifier" in result.stderr

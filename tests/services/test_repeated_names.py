"""An event that gives a field twice is refused, naming the field: JSON parsers keep one of the
two values silently (orjson the last), so `{"battery": A, "battery": B}` was stored as B."""

from __future__ import annotations

import json
import sys
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from battrace.services.json_names import lift, marked, repeated_names
from battrace.store.schema import events
from tests.kit import MAKER, code, simple_lifecycles
from tests.services.test_ingest_ahead import ingest

# ------------------------------------------------------------------ the check itself

_names = st.sampled_from(["a", "b", "id", "x y", 'q"', "\\", "é", ":"])
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(['":', '\\":', " : ", "a"])
)
_spaces = st.sampled_from(["", " ", "\n", "\t ", "\r\n"])


@st.composite
def _texts(draw: Any, depth: int = 0) -> tuple[str, set[str]]:
    """A JSON object written by hand (names may repeat, whitespace anywhere) and the names it
    repeats in any of its objects."""
    pairs = []
    repeated: set[str] = set()
    seen: set[str] = set()
    for name in draw(st.lists(_names, max_size=5)):
        if name in seen:
            repeated.add(name)
        seen.add(name)
        if depth < 2 and draw(st.booleans()):
            inner, inner_repeated = draw(_texts(depth + 1))
            repeated |= inner_repeated
            value = draw(st.sampled_from([inner, f"[{inner}]", f"[1, {inner}]"]))
        else:
            value = json.dumps(draw(_scalars))
        s = draw(_spaces)
        pairs.append(f"{json.dumps(name)}{s}:{draw(_spaces)}{value}")
    return "{" + draw(_spaces) + ",".join(pairs) + "}", repeated


@settings(max_examples=400, deadline=None)
@given(_texts())
def test_every_repeated_name_is_found_and_no_other(case: tuple[str, set[str]]) -> None:
    text, repeated = case
    raw = text.encode()
    found = repeated_names(raw, orjson.loads(raw))
    assert {name for name, _ in found} == repeated


def test_a_repeat_in_the_event_itself_is_told_from_one_in_a_nested_object() -> None:
    raw = b'{"a": 1, "loc": {"r": 1, "r": 2}, "a" : 2}'
    assert repeated_names(raw, orjson.loads(raw)) == [("a", True), ("r", False)]
    escaped = b'{"\\u0061": 1, "a": 2}'  # the same name, spelt two ways
    assert repeated_names(escaped, orjson.loads(escaped)) == [("a", True)]


def test_a_quote_colon_inside_a_value_is_not_a_name() -> None:
    raw = b'{"note": "he said \\": fine\\"", "id": "x"}'
    assert repeated_names(raw, orjson.loads(raw)) == []


def test_a_body_of_many_events_marks_only_those_that_repeat() -> None:
    body = b'{"events": [{"a": 1}, {"a": 1, "b": {"c": 1, "c": 2}, "a": 3}]}'
    assert repeated_names(body, orjson.loads(body))
    first, second = (lift(e) for e in marked(body)["events"])
    assert type(first) is dict
    assert second.names == [("a", True), ("c", False)] and second == {"a": 3, "b": {"c": 2}}


# ------------------------------------------------------------------ file ingest


def _twice(line: bytes, name: str, value: str) -> bytes:
    """`line` (an object) with `name` given again, first, with `value`."""
    return b"{" + orjson.dumps(name) + b": " + orjson.dumps(value) + b", " + line[1:]


@pytest.mark.parametrize("ahead", [False, True], ids=["in-process", "ahead"])
def test_a_line_that_repeats_a_field_is_refused_naming_it(tmp_path: Any, ahead: bool) -> None:
    evs = simple_lifecycles(4)
    lines = [orjson.dumps(e) for e in evs]
    produced = next(i for i, e in enumerate(evs) if e["type"] == "produced")
    lines[produced] = _twice(lines[produced], "battery", code(777_001))
    path = tmp_path / "twice.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    tally, seen, rows, _ = ingest(f"sqlite:///{tmp_path / 't.db'}", path, ahead=ahead)
    refused = [r for _, r in seen if r["status"] == "rejected"]
    assert refused[0]["id"] == evs[produced]["id"] and refused[0]["reporter"] == MAKER
    (reason,) = [r for r in refused[0]["reasons"] if r["field"] == "battery"]
    assert "more than once" in reason["message"]
    stored = {r.code for r in rows["batteries"]}
    assert code(777_001) not in stored and evs[produced]["battery"] not in stored
    assert tally.accepted == len(evs) - len(refused)


def test_cli_ingest_reports_the_repeated_field(tmp_path: Any, monkeypatch: Any) -> None:
    from typer.testing import CliRunner

    from battrace.cli import app

    monkeypatch.chdir(tmp_path)
    ev = simple_lifecycles(1)[0]
    path = tmp_path / "one.jsonl"
    path.write_bytes(_twice(orjson.dumps(ev), "time", "2025-01-01T00:00:00+08:00") + b"\n")
    url = f"sqlite:///{tmp_path / 'c.db'}"
    assert CliRunner().invoke(app, ["init", "--db", url]).exit_code == 0
    result = CliRunner().invoke(
        app, ["ingest", str(path), "--db", url, "--keep-recorded-at", "--json"]
    )
    assert result.exit_code == 1, result.output
    out = json.loads(result.output)
    assert (out["accepted"], out["rejected"]) == (0, 1)
    reasons = out["results"][0]["reasons"]
    assert [r["field"] for r in reasons] == ["time"]
    assert "more than once" in reasons[0]["message"]
    with sa.create_engine(url).connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(events)).scalar() == 0


def test_a_hostile_line_is_checked_in_linear_time_and_reported_briefly() -> None:
    """40,000 names each given twice (under the 1 MiB line limit): the check kept its lists
    with `in`, seconds per line; now each event reports at most MAX_REPORTED names."""
    from battrace.services.batch import Repeated, decode_line
    from battrace.services.json_names import MAX_REPORTED

    line = b"{" + b",".join(b'"a%d":0,"a%d":0' % (i, i) for i in range(40_000)) + b"}"
    raw = decode_line(line)
    assert type(raw) is Repeated and len(raw.names) == MAX_REPORTED


def test_a_line_too_deep_for_the_exact_check_is_refused_not_waved_through() -> None:
    """orjson reads 1,024 levels, the standard library about 1,000: a repeated name beside
    such nesting was reported as no repeat at all. (The recursion limit is lowered so that the
    standard library gives up here whatever limit the process runs with.)"""
    import datetime as dt

    from battrace.domain.events import ValidationContext
    from battrace.services.batch import Unreadable, check_batch, decode_line

    line = b'{"id": "x", "id": "y", "deep": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(500)
    try:
        raw = decode_line(line)
    finally:
        sys.setrecursionlimit(limit)
    assert isinstance(raw, Unreadable)
    (reasons,) = check_batch(ValidationContext(), [raw], dt.datetime.now(dt.UTC))
    assert [r.field for r in reasons] == ["(json)"] and "too deep" in reasons[0].message

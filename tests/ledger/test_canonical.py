"""RFC 8785 canonical JSON: published vectors, errors that say where, and fast == full path."""

import json
import math
import struct
from types import MappingProxyType

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from battrace.errors import InvalidInput
from battrace.ledger import canonical
from battrace.ledger.canonical import CanonicalizationError, canonical_bytes, es_number


def full_path(obj: object) -> bytes:
    parts: list[str] = []
    canonical._write(obj, parts, "$")
    return "".join(parts).encode()


# ---------------------------------------------------------------- published vectors

# RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical form.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


def from_bits(hex_bits: str) -> float:
    return float(struct.unpack(">d", bytes.fromhex(hex_bits))[0])


@pytest.mark.parametrize(("bits", "expected"), APPENDIX_B)
def test_numbers_serialise_like_rfc_8785_appendix_b(bits: str, expected: str) -> None:
    x = from_bits(bits)
    assert canonical_bytes(x) == expected.encode()
    assert canonical_bytes([x]) == f"[{expected}]".encode()


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_nan_and_infinity_of_appendix_b_are_rejected(bits: str) -> None:
    with pytest.raises(CanonicalizationError, match="not a JSON number"):
        canonical_bytes({"x": [from_bits(bits)]})


# cyberphone/json-canonicalization testdata (input -> output), RFC 8785 §3.2.2 and §3.2.3.
CYBERPHONE = {
    "arrays": ('[56, {"d": true, "10": null, "1": [ ]}]', '[56,{"1":[],"10":null,"d":true}]'),
    "french": (
        '{"peach": "This sorting order", "péché": "is wrong according to French",'
        ' "pêche": "but canonicalization MUST", "sin": "ingnore locale"}',
        '{"peach":"This sorting order","péché":"is wrong according to French",'
        '"pêche":"but canonicalization MUST","sin":"ingnore locale"}',
    ),
    "structures": (
        '{"1": {"f": {"f": "hi","F": 5} ,"\\n": 56.0}, "10": { }, "": "empty", "a": { },'
        ' "111": [ { } ], "A": { }}',
        '{"":"empty","1":{"\\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}',
    ),
    "unicode": ('{"Unnormalized Unicode":"\\u1e0d\\u0307"}', '{"Unnormalized Unicode":"ḍ̇"}'),
    "values": (
        '{"numbers": [1E30, 4.50, 333333333.33333329, 2e-3, 0.000000000000000000000000001],'
        ' "escaping": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}',
        '{"escaping":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/","literals":[null,true,false],'
        '"numbers":[1e+30,4.5,333333333.3333333,0.002,1e-27]}',
    ),
    "weird": (
        '{"\\u20ac": "Euro Sign", "1": "One", "\\u0080": "Control\\u007f",'
        ' "\\ud83d\\ude02": "Smiley", "\\u00f6": "Latin Small Letter O With Diaeresis",'
        ' "\\ufb33": "Hebrew Letter Dalet With Dagesh", "</script>": "Browser Challenge"}',
        '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f",'
        '"ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign","😂":"Smiley",'
        '"\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    ),
    "rfc8785 §3.2.2": (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}',
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    ),
}


@pytest.mark.parametrize("name", sorted(CYBERPHONE))
def test_published_examples_canonicalise_exactly(name: str) -> None:
    source, expected = CYBERPHONE[name]
    assert canonical_bytes(json.loads(source)) == expected.encode()


def test_keys_sort_by_utf16_code_units_as_in_rfc_8785_section_3_2_3() -> None:
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    order = list(json.loads(canonical_bytes(value)).values())
    assert order == [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]


# ---------------------------------------------------------------- numbers and strings


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1"),
        (-0.0, "0"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (0.00001, "0.00001"),
        (123.456, "123.456"),
        (-1.5e-9, "-1.5e-9"),
        (5e-324, "5e-324"),
        (2.0**53, "9007199254740992"),
    ],
)
def test_floats_take_their_ecmascript_form(value: float, expected: str) -> None:
    assert es_number(value) == expected
    assert canonical_bytes({"x": value}) == f'{{"x":{expected}}}'.encode()


def test_integers_within_double_precision_are_written_as_is() -> None:
    assert canonical_bytes([0, -1, 2**53 - 1, -(2**53 - 1)]) == (
        b"[0,-1,9007199254740991,-9007199254740991]"
    )


def test_integers_that_a_double_cannot_carry_exactly_are_rejected_with_their_path() -> None:
    with pytest.raises(
        CanonicalizationError, match=r"\$\.meta\.ids\[1\]: integer 9007199254740993"
    ):
        canonical_bytes({"meta": {"ids": [1, 2**53 + 1]}})
    with pytest.raises(CanonicalizationError, match="would be written 295147905179352830000"):
        canonical_bytes(2**68)


def test_large_integers_are_accepted_when_they_read_back_exactly_as_doubles() -> None:
    # What a float's canonical form parses back to must canonicalise to the same bytes.
    assert canonical_bytes([2**53, 10**17, 295147905179352830000]) == (
        b"[9007199254740992,100000000000000000,295147905179352830000]"
    )


def test_control_characters_use_short_or_lowercase_unicode_escapes() -> None:
    text = '\b\t\n\f\r\x00\x1f\x7f"\\/é中'
    assert canonical_bytes(text) == '"\\b\\t\\n\\f\\r\\u0000\\u001f\x7f\\"\\\\/é中"'.encode()
    assert canonical_bytes({"k": text}) == b'{"k":' + canonical_bytes(text) + b"}"


def test_booleans_and_null_are_literals_not_numbers() -> None:
    assert canonical_bytes({"a": True, "b": False, "c": None, "d": 1}) == (
        b'{"a":true,"b":false,"c":null,"d":1}'
    )


def test_tuples_are_arrays_mappings_are_objects_and_top_level_scalars_are_allowed() -> None:
    assert canonical_bytes({"t": (1, "a")}) == b'{"t":[1,"a"]}'
    assert canonical_bytes({"m": MappingProxyType({"b": 1, "a": 2})}) == b'{"m":{"a":2,"b":1}}'
    assert canonical_bytes(None) == b"null"
    assert canonical_bytes(2.5) == b"2.5"


# ---------------------------------------------------------------- errors say what and where


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"a": [1, float("nan")]}, r"\$\.a\[1\]: nan is not a JSON number"),
        ({"a": {"b": float("-inf")}}, r"\$\.a\.b: -inf"),
        ({"a": "x\ud800y"}, r"\$\.a: string contains a lone surrogate '\\ud800' at position 1"),
        ({"a\udc00": 1}, r"object key 'a\\udc00' contains a lone surrogate"),
        ({"a": {1: "x"}}, r"\$\.a: object key 1 is a int, not a str"),
        ({"a": {"when": object()}}, r"\$\.a\.when: object is not a JSON type"),
        ({"a": {"my key": {1, 2}}}, r"\$\.a\['my key'\]: set is not a JSON type"),
        (b"bytes", r"\$: bytes is not a JSON type"),
    ],
)
def test_values_that_are_not_canonical_json_are_rejected_with_their_path(
    value: object, message: str
) -> None:
    with pytest.raises(CanonicalizationError, match=message):
        canonical_bytes(value)


def test_canonicalization_errors_are_value_errors_and_invalid_input() -> None:
    with pytest.raises(ValueError, match="not a JSON number"):
        canonical_bytes(math.nan)
    assert issubclass(CanonicalizationError, InvalidInput)


def test_a_value_that_contains_itself_is_rejected() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(CanonicalizationError, match="nested too deeply or refers to itself"):
        canonical_bytes({"loop": loop})


# ---------------------------------------------------------------- fast path == full path

keys = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["id", "\ufb33", "\U0001f600", "\ue000", "é", "中", "a\u0080"]),
)
floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e-4, 9.99e-5, 1e16, 9999999999999998.0, 0.1, 1.0, -0.0, 1e21]),
)
ints = st.one_of(st.integers(-(2**53 - 1), 2**53 - 1), st.integers(-(10**3), 10**3))
scalars = st.one_of(st.none(), st.booleans(), ints, floats, st.text(max_size=8))
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=400)
@given(json_values)
@example({"\U0001f600": 1, "\ufb33": 2})
@example({"x": 1.0, "y": [1e-5, 1e16]})
@example(dict(canonical.SAMPLE_EVENT))
def test_fast_and_full_paths_give_the_same_bytes(value: object) -> None:
    assert canonical_bytes(value) == full_path(value)


@given(json_values)
def test_canonical_bytes_parse_back_to_an_equal_value(value: object) -> None:
    parsed = json.loads(canonical_bytes(value))
    assert canonical_bytes(parsed) == canonical_bytes(value)


def test_a_typical_event_takes_the_fast_path() -> None:
    assert canonical._fast_ok(canonical.SAMPLE_EVENT)


def test_benchmark_reports_a_positive_rate() -> None:
    assert canonical.bench_canonical(2_000) > 0

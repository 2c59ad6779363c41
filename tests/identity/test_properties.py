"""Property-based tests: build → parse round trips; a forbidden character is always named."""

import datetime as dt
import string

from hypothesis import given
from hypothesis import strategies as st

from battrace.identity import (
    DEFAULT_TABLES,
    ProductType,
    battery_code_errors,
    build_battery_code,
    build_uscc,
    build_vin,
    is_uscc,
    is_vin,
    parse_battery_code,
    uscc_errors,
    vin_errors,
)

ALNUM = string.digits + string.ascii_uppercase
alnum = st.sampled_from(ALNUM)
TYPES = "".join(t.letter for t in DEFAULT_TABLES.battery_types)
DATE_ALPHABET = DEFAULT_TABLES.date_alphabet

codes = st.builds(
    lambda m, p, b, s, t, d, n: build_battery_code(
        manufacturer="".join(m),
        product_type=p,
        battery_type=b,
        spec="".join(s),
        trace="".join(t),
        production_date=d,
        serial=n,
    ),
    st.lists(alnum, min_size=3, max_size=3),
    st.sampled_from(list(ProductType)),
    st.sampled_from(TYPES),
    st.lists(alnum, min_size=2, max_size=2),
    st.lists(alnum, min_size=7, max_size=7),
    st.dates(dt.date(2011, 1, 1), dt.date(2041, 12, 31)),
    st.integers(1, 9_999_999),
)

# Characters each position forbids. Lower case and punctuation are forbidden everywhere.
NOISE = "abcxyz-_.*/ Ö中"
FORBIDDEN = (
    [NOISE] * 3
    + [NOISE + "".join(c for c in ALNUM if c not in "PMC")]
    + [NOISE + "".join(c for c in ALNUM if c not in TYPES)]
    + [NOISE] * 9
    + [NOISE + "".join(c for c in ALNUM if c not in DATE_ALPHABET)]  # year
    + [NOISE + "".join(c for c in ALNUM if c not in DATE_ALPHABET[:12])]  # month
    + [NOISE + "".join(c for c in ALNUM if c not in DATE_ALPHABET)]  # day
    + [NOISE + string.ascii_uppercase] * 7
)


@given(codes)
def test_build_then_parse_round_trips(code):
    parsed = parse_battery_code(code)
    rebuilt = build_battery_code(
        manufacturer=parsed.manufacturer,
        product_type=parsed.product_type,
        battery_type=parsed.battery_type.letter,
        spec=parsed.spec,
        trace=parsed.trace,
        production_date=parsed.production_date,
        serial=int(parsed.serial),
    )
    assert rebuilt == code
    assert battery_code_errors(code) == []


@given(codes, st.integers(0, 23), st.data())
def test_a_forbidden_character_is_rejected_at_its_position(code, index, data):
    bad_char = data.draw(st.sampled_from(FORBIDDEN[index]))
    bad = code[:index] + bad_char + code[index + 1 :]
    errors = battery_code_errors(bad)
    assert errors, bad
    if bad_char == " " and index in (0, 23):
        # a space at either end is reported as surrounding whitespace
        assert any(e.reason == "whitespace" for e in errors)
    else:
        assert index + 1 in {e.position for e in errors}, (bad, errors)


@given(
    st.integers(2011, 2041),
    st.sampled_from([(2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31)]),
)
def test_impossible_dates_are_rejected(year, month_day):
    month, day = month_day
    a = DATE_ALPHABET
    code = f"001PB01ABC1234{a[year - 2011]}{a[month - 1]}{a[day - 1]}0000001"
    errors = battery_code_errors(code)
    assert [(e.position, e.reason) for e in errors] == [(17, "date")]


VIN_VALUES = dict(
    zip(
        "0123456789ABCDEFGHJKLMNPRSTUVWXYZ",
        [*range(10), 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9],
        strict=True,
    )
)


@given(
    st.lists(st.sampled_from("0123456789ABCDEFGHJKLMNPRSTUVWXYZ"), min_size=16, max_size=16),
    st.integers(0, 16),
)
def test_built_vins_validate_and_a_changed_character_fails_at_the_check_digit(chars, i):
    vin = build_vin("".join(chars))
    assert is_vin(vin)
    # any substitution that changes the character's value breaks the check digit
    alt = "2" if VIN_VALUES[vin[i]] != 2 else "3"
    changed = vin[:i] + alt + vin[i + 1 :]
    if i == 8:
        assert [e.position for e in vin_errors(changed)] == [9]
    else:
        # no weight is a multiple of 11 except position 9's 0, so the sum always moves
        assert not is_vin(changed)
        assert [e.position for e in vin_errors(changed)] == [9]


@given(st.lists(st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUWXY"), min_size=17, max_size=17))
def test_built_usccs_validate_and_a_changed_check_fails(chars):
    code = build_uscc("".join(chars))
    assert is_uscc(code)
    other = "0" if code[17] != "0" else "1"
    assert [e.position for e in uscc_errors(code[:17] + other)] == [18]

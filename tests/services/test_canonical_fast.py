"""The fast canonical writer (orjson) agrees byte for byte with the RFC 8785 reference."""

from hypothesis import given, settings
from hypothesis import strategies as st

from battrace.domain.events import Event, ValidationContext, validate_event
from battrace.ledger.canonical import canonical_bytes
from battrace.services.common import canonical
from tests.kit import MAKER, code

numbers = st.one_of(
    st.integers(1, 2**60),
    st.floats(min_value=1e-9, max_value=1e22, allow_nan=False, allow_infinity=False),
    st.sampled_from([350.0, 1e16, 1e-5, 0.0001, 123456789.5, 2.0**53, 1e21]),
)


@settings(max_examples=400, deadline=None)
@given(numbers, numbers, st.text(max_size=30), st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), st.one_of(numbers, st.text(max_size=5)),
    max_size=3))  # fmt: skip
def test_the_fast_path_is_taken_only_when_it_is_exact(mass, energy, note, tests):
    raw = {"id": "x", "type": "reprocessed", "time": "2025-01-03T10:00:00+08:00",
           "reporter": MAKER, "battery": code(1), "inputs": [code(2)],
           "application": "energy_storage", "mass_kg": mass, "energy_kwh": energy,
           "note": note, "tests": tests}  # fmt: skip
    ev = validate_event(raw, ValidationContext())
    if not isinstance(ev, Event):
        return
    try:
        reference = canonical_bytes(ev.payload)
    except ValueError:  # not representable: ingest rejects it, whichever path it takes
        assert not ev.plain_numbers
        return
    fast = canonical(ev.payload, plain=ev.plain_numbers, integral_floats=ev.integral_floats)
    assert fast == reference

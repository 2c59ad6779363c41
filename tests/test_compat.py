"""`compat.fast_enum_members`: enum lookups without the 3.11 slot hook, and nothing else."""

from __future__ import annotations

import enum
import sys

import pytest

from battrace.compat import fast_enum_members
from battrace.domain.vocab import EventType, State


class _Shadowing(enum.Enum):
    """Members named like attributes of `Enum` itself (3.11 makes them redirects)."""

    name = "n"
    value = "v"
    PLAIN = "p"


def test_members_are_found_as_before() -> None:
    fast_enum_members()
    fast_enum_members()  # idempotent
    assert EventType.PRODUCED is EventType("produced") is EventType["PRODUCED"]
    assert State.IN_STOCK.value == "in_stock"
    assert _Shadowing.name is _Shadowing("n") and _Shadowing.name.value == "n"
    assert _Shadowing.value is _Shadowing["value"]
    assert _Shadowing.PLAIN.name == "PLAIN"
    with pytest.raises(AttributeError):
        _ = EventType.NO_SUCH_TYPE


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12 has no EnumType.__getattr__")
def test_the_slow_fallback_is_gone_on_3_11() -> None:
    fast_enum_members()
    assert "__getattr__" not in vars(enum.EnumType)

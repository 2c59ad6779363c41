"""Interpreter differences that cost the platform time, settled once per process."""

from __future__ import annotations

import enum
import sys


def fast_enum_members() -> None:
    """Look enum members up on CPython 3.11 as 3.12 does: without `EnumType.__getattr__`.

    On 3.11 every class attribute lookup on an enum (`EventType.PRODUCED`, `State.IN_STOCK`)
    goes through `EnumType.__getattr__`'s slot hook, which looks `__getattribute__` up and
    calls it through a wrapper: 4x the cost of a plain class attribute, about 5 % of what an
    ingested event costs the committing process (callgrind: 10.8 such lookups per event,
    ~820 instructions each). The method is a fallback that finds nothing the normal lookup
    does not (3.11 stores members in the class dict; the ones shadowed by a base's attribute
    are `enum.property` redirects that resolve themselves), and CPython 3.12 removed it as
    "the original method of looking up enum members, but quite slow" (python/cpython#106762).
    Process-wide; called by the composition root (`bootstrap.open_store` and
    `make_ingestor`) and by the checking helper.
    Idempotent, and nothing to do on 3.12 or later.
    """
    if sys.version_info < (3, 12) and "__getattr__" in vars(enum.EnumType):
        delattr(enum.EnumType, "__getattr__")

"""What an API key may do (`services.apikeys`): in a module of its own, without the store, so
that the `battrace keys issue --role` option can offer its values without loading SQLAlchemy."""

from __future__ import annotations

from enum import StrEnum


class KeyRole(StrEnum):
    """What a key may do: report and read as its enterprise, or everything a regulator may."""

    ENTERPRISE = "enterprise"
    REGULATOR = "regulator"

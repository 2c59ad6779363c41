"""API keys: issue, list, revoke, and check a presented token.

A token is `btk_<key id>_<secret>`: the key id (12 hex characters, 48 random bits) names the key
in listings and revocations and is not secret; the secret is 32 random bytes (256 bits,
URL-safe base64). The store keeps only SHA-256 of the whole token. A fast hash is the right
tool here: a 256-bit random secret cannot be guessed, so a slow password hash (bcrypt, argon2)
would add nothing but a few milliseconds to every request; a stolen table of hashes does not
yield a usable token. Checking a token reads its row by key id and compares the hashes in
constant time.

Keys belong to an enterprise registered in the store's registry (role `enterprise`), or to a
regulator (role `regulator`: the enterprise must be registered with the regulator role). The
one exception bootstraps an empty store: while the registry is empty, a regulator key may be
issued for any valid USCC; that regulator then registers itself through the API (the first
`enterprise_registered` of a store must be a regulator registering itself, EVENTS.md).

A key's powers follow the registry as it is now, not as it was when the key was issued: a
regulator key acts as a regulator only while its enterprise holds the regulator role
(`acting_role`). Re-registering an enterprise without that role, or withdrawing its
registration, takes its keys' regulator powers at once; they act as enterprise keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from battrace.domain.events import to_us
from battrace.errors import InvalidInput, NotFound
from battrace.identity import is_uscc
from battrace.services.common import rfc3339
from battrace.services.key_roles import KeyRole
from battrace.store.schema import api_keys, enterprises
from battrace.store.sql import SqlStore

TOKEN_PREFIX = "btk"
_TOKEN = re.compile(r"btk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
_KEY_ID = re.compile(r"(?:btk_)?([0-9a-f]{1,12})")


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key (never its secret)."""

    key_id: str
    enterprise: str
    role: KeyRole
    label: str | None
    created_us: int
    revoked_us: int | None

    @property
    def active(self) -> bool:
        """True until revoked."""
        return self.revoked_us is None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "key_id": self.key_id,
            "enterprise": self.enterprise,
            "role": self.role.value,
            "label": self.label,
            "created_at": rfc3339(self.created_us),
            "revoked_at": rfc3339(self.revoked_us) if self.revoked_us is not None else None,
            "active": self.active,
        }


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key just issued, with its token: shown once, never stored."""

    key: ApiKey
    token: str

    def as_dict(self) -> dict[str, Any]:
        """JSON form (`{"key": <token>, ...}`)."""
        return {"key": self.token, **self.key.as_dict()}


def token_hash(token: str) -> bytes:
    """SHA-256 of a token: the only form the store keeps."""
    return hashlib.sha256(token.encode()).digest()


def _row(r: Any) -> ApiKey:
    return ApiKey(
        r.key_id,
        r.enterprise,
        KeyRole(r.role),
        r.label,
        int(r.created_us),
        None if r.revoked_us is None else int(r.revoked_us),
    )


def issue(
    store: SqlStore,
    *,
    enterprise: str,
    role: KeyRole | str,
    now: dt.datetime,
    label: str | None = None,
) -> IssuedKey:
    """Issue a key for a registered enterprise (or a bootstrapping regulator)."""
    try:
        kind = KeyRole(role)
    except ValueError:
        raise InvalidInput(
            f"role must be one of {', '.join(r.value for r in KeyRole)}, not {role!r}"
        ) from None
    if not is_uscc(enterprise):
        raise InvalidInput(f"{enterprise!r} is not a valid USCC (统一社会信用代码)")
    if label is not None and len(label) > 200:
        raise InvalidInput("label must be at most 200 characters")
    with store.engine.connect() as c:
        registered = c.execute(
            select(enterprises.c.roles).where(enterprises.c.uscc == enterprise)
        ).first()
        empty = c.execute(select(func.count()).select_from(enterprises)).scalar_one() == 0
    if registered is None and not (empty and kind is KeyRole.REGULATOR):
        raise NotFound(
            f"{enterprise} is not registered in this store: a regulator registers it first "
            "(enterprise_registered); only an empty store takes a regulator key for an "
            "unregistered USCC (bootstrap)"
        )
    if (
        registered is not None
        and kind is KeyRole.REGULATOR
        and "regulator" not in registered.roles.split(",")
    ):
        raise InvalidInput(f"{enterprise} is not registered with the role regulator")
    for _ in range(5):
        key_id = secrets.token_hex(6)
        token = f"{TOKEN_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        now_us = to_us(now)
        try:
            with store.engine.begin() as c:
                c.execute(
                    insert(api_keys).values(
                        key_id=key_id,
                        key_hash=token_hash(token),
                        enterprise=enterprise,
                        role=kind.value,
                        label=label,
                        created_us=now_us,
                        revoked_us=None,
                    )
                )
        except IntegrityError:  # pragma: no cover - a key id drawn twice (2^-48 odds)
            continue
        return IssuedKey(ApiKey(key_id, enterprise, kind, label, now_us, None), token)
    raise AssertionError("no free key id after 5 tries")  # pragma: no cover


@cache
def _key_query() -> Select[Any]:
    # built once: every authenticated request runs it
    return select(api_keys).where(api_keys.c.key_id == bindparam("key_id"))


def authenticate(store: SqlStore, token: str) -> ApiKey | None:
    """The active key a token belongs to, or None (malformed, unknown, wrong or revoked)."""
    m = _TOKEN.fullmatch(token)
    if m is None:
        return None
    with store.engine.connect() as c:
        row = c.execute(_key_query(), {"key_id": m.group(1)}).first()
    if row is None or not hmac.compare_digest(bytes(row.key_hash), token_hash(token)):
        return None
    key = _row(row)
    return key if key.active else None


@cache
def _roles_query() -> Select[Any]:
    return select(enterprises.c.roles).where(enterprises.c.uscc == bindparam("uscc"))


def acting_role(store: SqlStore, key: ApiKey) -> KeyRole:
    """The role a key acts in now. A regulator key acts as a regulator only while its
    enterprise is registered with the regulator role, or, bootstrapping, while the registry is
    empty; otherwise it acts as an enterprise key (a demoted regulator keeps no powers over
    keys, other enterprises' data or the registry)."""
    if key.role is not KeyRole.REGULATOR:
        return key.role
    with store.engine.connect() as c:
        roles = c.execute(_roles_query(), {"uscc": key.enterprise}).scalar()
        if roles is None:
            empty = c.execute(select(enterprises.c.uscc).limit(1)).first() is None
            return KeyRole.REGULATOR if empty else KeyRole.ENTERPRISE
    return KeyRole.REGULATOR if "regulator" in roles.split(",") else KeyRole.ENTERPRISE


def list_keys(
    store: SqlStore, *, enterprise: str | None = None, limit: int | None = None, offset: int = 0
) -> list[ApiKey]:
    """Every key (active and revoked), oldest first; `limit` and `offset` page through them."""
    q = select(api_keys).order_by(api_keys.c.created_us, api_keys.c.key_id)
    if enterprise is not None:
        q = q.where(api_keys.c.enterprise == enterprise)
    if limit is not None:
        q = q.limit(limit).offset(offset)
    with store.engine.connect() as c:
        return [_row(r) for r in c.execute(q)]


def find_key(store: SqlStore, key_id_or_prefix: str) -> ApiKey:
    """The one key whose id is, or starts with, the given text (a token prefix also works)."""
    m = _KEY_ID.fullmatch(key_id_or_prefix.strip())
    if m is None:
        # a whole token also names its key
        t = _TOKEN.fullmatch(key_id_or_prefix.strip())
        if t is None:
            raise InvalidInput(
                f"{key_id_or_prefix!r} is not a key id (12 hex characters) or a prefix of one"
            )
        prefix = t.group(1)
    else:
        prefix = m.group(1)
    with store.engine.connect() as c:
        rows = list(
            c.execute(select(api_keys).where(api_keys.c.key_id.startswith(prefix)).limit(3))
        )
    if not rows:
        raise NotFound(f"no API key has an id starting with {prefix!r}")
    if len(rows) > 1:
        raise InvalidInput(f"{prefix!r} names several keys: give more of the key id")
    return _row(rows[0])


def revoke(store: SqlStore, key_id_or_prefix: str, *, now: dt.datetime) -> ApiKey:
    """Revoke a key (by id or unambiguous prefix); revoking twice keeps the first time."""
    key = find_key(store, key_id_or_prefix)
    if not key.active:
        return key
    now_us = to_us(now)
    with store.engine.begin() as c:
        c.execute(
            update(api_keys)
            .where(api_keys.c.key_id == key.key_id, api_keys.c.revoked_us.is_(None))
            .values(revoked_us=now_us)
        )
    return find_key(store, key.key_id)

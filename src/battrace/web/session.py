"""Signed session cookies: an API key is checked once at sign-in, and only its public id,
the tier and an expiry travel in the cookie, signed with HMAC-SHA256. The key itself is never
stored, in the browser or on the server.

The signing secret is a random 32-byte file (`web-session.key`, mode 0600) in the deployment's
key directory, made on first use, so sessions survive restarts and work across workers; when
the directory cannot be written the secret lives in memory (sessions end with the process).
Every request re-reads the key's row, so a revoked key ends its sessions at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

COOKIE = "bt_session"
LANG_COOKIE = "bt_lang"
#: the pre-session cookie of the sign-in form (login CSRF, `signin_token`)
SIGNIN_COOKIE = "bt_signin"
#: how long a sign-in form may stay open
SIGNIN_MAX_AGE_S = 3600
SECRET_FILE = "web-session.key"
#: a working day, and a little more
MAX_AGE_S = 10 * 3600


@dataclass(frozen=True)
class Session:
    """What a valid cookie says: the key's id, its enterprise, and a per-session nonce."""

    key_id: str
    enterprise: str
    nonce: str
    expires: int


def load_secret(key_dir: Path) -> bytes:
    """The session secret from `key_dir` (created on first use), or a process-local one.

    The workers of a multi-process server start together: the one that creates the file wins
    and the others read what it wrote (written under a temporary name and linked into place,
    so no reader ever sees half a secret)."""
    path = key_dir / SECRET_FILE
    try:
        if path.exists():
            return _read_secret(path)
        key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = secrets.token_bytes(32)
        tmp = key_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)  # fails if another process got there first
            except FileExistsError:
                return _read_secret(path)
        finally:
            tmp.unlink(missing_ok=True)
        return data
    except OSError:
        return secrets.token_bytes(32)


def _read_secret(path: Path) -> bytes:
    data = path.read_bytes()
    if len(data) < 32:
        raise OSError(f"{path} holds {len(data)} bytes, not a session secret")
    return data


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, body: str) -> str:
    return _b64(hmac.new(secret, b"session\x00" + body.encode(), hashlib.sha256).digest())


def issue(secret: bytes, *, key_id: str, enterprise: str, now: float | None = None) -> str:
    """A cookie value for a freshly authenticated key."""
    now = time.time() if now is None else now
    body = _b64(
        json.dumps(
            {"k": key_id, "e": enterprise, "n": secrets.token_hex(8), "x": int(now) + MAX_AGE_S},
            separators=(",", ":"),
        ).encode()
    )
    return f"{body}.{_mac(secret, body)}"


def read(secret: bytes, value: str | None, *, now: float | None = None) -> Session | None:
    """The session a cookie value carries; None when absent, forged, malformed or expired."""
    if not value or value.count(".") != 1:
        return None
    body, mac = value.split(".")
    if not hmac.compare_digest(mac.encode(), _mac(secret, body).encode()):
        return None  # bytes: compare_digest raises TypeError on non-ASCII text
    try:
        d = json.loads(_unb64(body))
        s = Session(str(d["k"]), str(d["e"]), str(d["n"]), int(d["x"]))
    except (ValueError, KeyError, TypeError):
        return None
    if s.expires < (time.time() if now is None else now):
        return None
    return s


def csrf_token(secret: bytes, session: Session | None) -> str:
    """The form token of a session (forms that change something must send it back)."""
    nonce = session.nonce if session is not None else "anonymous"
    return _b64(hmac.new(secret, b"csrf\x00" + nonce.encode(), hashlib.sha256).digest()[:18])


def check_csrf(secret: bytes, session: Session | None, token: str | None) -> bool:
    """True when `token` is the session's form token."""
    return bool(token) and hmac.compare_digest(
        (token or "").encode(), csrf_token(secret, session).encode()
    )  # bytes: compare_digest raises TypeError on non-ASCII text


# Sign-in comes before any session, so its form cannot carry a session's token: another site
# could post its own key and sign the viewer in as itself (login CSRF). The sign-in page sets a
# short-lived random cookie (SameSite=Strict: a cross-site POST does not carry it) and the form
# carries a token derived from it; POST /signin wants both.


def signin_cookie(*, now: float | None = None) -> str:
    """A fresh pre-session cookie value: a random nonce and its expiry."""
    now = time.time() if now is None else now
    return f"{secrets.token_urlsafe(16)}.{int(now) + SIGNIN_MAX_AGE_S}"


def signin_cookie_left(value: str | None, *, now: float | None = None) -> float:
    """Seconds a pre-session cookie value has left (0 when absent, malformed or expired)."""
    if not value or value.count(".") != 1:
        return 0
    try:
        expires = int(value.split(".")[1])
    except ValueError:
        return 0
    return max(0, expires - (time.time() if now is None else now))


def signin_token(secret: bytes, cookie: str) -> str:
    """The sign-in form's token for a pre-session cookie value."""
    return _b64(hmac.new(secret, b"signin\x00" + cookie.encode(), hashlib.sha256).digest()[:18])


def check_signin(
    secret: bytes, cookie: str | None, token: str | None, *, now: float | None = None
) -> bool:
    """True when `cookie` is an unexpired pre-session cookie and `token` is its form token."""
    if not cookie or not token or signin_cookie_left(cookie, now=now) <= 0:
        return False
    return hmac.compare_digest(token.encode(), signin_token(secret, cookie).encode())

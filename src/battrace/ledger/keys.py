"""Ed25519 note keys in the text formats of golang.org/x/mod/sumdb/note, and their files.

    verifier key:  <name>+<8 hex key id>+<base64(0x01 || 32-byte public key)>
    signer key:    PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || 32-byte seed)>
    key id:        first 4 bytes (big-endian) of SHA-256(name || 0x0A || 0x01 || public key)

The private key is never logged, printed or shown in a repr.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from battrace.errors import SigningKeyError

__all__ = [
    "SIGNING_KEY_FILE",
    "VERIFIER_KEY_FILE",
    "KeyDir",
    "NoteSigner",
    "NoteVerifier",
    "generate_signer",
    "init_key_dir",
    "is_valid_key_name",
    "key_id",
    "load_signer",
    "load_verifier",
    "parse_signer",
    "parse_verifier",
]

SIGNING_KEY_FILE = "signing.key"
VERIFIER_KEY_FILE = "verifier.pub"
ALG_ED25519 = 0x01


def is_valid_key_name(name: str) -> bool:
    """A note key name: non-empty, no Unicode space, no '+', valid UTF-8."""
    if not name or "+" in name or any(c.isspace() for c in name):
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not any(ord(c) < 0x20 for c in name)


def key_id(name: str, public_key: bytes) -> int:
    """The 32-bit key id of an Ed25519 note key."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A public note key: checks Ed25519 signatures made under one name."""

    name: str
    key_id: int
    public_key: bytes

    @property
    def text(self) -> str:
        """The publishable verifier key string."""
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when `signature` is this key's Ed25519 signature of `message`."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True)
class NoteSigner:
    """A private note key; its repr shows the name and key id only."""

    name: str
    key_id: int
    _private: Ed25519PrivateKey = field(repr=False, compare=False)

    def __repr__(self) -> str:
        return f"NoteSigner(name={self.name!r}, key_id={self.key_id:08x})"

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of `message`."""
        return self._private.sign(message)

    def verifier(self) -> NoteVerifier:
        """The matching public key."""
        return NoteVerifier(self.name, self.key_id, _raw_public(self._private))


def _raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _decode_key(what: str, name: str, hex_id: str, encoded: str) -> tuple[int, bytes]:
    if not is_valid_key_name(name):
        raise SigningKeyError(f"{what}: {name!r} is not a valid key name (no spaces or '+')")
    if len(hex_id) != 8 or any(c not in "0123456789abcdefABCDEF" for c in hex_id):
        raise SigningKeyError(f"{what}: key id {hex_id!r} is not 8 hex digits")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SigningKeyError(f"{what}: the key material is not valid base64") from None
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise SigningKeyError(f"{what}: expected an Ed25519 key (0x01 and 32 bytes)")
    return int(hex_id, 16), raw[1:]


def parse_verifier(text: str) -> NoteVerifier:
    """A verifier key string `<name>+<hex id>+<base64 key>`; raises `SigningKeyError`."""
    parts = text.strip().split("+", 2)  # base64 may contain '+' itself
    if len(parts) != 3:
        raise SigningKeyError("verifier key: expected <name>+<8 hex key id>+<base64 key>")
    kid, public = _decode_key("verifier key", *parts)
    if key_id(parts[0], public) != kid:
        raise SigningKeyError("verifier key: the key id does not match the name and key")
    return NoteVerifier(parts[0], kid, public)


def parse_signer(text: str) -> NoteSigner:
    """A signer key string `PRIVATE+KEY+<name>+<hex id>+<base64 seed>`."""
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise SigningKeyError("signing key: expected PRIVATE+KEY+<name>+<hex id>+<base64 seed>")
    kid, seed = _decode_key("signing key", *parts[2:])
    private = Ed25519PrivateKey.from_private_bytes(seed)
    if key_id(parts[2], _raw_public(private)) != kid:
        raise SigningKeyError("signing key: the key id does not match the name and key")
    return NoteSigner(parts[2], kid, private)


def generate_signer(name: str) -> tuple[str, str]:
    """A fresh Ed25519 key pair as (signer key text, verifier key text)."""
    if not is_valid_key_name(name):
        raise SigningKeyError(f"{name!r} is not a valid key name (no spaces or '+')")
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    kid = key_id(name, _raw_public(private))
    signer_text = (
        f"PRIVATE+KEY+{name}+{kid:08x}+{base64.b64encode(bytes([ALG_ED25519]) + seed).decode()}"
    )
    return signer_text, NoteSigner(name, kid, private).verifier().text


@dataclass(frozen=True, slots=True)
class KeyDir:
    """Where `init_key_dir` put the keys, and the verifier key to publish."""

    signing_key: Path
    verifier_key: Path
    verifier: NoteVerifier


def init_key_dir(path: str | os.PathLike[str], name: str) -> KeyDir:
    """Create `signing.key` (0600, never overwritten) and `verifier.pub` in a 0700 directory."""
    directory = Path(path)
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700)
        directory.chmod(0o700)  # mkdir's mode is filtered by the umask
    signer_text, verifier_text = generate_signer(name)
    signing = directory / SIGNING_KEY_FILE
    try:
        fd = os.open(signing, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SigningKeyError(
            f"{signing} already exists; refusing to overwrite a signing key"
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(signer_text + "\n")
    os.chmod(signing, 0o600)
    verifier_path = directory / VERIFIER_KEY_FILE
    verifier_path.write_text(verifier_text + "\n", encoding="utf-8")
    return KeyDir(signing, verifier_path, parse_verifier(verifier_text))


def load_signer(path: str | os.PathLike[str]) -> NoteSigner:
    """The signing key in a file (or in `signing.key` of a directory), if stored safely."""
    file = Path(path)
    if file.is_dir():
        file = file / SIGNING_KEY_FILE
    try:
        fd = os.open(file, os.O_RDONLY)
    except FileNotFoundError:
        raise SigningKeyError(
            f"no signing key at {file}; create one with `battrace keys init`"
        ) from None
    except OSError as exc:
        raise SigningKeyError(f"cannot read the signing key {file}: {exc.strerror}") from None
    with os.fdopen(fd, "r", encoding="utf-8") as handle:
        info = os.fstat(handle.fileno())  # the file actually opened, not a path re-lookup
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise SigningKeyError(
                f"{file} belongs to another user (uid {info.st_uid}); "
                f"fix with: chown {os.getuid()} {file} && chmod 600 {file}"
            )
        if info.st_mode & 0o077:
            raise SigningKeyError(
                f"{file} is readable or writable by group or others "
                f"(mode {stat.S_IMODE(info.st_mode):04o}); fix with: chmod 600 {file}"
            )
        text = handle.read()
    return parse_signer(text)


def load_verifier(text_or_path: str | os.PathLike[str]) -> NoteVerifier:
    """A verifier key given as its text, or read from a file or a key directory."""
    if isinstance(text_or_path, str) and "+" in text_or_path and not Path(text_or_path).exists():
        return parse_verifier(text_or_path)
    file = Path(text_or_path)
    if file.is_dir():
        file = file / VERIFIER_KEY_FILE
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SigningKeyError(
            f"{file} is neither a verifier key (<name>+<hex id>+<base64 key>) nor a file"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SigningKeyError(f"cannot read the verifier key {file}: {exc}") from None
    return parse_verifier(text)

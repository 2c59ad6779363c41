"""Signed checkpoints: a C2SP tlog-checkpoint body in a C2SP signed note (Ed25519).

    example.org/battrace/log                  origin
    1234                                      tree size
    qGbg6L…=                                  base64 root hash
    timestamp 2025-12-07T00:00:00Z            extension line (RFC 3339, UTC)

    — example.org/battrace/log AbCdEf…=       em dash, key name, base64(key id || signature)

The timestamp is an ordinary extension line, so the log's own Ed25519 signature (type 0x01)
covers it and existing tooling (golang.org/x/mod/sumdb/note, transparency-dev/formats/log)
opens and parses the checkpoint unchanged: they hand extension lines back as opaque text.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from battrace.errors import IntegrityViolation
from battrace.ledger.keys import NoteSigner, NoteVerifier, is_valid_key_name

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "open_checkpoint",
    "open_note",
    "sign_checkpoint",
    "sign_note",
]

_SIG_PREFIX = "— "  # em dash U+2014, space
_MAX_SIGNATURES = 100  # like golang.org/x/mod/sumdb/note
_SIZE = re.compile(r"0|[1-9][0-9]*")
_TIMESTAMP = re.compile(r"timestamp (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{6})?)Z", re.ASCII)


class CheckpointError(IntegrityViolation, ValueError):
    """A signed note or checkpoint is malformed, unsigned by the expected key, or forged."""


# ------------------------------------------------------------------ signed notes


def sign_note(text: str, signer: NoteSigner) -> str:
    """The signed note: `text` (ending in a newline), a blank line, one signature line."""
    _check_text(text)
    if not text.endswith("\n"):
        raise CheckpointError("note text must end with a newline")
    signature = signer.sign(text.encode())
    encoded = base64.b64encode(signer.key_id.to_bytes(4, "big") + signature).decode()
    return f"{text}\n{_SIG_PREFIX}{signer.name} {encoded}\n"


def open_note(note: str, verifier: NoteVerifier) -> str:
    """The text of a signed note after checking `verifier`'s signature on it.

    Signature lines of other keys (witnesses, rotated keys) are ignored, as the signed-note
    spec requires; a bad signature from `verifier`'s key rejects the note.
    """
    _check_text(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointError("not a signed note: no blank line before the signatures")
    text, signatures = note[: split + 1], note[split + 2 :]
    if not signatures.endswith("\n"):
        raise CheckpointError("not a signed note: the signature block must end with a newline")
    lines = signatures[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise CheckpointError(f"note has more than {_MAX_SIGNATURES} signatures")
    message = text.encode()
    verified = False
    for number, line in enumerate(lines, 1):
        name, key_id, signature = _parse_signature_line(line, number)
        if name != verifier.name or key_id != verifier.key_id:
            continue  # another key's signature: not ours to judge
        if not verifier.verify(message, signature):
            raise CheckpointError(
                f"signature of key {verifier.name}+{verifier.key_id:08x} does not verify: "
                "the note was altered or signed by another key"
            )
        verified = True
    if not verified:
        raise CheckpointError(f"note has no signature by key {verifier.name}+{verifier.key_id:08x}")
    return text


def _check_text(text: str) -> None:
    for position, char in enumerate(text):
        if (char < " " and char != "\n") or "\ud800" <= char <= "\udfff":
            raise CheckpointError(
                f"note contains a forbidden character {char!r} at position {position}"
            )


def _parse_signature_line(line: str, number: int) -> tuple[str, int, bytes]:
    if not line.startswith(_SIG_PREFIX):
        raise CheckpointError(f"signature line {number} does not start with '— '")
    name, _, encoded = line[len(_SIG_PREFIX) :].partition(" ")
    if not is_valid_key_name(name):
        raise CheckpointError(f"signature line {number}: {name!r} is not a valid key name")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(f"signature line {number} is not valid base64") from None
    if len(raw) < 5:
        raise CheckpointError(f"signature line {number} is too short")
    return name, int.from_bytes(raw[:4], "big"), raw[4:]


# ------------------------------------------------------------------ checkpoints


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: log origin, tree size, root hash and when it was signed (UTC)."""

    origin: str
    size: int
    root_hash: bytes
    timestamp: datetime

    def __post_init__(self) -> None:
        if not self.origin or any(c < " " for c in self.origin):
            raise ValueError(f"checkpoint origin {self.origin!r} must be one non-empty line")
        if self.size < 0:
            raise ValueError(f"checkpoint size must be >= 0, not {self.size}")
        if len(self.root_hash) != 32:
            raise ValueError(f"checkpoint root hash has 32 bytes, not {len(self.root_hash)}")
        if self.timestamp.tzinfo is None or self.timestamp.utcoffset() is None:
            raise ValueError("checkpoint timestamp must be timezone-aware")
        object.__setattr__(self, "timestamp", self.timestamp.astimezone(UTC))

    def body(self) -> str:
        """The note text that is signed."""
        root = base64.b64encode(self.root_hash).decode()
        return f"{self.origin}\n{self.size}\n{root}\ntimestamp {_format_time(self.timestamp)}\n"

    @classmethod
    def from_body(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note text (without checking any signature)."""
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise CheckpointError("a checkpoint has at least three lines, each ending in \\n")
        origin, size, root, *extensions = lines[:-1]
        if not origin:
            raise CheckpointError("checkpoint origin line is empty")
        if not _SIZE.fullmatch(size):
            raise CheckpointError(f"checkpoint tree size {size!r} is not a decimal number")
        try:
            root_hash = base64.b64decode(root, validate=True)
        except (binascii.Error, ValueError):
            root_hash = b""
        if len(root_hash) != 32 or base64.b64encode(root_hash).decode() != root:
            raise CheckpointError(f"checkpoint root hash {root!r} is not 32 bytes of base64")
        stamps = [m for m in map(_TIMESTAMP.fullmatch, extensions) if m]
        if len(stamps) != 1 or len(extensions) != 1:
            raise CheckpointError(
                "a battrace checkpoint has exactly one extension line, "
                f"'timestamp <RFC 3339 UTC>'; found {extensions!r}"
            )
        try:
            timestamp = datetime.fromisoformat(stamps[0].group(1)).replace(tzinfo=UTC)
        except ValueError:
            raise CheckpointError(f"checkpoint timestamp {extensions[0]!r} is invalid") from None
        return cls(origin, int(size), root_hash, timestamp)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields (root hash in lowercase hex)."""
        return {
            "origin": self.origin,
            "size": self.size,
            "root_hash": self.root_hash.hex(),
            "timestamp": _format_time(self.timestamp),
        }


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """The signed checkpoint note, as published and put in receipts."""
    return sign_note(checkpoint.body(), signer)


def open_checkpoint(
    note: str, verifier: NoteVerifier, *, origins: Sequence[str] | None = None
) -> Checkpoint:
    """The checkpoint in a signed note, after checking the signature and the format."""
    checkpoint = Checkpoint.from_body(open_note(note, verifier))
    if origins is not None and checkpoint.origin not in origins:
        raise CheckpointError(
            f"checkpoint is for log {checkpoint.origin!r}, not {' or '.join(origins)}"
        )
    return checkpoint

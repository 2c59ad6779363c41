"""Signed notes and checkpoints: golang.org/x/mod/sumdb/note vectors, tampering, formats."""

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from battrace.errors import IntegrityViolation, SigningKeyError
from battrace.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    open_checkpoint,
    open_note,
    sign_checkpoint,
    sign_note,
)
from battrace.ledger.keys import generate_signer, key_id, parse_signer, parse_verifier
from battrace.ledger.merkle import EMPTY_ROOT

# golang.org/x/mod/sumdb/note note_test.go
PETER_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VERIFIER = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FF"
    "YC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGr"
    "Q5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)

# c2sp.org/signed-note example verifier key and note.
C2SP_VERIFIER = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppz"
    "i2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)

WHEN = datetime(2025, 12, 7, 8, 0, tzinfo=timezone(timedelta(hours=8)))
ROOT = bytes(range(32))


def test_signing_reproduces_the_go_sumdb_note_vector_byte_for_byte() -> None:
    assert sign_note(TEXT, parse_signer(PETER_SIGNER)) == TEXT + "\n" + PETER_SIG


def test_opening_accepts_the_published_notes_and_ignores_other_keys_signatures() -> None:
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(note, parse_verifier(PETER_VERIFIER)) == TEXT
    assert open_note(note, parse_verifier(ENOCH_VERIFIER)) == TEXT
    assert open_note(C2SP_NOTE, parse_verifier(C2SP_VERIFIER)) == "This is an example message.\n"


def test_a_signer_key_yields_the_published_verifier_key() -> None:
    signer = parse_signer(PETER_SIGNER)
    assert signer.verifier().text == PETER_VERIFIER
    assert f"{signer.key_id:08x}" == "c74f20a3"
    assert "AYEKFALV" not in repr(signer)


def test_a_note_without_our_signature_is_rejected_with_the_key_named() -> None:
    with pytest.raises(CheckpointError, match=r"no signature by key PeterNeumann\+c74f20a3"):
        open_note(TEXT + "\n" + ENOCH_SIG, parse_verifier(PETER_VERIFIER))


def test_an_altered_text_fails_the_signature_check() -> None:
    altered = TEXT.replace("problem,", "problem;") + "\n" + PETER_SIG
    with pytest.raises(CheckpointError, match="does not verify"):
        open_note(altered, parse_verifier(PETER_VERIFIER))


@pytest.mark.parametrize(
    ("note", "message"),
    [
        (TEXT, "no blank line"),
        (TEXT + "\n", "must end with a newline"),
        (TEXT + "\n" + PETER_SIG[:-1], "must end with a newline"),
        ("\x01" + TEXT + "\n" + PETER_SIG, "forbidden character"),
        (TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name", 1), "not valid base64"),
        (TEXT + "\n" + PETER_SIG + "Unexpected line.\n", "does not start with"),
        (TEXT + "\n— PeterNeumann AAAA\n", "too short"),
        (TEXT + "\n" + PETER_SIG * 101, "more than 100 signatures"),
    ],
)
def test_malformed_notes_are_rejected_like_the_go_implementation(note: str, message: str) -> None:
    with pytest.raises(CheckpointError, match=message):
        open_note(note, parse_verifier(PETER_VERIFIER))


@pytest.mark.parametrize(
    "key",
    [
        PETER_VERIFIER[:-1],
        PETER_VERIFIER.replace("c74f20a3", "c74f20a4"),
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
    ],
)
def test_mangled_verifier_keys_are_refused(key: str) -> None:
    with pytest.raises(SigningKeyError, match="verifier key"):
        parse_verifier(key)


@pytest.mark.parametrize(
    "key",
    [PETER_SIGNER[:-2], PETER_SIGNER.replace("c74f20a3", "c74f20a4"), PETER_SIGNER[8:]],
)
def test_mangled_signer_keys_are_refused(key: str) -> None:
    with pytest.raises(SigningKeyError, match="signing key"):
        parse_signer(key)


def test_key_ids_hash_the_name_the_algorithm_and_the_public_key() -> None:
    public = base64.b64decode(PETER_VERIFIER.split("+", 2)[2])[1:]
    assert key_id("PeterNeumann", public) == 0xC74F20A3


# ---------------------------------------------------------------- checkpoints


def test_a_checkpoint_round_trips_through_its_signed_note() -> None:
    signer_text, verifier_text = generate_signer("battrace.example/log")
    checkpoint = Checkpoint("battrace.example/log", 1234, ROOT, WHEN)
    note = sign_checkpoint(checkpoint, parse_signer(signer_text))
    assert note.startswith(
        "battrace.example/log\n1234\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
        "timestamp 2025-12-07T00:00:00Z\n\n— battrace.example/log "
    )
    assert open_checkpoint(note, parse_verifier(verifier_text)) == checkpoint


def test_checkpoint_time_is_kept_in_utc_to_the_microsecond() -> None:
    checkpoint = Checkpoint("log", 0, EMPTY_ROOT, WHEN.replace(microsecond=120))
    assert checkpoint.timestamp == datetime(2025, 12, 7, 0, 0, 0, 120, tzinfo=UTC)
    assert "timestamp 2025-12-07T00:00:00.000120Z\n" in checkpoint.body()
    assert Checkpoint.from_body(checkpoint.body()) == checkpoint


def test_a_checkpoint_signed_by_another_key_with_the_same_name_is_rejected() -> None:
    ours, _ = generate_signer("battrace.example/log")
    _, impostor_verifier = generate_signer("battrace.example/log")
    note = sign_checkpoint(Checkpoint("battrace.example/log", 1, ROOT, WHEN), parse_signer(ours))
    with pytest.raises(
        CheckpointError, match=r"no signature by key battrace\.example/log"
    ) as failure:
        open_checkpoint(note, parse_verifier(impostor_verifier))
    assert isinstance(failure.value, IntegrityViolation)


def test_a_checkpoint_from_another_log_can_be_refused_by_origin() -> None:
    signer_text, verifier_text = generate_signer("battrace.example/log")
    note = sign_checkpoint(Checkpoint("elsewhere/log", 1, ROOT, WHEN), parse_signer(signer_text))
    with pytest.raises(CheckpointError, match="is for log 'elsewhere/log'"):
        open_checkpoint(note, parse_verifier(verifier_text), origins=["battrace.example/log"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("log\n12\n", "at least three lines"),
        ("log\n012\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\ntimestamp 2025-12-07T00:00:00Z\n",
         "not a decimal number"),
        ("log\n12\nAAEC\ntimestamp 2025-12-07T00:00:00Z\n", "not 32 bytes of base64"),
        ("log\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", "exactly one extension line"),
        ("log\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\ntimestamp 2025-12-07 00:00Z\n",
         "exactly one extension line"),
        ("log\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\ntimestamp 2025-13-07T00:00:00Z\n",
         "timestamp .* is invalid"),
        ("\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\ntimestamp 2025-12-07T00:00:00Z\n",
         "origin line is empty"),
    ],
)  # fmt: skip
def test_malformed_checkpoint_bodies_are_rejected(body: str, message: str) -> None:
    with pytest.raises(CheckpointError, match=message):
        Checkpoint.from_body(body)


def test_a_checkpoint_needs_an_aware_time_and_a_32_byte_root() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Checkpoint("log", 1, ROOT, datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="32 bytes"):
        Checkpoint("log", 1, b"short", WHEN)
    with pytest.raises(ValueError, match="one non-empty line"):
        Checkpoint("log\nforged", 1, ROOT, WHEN)

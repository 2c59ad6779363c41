"""Key files: created private, never overwritten, refused when others can read them."""

import os
import stat
from pathlib import Path

import pytest

from battrace.errors import SigningKeyError
from battrace.ledger.keys import (
    generate_signer,
    init_key_dir,
    load_signer,
    load_verifier,
    parse_signer,
    parse_verifier,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generated_keys_sign_what_their_verifier_accepts() -> None:
    signer_text, verifier_text = generate_signer("battrace.example/log")
    signer, verifier = parse_signer(signer_text), parse_verifier(verifier_text)
    assert signer.verifier() == verifier
    assert verifier.verify(b"msg", signer.sign(b"msg"))
    assert not verifier.verify(b"other", signer.sign(b"msg"))
    assert verifier_text.startswith(f"battrace.example/log+{verifier.key_id:08x}+")


@pytest.mark.parametrize("name", ["", "has space", "a+b", "tab\there"])
def test_key_names_with_spaces_or_plus_are_refused(name: str) -> None:
    with pytest.raises(SigningKeyError, match="not a valid key name"):
        generate_signer(name)


def test_init_writes_a_private_signing_key_and_a_public_verifier(tmp_path: Path) -> None:
    keys = init_key_dir(tmp_path / "keys", "battrace.example/log")
    assert mode(tmp_path / "keys") == 0o700
    assert keys.signing_key == tmp_path / "keys" / "signing.key"
    assert mode(keys.signing_key) == 0o600
    assert keys.verifier_key.read_text().strip() == keys.verifier.text
    assert load_signer(tmp_path / "keys").verifier() == keys.verifier
    assert load_verifier(tmp_path / "keys") == keys.verifier


def test_init_refuses_to_overwrite_a_signing_key(tmp_path: Path) -> None:
    first = init_key_dir(tmp_path, "battrace.example/log")
    before = first.signing_key.read_bytes()
    with pytest.raises(SigningKeyError, match="refusing to overwrite"):
        init_key_dir(tmp_path, "battrace.example/log")
    assert first.signing_key.read_bytes() == before


@pytest.mark.parametrize("unsafe", [0o640, 0o604, 0o660])
def test_a_signing_key_readable_by_others_is_refused_with_the_fix(
    tmp_path: Path, unsafe: int
) -> None:
    keys = init_key_dir(tmp_path, "battrace.example/log")
    os.chmod(keys.signing_key, unsafe)
    with pytest.raises(SigningKeyError, match=f"chmod 600 {keys.signing_key}") as failure:
        load_signer(keys.signing_key)
    assert f"{unsafe:04o}" in str(failure.value)
    assert "PRIVATE" not in str(failure.value)


def test_a_missing_signing_key_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="battrace keys init"):
        load_signer(tmp_path)


def test_a_verifier_is_loaded_from_its_text_a_file_or_a_key_directory(tmp_path: Path) -> None:
    keys = init_key_dir(tmp_path, "battrace.example/log")
    assert load_verifier(keys.verifier.text) == keys.verifier
    assert load_verifier(str(keys.verifier_key)) == keys.verifier
    assert load_verifier(keys.verifier_key) == keys.verifier


def test_an_unreadable_verifier_argument_is_explained(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="neither a verifier key"):
        load_verifier(tmp_path / "nope.pub")
    with pytest.raises(SigningKeyError, match="verifier key"):
        load_verifier("name+zzzz+AAAA")

"""Receipts for a batch are computed in memory and equal proofs from the whole tree."""

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from battrace.ledger.batch import batch_inclusion_proofs, batch_inclusion_proofs_hex
from battrace.ledger.merkle import Frontier, leaf_hash, root_of, verify_inclusion


def leaves(n):
    return [leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(n)]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 70), st.integers(1, 70))
def test_batch_proofs_verify_against_the_new_root(before, added):
    all_leaves = leaves(before + added)
    start = Frontier()
    for leaf in all_leaves[:before]:
        start.append(leaf)
    proofs = batch_inclusion_proofs(start, all_leaves[before:])
    root = root_of(all_leaves)
    size = before + added
    for offset, proof in enumerate(proofs):
        verify_inclusion(all_leaves[before + offset], before + offset, size, proof, root)


def _reference_proof(all_leaves, index):
    """RFC 9162 §2.1.3.1 PATH(m, D[n]) straight from the definition."""
    if len(all_leaves) == 1:
        return []
    k = 1 << ((len(all_leaves) - 1).bit_length() - 1)
    if index < k:
        return [*_reference_proof(all_leaves[:k], index), root_of(all_leaves[k:])]
    return [*_reference_proof(all_leaves[k:], index - k), root_of(all_leaves[:k])]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 100), st.integers(1, 100))
def test_batch_proofs_equal_the_definition_and_the_hex_form(before, added):
    all_leaves = leaves(before + added)
    start = Frontier()
    for leaf in all_leaves[:before]:
        start.append(leaf)
    proofs = batch_inclusion_proofs(start, all_leaves[before:])
    assert len(proofs) == added
    for offset, proof in enumerate(proofs):
        assert proof == _reference_proof(all_leaves, before + offset)
    hexed = batch_inclusion_proofs_hex(start, all_leaves[before:])
    assert hexed == [[h.hex() for h in p] for p in proofs]

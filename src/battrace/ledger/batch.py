"""Inclusion proofs for a freshly appended batch, computed in memory.

For leaves `[a, n)` appended to a tree whose frontier at size `a` is known, every node an
inclusion proof at size `n` needs is either a frontier node of size `a` (a left sibling wholly
before `a` is always one: it sits in the same block as `a`), or a perfect subtree completed by
one of the new leaves (which `Frontier.append` returns anyway). So receipts for a whole batch
cost no store round trips.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from battrace.ledger.merkle import Frontier, NodeId, node_hash

T = TypeVar("T")


def frontier_nodes(frontier: Frontier) -> dict[NodeId, bytes]:
    """The frontier's perfect subtrees as `(level, index)` → hash."""
    size = frontier.size
    stack = Frontier.to_bytes(frontier)[8:]
    out: dict[NodeId, bytes] = {}
    start = 0
    i = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            out[(level, start >> level)] = stack[i * 32 : (i + 1) * 32]
            start += 1 << level
            i += 1
    return out


def batch_inclusion_proofs(start: Frontier, leaves: Sequence[bytes]) -> list[list[bytes]]:
    """PATH(i, D[0:n]) for each new leaf i in `[start.size, start.size + len(leaves))`."""
    return _batch_paths(start, leaves, _same)


def batch_inclusion_proofs_hex(
    start: Frontier, leaves: Sequence[bytes], blobs: Sequence[bytes] | None = None
) -> list[list[str]]:
    """`batch_inclusion_proofs` with every hash hex-encoded (as receipts carry them); each
    distinct node is encoded once for the whole batch. `blobs`, when given, are what
    `Frontier.append` returned for each leaf (the ingest computed them already)."""
    return _batch_paths(start, leaves, bytes.hex, blobs)


def _same(h: bytes) -> bytes:
    return h


def _batch_paths(
    start: Frontier,
    leaves: Sequence[bytes],
    encode: Callable[[bytes], T],
    blobs: Sequence[bytes] | None = None,
) -> list[list[T]]:
    """The inclusion paths of the new leaves, by one top-down walk of RFC 9162 §2.1.3.1's
    recursion over the ranges that hold new leaves. Leaves under one range share the siblings
    above it, so each distinct node is hashed and encoded once, and a leaf's path costs one
    list copy: O(batch + log n) work for the batch instead of O(batch · log n)."""
    known = frontier_nodes(start)
    first, n = start.size, start.size + len(leaves)
    if blobs is None:
        grow = start.copy()
        blobs = [grow.append(leaf) for leaf in leaves]
    elif len(blobs) != len(leaves):
        raise ValueError(f"{len(blobs)} node blobs for {len(leaves)} leaves")
    for index, leaf, blob in zip(range(first, n), leaves, blobs, strict=True):
        known[(0, index)] = leaf
        for k in range(len(blob) // 32):
            level = k + 1
            known[(level, ((index + 1) >> level) - 1)] = blob[k * 32 : (k + 1) * 32]

    def range_hash(lo: int, hi: int) -> bytes:
        """MTH of leaves [lo, hi): a stored perfect subtree, or the fold of the ones it splits
        into (a right-border range)."""
        size = hi - lo
        if size & (size - 1) == 0:
            level = size.bit_length() - 1
            return known[(level, lo >> level)]
        k = 1 << ((size - 1).bit_length() - 1)
        return node_hash(range_hash(lo, lo + k), range_hash(lo + k, hi))

    proofs: list[list[T]] = []
    # (lo, hi, siblings top-down): ranges still to split, leftmost first
    todo: list[tuple[int, int, list[T]]] = [(0, n, [])] if n > first else []
    while todo:
        lo, hi, above = todo.pop()
        if hi - lo == 1:
            proofs.append(above[::-1])
            continue
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        mid = lo + k
        # the right part always holds new leaves (the batch runs to the end of the tree)
        todo.append((mid, hi, [*above, encode(range_hash(lo, mid))]))
        if mid > first:
            todo.append((lo, mid, [*above, encode(range_hash(mid, hi))]))
    return proofs

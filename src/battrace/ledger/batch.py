"""Inclusion proofs for a freshly appended batch, computed in memory.

For leaves `[a, n)` appended to a tree whose frontier at size `a` is known, every node an
inclusion proof at size `n` needs is either a frontier node of size `a` (a left sibling wholly
before `a` is always one: it sits in the same block as `a`), or a perfect subtree completed by
one of the new leaves (which `Frontier.append` returns anyway). So receipts for a whole batch
cost no store round trips.
"""

from __future__ import annotations

from collections.abc import Sequence

from battrace.ledger.merkle import Frontier, NodeId, node_hash


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
    """PATH(i, D[0:n]) for each new leaf i in `[start.size, start.size + len(leaves))`.

    Neighbouring leaves share most of their proof, so the hash of every range is computed once
    for the whole batch.
    """
    known = frontier_nodes(start)
    grow = start.copy()
    for leaf in leaves:
        index = grow.size
        known[(0, index)] = leaf
        blob = grow.append(leaf)
        for k in range(len(blob) // 32):
            level = k + 1
            known[(level, ((index + 1) >> level) - 1)] = blob[k * 32 : (k + 1) * 32]
    n = grow.size
    ranges: dict[tuple[int, int], bytes] = {}

    def range_hash(lo: int, hi: int) -> bytes:
        """MTH of leaves [lo, hi): a stored perfect subtree, or the fold of the ones it splits
        into (a right-border range)."""
        got = ranges.get((lo, hi))
        if got is None:
            size = hi - lo
            if size & (size - 1) == 0:
                level = size.bit_length() - 1
                got = known[(level, lo >> level)]
            else:
                k = 1 << ((size - 1).bit_length() - 1)
                got = node_hash(range_hash(lo, lo + k), range_hash(lo + k, hi))
            ranges[(lo, hi)] = got
        return got

    proofs = []
    for index in range(start.size, n):
        path = []
        lo, hi = 0, n
        while hi - lo > 1:  # RFC 9162 §2.1.3.1, top-down; reversed at the end
            k = 1 << ((hi - lo - 1).bit_length() - 1)
            if index < lo + k:
                path.append(range_hash(lo + k, hi))
                hi = lo + k
            else:
                path.append(range_hash(lo, lo + k))
                lo += k
        path.reverse()
        proofs.append(path)
    return proofs

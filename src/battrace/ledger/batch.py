"""Inclusion proofs for a freshly appended batch, computed in memory.

For leaves `[a, n)` appended to a tree whose frontier at size `a` is known, every node an
inclusion proof at size `n` needs is either a frontier node of size `a` (a left sibling wholly
before `a` is always one: it sits in the same block as `a`), or a perfect subtree completed by
one of the new leaves (which `Frontier.append` returns anyway). So receipts for a whole batch
cost no store round trips.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from battrace.ledger.merkle import Frontier, NodeId, inclusion_proof


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
    known = frontier_nodes(start)
    grow = start.copy()
    for leaf in leaves:
        index = grow.size
        known[(0, index)] = leaf
        blob = grow.append(leaf)
        for k in range(len(blob) // 32):
            level = k + 1
            known[(level, ((index + 1) >> level) - 1)] = blob[k * 32 : (k + 1) * 32]

    def get(ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        return {i: known[i] for i in ids if i in known}

    n = grow.size
    return [inclusion_proof(i, n, get) for i in range(start.size, n)]

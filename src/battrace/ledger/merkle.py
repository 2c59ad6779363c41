"""RFC 9162 (Certificate Transparency v2) Merkle tree: hashing, frontier, proofs, verification.

Node `(level, index)` is the hash of the perfect subtree over leaves
`[index * 2**level, (index + 1) * 2**level)`; level 0 holds the leaf hashes.

Storage scheme (the store relies on it): next to each leaf hash `i` the store keeps a blob,
the concatenation of the hashes of the perfect subtrees *completed* by leaf `i`, levels
`1 .. ctz(i + 1)` in increasing order, 32 bytes each. So node `(level >= 1, index)` lives in
the blob of leaf `completing_leaf(level, index)` at byte offset `(level - 1) * 32`.

Every proof element is the hash of a range of leaves that is either a perfect aligned
subtree or a right-border range `[a, size)`; the latter is the fold, right to left, of the
perfect aligned subtrees it splits into. So a proof needs only stored perfect-subtree nodes,
and the `plan_*` helpers list them so the store can fetch them in one round trip.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from battrace.errors import IntegrityViolation

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Frontier",
    "NodeGetter",
    "NodeId",
    "ProofError",
    "TreeRebuilder",
    "completing_leaf",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_from_blob",
    "node_hash",
    "plan_consistency",
    "plan_inclusion",
    "plan_root",
    "root_at",
    "root_of",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]
"""`(level, index)` of a perfect aligned subtree; level 0 is a leaf hash."""

NodeGetter = Callable[[Sequence[NodeId]], Mapping[NodeId, bytes]]
"""Answers a whole list of node ids in one go (one store query)."""

_sha256 = hashlib.sha256


class ProofError(IntegrityViolation, ValueError):
    """A Merkle proof does not verify, or the nodes it needs are missing or malformed."""


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one leaf."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return _sha256(b"\x01" + left + right).digest()


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """The reference MTH of RFC 9162 §2.1.1, by its recursive definition (for tests)."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


def completing_leaf(level: int, index: int) -> int:
    """The leaf whose blob stores node `(level, index)` (for level 0: the leaf itself)."""
    return ((index + 1) << level) - 1


def node_from_blob(blob: bytes, level: int) -> bytes:
    """Node at `level >= 1` out of the blob of the leaf that completed it."""
    if level < 1 or len(blob) < level * HASH_SIZE:
        raise ValueError(f"a blob of {len(blob)} bytes holds no node at level {level}")
    return blob[(level - 1) * HASH_SIZE : level * HASH_SIZE]


def _split(n: int) -> int:
    """The largest power of two strictly smaller than `n` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# ------------------------------------------------------------------ frontier


class Frontier:
    """The right edge of an append-only tree: O(log n) state, amortised one hash per leaf."""

    __slots__ = ("_size", "_stack")

    def __init__(self) -> None:
        self._size = 0
        self._stack: list[bytes] = []  # perfect subtree roots, largest (leftmost) first

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def append(self, leaf_hash: bytes) -> bytes:
        """Add a leaf; return the blob of perfect-subtree hashes that this leaf completed."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"a leaf hash has {HASH_SIZE} bytes, not {len(leaf_hash)}")
        n = self._size
        self._size = n + 1
        stack = self._stack
        if not n & 1:
            stack.append(leaf_hash)
            return b""
        h = leaf_hash
        completed = []
        while n & 1:
            h = _sha256(b"\x01" + stack.pop() + h).digest()
            completed.append(h)
            n >>= 1
        stack.append(h)
        return b"".join(completed)

    def root(self) -> bytes:
        """The tree head (MTH) at the current size."""
        stack = self._stack
        if not stack:
            return EMPTY_ROOT
        h = stack[-1]
        for left in reversed(stack[:-1]):
            h = node_hash(left, h)
        return h

    def copy(self) -> Frontier:
        """An independent copy (to try a batch and drop it on failure)."""
        other = Frontier()
        other._size = self._size
        other._stack = list(self._stack)
        return other

    def to_bytes(self) -> bytes:
        """8-byte big-endian size followed by the frontier hashes, largest subtree first."""
        return self._size.to_bytes(8, "big") + b"".join(self._stack)

    @classmethod
    def from_bytes(cls, data: bytes) -> Frontier:
        """The frontier saved by `to_bytes`; raises `ValueError` when malformed."""
        if len(data) < 8:
            raise ValueError("a saved frontier has at least 8 bytes (the size)")
        size = int.from_bytes(data[:8], "big")
        expected = 8 + size.bit_count() * HASH_SIZE
        if len(data) != expected:
            raise ValueError(
                f"a saved frontier of size {size} has {expected} bytes, not {len(data)}"
            )
        frontier = cls()
        frontier._size = size
        frontier._stack = [data[i : i + HASH_SIZE] for i in range(8, len(data), HASH_SIZE)]
        return frontier

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frontier):
            return NotImplemented
        return self._size == other._size and self._stack == other._stack

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Frontier(size={self._size}, root={self.root().hex()})"


class TreeRebuilder:
    """Recompute a log from its leaves in order, in O(log n) memory, checking stored nodes."""

    __slots__ = ("_frontier",)

    def __init__(self) -> None:
        self._frontier = Frontier()

    @property
    def size(self) -> int:
        """Number of leaves fed so far."""
        return self._frontier.size

    def add(self, leaf_hash: bytes, *, stored_blob: bytes | None = None) -> None:
        """Feed the next leaf; with `stored_blob`, check the store's nodes for it too."""
        index = self._frontier.size
        blob = self._frontier.append(leaf_hash)
        if stored_blob is not None and stored_blob != blob:
            raise ProofError(
                f"leaf {index}: stored subtree hashes {stored_blob.hex() or '(none)'} differ "
                f"from the recomputed {blob.hex() or '(none)'}"
            )

    def root(self) -> bytes:
        """The tree head at the current size."""
        return self._frontier.root()

    def check_root(self, expected: bytes) -> None:
        """Raise `ProofError` unless the tree head at the current size is `expected`."""
        computed = self.root()
        if computed != expected:
            raise ProofError(
                f"tree size {self.size}: expected root {expected.hex()}, "
                f"recomputed {computed.hex()}"
            )


# ------------------------------------------------------------------ proof planning


def _perfect_nodes(start: int, end: int) -> list[NodeId]:
    """Split `[start, end)` into perfect aligned subtrees, left first.

    Only called for ranges of a proof, whose start is a multiple of a power of two at least
    as large as the range, so each greedy piece is aligned.
    """
    nodes = []
    while start < end:
        level = (end - start).bit_length() - 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Ranges whose hashes form PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, in order."""
    ranges = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()  # the recursion emits the top sibling last
    return ranges


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """Ranges whose hashes form PROOF(old, D[0:new]) of RFC 9162 §2.1.4.1, in order."""
    ranges = []
    lo, hi, m, whole = 0, new_size, old_size, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def _plan(ranges: Iterable[tuple[int, int]]) -> list[NodeId]:
    nodes: dict[NodeId, None] = {}
    for start, end in ranges:
        nodes.update(dict.fromkeys(_perfect_nodes(start, end)))
    return list(nodes)


def _check_size(name: str, value: int) -> None:
    if value < 0:
        raise ValueError(f"{name} must be >= 0, not {value}")


def plan_inclusion(index: int, size: int) -> list[NodeId]:
    """The stored nodes an inclusion proof of leaf `index` in a tree of `size` needs."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    return _plan(_inclusion_ranges(index, size))


def plan_consistency(old_size: int, new_size: int) -> list[NodeId]:
    """The stored nodes a consistency proof from `old_size` to `new_size` needs."""
    _check_size("old_size", old_size)
    if old_size > new_size:
        raise ValueError(f"old size {old_size} is larger than new size {new_size}")
    if old_size in (0, new_size):
        return []
    return _plan(_consistency_ranges(old_size, new_size))


def plan_root(size: int) -> list[NodeId]:
    """The stored nodes the tree head at `size` is folded from."""
    _check_size("size", size)
    return _perfect_nodes(0, size)


# ------------------------------------------------------------------ proof building


def _fetch(get_nodes: NodeGetter, wanted: list[NodeId]) -> Mapping[NodeId, bytes]:
    if not wanted:
        return {}
    got = get_nodes(wanted)
    for node in wanted:
        value = got.get(node)
        if value is None or len(value) != HASH_SIZE:
            problem = "missing" if value is None else f"{len(value)} bytes long"
            raise ProofError(f"stored node (level {node[0]}, index {node[1]}) is {problem}")
    return got


def _range_hash(start: int, end: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    parts = _perfect_nodes(start, end)
    h = nodes[parts[-1]]
    for node in reversed(parts[:-1]):
        h = node_hash(nodes[node], h)
    return h


def inclusion_proof(index: int, size: int, get_nodes: NodeGetter) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1 (bottom-up), from stored nodes."""
    nodes = _fetch(get_nodes, plan_inclusion(index, size))
    return [_range_hash(s, e, nodes) for s, e in _inclusion_ranges(index, size)]


def consistency_proof(old_size: int, new_size: int, get_nodes: NodeGetter) -> list[bytes]:
    """PROOF(old_size, D[0:new_size]) of RFC 9162 §2.1.4.1; empty when trivially consistent."""
    nodes = _fetch(get_nodes, plan_consistency(old_size, new_size))
    if old_size in (0, new_size):
        return []
    return [_range_hash(s, e, nodes) for s, e in _consistency_ranges(old_size, new_size)]


def root_at(size: int, get_nodes: NodeGetter) -> bytes:
    """The tree head at an earlier `size`, from stored nodes."""
    nodes = _fetch(get_nodes, plan_root(size))
    return _range_hash(0, size, nodes) if size else EMPTY_ROOT


# ------------------------------------------------------------------ verification


def _check_hashes(what: str, proof: Sequence[bytes]) -> None:
    for i, p in enumerate(proof):
        if len(p) != HASH_SIZE:
            raise ProofError(f"{what} element {i} has {len(p)} bytes, not {HASH_SIZE}")


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check an inclusion proof (RFC 9162 §2.1.3.2); raise `ProofError` saying what failed."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    _check_hashes("inclusion proof", proof)
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError(
                f"inclusion proof for leaf {index} in tree size {size} is too long "
                f"({len(proof)} hashes)"
            )
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(
            f"inclusion proof for leaf {index} in tree size {size} is too short "
            f"({len(proof)} hashes)"
        )
    if r != root:
        raise ProofError(
            f"inclusion proof for leaf {index} in tree size {size} does not verify: "
            f"expected root {root.hex()}, computed {r.hex()}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check a consistency proof (RFC 9162 §2.1.4.2); raise `ProofError` saying what failed."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"tree size went from {old_size} to {new_size}: not append-only")
    _check_hashes("consistency proof", proof)
    if old_size == 0 or old_size == new_size:
        if proof:
            raise ProofError(f"consistency proof from size {old_size} to {new_size} must be empty")
        expected = EMPTY_ROOT if old_size == 0 else new_root
        if old_root != expected:
            raise ProofError(
                f"tree at size {old_size}: expected root {expected.hex()}, got {old_root.hex()}"
            )
        return
    if not proof:
        raise ProofError(f"consistency proof from size {old_size} to {new_size} is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(
                f"consistency proof from size {old_size} to {new_size} is too long "
                f"({len(proof)} hashes)"
            )
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(
            f"consistency proof from size {old_size} to {new_size} is too short "
            f"({len(proof)} hashes)"
        )
    if fr != old_root:
        raise ProofError(
            f"consistency proof does not verify the old tree (size {old_size}): "
            f"expected root {old_root.hex()}, computed {fr.hex()}"
        )
    if sr != new_root:
        raise ProofError(
            f"consistency proof does not verify the new tree (size {new_size}): "
            f"expected root {new_root.hex()}, computed {sr.hex()}"
        )


# ------------------------------------------------------------------ benchmarks


def bench_frontier(n: int = 1_000_000) -> float:
    """Frontier appends per second (leaf hashes precomputed)."""
    leaves = [leaf_hash(i.to_bytes(8, "big")) for i in range(min(n, 100_000))]
    frontier = Frontier()
    t0 = time.perf_counter()
    for i in range(n):
        frontier.append(leaves[i % len(leaves)])
    return n / (time.perf_counter() - t0)


def bench_inclusion_proofs(size: int = 10_000_000, n: int = 10_000) -> float:
    """Inclusion proofs built per second at `size` leaves, from a dict-backed node getter."""
    indexes = [(i * 7_919_993) % size for i in range(n)]
    table: dict[NodeId, bytes] = {}
    for index in indexes:
        for node in plan_inclusion(index, size):
            table[node] = _sha256(b"%d/%d" % node).digest()
    t0 = time.perf_counter()
    for index in indexes:
        inclusion_proof(index, size, lambda ids: table)
    return n / (time.perf_counter() - t0)

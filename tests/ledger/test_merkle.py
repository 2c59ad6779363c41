"""RFC 9162 Merkle tree: published vectors, the stored-blob scheme, proofs and their checks."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from battrace.errors import IntegrityViolation
from battrace.ledger import merkle
from battrace.ledger.merkle import (
    EMPTY_ROOT,
    Frontier,
    NodeId,
    ProofError,
    TreeRebuilder,
    completing_leaf,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_from_blob,
    node_hash,
    plan_consistency,
    plan_inclusion,
    plan_root,
    root_at,
    root_of,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

# transparency-dev/merkle testonly/constants.go: leaf inputs and the tree built from them.
LEAF_INPUTS = [h(x) for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                               "606162636465666768696a6b6c6d6e6f"]]  # fmt: skip
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
NODES = {
    (1, 0): "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    (1, 1): "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    (1, 2): "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    (1, 3): "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    (2, 0): "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    (2, 1): "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    (3, 0): "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
# transparency-dev/merkle proof/verify_test.go (leaf numbers there are 1-based).
INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (0, 1, []),
]  # fmt: skip
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip


class StoredTree:
    """A log kept exactly as the store keeps it: leaf hashes plus one blob per leaf."""

    def __init__(self, leaf_hashes: list[bytes]) -> None:
        self.leaves = list(leaf_hashes)
        self.frontier = Frontier()
        self.blobs = [self.frontier.append(lh) for lh in self.leaves]
        self.queries = 0

    def get_nodes(self, ids: object) -> dict[NodeId, bytes]:
        self.queries += 1
        out = {}
        for level, index in ids:  # type: ignore[attr-defined]
            if level == 0:
                out[(level, index)] = self.leaves[index]
            else:
                out[(level, index)] = node_from_blob(
                    self.blobs[completing_leaf(level, index)], level
                )
        return out


def tree_of(n: int) -> StoredTree:
    return StoredTree([leaf_hash(i.to_bytes(4, "big")) for i in range(n)])


VECTOR_TREE = StoredTree([leaf_hash(x) for x in LEAF_INPUTS])


# ---------------------------------------------------------------- reference recursion


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1, literally."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*ref_path(m, leaves[:k]), root_of(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), root_of(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1, literally."""
    n = len(leaves)
    if m == n:
        return [] if whole else [root_of(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*ref_subproof(m, leaves[:k], whole), root_of(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), root_of(leaves[:k])]


# ---------------------------------------------------------------- published vectors


def test_roots_for_sizes_zero_to_eight_match_the_reference_vectors() -> None:
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT == h(ROOTS[0])
    for size, data in enumerate(LEAF_INPUTS, 1):
        frontier.append(leaf_hash(data))
        assert frontier.root() == h(ROOTS[size]) == root_of(VECTOR_TREE.leaves[:size])


def test_stored_blobs_hold_the_reference_node_hashes_where_the_scheme_says() -> None:
    for (level, index), expected in NODES.items():
        blob = VECTOR_TREE.blobs[completing_leaf(level, index)]
        assert node_from_blob(blob, level) == h(expected)
    assert [len(b) // 32 for b in VECTOR_TREE.blobs] == [0, 1, 0, 2, 0, 1, 0, 3]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_the_reference_vectors(
    index: int, size: int, proof: list[str]
) -> None:
    built = inclusion_proof(index, size, VECTOR_TREE.get_nodes)
    assert built == [h(p) for p in proof]
    verify_inclusion(VECTOR_TREE.leaves[index], index, size, built, h(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs_match_the_reference_vectors(
    old: int, new: int, proof: list[str]
) -> None:
    built = consistency_proof(old, new, VECTOR_TREE.get_nodes)
    assert built == [h(p) for p in proof]
    verify_consistency(old, new, h(ROOTS[old]), h(ROOTS[new]), built)


def test_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"") == h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert node_hash(b"a" * 32, b"b" * 32) != leaf_hash(b"a" * 32 + b"b" * 32)


# ---------------------------------------------------------------- frontier and storage


def test_frontier_survives_a_save_and_reload_mid_tree() -> None:
    tree = tree_of(11)
    saved = Frontier()
    for lh in tree.leaves[:6]:
        saved.append(lh)
    reloaded = Frontier.from_bytes(saved.to_bytes())
    assert reloaded == saved
    assert [reloaded.append(lh) for lh in tree.leaves[6:]] == tree.blobs[6:]
    assert reloaded.root() == root_of(tree.leaves)


def test_a_copied_frontier_is_independent() -> None:
    frontier = Frontier()
    frontier.append(leaf_hash(b"a"))
    trial = frontier.copy()
    trial.append(leaf_hash(b"b"))
    assert (frontier.size, trial.size) == (1, 2)


@pytest.mark.parametrize("data", [b"", b"\x00" * 7, (3).to_bytes(8, "big") + b"\x00" * 32])
def test_a_malformed_saved_frontier_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="saved frontier"):
        Frontier.from_bytes(data)


def test_leaf_hashes_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Frontier().append(b"short")


def test_completing_leaf_is_the_last_leaf_under_the_node() -> None:
    assert completing_leaf(0, 5) == 5
    assert completing_leaf(1, 0) == 1
    assert completing_leaf(3, 2) == 23


# ---------------------------------------------------------------- properties

sizes = st.integers(1, 300)


@settings(max_examples=60, deadline=None)
@given(sizes, st.data())
def test_every_leaf_has_an_inclusion_proof_that_verifies(size: int, data: st.DataObject) -> None:
    tree = tree_of(size)
    root = root_of(tree.leaves)
    for index in {0, size - 1, data.draw(st.integers(0, size - 1))}:
        proof = inclusion_proof(index, size, tree.get_nodes)
        assert proof == ref_path(index, tree.leaves)
        verify_inclusion(tree.leaves[index], index, size, proof, root)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 200), st.data())
def test_an_inclusion_proof_never_verifies_for_another_leaf_index_or_tree_height(
    size: int, data: st.DataObject
) -> None:
    # Sizes whose audit paths have the same shape give the same computed root; only a
    # signed checkpoint binds size and root, so (like transparency-dev) we probe heights.
    tree = tree_of(size * 2)
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(index, size, tree.get_nodes)
    root = root_of(tree.leaves[:size])
    other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index))
    with pytest.raises(ProofError):
        verify_inclusion(tree.leaves[other], index, size, proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(tree.leaves[index], other, size, proof, root)
    for wrong_size in (size * 2, size // 2):
        if index < wrong_size:
            with pytest.raises(ProofError):
                verify_inclusion(tree.leaves[index], index, wrong_size, proof, root)


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 300), st.data())
def test_consistency_proofs_between_any_two_sizes_verify(new: int, data: st.DataObject) -> None:
    old = data.draw(st.integers(0, new))
    tree = tree_of(new)
    proof = consistency_proof(old, new, tree.get_nodes)
    if 0 < old < new:
        assert proof == ref_subproof(old, tree.leaves, True)
    verify_consistency(old, new, root_of(tree.leaves[:old]), root_of(tree.leaves), proof)


@settings(max_examples=60, deadline=None)
@given(st.integers(3, 300), st.data())
def test_a_tampered_consistency_proof_fails(new: int, data: st.DataObject) -> None:
    old = data.draw(st.integers(1, new - 1))
    tree = tree_of(new)
    proof = consistency_proof(old, new, tree.get_nodes)
    old_root, new_root = root_of(tree.leaves[:old]), root_of(tree.leaves)
    position = data.draw(st.integers(0, len(proof) - 1))
    flipped = [*proof]
    flipped[position] = bytes([flipped[position][0] ^ 1]) + flipped[position][1:]
    for bad in (flipped, proof[:-1], [*proof, new_root], [new_root, *proof]):
        with pytest.raises(ProofError):
            verify_consistency(old, new, old_root, new_root, bad)
    with pytest.raises(ProofError):
        verify_consistency(old, new, new_root, old_root, proof)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 500), st.data())
def test_root_at_an_earlier_size_comes_from_stored_nodes(new: int, data: st.DataObject) -> None:
    size = data.draw(st.integers(0, new))
    tree = tree_of(new)
    assert root_at(size, tree.get_nodes) == root_of(tree.leaves[:size])


def test_each_proof_needs_a_single_round_trip_to_the_store() -> None:
    tree = tree_of(1000)
    inclusion_proof(617, 999, tree.get_nodes)
    consistency_proof(300, 999, tree.get_nodes)
    root_at(777, tree.get_nodes)
    assert tree.queries == 3


def test_plans_list_only_perfect_subtrees_that_exist_at_that_size() -> None:
    for size in (1, 2, 7, 64, 1000):
        for nodes in (plan_inclusion(size - 1, size), plan_consistency(1, size), plan_root(size)):
            for level, index in nodes:
                assert completing_leaf(level, index) < size


# ---------------------------------------------------------------- failures say what


def test_a_failed_inclusion_check_names_expected_and_computed_roots_in_hex() -> None:
    proof = inclusion_proof(3, 8, VECTOR_TREE.get_nodes)
    with pytest.raises(ProofError) as failure:
        verify_inclusion(VECTOR_TREE.leaves[4], 3, 8, proof, h(ROOTS[8]))
    message = str(failure.value)
    assert "leaf 3 in tree size 8" in message
    assert f"expected root {ROOTS[8]}" in message
    assert "computed " in message


@pytest.mark.parametrize(
    ("index", "size", "proof", "message"),
    [
        (8, 8, [], "not in a tree of size 8"),
        (0, 8, [b"x" * 31], "element 0 has 31 bytes"),
        (0, 8, [b"x" * 32], "too short"),
        (0, 1, [b"x" * 32], "too long"),
    ],
)
def test_malformed_inclusion_proofs_are_rejected(
    index: int, size: int, proof: list[bytes], message: str
) -> None:
    with pytest.raises(ProofError, match=message):
        verify_inclusion(VECTOR_TREE.leaves[0], index, size, proof, h(ROOTS[8]))


def test_trivial_consistency_needs_an_empty_proof_and_matching_roots() -> None:
    verify_consistency(0, 5, EMPTY_ROOT, h(ROOTS[5]), [])
    verify_consistency(5, 5, h(ROOTS[5]), h(ROOTS[5]), [])
    with pytest.raises(ProofError, match="must be empty"):
        verify_consistency(5, 5, h(ROOTS[5]), h(ROOTS[5]), [h(ROOTS[1])])
    with pytest.raises(ProofError, match="expected root"):
        verify_consistency(5, 5, h(ROOTS[4]), h(ROOTS[5]), [])
    with pytest.raises(ProofError, match="not append-only"):
        verify_consistency(6, 5, h(ROOTS[6]), h(ROOTS[5]), [])
    with pytest.raises(ProofError, match="is empty"):
        verify_consistency(2, 5, h(ROOTS[2]), h(ROOTS[5]), [])


def test_a_missing_stored_node_is_an_integrity_violation_naming_the_node() -> None:
    with pytest.raises(ProofError, match=r"node \(level 1, index 1\) is missing") as failure:
        inclusion_proof(0, 4, lambda ids: {(0, 1): b"x" * 32})
    assert isinstance(failure.value, IntegrityViolation)


def test_proofs_for_impossible_positions_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(4, 4, VECTOR_TREE.get_nodes)
    with pytest.raises(ValueError, match="larger than new size"):
        consistency_proof(5, 4, VECTOR_TREE.get_nodes)


# ---------------------------------------------------------------- rebuilding a log


def test_rebuilding_recomputes_every_checkpoint_root_and_stored_blob() -> None:
    tree = tree_of(100)
    rebuilder = TreeRebuilder()
    for lh, blob in zip(tree.leaves, tree.blobs, strict=True):
        rebuilder.add(lh, stored_blob=blob)
        if rebuilder.size in (1, 37, 64, 100):
            rebuilder.check_root(root_of(tree.leaves[: rebuilder.size]))


def test_rebuilding_catches_a_rewritten_interior_node() -> None:
    tree = tree_of(8)
    rebuilder = TreeRebuilder()
    for lh in tree.leaves[:3]:
        rebuilder.add(lh)
    with pytest.raises(ProofError, match="leaf 3: stored subtree hashes"):
        rebuilder.add(tree.leaves[3], stored_blob=b"\x00" * 64)


def test_rebuilding_catches_a_checkpoint_that_signed_another_root() -> None:
    rebuilder = TreeRebuilder()
    rebuilder.add(leaf_hash(b"a"))
    with pytest.raises(ProofError, match=f"tree size 1: expected root {ROOTS[2]}"):
        rebuilder.check_root(h(ROOTS[2]))


def test_benchmarks_report_positive_rates() -> None:
    assert merkle.bench_frontier(1_000) > 0
    assert merkle.bench_inclusion_proofs(10_000_000, 20) > 0

"""app.crypto.merkle against the public RFC 6962 vectors and a naive reference.

tests/crypto/vectors/rfc6962.json holds values copied from transparency-dev/merkle
and google/certificate-transparency (Apache-2.0; repository, path and commit in its
"sources"), plus negative probes: the upstream recipes applied to those vectors,
and a few "derived" ones that pin this module's edge-case policy.
"""

import base64
import hashlib
import itertools
import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from app.crypto import merkle
from app.crypto.errors import CryptoError, InvalidKey
from app.crypto.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

VECTORS_PATH = Path(__file__).resolve().parent / "vectors" / "rfc6962.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="ascii"))
LEAVES = [bytes.fromhex(x) for x in VECTORS["leaf_inputs"]]
ROOTS = {case["size"]: bytes.fromhex(case["root"]) for case in VECTORS["roots"]}

REJECTED = (ProofError, InvalidKey)


def h(value: str) -> bytes:
    return bytes.fromhex(value)


def hs(values: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def _ids(cases: list[dict[str, Any]], *keys: str) -> list[str]:
    return [
        f"{case.get('origin', '')}:{'/'.join(str(case[k]) for k in keys)}:{case.get('desc', '')}"
        for case in cases
    ]


# --- The vector file ----------------------------------------------------------------------------


def test_vector_file_names_its_sources_and_licence() -> None:
    assert "Apache License, Version 2.0" in VECTORS["license"]
    sources = {s["id"]: s for s in VECTORS["sources"]}
    assert {s["repository"] for s in sources.values()} == {
        "transparency-dev/merkle",
        "google/certificate-transparency",
    }
    for source in sources.values():
        assert source["path"]
        assert len(source["commit"]) == 40
        int(source["commit"], 16)
    origins = {"derived", *sources}
    for case in VECTORS["inclusion_probes"] + VECTORS["consistency_probes"]:
        assert case["origin"] in origins
        assert isinstance(case["want_error"], bool)
        if case["origin"] == "derived":
            assert "upstream_want_error" not in case
    for case in VECTORS["inclusion_proofs"] + VECTORS["consistency_proofs"]:
        assert set(case["sources"]) <= set(sources)


def test_our_expectations_differ_from_upstream_only_where_noted() -> None:
    diverging = [
        (case["origin"], case["desc"])
        for case in VECTORS["inclusion_probes"] + VECTORS["consistency_probes"]
        if case["origin"] != "derived" and case["want_error"] != case["upstream_want_error"]
    ]
    noted = [
        (case["origin"], case["desc"])
        for case in VECTORS["inclusion_probes"] + VECTORS["consistency_probes"]
        if "note" in case
    ]
    assert diverging == noted
    # Every divergence is upstream accepting a malformed (not 32-byte) root that we refuse.
    assert diverging == [
        ("tdm-proofgen", "sizes are equal (one) and proof is empty"),
        ("ct-cpp", "always consistent: 0 -> 0, empty roots"),
        ("ct-cpp", "always consistent: 0 -> 1, empty roots"),
        ("ct-cpp", "always consistent: 1 -> 1, empty roots"),
    ]


def _b64(value: str) -> str:
    return base64.b64decode(value).hex()


@pytest.mark.parametrize(
    "sample", VECTORS["upstream_samples"], ids=[s["path"] for s in VECTORS["upstream_samples"]]
)
def test_probes_match_the_upstream_testdata_files(sample: dict[str, Any]) -> None:
    """The probes regenerated from the proofgen recipe equal upstream's own files."""
    c = sample["content"]
    if sample["path"].startswith("testdata/inclusion/"):
        want = {
            "index": c.get("leafIdx", c.get("leafIndex")),
            "tree_size": c["treeSize"],
            "root": _b64(c["root"]),
            "leaf_hash": _b64(c["leafHash"]),
            "proof": [_b64(p) for p in c["proof"]],
            "upstream_want_error": c["wantErr"],
        }
        probes = VECTORS["inclusion_probes"]
    else:
        want = {
            "old_size": c["size1"],
            "new_size": c["size2"],
            "old_root": _b64(c["root1"]),
            "new_root": _b64(c["root2"]),
            "proof": [_b64(p) for p in c["proof"]],
            "upstream_want_error": c["wantErr"],
        }
        probes = VECTORS["consistency_probes"]
    matches = [
        p
        for p in probes
        if p["origin"] == "tdm-proofgen"
        and p["desc"] == c["desc"]
        and all(p[k] == v for k, v in want.items())
    ]
    assert len(matches) >= 1


# --- Hashes and roots ---------------------------------------------------------------------------


def test_empty_tree_hash() -> None:
    assert EMPTY_ROOT == h(VECTORS["empty_root"]) == hashlib.sha256(b"").digest()
    assert root([]) == EMPTY_ROOT
    assert MerkleTree().root() == EMPTY_ROOT


def test_leaf_and_node_hashes() -> None:
    levels = [hs(level) for level in VECTORS["node_hashes"]]
    assert [leaf_hash(data) for data in LEAVES] == levels[0]
    for below, above in itertools.pairwise(levels):
        assert [node_hash(below[2 * i], below[2 * i + 1]) for i in range(len(above))] == above
    assert MerkleTree(LEAVES)._levels == levels


def test_hash_domain_separation() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert leaf_hash(a + b) != node_hash(a, b)


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_root_vectors(size: int) -> None:
    assert root(LEAVES[:size]) == ROOTS[size]
    assert MerkleTree(LEAVES).root(size) == ROOTS[size]


def test_incremental_tree_gives_every_vector_root() -> None:
    tree = MerkleTree()
    assert tree.root() == ROOTS[0]
    for i, data in enumerate(LEAVES):
        assert tree.append(data) == i
        assert tree.root() == ROOTS[i + 1]
        assert tree.leaf_hash(i) == leaf_hash(data)
    hashed = MerkleTree.from_leaf_hashes(leaf_hash(d) for d in LEAVES)
    assert [hashed.root(n) for n in range(9)] == [ROOTS[n] for n in range(9)]


# --- Known-answer proofs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case", VECTORS["inclusion_proofs"], ids=_ids(VECTORS["inclusion_proofs"], "index", "tree_size")
)
def test_inclusion_vectors(case: dict[str, Any]) -> None:
    index, size, proof = case["index"], case["tree_size"], hs(case["proof"])
    assert inclusion_proof(LEAVES[:size], index) == proof
    assert MerkleTree(LEAVES).inclusion_proof(index, size) == proof
    verify_inclusion(leaf_hash(LEAVES[index]), index, size, proof, ROOTS[size])


@pytest.mark.parametrize(
    "case",
    VECTORS["consistency_proofs"],
    ids=_ids(VECTORS["consistency_proofs"], "old_size", "new_size"),
)
def test_consistency_vectors(case: dict[str, Any]) -> None:
    old, new, proof = case["old_size"], case["new_size"], hs(case["proof"])
    assert consistency_proof(LEAVES[:new], old) == proof
    assert MerkleTree(LEAVES).consistency_proof(old, new) == proof
    verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


# --- Probes (positive and negative) -------------------------------------------------------------


def _expect(want_error: bool, check: Callable[[], None]) -> None:
    if want_error:
        with pytest.raises(REJECTED):
            check()
    else:
        check()


@pytest.mark.parametrize(
    "case",
    VECTORS["inclusion_probes"],
    ids=_ids(VECTORS["inclusion_probes"], "index", "tree_size"),
)
def test_inclusion_probes(case: dict[str, Any]) -> None:
    _expect(
        case["want_error"],
        lambda: verify_inclusion(
            h(case["leaf_hash"]),
            case["index"],
            case["tree_size"],
            hs(case["proof"]),
            h(case["root"]),
        ),
    )


@pytest.mark.parametrize(
    "case",
    VECTORS["consistency_probes"],
    ids=_ids(VECTORS["consistency_probes"], "old_size", "new_size"),
)
def test_consistency_probes(case: dict[str, Any]) -> None:
    _expect(
        case["want_error"],
        lambda: verify_consistency(
            case["old_size"],
            case["new_size"],
            h(case["old_root"]),
            h(case["new_root"]),
            hs(case["proof"]),
        ),
    )


def test_error_kinds() -> None:
    """Malformed arguments are InvalidKey; well-formed claims that fail are ProofError."""
    assert issubclass(ProofError, CryptoError)
    good = hs(VECTORS["inclusion_proofs"][-1]["proof"])  # index 5 of 8
    leaf5 = leaf_hash(LEAVES[5])
    with pytest.raises(InvalidKey):
        verify_inclusion(leaf5[:31], 5, 8, good, ROOTS[8])
    with pytest.raises(InvalidKey):
        verify_inclusion(leaf5, 5, 8, [*good[:2], b""], ROOTS[8])
    with pytest.raises(InvalidKey):
        verify_inclusion(leaf5, -1, 8, good, ROOTS[8])
    with pytest.raises(InvalidKey):
        verify_inclusion(leaf5, 5, 2**64, good, ROOTS[8])
    with pytest.raises(InvalidKey):
        verify_inclusion(leaf5, True, 8, good, ROOTS[8])
    with pytest.raises(InvalidKey):
        verify_inclusion(leaf5, 5, 8, b"".join(good), ROOTS[8])  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        verify_inclusion(leaf5, 5, 8, good, ROOTS[7])
    with pytest.raises(ProofError):
        verify_inclusion(leaf5, 8, 8, good, ROOTS[8])
    with pytest.raises(ProofError):
        verify_consistency(8, 7, ROOTS[8], ROOTS[7], [])
    with pytest.raises(InvalidKey):
        verify_consistency(-1, 7, ROOTS[8], ROOTS[7], [])


def test_generation_rejects_bad_arguments() -> None:
    tree = MerkleTree(LEAVES)
    for bad in (
        lambda: inclusion_proof(LEAVES, 8),
        lambda: inclusion_proof([], 0),
        lambda: inclusion_proof(LEAVES, -1),
        lambda: consistency_proof(LEAVES, 9),
        lambda: tree.consistency_proof(5, 4),
        lambda: tree.root(9),
        lambda: tree.leaf_hash(8),
        lambda: root(["not bytes"]),  # type: ignore[list-item]
        lambda: MerkleTree.from_leaf_hashes([b"short"]),
        lambda: tree.append_leaf_hash(b"short"),
        lambda: node_hash(b"short", EMPTY_ROOT),
    ):
        with pytest.raises(InvalidKey):
            bad()


def test_consistency_from_empty_and_equal_trees() -> None:
    """Decided here: 0 -> n needs the empty-tree root and an empty proof; n -> n equal roots."""
    assert consistency_proof(LEAVES, 0) == []
    assert consistency_proof(LEAVES, 8) == []
    assert consistency_proof([], 0) == []
    verify_consistency(0, 8, EMPTY_ROOT, ROOTS[8], [])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(ProofError):
        verify_consistency(0, 8, ROOTS[1], ROOTS[8], [])
    with pytest.raises(ProofError):
        verify_consistency(0, 8, EMPTY_ROOT, ROOTS[8], [EMPTY_ROOT])
    verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
    with pytest.raises(ProofError):
        verify_consistency(5, 5, ROOTS[5], ROOTS[6], [])


# --- Cross-checks against a literal transcription of RFC 6962 §2.1 ------------------------------


def _ref_mth(leaves: Sequence[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + _ref_mth(leaves[:k]) + _ref_mth(leaves[k:])).digest()


def _ref_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*_ref_path(m, leaves[:k]), _ref_mth(leaves[k:])]
    return [*_ref_path(m - k, leaves[k:]), _ref_mth(leaves[:k])]


def _ref_subproof(m: int, leaves: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [_ref_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*_ref_subproof(m, leaves[:k], b), _ref_mth(leaves[k:])]
    return [*_ref_subproof(m - k, leaves[k:], False), _ref_mth(leaves[:k])]


RNG_LEAVES = [i.to_bytes(2, "big") + random.Random(6962 + i).randbytes(i % 40) for i in range(70)]
BIG_TREE = MerkleTree(RNG_LEAVES)


def _flip(value: bytes, bit: int) -> bytes:
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def _bits_to_flip(size: int, rng: random.Random) -> list[int]:
    """Every bit for small trees; for the rest a few positions per hash, seeded."""
    if size <= 8:
        return list(range(256))
    return [0, 255, *rng.sample(range(1, 255), 3)]


@pytest.mark.parametrize("size", range(1, 71))
def test_cross_check_inclusion(size: int) -> None:
    leaves = RNG_LEAVES[:size]
    rng = random.Random(size)
    tree = MerkleTree(leaves)
    mth = _ref_mth(leaves)
    assert root(leaves) == tree.root() == BIG_TREE.root(size) == mth
    for index in range(size):
        proof = tree.inclusion_proof(index)
        assert proof == _ref_path(index, leaves) == BIG_TREE.inclusion_proof(index, size)
        lh = leaf_hash(leaves[index])
        verify_inclusion(lh, index, size, proof, mth)
        bits = _bits_to_flip(size, rng)
        for i in range(len(proof)):
            for bit in bits:
                bad = [*proof[:i], _flip(proof[i], bit), *proof[i + 1 :]]
                with pytest.raises(ProofError):
                    verify_inclusion(lh, index, size, bad, mth)
        for bit in bits:
            with pytest.raises(ProofError):
                verify_inclusion(_flip(lh, bit), index, size, proof, mth)
            with pytest.raises(ProofError):
                verify_inclusion(lh, index, size, proof, _flip(mth, bit))
        for wrong in (index - 1, index + 1):
            if wrong >= 0:
                with pytest.raises(ProofError):
                    verify_inclusion(lh, wrong, size, proof, mth)
        with pytest.raises(ProofError):
            verify_inclusion(lh, index, size, [*proof, mth], mth)
        if proof:
            with pytest.raises(ProofError):
                verify_inclusion(lh, index, size, proof[:-1], mth)


@pytest.mark.parametrize("size", range(1, 71))
def test_cross_check_consistency(size: int) -> None:
    leaves = RNG_LEAVES[:size]
    rng = random.Random(1000 + size)
    tree = MerkleTree(leaves)
    new_root = _ref_mth(leaves)
    for old in range(size + 1):
        proof = tree.consistency_proof(old)
        want = [] if old in (0, size) else _ref_subproof(old, leaves, True)
        assert proof == want == BIG_TREE.consistency_proof(old, size)
        old_root = _ref_mth(leaves[:old])
        verify_consistency(old, size, old_root, new_root, proof)
        bits = _bits_to_flip(size, rng)
        for i in range(len(proof)):
            for bit in bits:
                bad = [*proof[:i], _flip(proof[i], bit), *proof[i + 1 :]]
                with pytest.raises(ProofError):
                    verify_consistency(old, size, old_root, new_root, bad)
        for bit in bits:
            with pytest.raises(ProofError):
                verify_consistency(old, size, _flip(old_root, bit), new_root, proof)
            if old > 0:  # from the empty tree, the new root is unconstrained by design
                with pytest.raises(ProofError):
                    verify_consistency(old, size, old_root, _flip(new_root, bit), proof)
        with pytest.raises(ProofError):
            verify_consistency(old, size, old_root, new_root, [*proof, new_root])
        if proof:
            with pytest.raises(ProofError):
                verify_consistency(old, size, old_root, new_root, proof[:-1])
        if 0 < old < size:
            with pytest.raises(ProofError):
                verify_consistency(old, size, new_root, old_root, proof)
            with pytest.raises(ProofError):
                verify_consistency(size, old, new_root, old_root, proof)


# --- Cost ---------------------------------------------------------------------------------------


def test_hashing_is_linear(monkeypatch: pytest.MonkeyPatch) -> None:
    """10k leaves: building hashes each node once; roots and proofs reuse the cache.

    Counts calls to the node hash rather than timing anything.
    """
    calls = 0
    real = merkle._hash_children

    def counting(left: bytes, right: bytes) -> bytes:
        nonlocal calls
        calls += 1
        return real(left, right)

    monkeypatch.setattr(merkle, "_hash_children", counting)
    n = 10_000
    leaves = [i.to_bytes(4, "big") for i in range(n)]
    tree = MerkleTree(leaves)
    assert calls < n  # a complete-subtree cache has fewer than n interior nodes
    calls = 0
    full = tree.root()
    assert calls <= 14  # at most one hash per level to fold the incomplete right edge
    calls = 0
    for index in (0, 1, 4_095, 8_191, 9_999):
        verify_inclusion(leaf_hash(leaves[index]), index, n, tree.inclusion_proof(index), full)
    for old in (1, 4_096, 6_000, 9_999):
        verify_consistency(old, n, tree.root(old), full, tree.consistency_proof(old))
    assert calls < 9 * 14 * 14  # O(log^2 n) per query, not O(n)
    appended = MerkleTree()
    calls = 0
    for data in leaves:
        appended.append(data)
    assert calls < n
    assert appended.root() == full


# --- Stored nodes and compact ranges (the audit log's O(log n) heads and proofs) -------------


def _stored(tree: merkle.MerkleTree) -> dict[tuple[int, int], bytes]:
    """Every complete subtree, as the server stores them leaf by leaf."""
    nodes: dict[tuple[int, int], bytes] = {}
    for index in range(tree.size):
        for level, position in merkle.complete_subtrees_ending_at(index):
            nodes[(level, position)] = tree.node(level, position)
    return nodes


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 13, 31, 32, 33, 100])
def test_a_node_tree_answers_like_the_full_tree_from_the_nodes_it_asks_for(size: int) -> None:
    tree = merkle.MerkleTree([b"leaf %d" % i for i in range(size)])
    stored = _stored(tree)
    assert len(stored) == 2 * size - bin(size).count("1")  # every complete subtree, no more
    questions = [lambda t, n=n: t.root(n) for n in range(1, size + 1)]
    questions += [lambda t, m=m: t.consistency_proof(m) for m in range(size + 1)]
    questions += [lambda t, i=i: t.inclusion_proof(i) for i in range(size)]
    for ask in questions:
        needed = merkle.nodes_needed(size, ask)
        assert len(needed) <= 2 * size.bit_length() ** 2
        partial = merkle.NodeTree(size, {k: stored[k] for k in needed})
        assert ask(partial) == ask(tree)
    assert merkle.nodes_needed(size, lambda t: t.root()) == {
        (k, (size >> (k + 1)) << 1) for k in range(size.bit_length()) if size >> k & 1
    }


def test_a_node_tree_missing_a_node_refuses() -> None:
    with pytest.raises(InvalidKey):
        merkle.NodeTree(3, {}).root()


@pytest.mark.parametrize("start", [0, 1, 2, 3, 6, 8, 21])
def test_a_frontier_extends_a_verified_tree_to_the_new_root(start: int) -> None:
    leaves = [merkle.leaf_hash(b"%d" % i) for i in range(40)]
    old = merkle.MerkleTree.from_leaf_hashes(leaves[:start])
    grown = merkle.Frontier(start, merkle.frontier(old))
    assert grown.root() == old.root()
    for n in range(start, 40):
        grown.append_leaf_hash(leaves[n])
        assert grown.size == n + 1
        assert grown.root() == merkle.MerkleTree.from_leaf_hashes(leaves[: n + 1]).root()


def test_a_frontier_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(InvalidKey):
        merkle.Frontier(3, [bytes(32)])

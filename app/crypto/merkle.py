"""RFC 6962 Merkle tree hashing and proofs, for the audit log.

Pure functions over bytes: nothing here performs I/O.

* ``leaf_hash(d) = SHA-256(0x00 || d)`` and ``node_hash(l, r) = SHA-256(0x01 || l || r)``
  (RFC 6962 §2.1; RFC 9162 §2.1.1).
* ``root`` is MTH (RFC 6962 §2.1): the tree over ``n > 1`` leaves is split at
  the largest power of two ``k < n``; the empty tree's hash is ``SHA-256("")``.
* ``inclusion_proof`` is PATH (§2.1.1) and ``consistency_proof`` is PROOF /
  SUBPROOF (§2.1.2), ordered from the leaves up, as RFC 6962 writes them.
* ``verify_inclusion`` and ``verify_consistency`` follow the verification
  algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2. They return ``None`` and raise
  on every failure.

Edge cases of consistency, decided here (RFC 9162 defines proofs for
``0 < old_size < new_size`` only):

* ``old_size == new_size``: the proof must be empty and the two roots equal.
* ``old_size == 0``: the empty tree is a prefix of every tree, so the proof must
  be empty and ``old_root`` must be ``EMPTY_ROOT``; ``new_root`` is not
  constrained (there is nothing it could be checked against).
  ``consistency_proof(leaves, 0)`` is ``[]``.
* ``old_size > new_size``: ``ProofError``.

Errors. Arguments of the wrong type or shape (a hash that is not 32 bytes, a
negative size, a size above 2**64 - 1, a leaf that is not ``bytes``, an index
or size outside the tree when *generating* a proof) raise ``InvalidKey``, as
elsewhere in ``app.crypto``. A proof that does not verify raises
``ProofError``, which is defined here (a subclass of ``CryptoError``, so not
listed in ``app.crypto.errors``).

Cost. ``MerkleTree`` keeps every complete subtree's hash (about ``2n`` hashes):
building it hashes each leaf once and each internal node once (O(n)), and after
that a root at any size, an inclusion proof or a consistency proof costs
O(log² n) hashes. The module-level helpers build a tree and ask it once.
"""

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence

from app.crypto.errors import CryptoError, InvalidKey

HASH_SIZE = 32
"""Bytes in a SHA-256 digest: every leaf hash, node hash, root and proof element."""

MAX_SIZE = 2**64 - 1
"""Tree sizes and leaf indices are uint64 (RFC 9162 §4.3 and §4.4)."""

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256 of the empty string (RFC 6962 §2.1)."""


class ProofError(CryptoError):
    """An inclusion or consistency proof does not verify against the sizes and roots given."""


# --- Hashing --------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the hash of one leaf (MTH of a one-entry list)."""
    return _hash_leaf(_check_leaf(data))


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the hash of an interior node."""
    return _hash_children(_check_hash(left, "left child"), _check_hash(right, "right child"))


def _hash_leaf(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def _hash_children(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- Validation -----------------------------------------------------------------------------


def _check_leaf(data: object) -> bytes:
    if not isinstance(data, bytes):
        raise InvalidKey("a leaf is bytes")
    return data


def _check_hash(value: object, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise InvalidKey(f"{what} is not a {HASH_SIZE}-byte hash")
    return value


def _check_size(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidKey(f"{what} is not an integer")
    if not 0 <= value <= MAX_SIZE:
        raise InvalidKey(f"{what} is outside 0..2**64-1")
    return value


def _check_proof(proof: object) -> list[bytes]:
    if isinstance(proof, bytes | str) or not isinstance(proof, Sequence):
        raise InvalidKey("a proof is a sequence of hashes")
    return [_check_hash(element, "a proof element") for element in proof]


# --- Trees and proof generation ---------------------------------------------------------------


class _Proofs:
    """Roots and proofs over a tree's complete subtrees: ``_node(k, i)`` is the hash of
    leaves ``[i * 2**k, (i + 1) * 2**k)``. Any MTH(D[lo:hi]) the RFC's recursion asks for
    is one such node or splits into O(log n) of them."""

    __slots__ = ()

    @property
    def size(self) -> int:
        raise NotImplementedError

    def _node(self, level: int, index: int) -> bytes:
        raise NotImplementedError

    def node(self, level: int, index: int) -> bytes:
        """The hash of complete subtree ``index`` of ``level`` (leaves ``[index * 2**level,
        (index + 1) * 2**level)``)."""
        return self._node(level, index)

    def _size_arg(self, size: int | None) -> int:
        if size is None:
            return self.size
        size = _check_size(size, "tree size")
        if size > self.size:
            raise InvalidKey(f"tree size {size} is larger than the tree ({self.size})")
        return size

    def _subtree(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) for ``0 <= lo < hi <= size``."""
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:  # a complete subtree: kept
            return self._node(n.bit_length() - 1, lo // n)
        k = _split(n)
        return _hash_children(self._subtree(lo, lo + k), self._subtree(lo + k, hi))

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (default: all of them)."""
        size = self._size_arg(size)
        return EMPTY_ROOT if size == 0 else self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]) (RFC 6962 §2.1.1), ordered from the leaf up."""
        size = self._size_arg(size)
        index = _check_size(index, "leaf index")
        if index >= size:
            raise InvalidKey(f"leaf index {index} is outside a tree of size {size}")
        proof: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1:
            k = _split(hi - lo)
            if index < lo + k:
                proof.append(self._subtree(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self._subtree(lo, lo + k))
                lo += k
        proof.reverse()
        return proof

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[0:new_size]) (RFC 6962 §2.1.2), ordered from the leaves up.

        Empty when ``old_size`` is 0 or equal to ``new_size``.
        """
        new_size = self._size_arg(new_size)
        old_size = _check_size(old_size, "old size")
        if old_size > new_size:
            raise InvalidKey(f"old size {old_size} is larger than new size {new_size}")
        if old_size in (0, new_size):
            return []
        proof: list[bytes] = []
        lo, hi, have_old_root = 0, new_size, True
        # SUBPROOF(m, D[lo:hi], b), with m = old_size - lo.
        while old_size != hi:
            k = _split(hi - lo)
            if old_size - lo <= k:
                proof.append(self._subtree(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self._subtree(lo, lo + k))
                lo += k
                have_old_root = False
        if not have_old_root:
            proof.append(self._subtree(lo, hi))
        proof.reverse()
        return proof


class MerkleTree(_Proofs):
    """An append-only RFC 6962 tree that caches the hash of every complete subtree.

    ``levels[k][i]`` is the hash of leaves ``[i * 2**k, (i + 1) * 2**k)``, so level
    ``k`` holds ``size >> k`` hashes. Roots and proofs for any size up to
    ``size`` are answered from these without rehashing the leaves.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = []
        self._build([_hash_leaf(_check_leaf(data)) for data in leaves])

    @classmethod
    def from_leaf_hashes(cls, hashes: Iterable[bytes]) -> "MerkleTree":
        """A tree whose leaves are already hashed (each ``leaf_hash(data)``)."""
        tree = cls()
        tree._build([_check_hash(h, "a leaf hash") for h in hashes])
        return tree

    def _build(self, level: list[bytes]) -> None:
        self._levels = [level]
        while len(level) > 1:
            level = [_hash_children(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            self._levels.append(level)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def __len__(self) -> int:
        return self.size

    def leaf_hash(self, index: int) -> bytes:
        index = _check_size(index, "leaf index")
        if index >= self.size:
            raise InvalidKey(f"leaf index {index} is outside a tree of size {self.size}")
        return self._levels[0][index]

    def append(self, data: bytes) -> int:
        """Add one leaf; return its index. O(1) hashes amortised."""
        return self.append_leaf_hash(_hash_leaf(_check_leaf(data)))

    def append_leaf_hash(self, leaf_hash: bytes) -> int:
        """Add one already-hashed leaf; return its index."""
        self._levels[0].append(_check_hash(leaf_hash, "a leaf hash"))
        level = 0
        while len(self._levels[level]) % 2 == 0:  # a binary counter's carry
            nodes = self._levels[level]
            if level + 1 == len(self._levels):
                self._levels.append([])
            self._levels[level + 1].append(_hash_children(nodes[-2], nodes[-1]))
            level += 1
        return self.size - 1

    def _node(self, level: int, index: int) -> bytes:
        return self._levels[level][index]


class NodeTree(_Proofs):
    """A tree of ``size`` leaves known only by some of its complete subtrees' hashes
    (``nodes[(k, i)]``, e.g. read from a database): the server's audit log answers heads
    and proofs from O(log n) stored nodes (``nodes_needed`` says which) instead of
    rehashing every leaf. A node asked for and not given is ``InvalidKey``."""

    __slots__ = ("_nodes", "_size")

    def __init__(self, size: int, nodes: Mapping[tuple[int, int], bytes]) -> None:
        self._size = _check_size(size, "tree size")
        self._nodes = nodes

    @property
    def size(self) -> int:
        return self._size

    def _node(self, level: int, index: int) -> bytes:
        try:
            return _check_hash(self._nodes[(level, index)], "a stored node")
        except KeyError:
            raise InvalidKey(f"node {index} of level {level} is not known") from None


class _Recorder(NodeTree):
    """Answers every node with zeros and notes which were asked for."""

    __slots__ = ("asked",)

    def __init__(self, size: int) -> None:
        super().__init__(size, {})
        self.asked: set[tuple[int, int]] = set()

    def _node(self, level: int, index: int) -> bytes:
        self.asked.add((level, index))
        return bytes(HASH_SIZE)


def nodes_needed(size: int, ask: Callable[[NodeTree], object]) -> set[tuple[int, int]]:
    """The complete subtrees ``ask(tree)`` reads from a tree of ``size`` leaves (for
    ``NodeTree``): e.g. ``nodes_needed(n, lambda t: t.root())`` is one node per set bit
    of ``n``. Proof arguments are checked as the real call checks them."""
    recorder = _Recorder(size)
    ask(recorder)
    return recorder.asked


def complete_subtrees_ending_at(index: int) -> list[tuple[int, int]]:
    """The complete subtrees whose last leaf is ``index`` (levels 0, 1, ...): what
    appending leaf ``index`` adds to a tree kept node by node. Leaf ``index`` closes
    one node per trailing 1 bit of ``index``, plus the leaf itself."""
    index = _check_size(index, "leaf index")
    out = [(0, index)]
    level, position = 0, index
    while position & 1:
        level, position = level + 1, position >> 1
        out.append((level, position))
    return out


def frontier(tree: "_Proofs") -> list[bytes]:
    """The compact range of a tree: the hashes of the complete subtrees that make up its
    leaves, largest (leftmost) first, one per set bit of its size. With it a client that
    verified a tree can extend it leaf by leaf (``Frontier``) without the old leaves."""
    out, lo, size = [], 0, tree.size
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            out.append(tree.node(level, lo >> level))
            lo += 1 << level
    return out


class Frontier:
    """A tree held as its compact range (``frontier``): ``append_leaf_hash`` and ``root``
    in O(log n), for checking that new leaves extend a verified tree to a signed root."""

    __slots__ = ("_hashes", "_levels", "size")

    def __init__(self, size: int, hashes: Sequence[bytes]) -> None:
        self.size = _check_size(size, "tree size")
        self._levels = [k for k in range(self.size.bit_length() - 1, -1, -1) if self.size >> k & 1]
        self._hashes = [_check_hash(h, "a frontier hash") for h in hashes]
        if len(self._hashes) != len(self._levels):
            raise InvalidKey(f"a tree of size {self.size} has {len(self._levels)} frontier hashes")

    @property
    def hashes(self) -> list[bytes]:
        return list(self._hashes)

    def append_leaf_hash(self, leaf_hash: bytes) -> None:
        self._hashes.append(_check_hash(leaf_hash, "a leaf hash"))
        self._levels.append(0)
        while len(self._levels) > 1 and self._levels[-1] == self._levels[-2]:
            right, left = self._hashes.pop(), self._hashes.pop()
            level = self._levels.pop() + 1
            self._levels[-1] = level
            self._hashes.append(_hash_children(left, right))
        self.size += 1

    def root(self) -> bytes:
        if not self._hashes:
            return EMPTY_ROOT
        result = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            result = _hash_children(left, result)
        return result


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(leaves) (RFC 6962 §2.1); ``EMPTY_ROOT`` for no leaves."""
    return MerkleTree(leaves).root()


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, leaves) (RFC 6962 §2.1.1): the audit path for one leaf."""
    return MerkleTree(leaves).inclusion_proof(index)


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, leaves) (RFC 6962 §2.1.2): the tree of the first ``old_size``
    leaves is a prefix of the tree of all of them."""
    return MerkleTree(leaves).consistency_proof(old_size)


# --- Verification ------------------------------------------------------------------------------


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``tree_size`` with ``root``.

    RFC 9162 §2.1.3.2. Raises ``ProofError`` if it is not, ``InvalidKey`` if an
    argument is malformed.
    """
    leaf = _check_hash(leaf_hash, "the leaf hash")
    expected = _check_hash(root, "the root")
    index = _check_size(index, "leaf index")
    tree_size = _check_size(tree_size, "tree size")
    path = _check_proof(proof)
    if index >= tree_size:
        raise ProofError(f"leaf index {index} is outside a tree of size {tree_size}")
    fn, sn = index, tree_size - 1
    r = leaf
    for p in path:
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = _hash_children(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    if not hmac.compare_digest(r, expected):
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``old_size`` with ``old_root`` is a prefix of the tree of
    ``new_size`` with ``new_root``.

    RFC 9162 §2.1.4.2 for ``0 < old_size < new_size``; the other cases are
    described in the module docstring. Raises ``ProofError`` if the trees are
    not shown consistent, ``InvalidKey`` if an argument is malformed.
    """
    old_size = _check_size(old_size, "old size")
    new_size = _check_size(new_size, "new size")
    first = _check_hash(old_root, "the old root")
    second = _check_hash(new_root, "the new root")
    path = _check_proof(proof)
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == 0 or old_size == new_size:
        if path:
            raise ProofError("a consistency proof from an empty or equal tree is empty")
        if old_size == 0 and not hmac.compare_digest(first, EMPTY_ROOT):
            raise ProofError("the root of an empty tree is SHA-256 of the empty string")
        if old_size == new_size and not hmac.compare_digest(first, second):
            raise ProofError("two trees of the same size have different roots")
        return
    if not path:
        raise ProofError("the consistency proof is empty")
    if old_size & (old_size - 1) == 0:  # old tree is complete: its root starts the chain
        path = [first, *path]
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = _hash_children(c, fr)
            sr = _hash_children(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if not hmac.compare_digest(fr, first):
        raise ProofError("the consistency proof does not lead to the old root")
    if not hmac.compare_digest(sr, second):
        raise ProofError("the consistency proof does not lead to the new root")

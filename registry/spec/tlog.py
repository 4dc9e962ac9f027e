"""The transparency log's Merkle tree: RFC 9162 (RFC 6962) hashing, proofs and their checks.

Pure Python, no Flask: the server builds proofs with it, `solreg` and mirrors check them with it.
Leaves are hashed as H(0x00 || data), inner nodes as H(0x01 || left || right); a tree of n leaves
splits at the largest power of two below n. `TreeHashes` keeps every complete, aligned subtree
hash (the levels a Go checksum database stores as tiles), so appending is amortised O(1) and a
proof costs O(log² n) hashes at most.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from registry.spec.problems import SpecError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(SpecError):
    """A proof does not prove what it claims; the message says which check failed."""

    code = "bad-proof"


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class TreeHashes:
    """All leaf hashes of a log plus the hashes of its complete aligned subtrees."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()):
        self._levels: list[list[bytes]] = [[]]
        for digest in leaf_hashes:
            self.append(digest)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, digest: bytes) -> int:
        """Add one leaf hash; returns its index."""
        if len(digest) != HASH_SIZE:
            raise ValueError("a leaf hash has 32 bytes")
        index = self.size
        self._levels[0].append(digest)
        level, position = 0, index
        while position % 2 == 1:  # this node completes a pair: its parent is now complete too
            parent = node_hash(self._levels[level][position - 1], self._levels[level][position])
            level, position = level + 1, position // 2
            if level == len(self._levels):
                self._levels.append([])
            self._levels[level].append(parent)
        return index

    def leaf(self, index: int) -> bytes:
        return self._levels[0][index]

    def _range_hash(self, start: int, end: int) -> bytes:
        """MTH of leaves [start, end)."""
        count = end - start
        if count == 1:
            return self._levels[0][start]
        if count & (count - 1) == 0 and start % count == 0:
            return self._levels[count.bit_length() - 1][start // count]
        k = _split(count)
        return node_hash(self._range_hash(start, start + k), self._range_hash(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        self._check_size(size)
        return EMPTY_ROOT if size == 0 else self._range_hash(0, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1 PATH(index, D[0:size]), the sibling nearest the leaf first."""
        self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of {size}")
        proof: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                proof.append(self._range_hash(start + k, end))
                end = start + k
            else:
                proof.append(self._range_hash(start, start + k))
                start += k
        return proof[::-1]

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """RFC 9162 §2.1.4.1 PROOF(old_size, D[0:new_size])."""
        self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise ValueError(f"cannot prove {old_size} against {new_size}")
        if old_size in (0, new_size):
            return []
        proof: list[bytes] = []
        start, end, whole = 0, new_size, True
        while old_size != end:
            k = _split(end - start)
            if old_size - start <= k:
                proof.append(self._range_hash(start + k, end))
                end = start + k
            else:
                proof.append(self._range_hash(start, start + k))
                start += k
                whole = False
        if not whole:
            proof.append(self._range_hash(start, end))
        return proof[::-1]

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"the log has {self.size} leaves, not {size}")


def verify_inclusion(index: int, size: int, digest: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2; raises ProofError unless `digest` is leaf `index` of the tree `root`."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} cannot be in a tree of {size}")
    fn, sn, r = index, size - 1, digest
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is deep")
    if r != root:
        raise ProofError("the inclusion proof leads to another root hash")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2; raises ProofError unless the tree `new_root` extends the tree `old_root`."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"a tree of {old_size} cannot be a prefix of a tree of {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("trees of equal size need an empty consistency proof")
        if old_root != new_root:
            raise ProofError("two trees of the same size have different root hashes")
        return
    if old_size == 0:
        if proof:
            raise ProofError("the empty tree needs an empty consistency proof")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the tree is deep")
    if fr != old_root or sr != new_root:
        # Either the proof is bad or the newer tree does not contain the older one: a fork.
        raise ProofError("the newer tree head does not extend the older one (forked or rewritten history)")

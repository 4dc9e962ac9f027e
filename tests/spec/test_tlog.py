"""The Merkle tree against the RFC 6962 reference vectors (as in transparency-dev/merkle and Go's tlog)."""

from __future__ import annotations

import base64
import os
import random

import pytest

from registry.spec.tlog import (
    EMPTY_ROOT,
    ProofError,
    TreeHashes,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [bytes.fromhex(h) for h in
          ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
H = bytes.fromhex
# (leaf index 0-based, tree size, proof) from the reference vectors, which count leaves from 1.
INCLUSION = [
    (0, 1, []),
    (0, 8, [H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]),
    (5, 8, [H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (2, 3, [H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (1, 5, [H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]),
]
CONSISTENCY = [
    (1, 1, []),
    (1, 8, [H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]),
    (6, 8, [H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (2, 5, [H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]),
    (6, 7, [H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
]


@pytest.fixture
def tree() -> TreeHashes:
    return TreeHashes(leaf_hash(leaf) for leaf in LEAVES)


def test_leaf_hash_matches_go_record_hash():
    # Go's tlog.RecordHash("hello world"), as printed in its tree-note golden test.
    assert base64.b64encode(leaf_hash(b"hello world")).decode() == "TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0="


def test_roots_match_reference_vectors(tree):
    assert tree.root(0) == EMPTY_ROOT
    assert [tree.root(n) for n in range(1, 9)] == ROOTS


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_reference_vectors(tree, index, size, proof):
    assert tree.inclusion_proof(index, size) == proof
    verify_inclusion(index, size, leaf_hash(LEAVES[index]), proof, ROOTS[size - 1])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs_match_reference_vectors(tree, old, new, proof):
    assert tree.consistency_proof(old, new) == proof
    verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof)


def test_every_proof_of_a_random_tree_verifies_and_every_bit_flip_fails():
    rng = random.Random(7)
    tree = TreeHashes(leaf_hash(os.urandom(8)) for _ in range(37))
    for size in range(1, tree.size + 1):
        root = tree.root(size)
        for index in rng.sample(range(size), min(size, 4)):
            proof = tree.inclusion_proof(index, size)
            verify_inclusion(index, size, tree.leaf(index), proof, root)
            for i in range(len(proof)):
                bad = list(proof)
                bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
                with pytest.raises(ProofError):
                    verify_inclusion(index, size, tree.leaf(index), bad, root)
        for old in range(0, size + 1):
            proof = tree.consistency_proof(old, size)
            verify_consistency(old, size, tree.root(old), root, proof)
            if proof and old:
                with pytest.raises(ProofError):
                    verify_consistency(old, size, tree.root(old), root, proof[:-1])


def test_a_rewritten_history_is_not_consistent(tree):
    forked = TreeHashes(leaf_hash(leaf) for leaf in LEAVES[:3])
    forked.append(leaf_hash("다른 기록".encode()))
    proof = tree.consistency_proof(4, 8)
    with pytest.raises(ProofError, match="does not extend"):
        verify_consistency(4, 8, forked.root(4), tree.root(8), proof)


@pytest.mark.parametrize("case", [
    dict(index=8, size=8), dict(index=0, size=0), dict(proof_extra=True), dict(proof_short=True), dict(wrong_leaf=True),
])
def test_bad_inclusion_claims_are_refused(tree, case):
    index, size = case.get("index", 5), case.get("size", 8)
    proof = tree.inclusion_proof(5, 8)
    if case.get("proof_extra"):
        proof = proof + [EMPTY_ROOT]
    if case.get("proof_short"):
        proof = proof[:-1]
    digest = leaf_hash(b"x") if case.get("wrong_leaf") else leaf_hash(LEAVES[5])
    with pytest.raises(ProofError):
        verify_inclusion(index, size, digest, proof, ROOTS[7])


def test_equal_and_empty_trees():
    verify_consistency(0, 5, EMPTY_ROOT, ROOTS[4], [])
    with pytest.raises(ProofError):
        verify_consistency(5, 5, ROOTS[4], ROOTS[3], [])
    with pytest.raises(ProofError):
        verify_consistency(3, 5, ROOTS[2], ROOTS[4], [])
    with pytest.raises(ProofError):
        verify_consistency(6, 5, ROOTS[5], ROOTS[4], [ROOTS[0]])

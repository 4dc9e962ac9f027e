"""The log grows by one leaf, and one signed checkpoint, with each change that matters to users."""

from __future__ import annotations

import json
import stat

import pytest
from sqlalchemy import select

from registry.accounts import service as accounts
from registry.db import db
from registry.errors import Damaged
from registry.releases.models import Solution
from registry.releases.service import set_solution_state, unyank, yank
from registry.review import service as review
from registry.spec import note
from registry.spec.tlog import TreeHashes, leaf_hash, verify_inclusion
from registry.storage import storage
from registry.transparency import service
from registry.transparency.models import Checkpoint, LeafKind, LogLeaf


def _leaves() -> list[LogLeaf]:
    return list(db.session.scalars(select(LogLeaf).order_by(LogLeaf.index)))


def test_a_published_release_is_a_leaf_with_what_adopters_check(app, publish, reviewer):
    release = publish()
    [leaf] = _leaves()
    data = json.loads(leaf.data)
    assert leaf.index == 0 and leaf.kind == LeafKind.RELEASE_PUBLISHED == data["kind"]
    assert data["solution"] == "parking-share" and data["version"] == "1.2.0"
    assert data["sha256"] == release.sha256 and data["approver"] == reviewer.username
    assert leaf.leaf_hash == leaf_hash(leaf.data.encode()).hex()
    # canonical: sorted keys, no spaces, UTF-8 kept as is
    assert leaf.data == json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def test_only_the_approval_that_publishes_appends(app, release_of, reviewer):
    rejected = release_of("1.0.0")
    review.decide(reviewer, rejected, "reject", comment="라이선스 파일이 없습니다")
    db.session.commit()
    assert _leaves() == []


def test_every_change_appends_in_order_and_each_commit_signs_a_head(app, publish, make_user):
    release = publish()
    owner = make_user("owner", org="hanbit")
    token = accounts.issue_token(owner, accounts.get_org("hanbit"), ["yank"])
    db.session.commit()
    db.session.commit()
    yank(token.token, release, "예약 기능의 보안 결함")
    db.session.commit()
    unyank(token.token, release)
    db.session.commit()
    set_solution_state(owner, db.session.scalar(select(Solution)), "deprecated")
    db.session.commit()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from registry.spec.provenance import public_key_to_pem

    key = accounts.register_signing_key(owner, public_key_to_pem(Ed25519PrivateKey.generate().public_key()))
    db.session.commit()
    accounts.revoke_signing_key(key, owner)
    db.session.commit()
    db.session.commit()

    kinds = [leaf.kind for leaf in _leaves()]
    assert kinds == ["release.published", "release.yanked", "release.unyanked", "solution.deprecated",
                     "key.registered", "key.revoked"]
    assert [leaf.index for leaf in _leaves()] == list(range(6))
    tree = TreeHashes(bytes.fromhex(leaf.leaf_hash) for leaf in _leaves())
    heads = list(db.session.scalars(select(Checkpoint).order_by(Checkpoint.tree_size)))
    assert [h.tree_size for h in heads] == list(range(1, 7))
    for head in heads:
        checkpoint, _ = note.open_checkpoint(head.note, service.verifier(), "solreg.test/log")
        assert checkpoint.root == tree.root(head.tree_size) == bytes.fromhex(head.root_hash)
        # ... and a copy outside the database
        assert storage().get_document(f"transparency/checkpoints/{head.tree_size}").decode() == head.note
    assert storage().get_document("transparency/checkpoints/latest").decode() == heads[-1].note


def test_a_rolled_back_change_leaves_no_leaf_and_the_cached_tree_recovers(app, publish):
    publish("1.0.0")
    service.append(LeafKind.SOLUTION_ARCHIVED, {"solution": "되돌려질-변경"})  # cached, then rolled back
    db.session.rollback()
    assert len(_leaves()) == 1 and storage().get_document("transparency/checkpoints/2") is None
    publish("1.1.0")
    leaves = _leaves()
    assert [json.loads(leaf.data)["version"] for leaf in leaves] == ["1.0.0", "1.1.0"]
    head, _ = note.open_checkpoint(service.latest_checkpoint(), service.verifier())
    assert head.size == 2
    verify_inclusion(1, 2, bytes.fromhex(leaves[1].leaf_hash), service.inclusion_proof(1, 2), head.root)


def test_the_log_key_is_made_once_private_and_in_go_format(app, app_config):
    from pathlib import Path

    signer = service.signer()
    path = Path(app_config["LOG_KEY_PATH"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert note.Signer.parse(path.read_text()).verifier == signer.verifier
    assert path.read_text().startswith("PRIVATE+KEY+solreg.test/log+")


def test_a_damaged_log_key_is_the_operators_500_with_a_hint(app, app_config):
    from pathlib import Path

    Path(app_config["LOG_KEY_PATH"]).write_text("PRIVATE+KEY+손상된+키\n")
    with pytest.raises(Damaged) as caught:
        service.signer()
    assert caught.value.status == 500 and caught.value.code == "log-key-unusable"
    assert "REGISTRY_LOG_KEY_PATH" in caught.value.hint

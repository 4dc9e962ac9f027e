"""`flask --app registry log verify` against a log that was truncated, edited, re-hashed or forked."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, select, update

from registry.db import db
from registry.spec import note
from registry.spec.tlog import TreeHashes, leaf_hash
from registry.storage import storage
from registry.transparency import service
from registry.transparency.models import Checkpoint, LeafKind, LogLeaf


@pytest.fixture
def log_of_three(app, publish):
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        publish(version)
    db.session.remove()


def verify(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["log", "verify"])
    return result.exit_code, result.output.strip()


def test_an_intact_log_verifies(app, log_of_three):
    code, output = verify(app)
    assert code == 0 and output.startswith("transparency log intact: 3 leaves, 3 checkpoints"), output


def test_deleted_last_leaves_are_caught(app, log_of_three):
    db.session.execute(delete(LogLeaf).where(LogLeaf.index >= 1))
    db.session.commit()
    code, output = verify(app)
    error, hint = output.splitlines()
    assert code == 1 and error.startswith("Error: transparency log damaged: ") and hint.startswith("Hint: ")
    assert "checkpoint 2 signed 2 leaves but the log has 1 (leaves 1..1 deleted)" in error


def test_deleted_leaves_and_their_checkpoint_rows_are_caught_by_the_blob_copies(app, log_of_three):
    db.session.execute(delete(LogLeaf).where(LogLeaf.index == 2))
    db.session.execute(delete(Checkpoint).where(Checkpoint.tree_size == 3))
    db.session.commit()
    code, output = verify(app)
    assert code == 1 and "checkpoint 3 is in blob storage but not in the database" in output, output


def test_an_edited_leaf_is_named(app, log_of_three):
    leaf = db.session.scalar(select(LogLeaf).where(LogLeaf.index == 1))
    leaf.data = leaf.data.replace('"1.1.0"', '"1.1.1"')
    db.session.commit()
    code, output = verify(app)
    assert code == 1 and "leaf 1: its data does not match its stored hash (row edited)" in output, output


def _rehash_leaf_and_roots(index: int) -> None:
    """What an attacker with the database alone can do: edit, re-hash, recompute every root."""
    leaf = db.session.scalar(select(LogLeaf).where(LogLeaf.index == index))
    leaf.data = leaf.data.replace('"1.1.0"', '"1.1.1"')
    leaf.leaf_hash = leaf_hash(leaf.data.encode()).hex()
    db.session.flush()
    tree = TreeHashes(bytes.fromhex(h) for h in db.session.scalars(select(LogLeaf.leaf_hash).order_by(LogLeaf.index)))
    for row in db.session.scalars(select(Checkpoint)):
        row.root_hash = tree.root(row.tree_size).hex()
        parsed = note.parse(row.note)
        old = note.Checkpoint.from_text(parsed.text)
        text = note.Checkpoint(old.origin, old.size, tree.root(row.tree_size)).text()
        row.note = note.Note(text, parsed.signatures).encode()  # the old signatures, now over other text
    db.session.commit()


def test_an_edited_and_rehashed_leaf_is_caught_by_the_signatures(app, log_of_three):
    _rehash_leaf_and_roots(1)
    code, output = verify(app)
    assert code == 1 and "checkpoint 2 (database): invalid signature" in output, output


def test_rehashed_with_roots_only_in_the_columns_is_caught(app, log_of_three):
    _rehash_leaf_and_roots(1)
    # put the signed notes back; only the root_hash columns now carry the forged roots
    for size in (1, 2, 3):
        db.session.execute(update(Checkpoint).where(Checkpoint.tree_size == size).values(
            note=storage().get_document(f"transparency/checkpoints/{size}").decode()))
    db.session.commit()
    code, output = verify(app)
    assert code == 1 and "checkpoint 2 (database): its size or root differs from the row" in output, output


def test_a_fork_signed_with_the_real_key_is_caught_by_the_blob_copies(app, log_of_three):
    # Someone with the database and the key rewrites the last leaf and signs a new head for size 3.
    db.session.execute(delete(Checkpoint).where(Checkpoint.tree_size == 3))
    db.session.execute(delete(LogLeaf).where(LogLeaf.index == 2))
    db.session.commit()
    service.append(LeafKind.SOLUTION_ARCHIVED, {"solution": "parking-share", "successor": None})
    db.session.commit()
    # The fork's head did not overwrite the one already written outside the database.
    old = note.open_checkpoint(storage().get_document("transparency/checkpoints/3").decode(), service.verifier())[0]
    forked = db.session.scalar(select(Checkpoint).where(Checkpoint.tree_size == 3))
    assert old.root.hex() != forked.root_hash
    code, output = verify(app)
    assert code == 1 and "checkpoint 3: the database and blob storage hold different signed heads (forked)" in output


def test_a_checkpoint_missing_from_blob_storage_is_reported(app, log_of_three, app_config):
    from pathlib import Path

    (Path(app_config["STORAGE_PATH"]) / "meta/transparency/checkpoints/2").unlink()
    code, output = verify(app)
    assert code == 1 and "checkpoint 2 is in the database but missing from blob storage" in output


def test_the_newest_checkpoints_not_copied_yet_are_not_damage_until_the_worker_is_late(app, log_of_three, app_config):
    from datetime import timedelta
    from pathlib import Path

    from registry.db import utcnow

    copies = Path(app_config["STORAGE_PATH"]) / "meta/transparency/checkpoints"
    (copies / "3").unlink()
    (copies / "latest").write_bytes((copies / "2").read_bytes())  # as if the worker had stopped after 2
    code, output = verify(app)
    assert code == 0, output
    assert "3 leaves, 2 checkpoints" in output and "the 1 newest checkpoints are not copied to blob storage yet" in output
    db.session.execute(update(Checkpoint).where(Checkpoint.tree_size == 3)
                       .values(created_at=utcnow() - timedelta(minutes=11)))
    db.session.commit()
    code, output = verify(app)
    assert code == 1 and "1 checkpoints, the oldest from" in output and "the worker that copies them is not running" in output
    assert "start `flask --app registry worker`" in output


def test_a_non_canonical_leaf_is_caught(app, log_of_three):
    leaf = db.session.scalar(select(LogLeaf).where(LogLeaf.index == 0))
    leaf.data = json.dumps(json.loads(leaf.data), sort_keys=True, ensure_ascii=False)  # same content, other bytes
    leaf.leaf_hash = leaf_hash(leaf.data.encode()).hex()
    db.session.commit()
    code, output = verify(app)
    assert code == 1 and "leaf 0: its data is not in canonical form" in output


def test_a_head_signed_by_another_key_is_refused(app, log_of_three):
    other = note.Signer.generate("solreg.test/log")
    row = db.session.scalar(select(Checkpoint).where(Checkpoint.tree_size == 1))
    row.note = note.sign(note.parse(row.note).text, other).encode()
    db.session.commit()
    code, output = verify(app)
    assert code == 1 and "checkpoint 1 (database): the note is not signed by" in output

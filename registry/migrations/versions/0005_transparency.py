"""Transparency log: leaves of the Merkle tree and its signed checkpoints

Existing releases get no leaves: the log starts empty and records changes from now on.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

import registry.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

KINDS = ("release.published", "release.yanked", "release.unyanked", "solution.deprecated",
         "solution.archived", "solution.active", "key.registered", "key.revoked")


def upgrade():
    # New tables only, so plain CREATE TABLE works on SQLite and PostgreSQL alike (no batch needed).
    op.create_table('log_leaves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('leaf_index', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('leaf_hash', sa.String(length=64), nullable=False),
    sa.Column('release_id', sa.Integer(), nullable=True),
    sa.Column('created_at', registry.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")", name=op.f('ck_log_leaves_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_leaves')),
    sa.UniqueConstraint('leaf_index', name=op.f('uq_log_leaves_leaf_index'))
    )
    op.create_index(op.f('ix_log_leaves_release_id'), 'log_leaves', ['release_id'])
    op.create_table('log_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tree_size', sa.Integer(), nullable=False),
    sa.Column('root_hash', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', registry.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_checkpoints')),
    sa.UniqueConstraint('tree_size', name=op.f('uq_log_checkpoints_tree_size'))
    )


def downgrade():
    op.drop_table('log_checkpoints')
    op.drop_index(op.f('ix_log_leaves_release_id'), table_name='log_leaves')
    op.drop_table('log_leaves')

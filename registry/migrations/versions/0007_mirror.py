"""Offline mirrors: the origins a registry mirrors, their log leaves and checkpoints, mirrored solutions

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

import registry.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mirror_origins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=200), nullable=False),
    sa.Column('verifier_key', sa.Text(), nullable=False),
    sa.Column('created_at', registry.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mirror_origins')),
    sa.UniqueConstraint('origin', name=op.f('uq_mirror_origins_origin'))
    )
    op.create_table('mirror_leaves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=200), nullable=False),
    sa.Column('leaf_index', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('leaf_hash', sa.String(length=64), nullable=False),
    sa.Column('release_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mirror_leaves')),
    sa.UniqueConstraint('origin', 'leaf_index', name=op.f('uq_mirror_leaves_origin_leaf_index'))
    )
    op.create_index(op.f('ix_mirror_leaves_release_id'), 'mirror_leaves', ['release_id'])
    op.create_table('mirror_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=200), nullable=False),
    sa.Column('tree_size', sa.Integer(), nullable=False),
    sa.Column('root_hash', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', registry.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mirror_checkpoints')),
    sa.UniqueConstraint('origin', 'tree_size', name=op.f('uq_mirror_checkpoints_origin_tree_size'))
    )
    with op.batch_alter_table('solutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mirrored_from', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('solutions', schema=None) as batch_op:
        batch_op.drop_column('mirrored_from')
    op.drop_table('mirror_checkpoints')
    op.drop_index(op.f('ix_mirror_leaves_release_id'), table_name='mirror_leaves')
    op.drop_table('mirror_leaves')
    op.drop_table('mirror_origins')

"""Witnesses of the transparency log and their cosignatures of its checkpoints

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

import registry.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('log_witnesses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('key_name', sa.String(length=200), nullable=False),
    sa.Column('key_hash', sa.String(length=8), nullable=False),
    sa.Column('created_at', registry.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_witnesses')),
    sa.UniqueConstraint('name', name=op.f('uq_log_witnesses_name')),
    sa.UniqueConstraint('key_name', 'key_hash', name=op.f('uq_log_witnesses_key_name_key_hash'))
    )
    op.create_table('log_cosignatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('witness_id', sa.Integer(), nullable=False),
    sa.Column('tree_size', sa.Integer(), nullable=False),
    sa.Column('signed_at', registry.db.UTCDateTime(), nullable=False),
    sa.Column('line', sa.Text(), nullable=False),
    sa.Column('created_at', registry.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['witness_id'], ['log_witnesses.id'], name=op.f('fk_log_cosignatures_witness_id_log_witnesses'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_cosignatures')),
    sa.UniqueConstraint('witness_id', 'tree_size', name=op.f('uq_log_cosignatures_witness_id_tree_size'))
    )
    with op.batch_alter_table('log_cosignatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_log_cosignatures_tree_size'), ['tree_size'], unique=False)


def downgrade():
    with op.batch_alter_table('log_cosignatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_log_cosignatures_tree_size'))
    op.drop_table('log_cosignatures')
    op.drop_table('log_witnesses')

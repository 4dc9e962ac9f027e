"""A file index per release: its archive's members (path, size, SHA-256, executable, kind, offset) read
once, so the reviewer's file tree and diff list files without reading the archive again

Releases uploaded before have no row; the first look at one reads its archive and writes the row.

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

import registry.db

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'release_file_indexes',
        sa.Column('release_id', sa.Integer(), nullable=False),
        sa.Column('archive_sha256', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('members', sa.JSON(), nullable=False),
        sa.Column('created_at', registry.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['release_id'], ['releases.id'], name=op.f('fk_release_file_indexes_release_id_releases'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('release_id', name=op.f('pk_release_file_indexes')),
    )


def downgrade():
    op.drop_table('release_file_indexes')

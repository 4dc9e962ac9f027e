"""Search: indexes in the order of the sorts "newest" and "adopted", so pages and candidates never read the rows

Revision ID: 0015
Revises: 0014
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.create_index('ix_search_documents_newest', ['published_at', 'solution_id'], unique=False)
        batch_op.create_index('ix_search_documents_adopted', ['adoption_count', 'published_at', 'solution_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_search_documents_adopted')
        batch_op.drop_index('ix_search_documents_newest')

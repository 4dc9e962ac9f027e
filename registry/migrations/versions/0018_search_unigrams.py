"""Search: single characters join the index of word pieces, so one-syllable queries (차) use an index

`search_documents.grams` held the two-character pieces of every word; it now also holds every
character (registry.catalog.search.word_pieces). The rows are rewritten here; the engines' indexes
over the column (SQLite `search_grams` through its update trigger, PostgreSQL's GIN index over
`search_pieces(grams)`) follow by themselves.

Revision ID: 0018
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

docs = sa.table('search_documents', sa.column('solution_id', sa.Integer), sa.column('body', sa.Text),
                sa.column('grams', sa.Text))
BATCH = 1000


def _rewrite(pieces) -> None:
    connection = op.get_bind()
    last = 0
    while True:  # in batches of the primary key: bounded memory whatever the size of the catalog
        rows = connection.execute(sa.select(docs.c.solution_id, docs.c.body).where(docs.c.solution_id > last)
                                  .order_by(docs.c.solution_id).limit(BATCH)).all()
        if not rows:
            return
        connection.execute(docs.update().where(docs.c.solution_id == sa.bindparam('id'))
                           .values(grams=sa.bindparam('pieces')),
                           [{'id': sid, 'pieces': pieces(body or '')} for sid, body in rows])
        last = rows[-1][0]


def upgrade():
    from registry.catalog.search import word_pieces

    _rewrite(word_pieces)


def downgrade():
    from registry.catalog.search import word_pieces

    def two_characters(body: str) -> str:
        return ' '.join(piece for piece in word_pieces(body).split(' ') if len(piece) == 2)

    _rewrite(two_characters)

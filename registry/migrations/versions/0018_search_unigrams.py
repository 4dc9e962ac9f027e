"""Search: single characters join the index of word pieces, so one-syllable queries (차) use an index

`search_documents.grams` held the two-character pieces of every word; it now also holds every
character (registry.catalog.search.word_pieces). The rows are rewritten here; the engines' indexes
over the column (SQLite `search_grams` through its update trigger, PostgreSQL's GIN index over
`search_pieces(grams)`) follow by themselves.

Revision ID: 0018
Revises: 0017
"""
import re

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

docs = sa.table('search_documents', sa.column('solution_id', sa.Integer), sa.column('body', sa.Text),
                sa.column('grams', sa.Text))
BATCH = 1000
_WORD = re.compile(r'[^\W_]+')


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


def _pieces(body: str, sizes: tuple[int, ...]) -> str:
    # The rule of registry.catalog.search.word_pieces as of this revision, written out so that the
    # migration keeps doing what it did when that function changes.
    pieces = {word[i:i + n] for word in _WORD.findall(body) for n in sizes for i in range(len(word) - n + 1)}
    return ' '.join(sorted(pieces))


def upgrade():
    _rewrite(lambda body: _pieces(body, (1, 2)))


def downgrade():
    _rewrite(lambda body: _pieces(body, (2,)))

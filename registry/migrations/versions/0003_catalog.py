"""Catalog: the search index (FTS5 on SQLite, pg_trgm on PostgreSQL)

The search index: `search_documents` (one row per solution with a published release)
and `search_facets` (one row per facet value), plus the engine's own text index:

* SQLite: an FTS5 table `search_fts` with the trigram tokenizer over `search_documents.body`
  (external content, kept in sync by triggers), for substring matches of 3+ characters
  in any language, and an FTS5 table `search_grams` over `grams` for two-character terms;
  one-character terms scan the same normalised column.
* PostgreSQL: the pg_trgm extension and GIN trigram indexes on `body` and `head`, which
  serve `LIKE '%term%'` directly, and a GIN index over the words of `grams` (every
  two-character piece of every word) for two-character terms.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

import registry.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(body, content='search_documents', content_rowid='solution_id', "
    "tokenize='trigram')",
    # Two-character pieces as words: an index for one- and two-syllable queries.
    "CREATE VIRTUAL TABLE search_grams USING fts5(grams, content='search_documents', content_rowid='solution_id', "
    "tokenize='unicode61 remove_diacritics 0')",
    # External-content FTS5 tables are maintained by triggers on the content table.
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, body) VALUES (new.solution_id, new.body); "
    "INSERT INTO search_grams(rowid, grams) VALUES (new.solution_id, new.grams); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.solution_id, old.body); "
    "INSERT INTO search_grams(search_grams, rowid, grams) VALUES ('delete', old.solution_id, old.grams); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.solution_id, old.body); "
    "INSERT INTO search_grams(search_grams, rowid, grams) VALUES ('delete', old.solution_id, old.grams); "
    "INSERT INTO search_fts(rowid, body) VALUES (new.solution_id, new.body); "
    "INSERT INTO search_grams(rowid, grams) VALUES (new.solution_id, new.grams); END",
]
POSTGRES_TRGM = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_search_documents_body_trgm ON search_documents USING gin (body gin_trgm_ops)",
    "CREATE INDEX ix_search_documents_head_trgm ON search_documents USING gin (head gin_trgm_ops)",
    # pg_trgm cannot serve two-character words; their two-character pieces can. A function of its own
    # (not inlined, declared costly) so the planner uses the index instead of splitting every row.
    "CREATE FUNCTION search_pieces(text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE "
    "COST 1000 AS $$ BEGIN RETURN string_to_array($1, ' '); END $$",
    "CREATE INDEX ix_search_documents_grams ON search_documents USING gin (search_pieces(grams))",
]


def upgrade():
    op.create_table('search_documents',
    sa.Column('solution_id', sa.Integer(), nullable=False),
    sa.Column('release_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=128), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('display', sa.JSON(), nullable=False),
    sa.Column('head', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('grams', sa.Text(), nullable=False),
    sa.Column('requirements', sa.JSON(), nullable=False),
    sa.Column('spec_range', sa.String(length=200), nullable=True),
    sa.Column('adoption_count', sa.Integer(), nullable=False),
    sa.Column('published_at', registry.db.UTCDateTime(), nullable=True),
    sa.Column('indexed_at', registry.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_search_documents_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['release_id'], ['releases.id'], name=op.f('fk_search_documents_release_id_releases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['solution_id'], ['solutions.id'], name=op.f('fk_search_documents_solution_id_solutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('solution_id', name=op.f('pk_search_documents'))
    )
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_documents_adoption_count'), ['adoption_count'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_documents_indexed_at'), ['indexed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_documents_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_documents_published_at'), ['published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_documents_release_id'), ['release_id'], unique=False)

    op.create_table('search_facets',
    sa.Column('solution_id', sa.Integer(), nullable=False),
    sa.Column('facet', sa.String(length=24), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['solution_id'], ['solutions.id'], name=op.f('fk_search_facets_solution_id_solutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('solution_id', 'facet', 'value', name=op.f('pk_search_facets'))
    )
    with op.batch_alter_table('search_facets', schema=None) as batch_op:
        batch_op.create_index('ix_search_facets_facet_value', ['facet', 'value', 'solution_id'], unique=False)

    dialect = op.get_bind().dialect.name
    for statement in SQLITE_FTS if dialect == 'sqlite' else POSTGRES_TRGM if dialect == 'postgresql' else []:
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for trigger in ('search_documents_ai', 'search_documents_ad', 'search_documents_au'):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_grams")
        op.execute("DROP TABLE IF EXISTS search_fts")
    elif dialect == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_search_documents_grams")
        op.execute("DROP FUNCTION IF EXISTS search_pieces(text)")
        op.execute("DROP INDEX IF EXISTS ix_search_documents_head_trgm")
        op.execute("DROP INDEX IF EXISTS ix_search_documents_body_trgm")
        # The pg_trgm extension stays: other databases objects may use it.
    with op.batch_alter_table('search_facets', schema=None) as batch_op:
        batch_op.drop_index('ix_search_facets_facet_value')
    op.drop_table('search_facets')
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_documents_release_id'))
        batch_op.drop_index(batch_op.f('ix_search_documents_published_at'))
        batch_op.drop_index(batch_op.f('ix_search_documents_org_id'))
        batch_op.drop_index(batch_op.f('ix_search_documents_indexed_at'))
        batch_op.drop_index(batch_op.f('ix_search_documents_adoption_count'))
    op.drop_table('search_documents')

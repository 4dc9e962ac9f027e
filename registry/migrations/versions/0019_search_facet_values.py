"""Search: facet values are named once, in `search_facet_values`, and `search_facets` rows carry their ids

Live facet counts group the rows of up to 2,000 candidates (about 20,000 rows); grouping by one small
integer instead of two strings halves that work. The rows are copied aside, the table is made again
with the new key, and the copy is read back through the new dictionary of values.

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

COPY = 'search_facets_0018'
# The index of each revision: by value id (0019; none starts with the facet, see the model), by facet (0018).
INDEX_0019 = ('ix_search_facets_value', ['value_id', 'solution_id'])
INDEX_0018 = ('ix_search_facets_facet_value', ['facet', 'value', 'solution_id'])


def _facets_table(value_column: sa.Column, index: tuple[str, list[str]], *constraints: sa.Constraint) -> None:
    op.create_table(
        'search_facets',
        sa.Column('solution_id', sa.Integer(), nullable=False),
        sa.Column('facet', sa.String(length=24), nullable=False),
        value_column,
        sa.ForeignKeyConstraint(['solution_id'], ['solutions.id'], name=op.f('fk_search_facets_solution_id_solutions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('solution_id', 'facet', value_column.name, name=op.f('pk_search_facets')),
        *constraints,
    )
    op.create_index(index[0], 'search_facets', index[1])


def _copy_aside(select_sql: str, index: tuple[str, list[str]]) -> None:
    # A plain copy (no constraint, no index): nothing of it clashes with the names of the table made again.
    op.execute(f'CREATE TABLE {COPY} AS {select_sql}')
    op.drop_index(index[0], table_name='search_facets')
    op.drop_table('search_facets')


def upgrade():
    op.create_table(
        'search_facet_values',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('facet', sa.String(length=24), nullable=False),
        sa.Column('value', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_search_facet_values')),
        sa.UniqueConstraint('facet', 'value', name=op.f('uq_search_facet_values_facet_value')),
    )
    op.execute('INSERT INTO search_facet_values (facet, value) '
               'SELECT DISTINCT facet, value FROM search_facets ORDER BY facet, value')
    _copy_aside('SELECT solution_id, facet, value FROM search_facets', INDEX_0018)
    _facets_table(sa.Column('value_id', sa.Integer(), nullable=False), INDEX_0019,
                  sa.ForeignKeyConstraint(['value_id'], ['search_facet_values.id'],
                                          name=op.f('fk_search_facets_value_id_search_facet_values')))
    op.execute(f'INSERT INTO search_facets (solution_id, facet, value_id) SELECT c.solution_id, c.facet, v.id '
               f'FROM {COPY} c JOIN search_facet_values v ON v.facet = c.facet AND v.value = c.value')
    op.drop_table(COPY)


def downgrade():
    _copy_aside('SELECT f.solution_id, f.facet, v.value FROM search_facets f '
                'JOIN search_facet_values v ON v.id = f.value_id', INDEX_0019)
    _facets_table(sa.Column('value', sa.String(length=200), nullable=False), INDEX_0018)
    op.execute(f'INSERT INTO search_facets (solution_id, facet, value) SELECT solution_id, facet, value FROM {COPY}')
    op.drop_table(COPY)
    op.drop_table('search_facet_values')

"""SBOM: matching keys, OSV aliases and VEX statements

Components and OSV packages get the (ecosystem, name) key that matching joins on,
OSV packages keep their own `affected` entries, every id a record is known by is
indexed (alias de-duplication), and VEX statements from a release's
SBOM get a table.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('components', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ecosystem', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('package_name', sa.String(length=300), nullable=True))
        batch_op.create_index('ix_components_ecosystem_package_name', ['ecosystem', 'package_name'], unique=False)

    with op.batch_alter_table('vulnerability_packages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('affected', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.create_index('ix_vulnerability_packages_ecosystem_name', ['ecosystem', 'name'], unique=False)

    op.create_table('vulnerability_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vulnerability_id', sa.String(length=100), nullable=False),
    sa.Column('alias', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['vulnerability_id'], ['vulnerabilities.id'], name=op.f('fk_vulnerability_aliases_vulnerability_id_vulnerabilities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vulnerability_aliases')),
    sa.UniqueConstraint('vulnerability_id', 'alias', name=op.f('uq_vulnerability_aliases_vulnerability_id_alias'))
    )
    with op.batch_alter_table('vulnerability_aliases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vulnerability_aliases_alias'), ['alias'], unique=False)
        batch_op.create_index(batch_op.f('ix_vulnerability_aliases_vulnerability_id'), ['vulnerability_id'], unique=False)

    op.create_table('vex_statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('release_id', sa.Integer(), nullable=False),
    sa.Column('vulnerability_ref', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=True),
    sa.Column('justification', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('affects', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['release_id'], ['releases.id'], name=op.f('fk_vex_statements_release_id_releases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vex_statements'))
    )
    with op.batch_alter_table('vex_statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vex_statements_release_id'), ['release_id'], unique=False)


def downgrade():
    with op.batch_alter_table('vex_statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vex_statements_release_id'))

    op.drop_table('vex_statements')

    with op.batch_alter_table('vulnerability_aliases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vulnerability_aliases_vulnerability_id'))
        batch_op.drop_index(batch_op.f('ix_vulnerability_aliases_alias'))

    op.drop_table('vulnerability_aliases')

    with op.batch_alter_table('vulnerability_packages', schema=None) as batch_op:
        batch_op.drop_index('ix_vulnerability_packages_ecosystem_name')
        batch_op.drop_column('affected')

    with op.batch_alter_table('components', schema=None) as batch_op:
        batch_op.drop_index('ix_components_ecosystem_package_name')
        batch_op.drop_column('package_name')
        batch_op.drop_column('ecosystem')

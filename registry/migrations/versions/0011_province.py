"""Organisations: the province (시·도) they are in, for the reuse dashboard; unknown (NULL) until set

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# registry.spec.vocabulary.Province as it was when this migration was written.
PROVINCES = ('seoul', 'busan', 'daegu', 'incheon', 'gwangju', 'daejeon', 'ulsan', 'sejong', 'gyeonggi',
             'gangwon', 'north-chungcheong', 'south-chungcheong', 'north-jeolla', 'south-jeolla',
             'north-gyeongsang', 'south-gyeongsang', 'jeju')


def upgrade():
    with op.batch_alter_table('organizations') as batch:
        batch.add_column(sa.Column('province', sa.String(length=24), nullable=True))
        batch.create_check_constraint('province', f"province IN ({', '.join(repr(p) for p in PROVINCES)})")


def downgrade():
    with op.batch_alter_table('organizations') as batch:
        batch.drop_constraint(op.f('ck_organizations_province'), type_='check')
        batch.drop_column('province')

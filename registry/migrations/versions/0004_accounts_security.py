"""Accounts security: session generations, TOTP two-factor sign-in and recovery codes

Existing users get generation 0 (their current cookies carry no generation and are refused,
so everyone signs in once more) and no second factor (staff enrol at their next sign-in).

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import registry.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    # Batch mode: SQLite cannot alter tables in place; on PostgreSQL it is plain ALTER TABLE.
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('totp_confirmed_at', registry.db.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', registry.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes'))
    )
    op.create_index(op.f('ix_recovery_codes_user_id'), 'recovery_codes', ['user_id'])


def downgrade():
    op.drop_index(op.f('ix_recovery_codes_user_id'), table_name='recovery_codes')
    op.drop_table('recovery_codes')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('totp_last_step')
        batch.drop_column('totp_confirmed_at')
        batch.drop_column('totp_secret')
        batch.drop_column('session_generation')

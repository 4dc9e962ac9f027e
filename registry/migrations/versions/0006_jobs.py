"""Jobs: the event outbox, the webhook delivery log, mail opt-outs, webhooks switched off after failing

Revision ID: 0006
Revises: 0004 (the lead re-points this at 0005 when 0005_transparency is merged)
"""
import sqlalchemy as sa
from alembic import op

import registry.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

EVENTS = ('release.published', 'release.changes_requested', 'release.rejected', 'release.yanked',
          'release.unyanked', 'solution.state_changed', 'adoption.changed', 'webhook.queued', 'mail.queued',
          'log.appended')
STATUSES = ('pending', 'sending', 'retrying', 'delivered', 'failed')


def _in(column, values):
    return "%s IN (%s)" % (column, ", ".join(f"'{v}'" for v in values))


def upgrade():
    op.create_table('event_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', registry.db.UTCDateTime(), nullable=False),
    sa.Column('dispatched_at', registry.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint(_in('name', EVENTS), name=op.f('ck_event_outbox_name')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_outbox'))
    )
    op.create_index(op.f('ix_event_outbox_dispatched_at'), 'event_outbox', ['dispatched_at'])
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.String(length=64), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('latency_ms', sa.Integer(), nullable=True),
    sa.Column('next_try_at', registry.db.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', registry.db.UTCDateTime(), nullable=False),
    sa.Column('delivered_at', registry.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint(_in('status', STATUSES), name=op.f('ck_webhook_deliveries_status')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_webhook_deliveries_org_id_organizations'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('webhook_id', name=op.f('uq_webhook_deliveries_webhook_id'))
    )
    op.create_index(op.f('ix_webhook_deliveries_org_id'), 'webhook_deliveries', ['org_id'])
    op.create_index(op.f('ix_webhook_deliveries_status'), 'webhook_deliveries', ['status'])
    op.create_table('mail_opt_outs',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', registry.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mail_opt_outs_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_mail_opt_outs'))
    )
    with op.batch_alter_table('outbox_emails') as batch:
        batch.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_outbox_emails_user_id_users'), 'users', ['user_id'], ['id'],
                                 ondelete='SET NULL')
    with op.batch_alter_table('organizations') as batch:
        batch.add_column(sa.Column('webhook_disabled_at', registry.db.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('organizations') as batch:
        batch.drop_column('webhook_disabled_at')
    with op.batch_alter_table('outbox_emails') as batch:
        batch.drop_constraint(op.f('fk_outbox_emails_user_id_users'), type_='foreignkey')
        batch.drop_column('user_id')
    op.drop_table('mail_opt_outs')
    op.drop_index(op.f('ix_webhook_deliveries_status'), table_name='webhook_deliveries')
    op.drop_index(op.f('ix_webhook_deliveries_org_id'), table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_index(op.f('ix_event_outbox_dispatched_at'), table_name='event_outbox')
    op.drop_table('event_outbox')

"""Scheduled work: the last run of each periodic task, and when reviewers were last reminded of a release

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

import registry.db

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

STATUSES = "'ok', 'failed'"


def upgrade():
    op.create_table('scheduled_runs',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('started_at', registry.db.UTCDateTime(), nullable=True),
    sa.Column('finished_at', registry.db.UTCDateTime(), nullable=True),
    sa.Column('succeeded_at', registry.db.UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f('ck_scheduled_runs_status')),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduled_runs'))
    )
    op.create_table('review_reminders',
    sa.Column('release_id', sa.Integer(), nullable=False),
    sa.Column('reminded_at', registry.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['release_id'], ['releases.id'], name=op.f('fk_review_reminders_release_id_releases'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('release_id', name=op.f('pk_review_reminders'))
    )


    _notification_kinds(KINDS + ('review.reminder',))


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind = 'review.reminder'")
    _notification_kinds(KINDS)
    op.drop_table('review_reminders')
    op.drop_table('scheduled_runs')


# Reviewers are reminded with a notification of a new kind.
KINDS = ('adoption.yanked', 'adoption.vulnerability', 'adoption.superseded', 'subscription.release',
         'review.approve', 'review.first_approval', 'review.request_changes', 'review.reject', 'webhook.disabled')


def _notification_kinds(kinds):
    with op.batch_alter_table('notifications') as batch:
        batch.drop_constraint(op.f('ck_notifications_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_notifications_kind'),
                                      "kind IN (%s)" % ", ".join(f"'{k}'" for k in kinds))

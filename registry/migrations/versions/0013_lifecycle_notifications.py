"""Notifications: adopters are told when a solution they run is deprecated or archived

Revision ID: 0013
Revises: 0012
"""
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BEFORE = ('adoption.yanked', 'adoption.vulnerability', 'adoption.superseded', 'subscription.release',
          'review.approve', 'review.first_approval', 'review.request_changes', 'review.reject', 'webhook.disabled',
          'review.reminder')
AFTER = BEFORE + ('adoption.deprecated', 'adoption.archived')


def _notification_kinds(kinds):
    with op.batch_alter_table('notifications') as batch:
        batch.drop_constraint(op.f('ck_notifications_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_notifications_kind'),
                                      "kind IN (%s)" % ", ".join(f"'{k}'" for k in kinds))


def upgrade():
    _notification_kinds(AFTER)


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind IN ('adoption.deprecated', 'adoption.archived')")
    _notification_kinds(BEFORE)

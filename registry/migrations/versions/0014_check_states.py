"""Checks run as jobs: a check is also "running", "timed_out" or "error"; events "release.uploaded"
and "check.rerun" start them

`checks.status` grows from 8 to 16 characters ("timed_out" has 9) and its CHECK admits the three new
states. The downgrade cannot keep them: such rows become "warn" (a reviewer should look; the stored
summary still says what happened), and the events the older code does not know are deleted.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

STATUSES_BEFORE = ('pass', 'warn', 'fail')
STATUSES_AFTER = STATUSES_BEFORE + ('running', 'timed_out', 'error')
EVENTS_BEFORE = ('release.published', 'release.changes_requested', 'release.rejected', 'release.yanked',
                 'release.unyanked', 'solution.state_changed', 'adoption.changed', 'webhook.queued', 'mail.queued',
                 'log.appended', 'vulnerabilities.found')
EVENTS_AFTER = EVENTS_BEFORE + ('release.uploaded', 'check.rerun')


def _in(column, values):
    return "%s IN (%s)" % (column, ", ".join(f"'{v}'" for v in values))


def _statuses(values, length, was):
    with op.batch_alter_table('checks') as batch:
        batch.drop_constraint(op.f('ck_checks_status'), type_='check')
        batch.alter_column('status', existing_type=sa.String(length=was), type_=sa.String(length=length),
                           existing_nullable=False)
        batch.create_check_constraint(op.f('ck_checks_status'), _in('status', values))


def _events(values):
    with op.batch_alter_table('event_outbox') as batch:
        batch.drop_constraint(op.f('ck_event_outbox_name'), type_='check')
        batch.create_check_constraint(op.f('ck_event_outbox_name'), _in('name', values))


def upgrade():
    _statuses(STATUSES_AFTER, 16, was=8)
    _events(EVENTS_AFTER)


def downgrade():
    op.execute("DELETE FROM event_outbox WHERE name IN ('release.uploaded', 'check.rerun')")
    _events(EVENTS_BEFORE)
    op.execute("UPDATE checks SET status = 'warn' WHERE status IN ('running', 'timed_out', 'error')")
    _statuses(STATUSES_BEFORE, 8, was=16)

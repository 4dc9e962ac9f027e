"""Events: "vulnerabilities.found", emitted when an OSV import gives a release new findings

Revision ID: 0008
Revises: 0007
"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BEFORE = ('release.published', 'release.changes_requested', 'release.rejected', 'release.yanked',
          'release.unyanked', 'solution.state_changed', 'adoption.changed', 'webhook.queued', 'mail.queued',
          'log.appended')
AFTER = BEFORE + ('vulnerabilities.found',)


def _in(values):
    return "name IN (%s)" % ", ".join(f"'{v}'" for v in values)


def _replace(values):
    with op.batch_alter_table('event_outbox') as batch:
        batch.drop_constraint(op.f('ck_event_outbox_name'), type_='check')
        batch.create_check_constraint('name', _in(values))


def upgrade():
    _replace(AFTER)


def downgrade():
    op.execute("DELETE FROM event_outbox WHERE name = 'vulnerabilities.found'")
    _replace(BEFORE)

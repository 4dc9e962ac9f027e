"""Closed sets checked by the database: states, kinds, roles, statuses; a notification has a recipient

Each column keeps its type (a string) and gains a CHECK that it holds one of the values its StrEnum
in the models lists; the values are copied here, so this migration means the same whatever the enums
say later. The upgrade first looks for rows outside these sets. The code never wrote any, so there
should be none: if there are, it stops and names them (table, column, values) without changing
anything, for a person to decide what they mean. Two kinds of rows it changes itself:

- notifications with neither an org nor a user are deleted: every inbox selects by one of the two,
  so nobody could ever see them;
- on PostgreSQL, the foreign key from a release to the review it answers was never made (0001 marked
  it use_alter, which create_table skips; SQLite has it). It is added here; a release pointing at a
  review that no longer exists loses that pointer, which the key would refuse.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

LEAF_KINDS = ('release.published', 'release.yanked', 'release.unyanked', 'solution.deprecated',
              'solution.archived', 'solution.active', 'key.registered', 'key.revoked')
VERDICTS = ('allow', 'warn', 'review', 'deny')
SEVERITIES = ('critical', 'high', 'medium', 'low', 'unknown')
# table -> column -> the values it may hold (NULL passes where the column allows it)
CLOSED_SETS = {
    'organizations': {'kind': ('vendor', 'municipality', 'agency')},
    'users': {'site_role': ('admin', 'reviewer')},
    'memberships': {'role': ('owner', 'member')},
    'solutions': {'state': ('active', 'deprecated', 'archived')},
    'releases': {'state': ('pending_review', 'published', 'changes_requested', 'rejected', 'yanked')},
    'artifacts': {'kind': ('archive', 'provenance', 'signature', 'sbom')},
    'checks': {'status': ('pass', 'warn', 'fail')},
    'reviews': {'decision': ('approve', 'request_changes', 'reject')},
    'adoptions': {'stage': ('piloting', 'production', 'retired')},
    'notifications': {'kind': ('adoption.yanked', 'adoption.vulnerability', 'adoption.superseded',
                               'subscription.release', 'review.approve', 'review.first_approval',
                               'review.request_changes', 'review.reject', 'webhook.disabled')},
    'components': {'license_verdict': VERDICTS},
    'vulnerabilities': {'severity': SEVERITIES},
    'findings': {'severity': SEVERITIES},
    'license_policy_rules': {'kind': ('license', 'category'), 'action': VERDICTS},
    'mirror_leaves': {'kind': LEAF_KINDS},
}
RECIPIENT = 'org_id IS NOT NULL OR user_id IS NOT NULL'
ANSWERS_FK = 'fk_releases_answers_review_id_reviews'


def _in(column, values):
    return "%s IN (%s)" % (column, ", ".join(f"'{v}'" for v in values))


def _outside_the_sets(connection):
    """'table.column: values' for every column holding values outside its set."""
    found = []
    for table, columns in CLOSED_SETS.items():
        for column, values in columns.items():
            stray = connection.execute(sa.text(
                f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL AND NOT ({_in(column, values)})"
                f" ORDER BY {column}")).scalars().all()
            if stray:
                found.append(f"{table}.{column}: {', '.join(repr(v) for v in stray)}")
    return found


def upgrade():
    connection = op.get_bind()
    stray = _outside_the_sets(connection)
    if stray:
        raise RuntimeError("rows hold values this registry does not know; nothing was changed. Correct or delete "
                           "them, then upgrade again:\n  " + "\n  ".join(stray))
    op.execute(f"DELETE FROM notifications WHERE NOT ({RECIPIENT})")
    for table, columns in CLOSED_SETS.items():
        with op.batch_alter_table(table) as batch:
            for column, values in columns.items():
                batch.create_check_constraint(op.f(f'ck_{table}_{column}'), _in(column, values))
            if table == 'notifications':
                batch.create_check_constraint(op.f('ck_notifications_recipient'), RECIPIENT)
    if connection.dialect.name == 'postgresql':
        op.execute("UPDATE releases SET answers_review_id = NULL WHERE answers_review_id IS NOT NULL "
                   "AND answers_review_id NOT IN (SELECT id FROM reviews)")
        op.create_foreign_key(op.f(ANSWERS_FK), 'releases', 'reviews', ['answers_review_id'], ['id'])


def downgrade():
    # Deleted notifications and cleared answers_review_id pointers stay as they are.
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(op.f(ANSWERS_FK), 'releases', type_='foreignkey')
    for table, columns in reversed(CLOSED_SETS.items()):
        with op.batch_alter_table(table) as batch:
            if table == 'notifications':
                batch.drop_constraint(op.f('ck_notifications_recipient'), type_='check')
            for column in columns:
                batch.drop_constraint(op.f(f'ck_{table}_{column}'), type_='check')

"""The audit chain is anchored in the transparency log: leaves of the kind "audit.anchor"

The signed audit head in blob storage (`meta/audit-head.json`, signed with the registry key) is
replaced by anchors in the log; that document and key are no longer read. The downgrade cannot take
anchor leaves out of a log: it refuses while there are any (a log only grows).

Revision ID: 0016
Revises: 0015
"""
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

LEAF_KINDS_BEFORE = ('release.published', 'release.yanked', 'release.unyanked', 'solution.deprecated',
                     'solution.archived', 'solution.active', 'key.registered', 'key.revoked')
LEAF_KINDS_AFTER = LEAF_KINDS_BEFORE + ('audit.anchor',)


def _in(column, values):
    return "%s IN (%s)" % (column, ", ".join(f"'{v}'" for v in values))


def _closed(table, column, values):
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(op.f(f'ck_{table}_{column}'), type_='check')
        batch.create_check_constraint(op.f(f'ck_{table}_{column}'), _in(column, values))


def upgrade():
    _closed('log_leaves', 'kind', LEAF_KINDS_AFTER)
    _closed('mirror_leaves', 'kind', LEAF_KINDS_AFTER)


def downgrade():
    bind = op.get_bind()
    for table in ('log_leaves', 'mirror_leaves'):
        if bind.exec_driver_sql(f"SELECT count(*) FROM {table} WHERE kind = 'audit.anchor'").scalar():
            raise RuntimeError(f"{table} holds audit anchors; a log cannot lose leaves, so 0016 cannot be undone")
    _closed('mirror_leaves', 'kind', LEAF_KINDS_BEFORE)
    _closed('log_leaves', 'kind', LEAF_KINDS_BEFORE)

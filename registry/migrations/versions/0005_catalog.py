"""catalog: schema changes of the catalog domain

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

import registry.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

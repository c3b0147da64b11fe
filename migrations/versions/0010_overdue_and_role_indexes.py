"""overdue index: the status index also holds the submission time (and the id)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 17:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

IN_QUEUE = "submitted_at IS NOT NULL AND status <> 'draft'"
NAME = 'ix_application_queue_status'


def _recreate(columns, include):
    op.drop_index(NAME, table_name='application')
    op.create_index(
        NAME, 'application', columns, unique=False, postgresql_include=include,
        postgresql_where=sa.text(IN_QUEUE), sqlite_where=sa.text(IN_QUEUE),
    )


def upgrade():
    _recreate(['status', 'submitted_at'], ['id'])


def downgrade():
    _recreate(['status'], [])

"""overdue and role indexes: the status index also holds the submission time (and the id);
the holders of a role are found by an index

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
STATUS_INDEX = 'ix_application_queue_status'


def _status_index(columns, include):
    op.drop_index(STATUS_INDEX, table_name='application')
    op.create_index(
        STATUS_INDEX, 'application', columns, unique=False, postgresql_include=include,
        postgresql_where=sa.text(IN_QUEUE), sqlite_where=sa.text(IN_QUEUE),
    )


def upgrade():
    _status_index(['status', 'submitted_at'], ['id'])
    op.create_index('ix_user_role_role', 'user_role', ['role', 'user_id'], unique=False)


def downgrade():
    op.drop_index('ix_user_role_role', table_name='user_role')
    _status_index(['status'], [])

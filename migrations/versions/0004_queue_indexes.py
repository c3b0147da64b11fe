"""queue indexes: partial indexes for the staff queue, trigram indexes for its search

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 11:03:08.950802

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

IN_QUEUE = "submitted_at IS NOT NULL AND status <> 'draft'"
TRIGRAM_INDEXES = (
    ('application', 'ix_application_reference_trgm', 'reference'),
    ('application', 'ix_application_title_trgm', 'title'),
    ('organisation', 'ix_organisation_name_trgm', 'name'),
)


def upgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.create_index('ix_application_queue_status', ['status'], unique=False, postgresql_where=sa.text(IN_QUEUE), sqlite_where=sa.text(IN_QUEUE))
        batch_op.create_index('ix_application_queue_call', ['call_id', 'status'], unique=False, postgresql_where=sa.text(IN_QUEUE), sqlite_where=sa.text(IN_QUEUE))
        batch_op.create_index('ix_application_queue_submitted', ['submitted_at', 'id'], unique=False, postgresql_where=sa.text(IN_QUEUE), sqlite_where=sa.text(IN_QUEUE))

    # ILIKE '%…%' can use an index only on PostgreSQL with pg_trgm (a contrib extension that
    # ships with PostgreSQL); SQLite gets none of these.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        for table, name, column in TRIGRAM_INDEXES:
            op.create_index(name, table, [column], unique=False, postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'})


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table, name, _column in reversed(TRIGRAM_INDEXES):
            op.drop_index(name, table_name=table)
        # pg_trgm stays: other objects may use it.

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index('ix_application_queue_submitted', postgresql_where=sa.text(IN_QUEUE), sqlite_where=sa.text(IN_QUEUE))
        batch_op.drop_index('ix_application_queue_call', postgresql_where=sa.text(IN_QUEUE), sqlite_where=sa.text(IN_QUEUE))
        batch_op.drop_index('ix_application_queue_status', postgresql_where=sa.text(IN_QUEUE), sqlite_where=sa.text(IN_QUEUE))

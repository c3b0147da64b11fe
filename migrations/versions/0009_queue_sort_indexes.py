"""queue sort indexes: each sort and the district and assignee filters read an index

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 15:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

IN_QUEUE = "submitted_at IS NOT NULL AND status <> 'draft'"
# The workflow order of the statuses, as grants.reviews.queue.status_rank writes it.
STATUS_RANK = (
    "CASE status WHEN 'draft' THEN 0 WHEN 'submitted' THEN 1 "
    "WHEN 'in_review' THEN 2 WHEN 'changes_requested' THEN 3 WHEN 'decision_proposed' THEN 4 "
    "WHEN 'approved' THEN 5 WHEN 'rejected' THEN 6 WHEN 'withdrawn' THEN 7 END"
)
QUEUE_INDEXES = (
    ('ix_application_queue_title', ['title', 'id']),
    ('ix_application_queue_status_rank', [sa.text(f'({STATUS_RANK})'), 'id']),
    ('ix_application_queue_district', ['district', 'status']),
    ('ix_application_queue_assigned', ['assigned_to_id', 'status']),
)


def upgrade():
    for name, columns in QUEUE_INDEXES:
        op.create_index(name, 'application', columns, unique=False, postgresql_where=sa.text(IN_QUEUE), sqlite_where=sa.text(IN_QUEUE))
    op.create_index('ix_organisation_name', 'organisation', ['name', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_organisation_name', table_name='organisation')
    for name, _columns in reversed(QUEUE_INDEXES):
        op.drop_index(name, table_name='application')

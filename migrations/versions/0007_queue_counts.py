"""queue counts: counters of applications per call and status, kept by triggers

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 12:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

IN_QUEUE = "{row}.submitted_at IS NOT NULL AND {row}.status <> 'draft'"

# One function for insert, update and delete: the row leaves its old counter and enters its new
# one, changed in key order so that two concurrent transitions never lock counters crosswise.
POSTGRESQL = f"""
CREATE FUNCTION application_status_count_keep() RETURNS trigger AS $$
DECLARE
    change record;
BEGIN
    FOR change IN
        SELECT moved.call_id, moved.status, sum(moved.delta) AS delta
        FROM (
            SELECT OLD.call_id, OLD.status, -1
            WHERE TG_OP <> 'INSERT' AND {IN_QUEUE.format(row='OLD')}
            UNION ALL
            SELECT NEW.call_id, NEW.status, 1
            WHERE TG_OP <> 'DELETE' AND {IN_QUEUE.format(row='NEW')}
        ) AS moved (call_id, status, delta)
        GROUP BY moved.call_id, moved.status
        HAVING sum(moved.delta) <> 0
        ORDER BY moved.call_id, moved.status
    LOOP
        IF change.delta > 0 THEN
            INSERT INTO application_status_count (call_id, status, count)
            VALUES (change.call_id, change.status, change.delta)
            ON CONFLICT (call_id, status)
            DO UPDATE SET count = application_status_count.count + EXCLUDED.count;
        ELSE
            UPDATE application_status_count SET count = count + change.delta
            WHERE call_id = change.call_id AND status = change.status;
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER application_status_count_insert_delete
    AFTER INSERT OR DELETE ON application
    FOR EACH ROW EXECUTE FUNCTION application_status_count_keep();
CREATE TRIGGER application_status_count_update
    AFTER UPDATE OF status, submitted_at, call_id ON application
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.submitted_at IS DISTINCT FROM NEW.submitted_at
          OR OLD.call_id IS DISTINCT FROM NEW.call_id)
    EXECUTE FUNCTION application_status_count_keep();
"""

ENTER = """
    INSERT INTO application_status_count (call_id, status, count)
    VALUES (NEW.call_id, NEW.status, 1)
    ON CONFLICT (call_id, status) DO UPDATE SET count = count + 1;
"""
LEAVE = """
    UPDATE application_status_count SET count = count - 1
    WHERE call_id = OLD.call_id AND status = OLD.status;
"""
# SQLite runs one connection at a time: no lock order to keep.
SQLITE = (
    f"CREATE TRIGGER application_status_count_insert AFTER INSERT ON application "
    f"WHEN {IN_QUEUE.format(row='NEW')} BEGIN {ENTER} END",
    f"CREATE TRIGGER application_status_count_leave "
    f"AFTER UPDATE OF status, submitted_at, call_id ON application "
    f"WHEN {IN_QUEUE.format(row='OLD')} BEGIN {LEAVE} END",
    f"CREATE TRIGGER application_status_count_enter "
    f"AFTER UPDATE OF status, submitted_at, call_id ON application "
    f"WHEN {IN_QUEUE.format(row='NEW')} BEGIN {ENTER} END",
    f"CREATE TRIGGER application_status_count_delete AFTER DELETE ON application "
    f"WHEN {IN_QUEUE.format(row='OLD')} BEGIN {LEAVE} END",
)


def upgrade():
    op.create_table('application_status_count',
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.CheckConstraint('count >= 0', name=op.f('ck_application_status_count_count_non_negative')),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_application_status_count_call_id_call'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('call_id', 'status', name=op.f('pk_application_status_count'))
    )
    op.execute(
        "INSERT INTO application_status_count (call_id, status, count) "
        "SELECT call_id, status, count(*) FROM application "
        f"WHERE {IN_QUEUE.format(row='application')} GROUP BY call_id, status"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL)
    else:
        for statement in SQLITE:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER application_status_count_update ON application")
        op.execute("DROP TRIGGER application_status_count_insert_delete ON application")
        op.execute("DROP FUNCTION application_status_count_keep()")
    else:
        for name in ("insert", "leave", "enter", "delete"):
            op.execute(f"DROP TRIGGER application_status_count_{name}")
    op.drop_table('application_status_count')

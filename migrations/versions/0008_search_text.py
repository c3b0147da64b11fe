"""search text: one lower-cased column with one trigram index for the search, kept by triggers

An application's reference number, title and organisation name, one per line.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 15:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# The fields are separated by a line break, which a search term never holds (search_condition
# folds white space into single spaces), so no match spans two fields.
SEARCH_TEXT = (
    "lower(coalesce({row}.reference, '') || {newline} || coalesce({row}.title, '') "
    "|| {newline} || {organisation_name})"
)
ORGANISATION_NAME = "(SELECT name FROM organisation WHERE organisation.id = {row}.organisation_id)"

POSTGRESQL = f"""
CREATE FUNCTION application_search_text_keep() RETURNS trigger AS $$
BEGIN
    NEW.search_text := {SEARCH_TEXT.format(
        row='NEW', newline='chr(10)', organisation_name=ORGANISATION_NAME.format(row='NEW'))};
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER application_search_text
    BEFORE INSERT OR UPDATE OF reference, title, organisation_id ON application
    FOR EACH ROW EXECUTE FUNCTION application_search_text_keep();
CREATE FUNCTION organisation_search_text_keep() RETURNS trigger AS $$
BEGIN
    UPDATE application SET search_text = {SEARCH_TEXT.format(
        row='application', newline='chr(10)', organisation_name='NEW.name')}
    WHERE organisation_id = NEW.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER organisation_search_text
    AFTER UPDATE OF name ON organisation
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION organisation_search_text_keep();
"""

# SQLite triggers cannot change NEW: they write the column after the row. Its lower() folds
# ASCII letters only, as its LIKE did before.
_KEEP_ROW = (
    "UPDATE application SET search_text = "
    + SEARCH_TEXT.format(
        row='application', newline='char(10)',
        organisation_name=ORGANISATION_NAME.format(row='application'))
)
SQLITE = (
    f"CREATE TRIGGER application_search_text_insert AFTER INSERT ON application "
    f"BEGIN {_KEEP_ROW} WHERE id = NEW.id; END",
    f"CREATE TRIGGER application_search_text_update "
    f"AFTER UPDATE OF reference, title, organisation_id ON application "
    f"BEGIN {_KEEP_ROW} WHERE id = NEW.id; END",
    f"CREATE TRIGGER organisation_search_text AFTER UPDATE OF name ON organisation "
    f"WHEN OLD.name IS NOT NEW.name "
    f"BEGIN {_KEEP_ROW} WHERE organisation_id = NEW.id; END",
)

OLD_TRIGRAM_INDEXES = (
    ('application', 'ix_application_reference_trgm', 'reference'),
    ('application', 'ix_application_title_trgm', 'title'),
    ('organisation', 'ix_organisation_name_trgm', 'name'),
)


def upgrade():
    op.add_column('application', sa.Column('search_text', sa.Text(), server_default='', nullable=False))
    postgresql = op.get_bind().dialect.name == 'postgresql'
    newline = 'chr(10)' if postgresql else 'char(10)'
    op.execute(
        "UPDATE application SET search_text = "
        + SEARCH_TEXT.format(
            row='application', newline=newline,
            organisation_name=ORGANISATION_NAME.format(row='application'))
    )
    if postgresql:
        op.execute(POSTGRESQL)
        for table, name, _column in OLD_TRIGRAM_INDEXES:
            op.drop_index(name, table_name=table)
        op.create_index('ix_application_search_text_trgm', 'application', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    else:
        for statement in SQLITE:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_application_search_text_trgm', table_name='application')
        for table, name, column in OLD_TRIGRAM_INDEXES:
            op.create_index(name, table, [column], unique=False, postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'})
        op.execute("DROP TRIGGER organisation_search_text ON organisation")
        op.execute("DROP FUNCTION organisation_search_text_keep()")
        op.execute("DROP TRIGGER application_search_text ON application")
        op.execute("DROP FUNCTION application_search_text_keep()")
    else:
        for name in ('application_search_text_insert', 'application_search_text_update', 'organisation_search_text'):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_column('application', 'search_text')

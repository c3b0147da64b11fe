"""What Alembic's autogenerate compares between the models and the database."""

from __future__ import annotations

from sqlalchemy import Column, Index


def include_object(object_, name, type_, reflected, compare_to) -> bool:
    """Everything but indexes on expressions: Alembic cannot compare those (it reads them
    back as text), so the migration that creates one is their only record."""
    if isinstance(object_, Index):
        return all(isinstance(expression, Column) for expression in object_.expressions)
    return True

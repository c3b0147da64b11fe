"""Celery worker and beat: they import grants, never the reverse."""

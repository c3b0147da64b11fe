"""The beat schedule, as data."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "outbox-sweep": {
        "task": "outbox.sweep",
        "schedule": crontab(minute="*/5"),
    },
}

"""The beat schedule, as data (times in Europe/Berlin, the Celery timezone).

Every reminder job may run twice (two beats by mistake, a restart at the wrong moment): each
reminder claims its key in `reminder_sent` first, so it is sent once per occasion.
"""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # Outbox rows whose dispatch after commit was lost (broker down) are handed over again.
    "outbox-sweep": {
        "task": "outbox.sweep",
        "schedule": crontab(minute="*/5"),
    },
    # Drafts of calls closing within 7 days / 1 day. Twice a day, so "within 1 day" is
    # noticed in the morning and the afternoon of the last day.
    "reminders-call-closing": {
        "task": "reminders.call_closing",
        "schedule": crontab(minute=0, hour="8,14"),
    },
    # Change requests due in 3 days or overdue.
    "reminders-change-requests": {
        "task": "reminders.change_requests",
        "schedule": crontab(minute=10, hour=8),
    },
    # Proposals waiting for sign-off for more than 3 working days.
    "reminders-sign-offs": {
        "task": "reminders.sign_offs",
        "schedule": crontab(minute=20, hour=8, day_of_week="mon-fri"),
    },
    # The case workers' digest of new and overdue applications, on working days.
    "reminders-staff-digest": {
        "task": "reminders.staff_digest",
        "schedule": crontab(minute=30, hour=7, day_of_week="mon-fri"),
    },
}

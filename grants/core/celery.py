"""Celery bound to the Flask app: every task runs inside an application context."""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask


def init_celery(app: Flask) -> Celery:
    """Create the Celery app from the Flask config and store it in app.extensions."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=app.config["BROKER_URL"],
        result_backend=None,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        timezone="Europe/Berlin",
        enable_utc=True,
        task_always_eager=app.config["CELERY_EAGER"],
        task_eager_propagates=False,
        # A task is acknowledged when it has finished, and given back when its worker dies.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # Redis: an unacknowledged task comes back after the visibility timeout (see config).
        broker_transport_options={
            "visibility_timeout": app.config["BROKER_VISIBILITY_TIMEOUT"],
            "unacked_restore_interval": app.config["BROKER_RESTORE_INTERVAL"],
            "unacked_restore_throttle": 1,
        },
        # A late-acknowledged task running when the broker connection drops cannot be
        # acknowledged any more and will be redelivered: cancel it instead of finishing it twice.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_default_queue="default",
        # Letters are rendered by their own workers, so PDFs never hold up the mail.
        task_routes={"mail.*": {"queue": "mail"}, "letters.*": {"queue": "documents"}},
        imports=("workers.tasks",),
        beat_schedule_filename=app.config.get(
            "CELERY_BEAT_SCHEDULE_FILE", "var/celerybeat-schedule"
        ),
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery

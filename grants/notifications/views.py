"""The notification centre, the e-mail settings and the outbox health page for admins."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import format_timedelta, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from grants.core.access import roles_required, signed_in
from grants.core.forms import ActionForm
from grants.core.outbox import OutboxMessage
from grants.core.urls import safe_next
from grants.extensions import db
from grants.notifications import operations
from grants.notifications.events import (
    EVENTS,
    opted_out,
    optional_events_for,
    render_message,
    required_events_for,
)
from grants.notifications.forms import EmailPreferencesForm

bp = Blueprint("notifications", __name__)


@bp.app_template_filter("timedelta")
def timedelta_filter(value) -> str:
    """A duration in words, in the reader's language ("3 minutes")."""
    return format_timedelta(value, threshold=1.0)


def unread_count() -> int:
    """The signed-in user's unread notifications, counted once per request (the header shows
    the number on every page, the notification centre too)."""
    if not current_user or not current_user.is_authenticated:
        return 0
    if "unread_notification_count" not in g:
        g.unread_notification_count = operations.unread_count(current_user)
    return g.unread_notification_count


@bp.app_context_processor
def unread_notifications():
    """The header's unread count, queried only when a page shows it."""
    return {"unread_notification_count": unread_count}


@bp.route("/notifications")
@signed_in
def index():
    notifications = operations.notifications_of(current_user)
    return render_template(
        "notifications/index.html",
        notifications=notifications,
        messages={n.id: render_message(n) for n in notifications},
        unread=unread_count(),
        form=ActionForm(),
    )


@bp.route("/notifications/<int:notification_id>")
@signed_in
def open_notification(notification_id: int):
    notification = operations.get_own_notification_or_404(current_user, notification_id)
    operations.mark_read(notification)
    db.session.commit()
    return redirect(safe_next(notification.link) or url_for("notifications.index"))


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@signed_in
def mark_read(notification_id: int):
    notification = operations.get_own_notification_or_404(current_user, notification_id)
    if ActionForm().validate_on_submit():
        operations.mark_read(notification)
        db.session.commit()
        flash(_("The notification has been marked as read."), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/read-all", methods=["POST"])
@signed_in
def mark_all_read():
    if ActionForm().validate_on_submit():
        count = operations.mark_all_read(current_user)
        db.session.commit()
        flash(
            ngettext(
                "%(num)d notification has been marked as read.",
                "%(num)d notifications have been marked as read.",
                count,
            ),
            "success",
        )
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/settings", methods=["GET", "POST"])
@signed_in
def settings():
    optional = optional_events_for(current_user)
    form = EmailPreferencesForm()
    form.events.choices = [(name, str(event.label)) for name, event in optional]
    if not form.is_submitted():
        switched_off = opted_out(current_user)
        form.events.data = [name for name, _event in optional if name not in switched_off]
    if form.validate_on_submit():
        operations.save_email_preferences(current_user, set(form.events.data or []))
        db.session.commit()
        flash(_("Your e-mail settings have been saved."), "success")
        return redirect(url_for("notifications.settings"))
    return render_template(
        "notifications/settings.html",
        form=form,
        optional=optional,
        required=required_events_for(current_user),
    )


@bp.route("/admin/outbox")
@roles_required("admin")
def outbox():
    return render_template(
        "notifications/outbox.html",
        health=operations.outbox_health(),
        events=EVENTS,
        form=ActionForm(),
    )


@bp.route("/admin/outbox/<int:message_id>/retry", methods=["POST"])
@roles_required("admin")
def retry(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    if ActionForm().validate_on_submit():
        try:
            operations.retry_outbox_message(message, current_user)
        except operations.OutboxError:
            flash(_("Only a failed message can be sent again."), "error")
        else:
            db.session.commit()
            flash(_("Message %(id)d will be sent again.", id=message_id), "success")
    return redirect(url_for("notifications.outbox"))

"""Staff side of the review: queue, application view, checks, change requests, decisions."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from urllib.parse import urlencode

from babel.dates import format_date as babel_format_date
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_currency, format_date, get_locale, get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

import grants.reviews.models  # noqa: F401 - registers the tables
from grants.applications.models import Application, ApplicationVersion
from grants.applications.operations import get_submitted_application_or_404
from grants.applications.sections import SECTIONS
from grants.applications.workflow import (
    STATUSES,
    TRANSITIONS,
    TransitionError,
    allowed_transitions,
)
from grants.auth.models import User
from grants.core.access import roles_required
from grants.core.audit import AuditEvent
from grants.core.forms import ActionForm
from grants.core.models import to_local, utcnow
from grants.core.money import ZERO
from grants.core.urls import safe_next, url_pattern
from grants.extensions import db
from grants.programmes.catalogue import DISTRICTS, label
from grants.programmes.models import Programme
from grants.reviews import operations
from grants.reviews.diff import diff_snapshots
from grants.reviews.forms import (
    CRITERION_LABELS,
    FORMAL_CHECK_LABELS,
    RECOMMENDATIONS,
    AssessmentForm,
    ChangeRequestForm,
    DecisionForm,
    FormalCheckForm,
    NoteForm,
    ReturnForm,
    arithmetic_form,
)
from grants.reviews.models import DECISION_KIND_LABELS, Assessment, FormalCheck, Note
from grants.reviews.operations import (
    ASSESSMENT_CRITERIA,
    FORMAL_CHECK_ITEMS,
    REVIEWABLE,
    ReviewError,
)
from grants.reviews.queue import (
    OVERDUE_DAYS,
    QUEUE_STATUSES,
    QueueFilters,
    active_staff,
    calls_for_filter,
    load_queue,
    page_numbers,
)

bp = Blueprint("reviews", __name__, url_prefix="/review")

READ_ROLES = ("staff", "approver")  # may read every submitted application
CHANGE_ROLES = ("staff",)  # may check it, ask for changes and write notes

ACTION_LABELS = {
    "application.created": _l("Draft started"),
    "application.section_saved": _l("Section saved"),
    "application.cost_line_added": _l("Cost line added"),
    "application.cost_line_removed": _l("Cost line removed"),
    "application.attachment_added": _l("Attachment added"),
    "application.attachment_removed": _l("Attachment removed"),
    "application.assigned": _l("Case worker assigned"),
    "review.formal_check": _l("Formal check saved"),
    "review.assessment": _l("Assessment saved"),
    "review.cost_line": _l("Cost line checked"),
    "review.note": _l("Internal note added"),
}

# Transitions with a page of their own elsewhere in this blueprint (linked when it exists).
TRANSITION_PAGES = {
    "propose_decision": ("reviews.propose_decision", _l("Propose a decision")),
    "approve": ("reviews.sign_off", _l("Check the proposed decision")),
    "reject": ("reviews.sign_off", _l("Check the proposed decision")),
    "return_proposal": ("reviews.sign_off", _l("Check the proposed decision")),
}


@bp.app_template_global()
def audit_action_label(action: str) -> str:
    """An audit action in words: the transition's staff label or a fixed phrase."""
    name = action.removeprefix("application.")
    if name in TRANSITIONS:
        return str(TRANSITIONS[name].staff_label)
    return str(ACTION_LABELS.get(action, action))


@bp.app_template_global()
def staff_status(status: str | None) -> str:
    """The precise status label staff see."""
    return str(STATUSES[status].staff_label) if status in STATUSES else (status or "")


@bp.app_template_global()
def decision_kind_label(kind: str) -> str:
    """Approval, partial approval or rejection in the reader's language."""
    return label(DECISION_KIND_LABELS, kind)


@bp.app_template_global()
def section_label(code: str) -> str:
    """The name of a section of the application."""
    return str(SECTIONS.get(code, code))


@bp.app_template_filter("iso_date")
def format_iso_date(value: str | None, fmt: str = "medium") -> str:
    """A date stored as ISO text in a snapshot, shown the reader's way."""
    return format_date(date.fromisoformat(value), fmt) if value else ""


def _review_error_message(error: ReviewError) -> str:
    messages = {
        "not_in_review": lambda: _(
            "The checks can only be changed while the application is submitted or in review."
        ),
        "score_range": lambda: _("Choose a score from 0 to 5."),
        "admitted_range": lambda: _(
            "Admit at least 0 and at most the requested %(amount)s.",
            amount=format_currency(error.details.get("amount", 0), "EUR"),
        ),
        "reason_missing": lambda: _("Give a reason for the cut."),
        "deadline_past": lambda: _("The deadline must be a day after today."),
    }
    return messages.get(error.code, lambda: _("This step is not possible now."))()


def _transition_message(error: TransitionError) -> str:
    if error.code == "stale":
        return _("This application was changed meanwhile. Please check it again.")
    if error.code == "state":
        return _("This step is not possible in the current status of the application.")
    return _("You may not take this step.")


def _back(application: Application, anchor: str | None = None):
    return redirect(url_for("reviews.show", application_id=application.id, _anchor=anchor))


def _refused(application: Application, error: ReviewError):
    """The state no longer allows the step: say why and show the page as it is now."""
    flash(_review_error_message(error), "error")
    return _back(application)


def _timeline(application: Application) -> list[tuple[AuditEvent, User | None]]:
    """The audit events of the application, oldest first, with their actors."""
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "application", AuditEvent.object_id == application.id)
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    ).all()
    actor_ids = {event.actor_id for event in events if event.actor_id is not None}
    actors = (
        {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))}
        if actor_ids
        else {}
    )
    return [(event, actors.get(event.actor_id)) for event in events]


def _version_history(application: Application) -> list[tuple[ApplicationVersion, list | None]]:
    """Each submitted version, newest first, with what changed against the one before."""
    versions = list(application.versions)
    history = [
        (version, diff_snapshots(versions[i - 1].snapshot, version.snapshot) if i else None)
        for i, version in enumerate(versions)
    ]
    return list(reversed(history))


def _default_forms(application: Application) -> dict:
    """The forms of the page as saved so far (not filled from the request)."""
    check = db.session.scalar(
        select(FormalCheck).where(FormalCheck.application_id == application.id)
    )
    assessment = db.session.scalar(
        select(Assessment).where(Assessment.application_id == application.id)
    )
    assessment_data = {}
    if assessment is not None:
        assessment_data = {f"score_{c}": s for c, s in (assessment.scores or {}).items()}
        assessment_data.update(recommendation=assessment.recommendation, comment=assessment.comment)
    return {
        "action_form": ActionForm(formdata=None),
        "formal_form": FormalCheckForm(
            formdata=None,
            prefix="formal",
            data={
                "items": [item for item, done in (check.items or {}).items() if done],
                "note": check.note,
            }
            if check
            else {},
        ),
        "assessment_form": AssessmentForm(formdata=None, prefix="assessment", data=assessment_data),
        "arithmetic_form": arithmetic_form(application.cost_lines, formdata=None),
        "change_form": ChangeRequestForm(
            formdata=None,
            prefix="changes",
            data={"deadline": to_local(utcnow()).date() + timedelta(days=14)},
        ),
        "note_form": NoteForm(formdata=None, prefix="note"),
        "formal_check": check,
        "assessment": assessment,
    }


def _render_show(application: Application, status: int = 200, **submitted):
    """The application page; submitted forms (with their errors) replace the defaults."""
    context = {**_default_forms(application), **submitted}
    roles = set(current_user.roles)
    transitions = {t.name for t in allowed_transitions(application.status, roles)}
    pages = dict(
        TRANSITION_PAGES[name]
        for name in sorted(transitions)
        if name in TRANSITION_PAGES and TRANSITION_PAGES[name][0] in current_app.view_functions
    )
    latest = application.versions[-1] if application.versions else None
    notes = db.session.scalars(
        select(Note).where(Note.application_id == application.id).order_by(Note.created_at.desc())
    ).all()
    return render_template(
        "reviews/show.html",
        application=application,
        latest=latest,
        snapshot=latest.snapshot if latest else {},
        current_attachments={a.id for a in application.attachments},
        history=_version_history(application),
        timeline=_timeline(application),
        notes=notes,
        change_requests=list(reversed(application.change_requests or [])),
        open_change_request=operations.open_change_request(application),
        transitions=transitions,
        transition_pages=pages,
        may_change=bool(roles & set(CHANGE_ROLES)),
        reviewable=application.status in REVIEWABLE,
        formal_items=FORMAL_CHECK_ITEMS,
        formal_labels=FORMAL_CHECK_LABELS,
        criteria=ASSESSMENT_CRITERIA,
        criterion_labels=CRITERION_LABELS,
        recommendations=RECOMMENDATIONS,
        reviewed=operations.recompute_grant(application),
        sections=SECTIONS,
        decision_kinds=DECISION_KIND_LABELS,
        today=to_local(utcnow()).date(),
        **context,
    ), status


@bp.route("/<int:application_id>")
@roles_required(*READ_ROLES)
def show(application_id: int):
    application = get_submitted_application_or_404(application_id)
    return _render_show(application)


@bp.route("/<int:application_id>/start", methods=["POST"])
@roles_required(*CHANGE_ROLES)
def start(application_id: int):
    application = get_submitted_application_or_404(application_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        operations.start_review(
            application, current_user, seen_status=request.form.get("seen_status")
        )
    except TransitionError as error:
        db.session.rollback()
        flash(_transition_message(error), "error")
        return _back(application)
    db.session.commit()
    flash(_("The review has started."), "success")
    return _back(application)


@bp.route("/<int:application_id>/changes", methods=["POST"])
@roles_required(*CHANGE_ROLES)
def request_changes(application_id: int):
    application = get_submitted_application_or_404(application_id)
    form = ChangeRequestForm(prefix="changes")
    if not form.validate_on_submit():
        return _render_show(application, 400, change_form=form)
    try:
        operations.request_changes(
            application,
            form.message.data,
            form.sections.data or [],
            form.deadline.data,
            current_user,
            seen_status=request.form.get("seen_status"),
        )
    except ReviewError as error:
        db.session.rollback()
        form.deadline.errors = [*form.deadline.errors, _review_error_message(error)]
        return _render_show(application, 400, change_form=form)
    except TransitionError as error:
        db.session.rollback()
        flash(_transition_message(error), "error")
        return _back(application)
    db.session.commit()
    flash(_("The changes have been requested; the applicant is informed."), "success")
    return _back(application, "change-requests")


@bp.route("/<int:application_id>/notes", methods=["POST"])
@roles_required(*CHANGE_ROLES)
def add_note(application_id: int):
    application = get_submitted_application_or_404(application_id)
    form = NoteForm(prefix="note")
    if not form.validate_on_submit():
        return _render_show(application, 400, note_form=form)
    operations.add_note(application, form.body.data, current_user)
    db.session.commit()
    flash(_("The note has been saved."), "success")
    return _back(application, "notes")


@bp.route("/<int:application_id>/formal-check", methods=["POST"])
@roles_required(*CHANGE_ROLES)
def formal_check(application_id: int):
    application = get_submitted_application_or_404(application_id)
    form = FormalCheckForm(prefix="formal")
    if not form.validate_on_submit():
        return _render_show(application, 400, formal_form=form)
    try:
        operations.save_formal_check(
            application,
            dict.fromkeys(form.items.data or [], True),
            (form.note.data or "").strip() or None,
            current_user,
        )
    except ReviewError as error:
        db.session.rollback()
        if error.code == "not_in_review":
            return _refused(application, error)
        form.form_errors.append(_review_error_message(error))
        return _render_show(application, 400, formal_form=form)
    db.session.commit()
    flash(_("The formal check has been saved."), "success")
    return _back(application, "formal-check")


@bp.route("/<int:application_id>/assessment", methods=["POST"])
@roles_required(*CHANGE_ROLES)
def assessment(application_id: int):
    application = get_submitted_application_or_404(application_id)
    form = AssessmentForm(prefix="assessment")
    if not form.validate_on_submit():
        return _render_show(application, 400, assessment_form=form)
    try:
        operations.save_assessment(
            application,
            {c: form[f"score_{c}"].data for c in ASSESSMENT_CRITERIA},
            form.recommendation.data,
            (form.comment.data or "").strip() or None,
            current_user,
        )
    except ReviewError as error:
        db.session.rollback()
        if error.code == "not_in_review":
            return _refused(application, error)
        form.form_errors.append(_review_error_message(error))
        return _render_show(application, 400, assessment_form=form)
    db.session.commit()
    flash(_("The assessment has been saved."), "success")
    return _back(application, "assessment")


@bp.route("/<int:application_id>/arithmetic", methods=["POST"])
@roles_required(*CHANGE_ROLES)
def arithmetic(application_id: int):
    application = get_submitted_application_or_404(application_id)
    form = arithmetic_form(application.cost_lines)
    if not form.validate_on_submit():
        return _render_show(application, 400, arithmetic_form=form)
    # All lines or none: a savepoint undoes the lines already saved when a later one fails.
    savepoint = db.session.begin_nested()
    failed = False
    for line, admitted, reason in form.lines:
        try:
            operations.review_cost_line(line, admitted.data, reason.data, current_user)
        except ReviewError as error:
            if error.code == "not_in_review":
                savepoint.rollback()
                return _refused(application, error)
            failed = True
            field = reason if error.code == "reason_missing" else admitted
            field.errors = [*field.errors, _review_error_message(error)]
    if failed:
        savepoint.rollback()
        return _render_show(application, 400, arithmetic_form=form)
    savepoint.commit()
    db.session.commit()
    flash(_("The arithmetic check has been saved; the grant is recomputed."), "success")
    return _back(application, "arithmetic")


# --- The staff queue ---------------------------------------------------------------------


@bp.route("", methods=["GET"])
@roles_required(*READ_ROLES)
def queue():
    filters = QueueFilters.from_args(request.args)
    staff = active_staff()
    calls = calls_for_filter()
    result = load_queue(filters, current_user)
    # Labels are translated once here, not once per row in the template.
    status_labels = {code: str(status.staff_label) for code, status in STATUSES.items()}
    district_labels = {code: str(label) for code, label in DISTRICTS.items()}
    queue_path = url_for("reviews.queue")

    def queue_url(**changes) -> str:
        """This page with changed filters (the queue's own links: no routing per link)."""
        query = urlencode(result.filters.args(**changes))
        return f"{queue_path}?{query}" if query else queue_path

    return render_template(
        "reviews/queue.html",
        result=result,
        calls=calls,
        calls_by_id={call.id: call for call in calls},
        staff=staff,
        can_assign="staff" in current_user.roles,
        local_date=_local_date_formatter(),
        status_choices=[(code, status_labels[code]) for code in QUEUE_STATUSES],
        status_labels=status_labels,
        district_choices=list(district_labels.items()),
        district_labels=district_labels,
        overdue_days=OVERDUE_DAYS,
        page_numbers=page_numbers,
        queue_path=queue_path,
        queue_url=queue_url,
        show_url=url_pattern("reviews.show", "application_id"),
        assign_url_of=url_pattern("reviews.assign", "application_id"),
    )


@bp.route("/<int:application_id>/assign", methods=["POST"])
@roles_required("staff")
def assign(application_id: int):
    application = get_submitted_application_or_404(application_id)
    back = safe_next(request.form.get("next")) or url_for("reviews.queue")
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("The form had expired. Please send it again."), "error")
        return redirect(back)
    chosen = (request.form.get("assignee_id") or "").strip()
    if request.form.get("assign") == "me":
        chosen = str(current_user.id)
    assignee = None
    if chosen:
        staff_ids = {staff_id for staff_id, _name in active_staff()}
        if not chosen.isdigit() or int(chosen) not in staff_ids:
            flash(_("Choose an active member of staff."), "error")
            return redirect(back)
        assignee = db.session.get(User, int(chosen))
    operations.assign(application, assignee, current_user)
    db.session.commit()
    if assignee is None:
        flash(_("%(reference)s is now unassigned.", reference=application.reference), "success")
    else:
        flash(
            _(
                "%(reference)s is now assigned to %(name)s.",
                reference=application.reference,
                name=assignee.full_name,
            ),
            "success",
        )
    return redirect(back)


def _local_date_formatter():
    """Format dates and UTC moments as Berlin dates, with the locale looked up once a page
    and each day formatted once."""
    locale, zone = get_locale(), get_timezone()

    @cache
    def format_day(day) -> str:
        return babel_format_date(day, "medium", locale=locale)

    def local_date(value) -> str:
        if isinstance(value, datetime):
            value = value.astimezone(zone).date()
        return format_day(value)

    return local_date


DECISION_MESSAGES = {
    "amount_missing": _l("Enter the grant."),
    "amount_above_grant": _l("The grant may not exceed the largest possible grant."),
    "period_invalid": _l("Enter an approval period whose end is not before its start."),
    "reasons_missing": _l("A partial approval and a rejection need reasons."),
    "no_proposal": _l("There is no decision waiting for sign-off."),
    "own_proposal": _l("You proposed this decision; another person must sign it off."),
    "comment_missing": _l("Please say why you return the proposal."),
}


def _stale_or_forbidden(error: TransitionError, application):
    """The message for a refused transition, and back to the application."""
    if error.code == "role":
        abort(403)
    flash(_("This application was changed meanwhile. Please check it again."), "error")
    return redirect(url_for("reviews.show", application_id=application.id))


@bp.route("/<int:application_id>/decision", methods=["GET", "POST"])
@roles_required("staff")
def propose_decision(application_id: int):
    application = get_submitted_application_or_404(application_id)
    reviewed = operations.recompute_grant(application)
    suggested = min(application.requested_grant or ZERO, reviewed.calculation.grant)
    form = DecisionForm(
        data={
            "kind": "approve",
            "amount": suggested,
            "period_start": application.start_date,
            "period_end": application.end_date,
        }
    )
    if form.validate_on_submit():
        try:
            operations.propose_decision(
                application,
                current_user,
                kind="rejection" if form.kind.data == "reject" else "approval",
                amount=form.amount.data,
                reasons=form.reasons.data,
                conditions=form.conditions.data,
                period_start=form.period_start.data,
                period_end=form.period_end.data,
                seen_status=request.form.get("seen_status"),
            )
        except operations.ReviewError as error:
            db.session.rollback()
            target = {
                "amount_missing": form.amount,
                "amount_above_grant": form.amount,
                "period_invalid": form.period_end,
            }.get(error.code, form.reasons)
            target.errors = [*target.errors, str(DECISION_MESSAGES[error.code])]
        except TransitionError as error:
            db.session.rollback()
            return _stale_or_forbidden(error, application)
        else:
            db.session.commit()
            flash(_("The decision has been proposed for sign-off."), "success")
            return redirect(url_for("reviews.show", application_id=application.id))
    budget = operations.budget_for(application)
    return render_template(
        "reviews/decision.html",
        application=application,
        form=form,
        reviewed=reviewed,
        budget=budget,
    ), 400 if form.errors else 200


@bp.route("/<int:application_id>/sign-off", methods=["GET", "POST"])
@roles_required("approver")
def sign_off(application_id: int):
    application = get_submitted_application_or_404(application_id)
    decision = operations.pending_decision(application)
    if decision is None:
        flash(str(DECISION_MESSAGES["no_proposal"]), "warning")
        return redirect(url_for("reviews.show", application_id=application.id))
    form = ActionForm()
    if form.validate_on_submit():
        try:
            operations.sign_off(
                application, current_user, seen_status=request.form.get("seen_status")
            )
        except operations.ReviewError as error:
            db.session.rollback()
            if error.code == "budget_exceeded":
                flash(
                    _(
                        "The sign-off was refused: the grant of %(amount)s exceeds the "
                        "remaining budget of %(remaining)s (budget %(total)s, committed "
                        "%(committed)s).",
                        **{k: format_currency(v, "EUR") for k, v in error.details.items()},
                    ),
                    "error",
                )
            else:
                flash(str(DECISION_MESSAGES[error.code]), "error")
            return redirect(url_for("reviews.sign_off", application_id=application.id))
        except TransitionError as error:
            db.session.rollback()
            return _stale_or_forbidden(error, application)
        db.session.commit()
        flash(_("The decision has been signed off."), "success")
        return redirect(url_for("reviews.show", application_id=application.id))
    return _sign_off_page(application, decision, ReturnForm())


def _sign_off_page(application, decision, return_form, status: int = 200):
    budget = operations.budget_for(application)
    return render_template(
        "reviews/sign_off.html",
        application=application,
        decision=decision,
        budget=budget,
        own_proposal=decision.proposed_by_id == current_user.id,
        sign_form=ActionForm(),
        return_form=return_form,
    ), status


@bp.route("/<int:application_id>/return", methods=["POST"])
@roles_required("approver")
def return_proposal(application_id: int):
    application = get_submitted_application_or_404(application_id)
    decision = operations.pending_decision(application)
    if decision is None:
        abort(404)
    form = ReturnForm()
    if form.validate_on_submit():
        try:
            operations.return_proposal(
                application,
                form.comment.data,
                current_user,
                seen_status=request.form.get("seen_status"),
            )
        except operations.ReviewError as error:
            db.session.rollback()
            form.comment.errors = [str(DECISION_MESSAGES[error.code])]
        except TransitionError as error:
            db.session.rollback()
            return _stale_or_forbidden(error, application)
        else:
            db.session.commit()
            flash(_("The proposal has been returned to review."), "success")
            return redirect(url_for("reviews.show", application_id=application.id))
    return _sign_off_page(application, decision, form, 400)


@bp.route("/budget")
@roles_required("staff", "approver", "finance", "admin")
def budget():
    programmes = db.session.scalars(select(Programme).order_by(Programme.name)).all()
    rows = [
        (
            programme,
            operations.budget_of(programme),
            [(call, operations.budget_of(programme, call)) for call in programme.calls],
        )
        for programme in programmes
    ]
    return render_template("reviews/budget.html", rows=rows)

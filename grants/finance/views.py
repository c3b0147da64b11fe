"""The finance officers' area: decisions, letters, exports and payouts."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import format_currency
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from grants.core.access import roles_required
from grants.core.models import LOCAL_TIMEZONE, utcnow
from grants.extensions import db
from grants.finance import operations
from grants.finance.forms import FilterForm, PayoutForm
from grants.finance.operations import DecisionFilter
from grants.programmes.models import Call, Programme
from grants.reviews.models import DECISION_KIND_LABELS, Decision

bp = Blueprint("finance", __name__, url_prefix="/finance")

FILTER_ARGS = ("q", "programme", "call", "kind", "payment", "date_from", "date_to")


@bp.app_template_global()
def payment_state_label(state: str | None) -> str:
    """Paid, partly paid or open in the reader's language ('–' for rejections)."""
    labels = {"open": _("Open"), "partly": _("Partly paid"), "paid": _("Paid")}
    return labels.get(state, "–") if state else "–"


def _filter_form() -> FilterForm:
    form = FilterForm(formdata=request.args)
    form.programme.choices = [("", _("All programmes"))] + [
        (str(p.id), p.name) for p in db.session.scalars(select(Programme).order_by(Programme.name))
    ]
    form.call.choices = [("", _("All calls"))] + [
        (str(c.id), f"{c.programme.name}: {c.title}")
        for c in db.session.scalars(select(Call).join(Programme).order_by(Programme.name, Call.id))
    ]
    form.kind.choices = [("", _("All kinds"))] + [
        (kind, str(text)) for kind, text in DECISION_KIND_LABELS.items()
    ]
    form.payment.choices = [("", _("Any payment state"))] + [
        (state, payment_state_label(state)) for state in operations.PAYMENT_STATES
    ]
    return form


def _as_int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _valid(field):
    """The field's value, or None when it is empty or invalid."""
    return None if field.errors else field.data or None


def _filters(form: FilterForm) -> DecisionFilter:
    """The filter the form describes; invalid parts are left out (the form shows their errors)."""
    form.validate()
    return DecisionFilter(
        programme_id=_as_int(_valid(form.programme)),
        call_id=_as_int(_valid(form.call)),
        kind=_valid(form.kind),
        payment=_valid(form.payment),
        date_from=_valid(form.date_from),
        date_to=_valid(form.date_to),
        q=_valid(form.q),
    )


def _filter_args() -> dict[str, str]:
    """The filter part of the query string, for links to exports and pages."""
    return {name: request.args[name] for name in FILTER_ARGS if request.args.get(name)}


@bp.route("/")
@roles_required("finance")
def index():
    form = _filter_form()
    filters = _filters(form)
    page = operations.decision_page(filters, request.args.get("page", 1, type=int))
    letters = operations.latest_letters(row.decision.id for row in page.rows)
    return render_template(
        "finance/index.html",
        form=form,
        page=page,
        letters=letters,
        filter_args=_filter_args(),
    )


def _stamp() -> str:
    return utcnow().astimezone(LOCAL_TIMEZONE).strftime("%Y%m%d-%H%M")


@bp.route("/letters.zip")
@roles_required("finance")
def letters_zip():
    files = operations.letters_in_filter(_filters(_filter_form()))
    if not files:
        flash(_("No letters match the filter."), "warning")
        return redirect(url_for("finance.index", **_filter_args()))
    return Response(
        stream_with_context(operations.stream_zip(files)),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="Bescheide-{_stamp()}.zip"'},
    )


@bp.route("/export.csv")
@roles_required("finance")
def export_csv():
    rows = operations.export_csv(_filters(_filter_form()))
    return Response(
        stream_with_context(chunk.encode() for chunk in rows),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="Auszahlungen-{_stamp()}.csv"'},
    )


@bp.route("/export.xlsx")
@roles_required("finance")
def export_xlsx():
    return send_file(
        operations.export_xlsx(_filters(_filter_form())),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"Auszahlungen-{_stamp()}.xlsx",
    )


def _signed_off_or_404(decision_id: int) -> Decision:
    decision = db.session.get(Decision, decision_id)
    if decision is None or decision.state != "signed_off":
        abort(404)
    return decision


@bp.route("/decisions/<int:decision_id>", methods=["GET", "POST"])
@roles_required("finance")
def decision(decision_id: int):
    decision = _signed_off_or_404(decision_id)
    form = PayoutForm()
    if decision.kind != "rejection" and form.validate_on_submit():
        try:
            operations.record_payout(
                decision,
                form.paid_on.data,
                form.amount.data,
                form.booking_reference.data,
                current_user,
            )
        except operations.FinanceError as error:
            db.session.rollback()
            if error.code == "above_approved":
                form.amount.errors.append(
                    _(
                        "At most %(remaining)s can still be paid (approved %(approved)s, "
                        "paid %(paid)s).",
                        remaining=format_currency(error.details["remaining"], "EUR"),
                        approved=format_currency(error.details["approved"], "EUR"),
                        paid=format_currency(error.details["paid"], "EUR"),
                    )
                )
            else:
                form.amount.errors.append(_("Enter an amount of more than 0."))
        else:
            db.session.commit()
            flash(_("The payout has been recorded; the applicant is informed."), "success")
            return redirect(url_for("finance.decision", decision_id=decision.id))
    row = operations.DecisionRow(decision, operations.paid_total(decision))
    return render_template(
        "finance/decision.html",
        decision=decision,
        application=decision.application,
        form=form,
        paid=row.paid,
        state=row.payment_state,
        remaining=row.open_amount,
    )

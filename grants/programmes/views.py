"""Programmes and calls: administration, and the public list of open calls."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import format_date, format_decimal, format_time
from flask_babel import gettext as _
from flask_login import current_user

import grants.programmes.models  # noqa: F401 - registers the tables
from grants.core.access import public, roles_required
from grants.core.forms import ActionForm
from grants.core.models import to_local, utcnow
from grants.extensions import db
from grants.organisations.operations import organisations_of
from grants.programmes import operations
from grants.programmes.catalogue import (
    ATTACHMENT_KINDS,
    COST_CATEGORIES,
    DECLARATIONS,
    FINANCING_TYPES,
    label,
)
from grants.programmes.forms import CallForm, LumpSumItemForm, ProgrammeForm
from grants.programmes.models import Call, LumpSumItem, Programme

bp = Blueprint("programmes", __name__)

PROBLEM_MESSAGES = {
    "share_rate_missing": lambda: _("Share financing needs the share in percent."),
    "share_rate_range": lambda: _("Enter a share above 0 and at most 100 percent."),
    "max_below_min": lambda: _("The maximum grant must not be lower than the minimum grant."),
    "code_taken": lambda: _("Another programme uses this code already."),
    "lump_sum_code_taken": lambda: _("Another lump sum of this programme uses this code already."),
    "lump_sum_in_use": lambda: _(
        "This lump sum is used in applications and cannot be deleted. You can still change it."
    ),
    "closes_before_opens": lambda: _("The deadline must be after the start of the call."),
    "end_before_start": lambda: _("The end of the project period must not be before its start."),
}


@bp.app_template_global()
def financing_type_label(code: str) -> str:
    """The translated name of a financing type."""
    return label(FINANCING_TYPES, code)


@bp.app_template_global()
def call_status(call: Call) -> str:
    """upcoming, open or closed, as of now."""
    now = utcnow()
    if now < call.opens_at:
        return "upcoming"
    return "open" if call.is_open(now) else "closed"


@bp.app_template_filter("deadline")
def format_deadline(moment) -> str:
    """A deadline in German time: 'Frist: 31.03.2027, 23:59 Uhr'."""
    local = to_local(moment)
    return _(
        "Deadline: %(date)s, %(time)s",
        date=format_date(local.date(), "medium"),
        time=format_time(local.time(), "short"),
    )


@bp.app_template_filter("minutes")
def format_minutes(moment) -> str:
    """A point in time in German time, to the minute: '31.03.2027, 23:59'."""
    if moment is None:
        return ""
    local = to_local(moment)
    return f"{format_date(local.date(), 'medium')}, {format_time(local.time(), 'short')}"


@bp.app_template_filter("percent")
def format_rate(rate) -> str:
    """A rate given in percent, e.g. '90 %' or '87,5 %'."""
    return f"{format_decimal(rate, format='#,##0.##')}\u00a0%"


@bp.app_template_filter("paragraphs")
def split_paragraphs(text: str | None) -> list[str]:
    """A text typed into a textarea as its paragraphs (separated by blank lines)."""
    return [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]


def _show_problems(form, error: operations.ProgrammeError) -> None:
    for name, code in error.problems.items():
        field = getattr(form, name)
        field.errors = [*field.errors, PROBLEM_MESSAGES[code]()]


def _saved(form, operation: Callable[[], Any], message: str, programme: Programme | None = None):
    """Run the operation of a submitted, valid form: commit, say so and go back to the
    programme (`programme`, else what the operation returns). None when the form is new,
    invalid or the operation refused it (the problems are on the form's fields)."""
    if not form.validate_on_submit():
        return None
    try:
        result = operation()
    except operations.ProgrammeError as error:
        _show_problems(form, error)
        return None
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("programmes.admin_show", programme_id=(programme or result).id))


def _programme_or_404(programme_id: int) -> Programme:
    return db.get_or_404(Programme, programme_id)


def _vocabularies() -> dict:
    return {
        "cost_categories": COST_CATEGORIES,
        "attachment_kinds": ATTACHMENT_KINDS,
        "declarations": DECLARATIONS,
    }


# Administration


@bp.route("/admin/programmes")
@roles_required("admin")
def admin_index():
    return render_template("programmes/admin/index.html", programmes=operations.all_programmes())


@bp.route("/admin/programmes/new", methods=["GET", "POST"])
@roles_required("admin")
def create_programme():
    form = ProgrammeForm()
    saved = _saved(
        form,
        lambda: operations.create_programme(form.model_data(), current_user),
        _("The programme has been created."),
    )
    return saved or render_template(
        "programmes/admin/programme_form.html", form=form, programme=None
    )


@bp.route("/admin/programmes/<int:programme_id>")
@roles_required("admin")
def admin_show(programme_id: int):
    programme = _programme_or_404(programme_id)
    return render_template(
        "programmes/admin/show.html",
        programme=programme,
        action_form=ActionForm(),
        **_vocabularies(),
    )


@bp.route("/admin/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit_programme(programme_id: int):
    programme = _programme_or_404(programme_id)
    form = ProgrammeForm(obj=programme)
    saved = _saved(
        form,
        lambda: operations.update_programme(programme, form.model_data(), current_user),
        _("The changes have been saved."),
        programme,
    )
    return saved or render_template(
        "programmes/admin/programme_form.html", form=form, programme=programme
    )


@bp.route("/admin/programmes/<int:programme_id>/lump-sums/new", methods=["GET", "POST"])
@roles_required("admin")
def create_lump_sum(programme_id: int):
    programme = _programme_or_404(programme_id)
    form = LumpSumItemForm()
    saved = _saved(
        form,
        lambda: operations.save_lump_sum_item(programme, form.model_data(), current_user),
        _("The lump sum has been added."),
        programme,
    )
    return saved or render_template(
        "programmes/admin/lump_sum_form.html", form=form, programme=programme, item=None
    )


def _lump_sum_or_404(programme: Programme, item_id: int) -> LumpSumItem:
    item = db.session.get(LumpSumItem, item_id)
    if item is None or item.programme_id != programme.id:
        abort(404)
    return item


@bp.route("/admin/programmes/<int:programme_id>/lump-sums/<int:item_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_lump_sum(programme_id: int, item_id: int):
    programme = _programme_or_404(programme_id)
    item = _lump_sum_or_404(programme, item_id)
    form = LumpSumItemForm(obj=item)
    saved = _saved(
        form,
        lambda: operations.save_lump_sum_item(
            programme, form.model_data(), current_user, item=item
        ),
        _("The changes have been saved."),
        programme,
    )
    return saved or render_template(
        "programmes/admin/lump_sum_form.html", form=form, programme=programme, item=item
    )


@bp.route("/admin/programmes/<int:programme_id>/lump-sums/<int:item_id>/delete", methods=["POST"])
@roles_required("admin")
def delete_lump_sum(programme_id: int, item_id: int):
    programme = _programme_or_404(programme_id)
    item = _lump_sum_or_404(programme, item_id)
    if ActionForm().validate_on_submit():
        code = item.code
        try:
            operations.delete_lump_sum_item(item, current_user)
        except operations.ProgrammeError as error:
            flash(PROBLEM_MESSAGES[error.problems["item"]](), "error")
        else:
            db.session.commit()
            flash(_("The lump sum %(code)s has been deleted.", code=code), "success")
    return redirect(url_for("programmes.admin_show", programme_id=programme.id))


@bp.route("/admin/programmes/<int:programme_id>/calls/new", methods=["GET", "POST"])
@roles_required("admin")
def create_call(programme_id: int):
    programme = _programme_or_404(programme_id)
    form = CallForm()
    saved = _saved(
        form,
        lambda: operations.create_call(programme, form.model_data(), current_user),
        _("The call has been created."),
        programme,
    )
    return saved or render_template(
        "programmes/admin/call_form.html", form=form, programme=programme, call=None
    )


@bp.route("/admin/programmes/<int:programme_id>/calls/<int:call_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_call(programme_id: int, call_id: int):
    programme = _programme_or_404(programme_id)
    call = db.session.get(Call, call_id)
    if call is None or call.programme_id != programme.id:
        abort(404)
    form = CallForm(obj=call)
    saved = _saved(
        form,
        lambda: operations.update_call(call, form.model_data(), current_user),
        _("The changes have been saved."),
        programme,
    )
    return saved or render_template(
        "programmes/admin/call_form.html", form=form, programme=programme, call=call
    )


# Public pages


@bp.route("/calls")
@public
def open_calls():
    return render_template("programmes/open_calls.html", calls=operations.open_calls())


@bp.route("/calls/<int:call_id>")
@public
def call_detail(call_id: int):
    call = db.get_or_404(Call, call_id)
    organisations = []
    if call.is_open() and current_user.is_authenticated and "applicant" in current_user.roles:
        organisations = organisations_of(current_user)
    return render_template(
        "programmes/call_detail.html",
        call=call,
        programme=call.programme,
        organisations=organisations,
        apply_form=ActionForm(),
        **_vocabularies(),
    )

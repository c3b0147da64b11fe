"""Organisation profile, members and invitations (applicants only see their own)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from grants.core.access import roles_required, signed_in
from grants.core.forms import ActionForm
from grants.extensions import db
from grants.organisations import operations
from grants.organisations.forms import LEGAL_FORM_LABELS, InvitationForm, OrganisationForm
from grants.organisations.models import Invitation, Membership

bp = Blueprint("organisations", __name__, url_prefix="/organisations")

INVITATION_MESSAGES = {
    "already_member": lambda: _("This person is already a member."),
    "last_admin": lambda: _("The last administrator of an organisation cannot be removed."),
}


@bp.app_template_global()
def legal_form_label(code: str) -> str:
    """The translated name of a legal form."""
    return str(LEGAL_FORM_LABELS.get(code, code))


@bp.app_template_filter("iban")
def format_iban(iban: str) -> str:
    """An IBAN in groups of four, as printed on bank cards."""
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def _require_org_admin(organisation) -> None:
    membership = organisation.membership_of(current_user)
    if membership is None or not membership.is_admin:
        abort(403)


@bp.route("/")
@roles_required("applicant")
def index():
    return render_template(
        "organisations/index.html", organisations=operations.organisations_of(current_user)
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required("applicant")
def create():
    form = OrganisationForm()
    if form.validate_on_submit():
        organisation = operations.create_organisation(current_user, form.profile_data())
        db.session.commit()
        flash(_("The organisation has been created."), "success")
        return redirect(url_for("organisations.show", organisation_id=organisation.id))
    return render_template("organisations/form.html", form=form, organisation=None)


@bp.route("/<int:organisation_id>")
@roles_required("applicant")
def show(organisation_id: int):
    organisation = operations.get_member_organisation_or_404(current_user, organisation_id)
    membership = organisation.membership_of(current_user)
    open_invitations = [
        i
        for i in db.session.scalars(
            db.select(Invitation).where(Invitation.organisation_id == organisation.id)
        )
        if i.is_open
    ]
    return render_template(
        "organisations/show.html",
        organisation=organisation,
        membership=membership,
        invitations=open_invitations,
        invite_form=InvitationForm(),
        action_form=ActionForm(),
    )


@bp.route("/<int:organisation_id>/edit", methods=["GET", "POST"])
@roles_required("applicant")
def edit(organisation_id: int):
    organisation = operations.get_member_organisation_or_404(current_user, organisation_id)
    form = OrganisationForm(obj=organisation)
    if form.validate_on_submit():
        operations.update_organisation(organisation, form.profile_data(), current_user)
        db.session.commit()
        flash(_("The changes have been saved."), "success")
        return redirect(url_for("organisations.show", organisation_id=organisation.id))
    return render_template("organisations/form.html", form=form, organisation=organisation)


@bp.route("/<int:organisation_id>/invitations", methods=["POST"])
@roles_required("applicant")
def invite(organisation_id: int):
    organisation = operations.get_member_organisation_or_404(current_user, organisation_id)
    _require_org_admin(organisation)
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            operations.invite_member(organisation, form.email.data, current_user)
        except operations.InvitationError as error:
            flash(INVITATION_MESSAGES[error.code](), "error")
        else:
            db.session.commit()
            flash(_("The invitation has been sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("organisations.show", organisation_id=organisation.id))
    membership = organisation.membership_of(current_user)
    return render_template(
        "organisations/show.html",
        organisation=organisation,
        membership=membership,
        invitations=[],
        invite_form=form,
        action_form=ActionForm(),
    ), 400


@bp.route("/<int:organisation_id>/invitations/<int:invitation_id>/revoke", methods=["POST"])
@roles_required("applicant")
def revoke_invitation(organisation_id: int, invitation_id: int):
    organisation = operations.get_member_organisation_or_404(current_user, organisation_id)
    _require_org_admin(organisation)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.organisation_id != organisation.id:
        abort(404)
    if ActionForm().validate_on_submit() and invitation.is_open:
        operations.revoke_invitation(invitation, current_user)
        db.session.commit()
        flash(_("The invitation has been withdrawn."), "success")
    return redirect(url_for("organisations.show", organisation_id=organisation.id))


@bp.route("/<int:organisation_id>/members/<int:membership_id>/remove", methods=["POST"])
@roles_required("applicant")
def remove_member(organisation_id: int, membership_id: int):
    organisation = operations.get_member_organisation_or_404(current_user, organisation_id)
    _require_org_admin(organisation)
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.organisation_id != organisation.id:
        abort(404)
    if ActionForm().validate_on_submit():
        try:
            operations.remove_member(organisation, membership, current_user)
        except operations.InvitationError as error:
            flash(INVITATION_MESSAGES[error.code](), "error")
        else:
            db.session.commit()
            flash(_("The member has been removed."), "success")
    return redirect(url_for("organisations.show", organisation_id=organisation.id))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@signed_in
def accept_invitation(token: str):
    invitation = operations.find_invitation(token)
    if invitation is None:
        return render_template("organisations/invitation_invalid.html"), 404
    form = ActionForm()
    if form.validate_on_submit():
        try:
            operations.accept_invitation(invitation, current_user)
        except operations.InvitationError:
            flash(_("This invitation was sent to another e-mail address."), "error")
        else:
            db.session.commit()
            flash(
                _("You are now a member of %(name)s.", name=invitation.organisation.name), "success"
            )
            return redirect(
                url_for("organisations.show", organisation_id=invitation.organisation_id)
            )
    return render_template("organisations/accept_invitation.html", invitation=invitation, form=form)

"""Staff accounts, managed by administrators."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from grants.admin.forms import ROLE_LABELS, RolesForm, StaffUserForm
from grants.auth import operations
from grants.auth.models import User, UserRole
from grants.core.access import STAFF_ROLES, roles_required
from grants.core.forms import ActionForm
from grants.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@roles_required("admin")
def users():
    staff_side = select(UserRole.user_id).where(UserRole.role.in_(STAFF_ROLES))
    staff = db.session.scalars(
        select(User).where(User.id.in_(staff_side)).order_by(User.full_name)
    ).all()
    return render_template("admin/users.html", users=staff, role_labels=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def create_user():
    form = StaffUserForm()
    if form.validate_on_submit():
        try:
            user = operations.create_staff_user(
                form.email.data,
                form.full_name.data,
                form.roles.data,
                locale=form.locale.data,
                actor=current_user,
            )
        except operations.AccountError:
            form.email.errors.append(_("An account with this e-mail address exists already."))
        else:
            db.session.commit()
            flash(
                _(
                    "The account for %(email)s has been created; a link to set the password "
                    "has been sent.",
                    email=user.email,
                ),
                "success",
            )
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form)


def _staff_user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.is_staff_side:
        abort(404)
    return user


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_user(user_id: int):
    user = _staff_user_or_404(user_id)
    form = RolesForm(roles=sorted(user.roles & set(STAFF_ROLES)))
    if form.validate_on_submit():
        if user.id == current_user.id and "admin" not in form.roles.data:
            form.roles.errors.append(_("You cannot take the administrator role from yourself."))
        else:
            operations.set_roles(user, form.roles.data, actor=current_user)
            db.session.commit()
            flash(_("The roles have been saved."), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_edit.html", user=user, form=form, action_form=ActionForm())


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles_required("admin")
def toggle_active(user_id: int):
    user = _staff_user_or_404(user_id)
    if user.id == current_user.id:
        abort(400)
    if ActionForm().validate_on_submit():
        operations.set_active(user, not user.active, actor=current_user)
        db.session.commit()
        flash(
            _("The account has been unlocked.")
            if user.active
            else _("The account has been locked."),
            "success",
        )
    return redirect(url_for("admin.edit_user", user_id=user.id))

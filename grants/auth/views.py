"""Registration, confirmation, login, logout and password reset."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from grants.auth import operations
from grants.auth.forms import EmailForm, LoginForm, RegistrationForm, ResetPasswordForm
from grants.auth.models import find_user_by_email
from grants.core.access import public, signed_in
from grants.core.urls import safe_next
from grants.extensions import db

bp = Blueprint("auth", __name__)


@bp.route("/register", methods=["GET", "POST"])
@public
def register():
    if current_user.is_authenticated:
        return redirect(url_for("pages.start"))
    form = RegistrationForm()
    if form.validate_on_submit():
        operations.register_user(
            form.email.data, form.full_name.data, form.password.data, str(get_locale())
        )
        db.session.commit()
        return redirect(url_for("auth.check_mail"))
    return render_template("auth/register.html", form=form)


@bp.route("/register/check-mail")
@public
def check_mail():
    return render_template("auth/check_mail.html")


@bp.route("/confirm/<token>")
@public
def confirm_email(token: str):
    user = operations.confirm_email(token)
    if user is None:
        return render_template("auth/confirm_failed.html"), 400
    db.session.commit()
    flash(_("Your e-mail address is confirmed. You can sign in now."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/confirm", methods=["GET", "POST"])
@public
def resend_confirmation():
    form = EmailForm()
    if form.validate_on_submit():
        user = find_user_by_email(form.email.data)
        if user is not None and user.confirmed_at is None:
            operations.send_confirmation(user)
            db.session.commit()
        flash(
            _("If the address belongs to an unconfirmed account, we have sent a new link."), "info"
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/resend_confirmation.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("pages.start"))
    form = LoginForm()
    if form.validate_on_submit():
        user = operations.authenticate(form.email.data, form.password.data)
        if user is None:
            form.form_errors.append(_("E-mail address or password is wrong."))
            return render_template("auth/login.html", form=form), 200
        if user.confirmed_at is None:
            flash(
                _("Please confirm your e-mail address first; we can send the link again."),
                "warning",
            )
            return redirect(url_for("auth.resend_confirmation"))
        session.clear()
        login_user(user)
        operations.record_login(user)
        db.session.commit()
        return redirect(safe_next(request.args.get("next")) or url_for("pages.start"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    locale = session.get("locale")
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You have been signed out."), "info")
    return redirect(url_for("pages.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
def forgot_password():
    form = EmailForm()
    if form.validate_on_submit():
        operations.request_password_reset(form.email.data)
        db.session.commit()
        flash(
            _(
                "If an account exists for this address, we have sent a link to reset the "
                "password. It is valid for two hours."
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    user = operations.user_for_reset_token(token)
    if user is None:
        return render_template("auth/reset_failed.html"), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        operations.reset_password(user, form.password.data)
        db.session.commit()
        flash(_("Your password has been changed. You can sign in now."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


@bp.route("/language", methods=["POST"])
@public
def set_language():
    locale = request.form.get("locale")
    if locale not in ("de", "en"):
        abort(400)
    session["locale"] = locale
    if current_user.is_authenticated:
        current_user.locale = locale
        db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("pages.home"))

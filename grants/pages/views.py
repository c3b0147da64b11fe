"""The home page, the role-specific start page and the legal pages."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from grants.core.access import public, signed_in
from grants.organisations.operations import organisations_of

bp = Blueprint("pages", __name__)


@bp.route("/")
@public
def home():
    if current_user.is_authenticated:
        return redirect(url_for("pages.start"))
    return render_template("pages/home.html")


@bp.route("/start")
@signed_in
def start():
    organisations = organisations_of(current_user) if "applicant" in current_user.roles else []
    return render_template("pages/start.html", organisations=organisations)


@bp.route("/imprint")
@public
def imprint():
    return render_template("pages/imprint.html")


@bp.route("/privacy")
@public
def privacy():
    return render_template("pages/privacy.html")


@bp.route("/accessibility")
@public
def accessibility():
    return render_template("pages/accessibility.html")

"""The applicant's side of an application: sections, check your answers, submit, withdraw."""

from __future__ import annotations

from flask import Blueprint

import grants.applications.models  # noqa: F401 - registers the tables

bp = Blueprint("applications", __name__, url_prefix="/applications")

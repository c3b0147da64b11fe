"""Staff side of the review: queue, application view, checks, change requests, decisions."""

from __future__ import annotations

from flask import Blueprint

import grants.reviews.models  # noqa: F401 - registers the tables

bp = Blueprint("reviews", __name__, url_prefix="/review")

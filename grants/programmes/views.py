"""Programmes and calls: administration, and the public list of open calls."""

from __future__ import annotations

from flask import Blueprint

import grants.programmes.models  # noqa: F401 - registers the tables

bp = Blueprint("programmes", __name__)

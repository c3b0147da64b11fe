"""Forms of the notification centre and the e-mail settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from grants.core.forms import CheckboxesField


class EmailPreferencesForm(FlaskForm):
    """Which optional e-mails the user wants; the choices depend on the user's roles."""

    events = CheckboxesField(_l("Send me an e-mail for"), choices=[], validate_choice=True)

"""Forms of the admin pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from grants.core.forms import CheckboxesField, strip

ROLE_LABELS = {
    "applicant": _l("Applicant"),
    "staff": _l("Case worker"),
    "approver": _l("Approver (leadership)"),
    "finance": _l("Finance officer"),
    "admin": _l("Administrator"),
}
STAFF_ROLE_CHOICES = [
    SelectChoice(r, ROLE_LABELS[r]) for r in ("staff", "approver", "finance", "admin")
]


class StaffUserForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(
        _l("E-mail address"), validators=[DataRequired(), Email(), Length(max=254)], filters=[strip]
    )
    roles = CheckboxesField(
        _l("Roles"),
        choices=STAFF_ROLE_CHOICES,
        validators=[DataRequired(message=_l("Choose at least one role."))],
    )
    locale = SelectField(
        _l("Language of e-mails"),
        choices=[SelectChoice("de", "Deutsch"), SelectChoice("en", "English")],
    )


class RolesForm(FlaskForm):
    roles = CheckboxesField(
        _l("Roles"),
        choices=STAFF_ROLE_CHOICES,
        validators=[DataRequired(message=_l("Choose at least one role."))],
    )

"""Form pieces shared by every area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length, ValidationError

MIN_PASSWORD_LENGTH = 12


def strip(value: str | None) -> str | None:
    """Filter: drop surrounding blanks people paste with an address."""
    return value.strip() if isinstance(value, str) else value


def strong_password(form, field) -> None:
    """At least 12 characters, not only letters."""
    value = field.data or ""
    if value.isalpha():
        raise ValidationError(_l("Use at least one digit or special character."))


def new_password_field(label=None) -> PasswordField:
    """A password field with the house rules for new passwords."""
    return PasswordField(
        label or _l("New password"),
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=256,
                message=_l("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH),
            ),
            strong_password,
        ],
        description=_l("At least 12 characters, including a digit or special character."),
        render_kw={"autocomplete": "new-password"},
    )


class ActionForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change something."""

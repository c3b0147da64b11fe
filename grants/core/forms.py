"""Form pieces shared by every area."""

from __future__ import annotations

from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, PasswordField, SelectMultipleField, widgets
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)
from wtforms.widgets import TextInput

from grants.core.money import CENT

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


class LocaleDecimalField(DecimalField):
    """A decimal as the reader writes it: '1.234,56' in German, '1,234.56' in English."""

    widget = TextInput()  # a number input would drop or mangle the decimal comma

    def process_formdata(self, valuelist) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = valuelist[0].replace("€", "").replace("\u00a0", "").replace(" ", "").strip()
        try:
            self.data = parse_decimal(text, locale=get_locale(), strict=True)
        except NumberFormatError:
            self.data = None
            raise ValueError(_l("Enter a number, for example 1.250,50.")) from None

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        pattern = "#,##0." + "0" * self.places if self.places else "#,##0.##"
        return format_decimal(self.data, format=pattern, locale=get_locale())


MAX_AMOUNT = 9_999_999_999  # what Numeric(12, 2) holds


def whole_cents(form, field) -> None:
    """Refuse fractions of a cent."""
    if field.data is not None and field.data != field.data.quantize(CENT):
        raise ValidationError(_l("Enter at most two decimal places."))


def amount_in_range(form, field) -> None:
    """Not negative and small enough for the database (a typing error is reported once)."""
    if field.data is not None and not 0 <= field.data <= MAX_AMOUNT:
        raise ValidationError(_l("Enter an amount of 0 or more."))


def money_field(label, required: bool = False, **kwargs) -> LocaleDecimalField:
    """An amount in euros: not negative, whole cents, written the reader's way."""
    return LocaleDecimalField(
        label,
        places=2,
        validators=[
            InputRequired() if required else Optional(),
            amount_in_range,
            whole_cents,
        ],
        render_kw={"inputmode": "decimal"},
        **kwargs,
    )


class CheckboxesField(SelectMultipleField):
    """Several choices as a group of checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

"""Forms of the organisation pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from wtforms import DateField, EmailField, SelectChoice, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from grants.core.forms import strip
from grants.organisations.models import LEGAL_FORMS

LEGAL_FORM_LABELS = {
    "ev": _l("Registered association (e.V.)"),
    "ggmbh": _l("Non-profit limited company (gGmbH)"),
    "gug": _l("Non-profit entrepreneurial company (gUG)"),
    "foundation": _l("Foundation"),
    "association_unregistered": _l("Unregistered association or initiative"),
    "church": _l("Church body or parish"),
    "other": _l("Other legal form"),
}
REGISTERED_FORMS = {"ev", "ggmbh", "gug"}


def valid_iban(form, field) -> None:
    """Check the IBAN's country format and checksum; store it without spaces."""
    try:
        field.data = IBAN(field.data or "").compact
    except SchwiftyException:
        raise ValidationError(
            _l("This is not a valid IBAN. Please check the digits and the country code.")
        ) from None


def valid_bic(form, field) -> None:
    """Check the BIC's format when one is given."""
    if field.data:
        try:
            field.data = str(BIC(field.data))
        except SchwiftyException:
            raise ValidationError(_l("This is not a valid BIC.")) from None


class OrganisationForm(FlaskForm):
    name = StringField(
        _l("Name of the organisation"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "organization"},
    )
    legal_form = SelectField(
        _l("Legal form"),
        choices=[SelectChoice("", _l("Please choose"))]
        + [SelectChoice(f, LEGAL_FORM_LABELS[f]) for f in LEGAL_FORMS],
        validators=[DataRequired()],
    )
    register_court = StringField(
        _l("Register court"),
        validators=[Optional(), Length(max=100)],
        description=_l("For example: Amtsgericht Köln"),
    )
    register_number = StringField(
        _l("Register number"),
        validators=[Optional(), Length(max=50)],
        description=_l("For example: VR 1234"),
    )
    street = StringField(
        _l("Street and number"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "street-address"},
    )
    postcode = StringField(
        _l("Postcode"),
        validators=[DataRequired(), Regexp(r"^\d{5}$", message=_l("Enter five digits."))],
        render_kw={"autocomplete": "postal-code", "inputmode": "numeric"},
    )
    city = StringField(
        _l("City"),
        validators=[DataRequired(), Length(max=100)],
        render_kw={"autocomplete": "address-level2"},
    )
    contact_name = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=200)])
    contact_email = EmailField(
        _l("Contact e-mail"), validators=[DataRequired(), Email()], filters=[strip]
    )
    contact_phone = TelField(
        _l("Contact phone"),
        validators=[Optional(), Length(max=50)],
        render_kw={"autocomplete": "tel"},
    )
    account_holder = StringField(_l("Account holder"), validators=[DataRequired(), Length(max=200)])
    iban = StringField(
        _l("IBAN"),
        validators=[DataRequired(), valid_iban],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    bic = StringField(_l("BIC"), validators=[Optional(), valid_bic])
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=100)])
    tax_exemption_date = DateField(
        _l("Date of the tax-exemption notice"),
        validators=[Optional()],
        description=_l("Date of the latest Freistellungsbescheid, if the organisation has one."),
    )

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then: registered legal forms need their register entry."""
        valid = super().validate(extra_validators)
        if self.legal_form.data in REGISTERED_FORMS:
            message = _l("Registered organisations need the register court and number.")
            for field in (self.register_court, self.register_number):
                if not field.data:
                    field.errors = [*field.errors, message]
                    valid = False
        return valid

    def profile_data(self) -> dict:
        """The submitted values, empty strings as None."""
        return {
            name: (field.data or None) if isinstance(field.data, str) else field.data
            for name, field in self._fields.items()
            if name != "csrf_token"
        }


class InvitationForm(FlaskForm):
    email = EmailField(
        _l("E-mail address of your colleague"),
        validators=[DataRequired(), Email(), Length(max=254)],
        filters=[strip],
    )

"""Forms of the finance area: the list filter (GET) and a payout."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from grants.core.forms import money_field, strip


class FilterForm(FlaskForm):
    """The list filter; read from the query string, no CSRF (it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Search"),
        filters=[strip],
        validators=[Optional(), Length(max=100)],
        description=_l("Reference number, organisation or project title"),
    )
    programme = SelectField(_l("Programme"), coerce=str, validators=[Optional()])
    call = SelectField(_l("Call"), coerce=str, validators=[Optional()])
    kind = SelectField(_l("Kind"), coerce=str, validators=[Optional()])
    payment = SelectField(_l("Payment"), coerce=str, validators=[Optional()])
    date_from = DateField(_l("Signed off from"), validators=[Optional()])
    date_to = DateField(_l("Signed off until"), validators=[Optional()])


class PayoutForm(FlaskForm):
    paid_on = DateField(
        _l("Date of payment"), validators=[DataRequired(message=_l("Enter a date."))]
    )
    amount = money_field(_l("Amount in euros"), required=True)
    booking_reference = StringField(
        _l("Booking reference"),
        filters=[strip],
        validators=[DataRequired(message=_l("Enter the booking reference.")), Length(max=60)],
        description=_l("For example the document number in the accounting system."),
    )

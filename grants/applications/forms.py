"""Forms of the application sections. Drafts may be incomplete: nothing here is required
except what makes a value storable; completeness is checked on submission (sections.problems)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from grants.core.forms import LocaleDecimalField, money_field, whole_cents
from grants.programmes.catalogue import ATTACHMENT_KINDS, COST_CATEGORIES, DISTRICTS


class ProjectForm(FlaskForm):
    title = StringField(_l("Project title"), validators=[Optional(), Length(max=200)])
    summary = TextAreaField(
        _l("Summary"),
        validators=[Optional(), Length(max=5000)],
        description=_l("What will happen, in a few sentences."),
    )
    goals = TextAreaField(_l("Goals"), validators=[Optional(), Length(max=5000)])
    target_groups = TextAreaField(_l("Target groups"), validators=[Optional(), Length(max=2000)])
    district = SelectField(
        _l("City district"),
        choices=[SelectChoice("", _l("Please choose"))]
        + [SelectChoice(code, label) for code, label in DISTRICTS.items()],
        validators=[Optional()],
    )
    location = StringField(
        _l("Location"),
        validators=[Optional(), Length(max=200)],
        description=_l("Address or name of the place."),
    )
    start_date = DateField(_l("Project start"), validators=[Optional()])
    end_date = DateField(_l("Project end"), validators=[Optional()])
    expected_participants = IntegerField(
        _l("Expected participants"),
        validators=[Optional(), NumberRange(min=0, max=1_000_000)],
        render_kw={"inputmode": "numeric"},
    )
    volunteers = IntegerField(
        _l("Volunteers involved"),
        validators=[Optional(), NumberRange(min=0, max=100_000)],
        render_kw={"inputmode": "numeric"},
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if (
            self.start_date.data
            and self.end_date.data
            and self.end_date.data < self.start_date.data
        ):
            self.end_date.errors = [
                *self.end_date.errors,
                _l("The end must not be before the start."),
            ]
            valid = False
        return valid


class CostLineForm(FlaskForm):
    category = SelectField(_l("Cost category"), validators=[DataRequired()])
    description = StringField(_l("Description"), validators=[DataRequired(), Length(max=300)])
    quantity = LocaleDecimalField(
        _l("Quantity"),
        places=2,
        validators=[DataRequired(), NumberRange(min=0.01, max=100000), whole_cents],
        render_kw={"inputmode": "decimal"},
    )
    unit_price = LocaleDecimalField(
        _l("Unit price in euros"),
        places=2,
        validators=[DataRequired(), NumberRange(min=0, max=10_000_000), whole_cents],
        render_kw={"inputmode": "decimal"},
    )

    def set_categories(self, codes: list[str]) -> None:
        self.category.choices = [SelectChoice("", _l("Please choose"))] + [
            SelectChoice(code, COST_CATEGORIES[code])
            for code in codes
            if code != "lump_sum" and code in COST_CATEGORIES
        ]


class LumpSumForm(FlaskForm):
    item = SelectField(_l("Lump sum"), coerce=int, validators=[DataRequired()])
    units = IntegerField(
        _l("Number of units"),
        validators=[DataRequired(), NumberRange(min=1, max=10000)],
        render_kw={"inputmode": "numeric"},
    )


class ThirdPartyForm(FlaskForm):
    class Meta:
        csrf = False

    source = StringField(_l("Source"), validators=[Optional(), Length(max=200)])
    amount = money_field(_l("Amount in euros"))
    approved = BooleanField(_l("already approved"))


class FinancingForm(FlaskForm):
    own_funds = money_field(_l("Own funds in euros"))
    third_party_funds = FieldList(FormField(ThirdPartyForm), min_entries=3, max_entries=10)
    participant_fees = money_field(_l("Participant fees in euros"))
    requested_grant = money_field(_l("Requested grant in euros"))


class AttachmentForm(FlaskForm):
    kind = SelectField(
        _l("Type of document"),
        choices=[SelectChoice(code, label) for code, label in ATTACHMENT_KINDS.items()],
        validators=[DataRequired()],
    )
    file = FileField(
        _l("File"),
        validators=[DataRequired(message=_l("Choose a file."))],
        description=_l("PDF, JPEG or PNG, at most 10 MB."),
        render_kw={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"},
    )


class DeclarationsForm(FlaskForm):
    input_tax_deduction = RadioField(
        _l("May your organisation deduct input tax (Vorsteuerabzug) for this project?"),
        choices=[SelectChoice("no", _l("No")), SelectChoice("yes", _l("Yes"))],
        validators=[Optional()],
    )

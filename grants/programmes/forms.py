"""Forms of the programme administration: programme, lump-sum item and call."""

from __future__ import annotations

from datetime import UTC

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from grants.core.forms import (
    CheckboxesField,
    LocaleDecimalField,
    money_field,
    strip,
    whole_cents,
)
from grants.core.models import LOCAL_TIMEZONE, to_local
from grants.programmes.catalogue import (
    ATTACHMENT_KINDS,
    COST_CATEGORIES,
    DECLARATIONS,
    FINANCING_TYPES,
)


def exists_locally(form, field) -> None:
    """Refuse a wall-clock time skipped when the clocks go forward (e.g. 02:30 in late March)."""
    if field.data is None:
        return
    if to_local(field.data.astimezone(UTC)) != field.data.replace(tzinfo=None):
        raise ValidationError(
            _l("This time does not exist in German time (the clocks go forward).")
        )


def upper(value: str | None) -> str | None:
    """Filter: programme and lump-sum codes are written in capitals."""
    return value.strip().upper() if isinstance(value, str) else value


def local_datetime_field(label, **kwargs) -> DateTimeLocalField:
    """A date and time typed in German time; its data is aware (Europe/Berlin)."""
    return DateTimeLocalField(
        label,
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        tz=LOCAL_TIMEZONE,
        validators=[InputRequired(), exists_locally],
        **kwargs,
    )


def _choices(vocabulary: dict) -> list[SelectChoice]:
    return [SelectChoice(code, label) for code, label in vocabulary.items()]


class _DataForm(FlaskForm):
    def model_data(self) -> dict:
        """The submitted values by field name, blank strings as None."""
        return {
            name: (field.data or None) if isinstance(field.data, str) else field.data
            for name, field in self._fields.items()
            if name != "csrf_token"
        }


class ProgrammeForm(_DataForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)], filters=[strip])
    code = StringField(
        _l("Short code"),
        validators=[
            DataRequired(),
            Length(max=12),
            Regexp(r"^[A-Z0-9]+$", message=_l("Use only capital letters and digits.")),
        ],
        filters=[upper],
        description=_l("Used in reference numbers, e.g. KOMMAN-2026-0042."),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=10000)],
        description=_l("Shown to applicants: what the programme funds and for whom."),
        render_kw={"rows": 6},
    )
    legal_basis = TextAreaField(
        _l("Legal basis"),
        validators=[Optional(), Length(max=10000)],
        description=_l("Guideline and provisions the grants are based on."),
        render_kw={"rows": 4},
    )
    financing_type = SelectField(
        _l("Financing type"),
        choices=[SelectChoice("", _l("Please choose")), *_choices(FINANCING_TYPES)],
        validators=[DataRequired()],
    )
    share_rate = LocaleDecimalField(
        _l("Share of the eligible costs in percent"),
        places=2,
        validators=[Optional(), whole_cents],
        description=_l("Only for share financing, e.g. 90."),
        render_kw={"inputmode": "decimal"},
    )
    min_grant = money_field(_l("Minimum grant in euros"))
    max_grant = money_field(_l("Maximum grant in euros"))
    total_budget = money_field(
        _l("Total budget in euros"),
        required=True,
        description=_l("Funds available for this programme (Haushaltsmittel)."),
    )
    eligible_categories = CheckboxesField(
        _l("Eligible cost categories"),
        choices=_choices(COST_CATEGORIES),
        validators=[DataRequired(message=_l("Choose at least one cost category."))],
    )
    required_attachments = CheckboxesField(
        _l("Required attachments"), choices=_choices(ATTACHMENT_KINDS)
    )
    required_declarations = CheckboxesField(
        _l("Required declarations"), choices=_choices(DECLARATIONS)
    )
    proof_of_use_months = IntegerField(
        _l("Months for the proof of use"),
        default=6,
        validators=[InputRequired(), NumberRange(min=1, max=60)],
        description=_l("Due this many months after the end of the approval period."),
        render_kw={"inputmode": "numeric"},
    )


class LumpSumItemForm(_DataForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(),
            Length(max=10),
            Regexp(r"^[A-Z0-9.\-]+$", message=_l("Use only capital letters, digits, - and .")),
        ],
        filters=[upper],
        description=_l("E.g. A1 for the first lump sum of building block A."),
    )
    label = StringField(
        _l("Description"), validators=[DataRequired(), Length(max=200)], filters=[strip]
    )
    unit = StringField(
        _l("Unit"),
        validators=[DataRequired(), Length(max=50)],
        filters=[strip],
        description=_l("What one unit is, e.g. room, month, trainer hour."),
    )
    amount = money_field(_l("Amount per unit in euros"), required=True)
    max_units = IntegerField(
        _l("Maximum number of units"),
        validators=[Optional(), NumberRange(min=1, max=100_000)],
        description=_l("Leave empty if there is no limit."),
        render_kw={"inputmode": "numeric"},
    )


class CallForm(_DataForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)], filters=[strip])
    opens_at = local_datetime_field(
        _l("Applications from"), description=_l("Date and time in German time.")
    )
    closes_at = local_datetime_field(
        _l("Deadline"),
        description=_l("Date and time in German time; applications are accepted until then."),
    )
    project_start = DateField(_l("Projects start at the earliest on"), validators=[InputRequired()])
    project_end = DateField(_l("Projects end at the latest on"), validators=[InputRequired()])
    budget = money_field(
        _l("Budget of this call in euros"),
        description=_l("Leave empty if the call has no budget of its own."),
    )

    def model_data(self) -> dict:
        """The submitted values, the times in UTC."""
        data = super().model_data()
        for name in ("opens_at", "closes_at"):
            data[name] = data[name].astimezone(UTC)
        return data

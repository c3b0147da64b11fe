"""Forms of the staff review: checks, change requests, notes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from grants.applications.sections import SECTIONS
from grants.core.forms import CheckboxesField, money_field
from grants.reviews.operations import ASSESSMENT_CRITERIA, FORMAL_CHECK_ITEMS

FORMAL_CHECK_LABELS = {
    "complete": _l("The application is complete"),
    "eligible_applicant": _l("The applicant is eligible"),
    "in_time": _l("The application was submitted in time"),
    "attachments_present": _l("The required attachments are present"),
}

CRITERION_LABELS = {
    "need": _l("Need for the project"),
    "target_group": _l("Reaches the target group"),
    "volunteering": _l("Involves volunteers"),
    "sustainability": _l("Sustainability"),
    "cost_ratio": _l("Costs in proportion to the benefit"),
}

RECOMMENDATIONS = {
    "approve": _l("Approve"),
    "approve_partly": _l("Approve in part"),
    "reject": _l("Reject"),
}

SCORES = [SelectChoice(score, str(score)) for score in range(6)]


class FormalCheckForm(FlaskForm):
    items = CheckboxesField(
        _l("Formal check"),
        choices=[
            SelectChoice(item, FORMAL_CHECK_LABELS.get(item, item)) for item in FORMAL_CHECK_ITEMS
        ],
        description=_l("Tick what is fulfilled."),
    )
    note = TextAreaField(_l("Note on the formal check"), validators=[Optional(), Length(max=5000)])


class AssessmentForm(FlaskForm):
    recommendation = RadioField(
        _l("Recommendation"),
        choices=[SelectChoice(code, label) for code, label in RECOMMENDATIONS.items()],
        validators=[InputRequired(message=_l("Choose a recommendation."))],
    )
    comment = TextAreaField(
        _l("Comment on the assessment"), validators=[Optional(), Length(max=5000)]
    )

    @property
    def criteria(self) -> list:
        """The score fields, one per criterion, in the order of the criteria."""
        return [self[f"score_{criterion}"] for criterion in ASSESSMENT_CRITERIA]


for _criterion in ASSESSMENT_CRITERIA:
    setattr(
        AssessmentForm,
        f"score_{_criterion}",
        RadioField(
            CRITERION_LABELS.get(_criterion, _criterion),
            choices=SCORES,
            coerce=int,
            validators=[InputRequired(message=_l("Choose a score from 0 to 5."))],
            description=_l("0 = not at all, 5 = fully"),
        ),
    )


def arithmetic_form(lines, **kwargs) -> FlaskForm:
    """A form with the admitted amount and the reason for each cost line, pre-filled with the
    earlier review or the requested amount (kwargs go to the form, e.g. formdata=None)."""

    class ArithmeticForm(FlaskForm):
        pass

    data = {}
    for line in lines:
        setattr(
            ArithmeticForm,
            f"admitted_{line.id}",
            money_field(_l("Admitted amount for “%(line)s”", line=line.description), required=True),
        )
        setattr(
            ArithmeticForm,
            f"reason_{line.id}",
            StringField(
                _l("Reason for the cut of “%(line)s”", line=line.description),
                validators=[Optional(), Length(max=2000)],
            ),
        )
        review = line.review
        data[f"admitted_{line.id}"] = review.admitted_amount if review else line.amount
        data[f"reason_{line.id}"] = review.reason if review else None
    form = ArithmeticForm(data=data, prefix="arithmetic", **kwargs)
    form.lines = [(line, form[f"admitted_{line.id}"], form[f"reason_{line.id}"]) for line in lines]
    return form


class ChangeRequestForm(FlaskForm):
    message = TextAreaField(
        _l("What is needed"),
        validators=[DataRequired(), Length(max=5000)],
        description=_l("The applicant reads this text in the e-mail and on the application."),
    )
    deadline = DateField(_l("Deadline"), validators=[DataRequired()])
    sections = CheckboxesField(
        _l("Sections the applicant may change"),
        choices=[SelectChoice(code, label) for code, label in SECTIONS.items()],
        description=_l("None ticked: every section may be changed."),
    )


class NoteForm(FlaskForm):
    body = TextAreaField(
        _l("Internal note"),
        validators=[DataRequired(), Length(max=5000)],
        description=_l("Only staff see notes; the applicant never does."),
    )


class DecisionForm(FlaskForm):
    kind = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("approve", _l("Approve (fully or partly)")),
            SelectChoice("reject", _l("Reject")),
        ],
        validators=[DataRequired(message=_l("Choose approval or rejection."))],
    )
    amount = money_field(
        _l("Grant in euros"),
        description=_l(
            "At most the largest possible grant; less than requested makes a partial approval."
        ),
    )
    reasons = TextAreaField(
        _l("Reasons"),
        validators=[Optional(), Length(max=10000)],
        description=_l("Required for a partial approval and a rejection."),
    )
    conditions = TextAreaField(
        _l("Conditions (Nebenbestimmungen)"), validators=[Optional(), Length(max=10000)]
    )
    period_start = DateField(_l("Approval period from"), validators=[Optional()])
    period_end = DateField(_l("Approval period until"), validators=[Optional()])


class ReturnForm(FlaskForm):
    comment = TextAreaField(
        _l("Comment for the case worker"), validators=[DataRequired(), Length(max=5000)]
    )

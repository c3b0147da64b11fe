"""Forms of the letter area: verification, letter settings, programme annexes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from grants.core.forms import strip


class VerifyFileForm(FlaskForm):
    file = FileField(
        _l("Decision letter (PDF)"),
        validators=[DataRequired(message=_l("Choose a file."))],
        description=_l("The PDF file exactly as you received it."),
        render_kw={"accept": ".pdf,application/pdf"},
    )


def _text(label, length: int = 200, description=None) -> StringField:
    return StringField(
        label,
        filters=[strip],
        validators=[Optional(), Length(max=length)],
        description=description,
    )


def _long(label, description=None) -> TextAreaField:
    return TextAreaField(
        label,
        filters=[strip],
        validators=[Optional(), Length(max=10_000)],
        description=description,
        render_kw={"rows": 5},
    )


class LetterSettingsForm(FlaskForm):
    authority_name = _text(_l("Authority"))
    authority_unit = _text(_l("Department"))
    authority_address = _long(_l("Address of the authority"))
    return_address = _text(_l("Return address (one line above the recipient)"))
    contact_name = _text(_l("Contact person"))
    contact_phone = _text(_l("Phone"), 50)
    contact_email = EmailField(
        _l("E-mail address"), filters=[strip], validators=[Optional(), Email(), Length(max=254)]
    )
    signatory_name = _text(_l("Signatory"))
    signatory_title = _text(_l("Signature line (e.g. Im Auftrag)"))
    payout_text = _long(_l("Payout rules"))
    conditions_text = _long(_l("General conditions"))
    proof_of_use_text = _long(_l("Proof of use"))
    rejection_text = _long(_l("Standard paragraph of a rejection"))
    remedy_text = _long(_l("Legal remedy (Rechtsbehelfsbelehrung)"))
    closing_text = _text(_l("Closing"))
    footer_text = _long(_l("Footer on every page"))


class LogoForm(FlaskForm):
    logo = FileField(
        _l("Logo"),
        validators=[DataRequired(message=_l("Choose a file."))],
        description=_l("PNG or JPEG, shown at the top right of every letter."),
        render_kw={"accept": ".png,.jpg,.jpeg,image/png,image/jpeg"},
    )


class ProgrammeLetterForm(FlaskForm):
    budget_item = _text(
        _l("Budget item (Haushaltsstelle)"),
        60,
        description=_l("Shown in the finance exports."),
    )
    signatory_name = _text(
        _l("Signatory for this programme"),
        description=_l("Leave empty to use the general signatory."),
    )
    signatory_title = _text(_l("Signature line for this programme"))


class AnnexForm(FlaskForm):
    title = StringField(
        _l("Title of the annex"),
        filters=[strip],
        validators=[DataRequired(message=_l("Enter a title.")), Length(max=200)],
        description=_l("For example: ANBest-P (Allgemeine Nebenbestimmungen)."),
    )
    file = FileField(
        _l("Annex (PDF)"),
        validators=[DataRequired(message=_l("Choose a file."))],
        description=_l("A PDF, at most 10 MB; preferably PDF/A."),
        render_kw={"accept": ".pdf,application/pdf"},
    )

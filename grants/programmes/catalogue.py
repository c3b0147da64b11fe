"""Fixed vocabularies a programme chooses from: cost categories, attachments, declarations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

FINANCING_TYPES = {
    "shortfall": _l("Shortfall financing (Fehlbedarfsfinanzierung)"),
    "share": _l("Share financing (Anteilfinanzierung)"),
    "fixed": _l("Fixed-amount financing (Festbetragsfinanzierung)"),
    "full": _l("Full financing (Vollfinanzierung)"),
}

COST_CATEGORIES = {
    "personnel": _l("Personnel costs"),
    "fees": _l("Fees for freelancers and speakers"),
    "material": _l("Material costs"),
    "rent": _l("Rent and room costs"),
    "publicity": _l("Public relations"),
    "travel": _l("Travel costs"),
    "lump_sum": _l("Lump sums"),
    "other": _l("Other costs"),
}

ATTACHMENT_KINDS = {
    "statutes": _l("Statutes (Satzung)"),
    "register_extract": _l("Extract from the register"),
    "tax_exemption": _l("Tax-exemption notice (Freistellungsbescheid)"),
    "quote": _l("Quotes for larger purchases"),
    "concept": _l("Project concept"),
    "other": _l("Other document"),
}

DECLARATIONS = {
    "not_started": _l(
        "The project has not started yet and will not start before the decision, unless an "
        "early start has been allowed in writing."
    ),
    "subsidy_relevant": _l(
        "I know that the facts stated in this application are relevant for the subsidy within "
        "the meaning of § 264 of the German Criminal Code (subsidy fraud)."
    ),
    "truthful": _l("All statements in this application are complete and true."),
    "data_protection": _l(
        "I have read the data-protection notice and agree that the data is processed to decide "
        "on this application."
    ),
}

DISTRICTS = {
    "1": _l("City district I (Wiesdorf, Manfort, Rheindorf, Hitdorf, Küppersteg, Bürrig)"),
    "2": _l("City district II (Opladen, Quettingen, Bergisch Neukirchen)"),
    "3": _l("City district III (Schlebusch, Steinbüchel, Lützenkirchen, Alkenrath)"),
    "citywide": _l("The whole city"),
}


def label(vocabulary: dict, code: str) -> str:
    """The translated label of a code, or the code itself when unknown."""
    return str(vocabulary.get(code, code))

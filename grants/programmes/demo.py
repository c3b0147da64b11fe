"""Demo programmes for `flask seed-demo`: KOMM-AN NRW and the small intercultural grants."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from grants.core.models import LOCAL_TIMEZONE, to_utc, utcnow
from grants.extensions import db
from grants.programmes import operations
from grants.programmes.catalogue import DECLARATIONS
from grants.programmes.models import Programme

KOMMAN = {
    "name": "KOMM-AN NRW – Programmteil II",
    "code": "KOMMAN",
    "description": (
        "Mit KOMM-AN NRW fördert das Land Nordrhein-Westfalen das ehrenamtliche Engagement "
        "für und mit geflüchteten und neu zugewanderten Menschen vor Ort. Das Kommunale "
        "Integrationszentrum Leverkusen leitet die Mittel an Vereine, Initiativen und "
        "Migrantenselbstorganisationen in Leverkusen weiter.\n\n"
        "Gefördert werden vier Bausteine: A – Ankommenstreffpunkte einrichten und betreiben; "
        "B – Zusammenkommen, Orientierung und Begleitung im Alltag; C – Information über "
        "Angebote und Gewinnung neuer Ehrenamtlicher; D – Schulung und Austausch der "
        "Ehrenamtlichen.\n\n"
        "Die Förderung erfolgt über Pauschalen je Maßnahme, Raum, Monat oder Stunde. "
        "Neben den Pauschalen können Sachausgaben und Ausgaben für Öffentlichkeitsarbeit "
        "anerkannt werden."
    ),
    "legal_basis": (
        "Richtlinie über die Gewährung von Zuwendungen zur Förderung der Integration von "
        "Flüchtlingen und Neuzugewanderten in den Kommunen (Förderrichtlinie KOMM-AN NRW) "
        "des Ministeriums für Kinder, Jugend, Familie, Gleichstellung, Flucht und Integration "
        "des Landes Nordrhein-Westfalen in der jeweils geltenden Fassung.\n\n"
        "Die Stadt Leverkusen leitet die ihr bewilligten Mittel nach Nr. 12 VVG zu § 44 LHO "
        "(Verwaltungsvorschriften zu § 44 der Landeshaushaltsordnung) an Dritte weiter. "
        "Ein Rechtsanspruch auf die Förderung besteht nicht; die Bewilligung erfolgt im "
        "Rahmen der verfügbaren Haushaltsmittel."
    ),
    "financing_type": "fixed",
    "share_rate": None,
    "min_grant": Decimal("500.00"),
    "max_grant": Decimal("25000.00"),
    "total_budget": Decimal("250000.00"),
    "eligible_categories": ["lump_sum", "material", "publicity"],
    "required_attachments": ["statutes"],
    "required_declarations": list(DECLARATIONS),
    "proof_of_use_months": 6,
}

KOMMAN_LUMP_SUMS = [
    ("A1", "Ausstattung Ankommenstreffpunkt", "Raum", "1000.00", 2),
    ("A2", "Laufende Kosten Ankommenstreffpunkt", "Monat", "400.00", 12),
    ("B1", "Maßnahme Zusammenkommen/Orientierung", "Maßnahme", "250.00", None),
    ("B2", "Begleitung", "Begleitung", "35.00", None),
    ("C1", "Print- und Webmedien", "Medium", "500.00", None),
    ("C2", "Übersetzung", "Seite", "50.00", None),
    ("D1", "Schulung Ehrenamtlicher", "Referentenstunde", "100.00", None),
    ("D2", "Austauschtreffen", "Treffen", "50.00", None),
]

IKOE = {
    "name": ("Kleinförderung Interkulturelle Öffnung und Internationale Wochen gegen Rassismus"),
    "code": "IKOE",
    "description": (
        "Die Kleinförderung unterstützt Leverkusener Vereine, Initiativen und "
        "Migrantenselbstorganisationen bei Projekten, die die interkulturelle Öffnung von "
        "Einrichtungen voranbringen oder sich an den Internationalen Wochen gegen Rassismus "
        "beteiligen – zum Beispiel Workshops, Lesungen, Begegnungsfeste, Ausstellungen oder "
        "Fortbildungen für Ehrenamtliche.\n\n"
        "Gefördert werden 90 % der zuwendungsfähigen Ausgaben, mindestens 500 € und höchstens "
        "5.000 € je Projekt. Die übrigen 10 % bringt der Träger als Eigenmittel oder "
        "Drittmittel ein."
    ),
    "legal_basis": (
        "Förderung aus Mitteln des Landes Nordrhein-Westfalen für die Kommunalen "
        "Integrationszentren nach dem Teilhabe- und Integrationsgesetz NRW, weitergeleitet "
        "nach Nr. 12 VVG zu § 44 LHO. Es gelten die Allgemeinen Nebenbestimmungen für "
        "Zuwendungen zur Projektförderung (ANBest-P). Ein Rechtsanspruch auf die Förderung "
        "besteht nicht."
    ),
    "financing_type": "share",
    "share_rate": Decimal("90.00"),
    "min_grant": Decimal("500.00"),
    "max_grant": Decimal("5000.00"),
    "total_budget": Decimal("40000.00"),
    "eligible_categories": ["fees", "material", "rent", "publicity", "travel", "other"],
    "required_attachments": ["statutes", "tax_exemption"],
    "required_declarations": list(DECLARATIONS),
    "proof_of_use_months": 6,
}


def _local_midnight(day: date) -> datetime:
    return to_utc(datetime.combine(day, time(0, 0)))


def _local_deadline(day: date) -> datetime:
    return to_utc(datetime.combine(day, time(23, 59)))


def _open_call(title: str, today: date) -> dict:
    return {
        "title": title,
        "opens_at": _local_midnight(today - timedelta(days=30)),
        "closes_at": _local_deadline(today + timedelta(days=60)),
        "project_start": date(today.year, 1, 1),
        "project_end": date(today.year + 1, 12, 31),
        "budget": None,
    }


def seed_programmes() -> None:
    """Create the demo programmes, their calls and lump sums unless the code exists (flushed)."""
    today = utcnow().astimezone(LOCAL_TIMEZONE).date()
    existing = set(db.session.scalars(select(Programme.code)))

    if KOMMAN["code"] not in existing:
        programme = operations.create_programme(KOMMAN)
        for code, label, unit, amount, max_units in KOMMAN_LUMP_SUMS:
            operations.save_lump_sum_item(
                programme,
                {
                    "code": code,
                    "label": label,
                    "unit": unit,
                    "amount": Decimal(amount),
                    "max_units": max_units,
                },
            )
        call = _open_call(f"Förderaufruf KOMM-AN NRW {today.year}", today)
        operations.create_call(programme, {**call, "budget": Decimal("150000.00")})
        operations.create_call(
            programme,
            {
                "title": f"Förderaufruf KOMM-AN NRW {today.year} – erste Runde",
                "opens_at": _local_midnight(today - timedelta(days=100)),
                "closes_at": _local_deadline(today - timedelta(days=10)),
                "project_start": date(today.year, 1, 1),
                "project_end": date(today.year, 12, 31),
                "budget": Decimal("100000.00"),
            },
        )

    if IKOE["code"] not in existing:
        programme = operations.create_programme(IKOE)
        operations.create_call(
            programme,
            _open_call(
                f"Kleinförderung {today.year}: Interkulturelle Öffnung und "
                "Internationale Wochen gegen Rassismus",
                today,
            ),
        )
    db.session.flush()

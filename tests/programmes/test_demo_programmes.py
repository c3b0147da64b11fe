"""Does the demo data hold the two programmes, their lump sums and calls, created only once?"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from grants.extensions import db
from grants.programmes.demo import seed_programmes
from grants.programmes.models import Call, LumpSumItem, Programme


def _counts() -> tuple[int, int, int]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Programme, LumpSumItem, Call)
    )


def test_seed_programmes_is_idempotent():
    seed_programmes()
    assert _counts() == (2, 8, 3)
    seed_programmes()
    assert _counts() == (2, 8, 3)


def test_the_demo_programmes_follow_komm_an_and_the_small_grants(client):
    seed_programmes()
    komman = db.session.scalar(select(Programme).where(Programme.code == "KOMMAN"))
    assert komman.financing_type == "fixed"
    assert (komman.min_grant, komman.max_grant) == (Decimal("500"), Decimal("25000"))
    assert komman.total_budget == Decimal("250000")
    assert "Nr. 12 VVG zu § 44 LHO" in komman.legal_basis
    assert [i.code for i in komman.lump_sums] == ["A1", "A2", "B1", "B2", "C1", "C2", "D1", "D2"]
    a1 = komman.lump_sums[0]
    assert (a1.amount, a1.max_units) == (Decimal("1000"), 2)
    assert [call.is_open() for call in komman.calls] == [False, True]

    ikoe = db.session.scalar(select(Programme).where(Programme.code == "IKOE"))
    assert (ikoe.financing_type, ikoe.share_rate) == ("share", Decimal("90"))
    assert (ikoe.min_grant, ikoe.max_grant) == (Decimal("500"), Decimal("5000"))
    assert [call.is_open() for call in ikoe.calls] == [True]

    page = client.get("/calls").get_data(as_text=True)
    assert "KOMM-AN NRW – Programmteil II" in page
    assert "Interkulturelle Öffnung" in page

"""Does the grant calculation respect every financing type's rules, for any input?"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grants.applications.financing import FinancingRules, compute_grant
from grants.core.money import ZERO

amounts = st.decimals(
    min_value=0, max_value=1_000_000, places=2, allow_nan=False, allow_infinity=False
)
optional_limits = st.one_of(st.none(), amounts)


@st.composite
def rules(draw) -> FinancingRules:
    financing_type = draw(st.sampled_from(["shortfall", "share", "fixed", "full"]))
    low = draw(optional_limits)
    high = draw(optional_limits)
    if low is not None and high is not None and high < low:
        low, high = high, low
    rate = (
        draw(st.decimals(min_value=Decimal("0.01"), max_value=100, places=2))
        if (financing_type == "share")
        else None
    )
    return FinancingRules(financing_type, share_rate=rate, min_grant=low, max_grant=high)


@given(rules=rules(), costs=amounts, other=amounts, fixed=amounts)
def test_grant_is_never_negative_nor_above_maximum_costs_or_the_gap(rules, costs, other, fixed):
    result = compute_grant(rules, costs, other, fixed_amount=fixed)
    assert result.grant >= ZERO
    assert result.grant <= costs
    assert result.grant <= max(costs - other, ZERO)  # never over-financed
    if rules.max_grant is not None:
        assert result.grant <= rules.max_grant
    if rules.min_grant is not None and result.grant > 0:
        assert result.grant >= rules.min_grant
    assert result.grant == result.grant.to_integral_value()  # whole euros
    # costs equal financing: other funds and the grant leave exactly own_funds_needed open
    assert result.grant + result.own_funds_needed == result.eligible_costs
    assert result.steps[-1].amount == result.grant


@given(costs=amounts, other=amounts)
def test_shortfall_grant_closes_the_gap_when_no_limit_applies(costs, other):
    result = compute_grant(FinancingRules("shortfall", round_down=False), costs, other)
    assert other + result.grant == max(costs, other)


def test_share_financing_grants_the_rate_capped_at_the_maximum():
    rules = FinancingRules(
        "share", share_rate=Decimal("90"), min_grant=Decimal("500"), max_grant=Decimal("5000")
    )
    assert compute_grant(rules, Decimal("2000.00"), Decimal("200.00")).grant == Decimal("1800.00")
    assert compute_grant(rules, Decimal("10000.00"), Decimal("1000.00")).grant == Decimal("5000.00")
    assert compute_grant(rules, Decimal("400.00"), Decimal("40.00")).below_minimum


def test_share_financing_is_rounded_down_to_whole_euros():
    rules = FinancingRules("share", share_rate=Decimal("90"))
    result = compute_grant(rules, Decimal("1234.56"), Decimal("200.00"))
    assert result.grant == Decimal("1034.00")  # gap 1034.56 < 90 % (1111.10)


def test_fixed_financing_is_the_lump_sum_total_but_never_above_the_costs():
    rules = FinancingRules("fixed")
    assert compute_grant(rules, Decimal("3000"), ZERO, Decimal("2400")).grant == Decimal("2400.00")
    assert compute_grant(rules, Decimal("1000"), ZERO, Decimal("2400")).grant == Decimal("1000.00")


def test_unknown_financing_type_is_an_error():
    with pytest.raises(ValueError):
        compute_grant(FinancingRules("lottery"), Decimal("1"), ZERO)

"""The grant calculation for every financing type, with the steps staff and applicants see."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from grants.core.money import ZERO, cents, whole_euros_down


@dataclass(frozen=True)
class FinancingRules:
    """What a programme says about the grant."""

    financing_type: str
    share_rate: Decimal | None = None  # percent, for 'share'
    min_grant: Decimal | None = None
    max_grant: Decimal | None = None
    round_down: bool = True


@dataclass(frozen=True)
class Step:
    label: str
    amount: Decimal


@dataclass(frozen=True)
class GrantCalculation:
    """The largest possible grant and how it was reached."""

    grant: Decimal
    eligible_costs: Decimal
    other_funds: Decimal
    steps: list[Step] = field(default_factory=list)
    below_minimum: bool = False

    @property
    def own_funds_needed(self) -> Decimal:
        """What own funds, third-party funds and fees must cover besides the grant."""
        return self.eligible_costs - self.grant


def compute_grant(
    rules: FinancingRules,
    eligible_costs: Decimal,
    other_funds: Decimal,
    fixed_amount: Decimal | None = None,
) -> GrantCalculation:
    """The largest grant the rules allow for these costs and other funds (never negative).

    other_funds are own funds, third-party funds and participant fees together. The grant never
    exceeds the eligible costs minus the other funds (no over-financing), the programme maximum,
    or the eligible costs; below the programme minimum there is no grant.
    """
    costs = cents(max(eligible_costs, ZERO))
    other = cents(max(other_funds, ZERO))
    gap = max(costs - other, ZERO)
    steps = [Step(str(_l("Eligible costs")), costs), Step(str(_l("Other funds")), other)]

    if rules.financing_type == "shortfall":
        amount = gap
        steps.append(Step(str(_l("Shortfall: costs minus other funds")), amount))
    elif rules.financing_type == "share":
        rate = rules.share_rate or ZERO
        amount = cents(costs * rate / 100)
        steps.append(Step(str(_l("Share of %(rate)s %% of the costs", rate=rate)), amount))
    elif rules.financing_type == "fixed":
        amount = cents(min(fixed_amount or ZERO, costs))
        steps.append(Step(str(_l("Fixed amount (lump sums), at most the costs")), amount))
    elif rules.financing_type == "full":
        amount = costs
        steps.append(Step(str(_l("Full financing of the costs")), amount))
    else:
        raise ValueError(f"unknown financing type {rules.financing_type!r}")

    if amount > gap:
        amount = gap
        steps.append(Step(str(_l("Limited to the costs not covered by other funds")), amount))
    if rules.max_grant is not None and amount > rules.max_grant:
        amount = rules.max_grant
        steps.append(Step(str(_l("Limited to the programme maximum")), amount))
    if rules.round_down and amount != whole_euros_down(amount):
        amount = whole_euros_down(amount)
        steps.append(Step(str(_l("Rounded down to whole euros")), amount))
    below = rules.min_grant is not None and amount < rules.min_grant
    if below:
        amount = ZERO
        steps.append(Step(str(_l("Below the programme minimum: no grant")), amount))
    return GrantCalculation(amount, costs, other, steps, below)


def rules_of(programme) -> FinancingRules:
    """The financing rules of a programme."""
    return FinancingRules(
        financing_type=programme.financing_type,
        share_rate=programme.share_rate,
        min_grant=programme.min_grant,
        max_grant=programme.max_grant,
    )


def calculate_grant(application, line_amount=lambda line: line.amount) -> GrantCalculation:
    """The largest possible grant for the application's cost and financing plan.

    line_amount gives the amount each cost line counts with (the review passes the admitted one).
    """
    amounts = [(line_amount(line), line.lump_sum_item_id) for line in application.cost_lines]
    return compute_grant(
        rules_of(application.call.programme),
        eligible_costs=sum((amount for amount, _ in amounts), ZERO),
        other_funds=application.other_funds,
        fixed_amount=sum((amount for amount, lump_sum in amounts if lump_sum), ZERO),
    )

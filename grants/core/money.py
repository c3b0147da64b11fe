"""Money is Decimal: parsing, rounding and formatting helpers."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from sqlalchemy import Numeric

CENT = Decimal("0.01")
EURO = Decimal("1")
ZERO = Decimal("0.00")


def Money() -> Numeric:  # noqa: N802 - reads like a column type
    """The column type for amounts: Numeric(12, 2), returned as Decimal."""
    return Numeric(12, 2, asdecimal=True)


def cents(value: Decimal | int | str) -> Decimal:
    """Round to cents (half up), as on an invoice."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def whole_euros_down(value: Decimal) -> Decimal:
    """Round down to whole euros, kept with two decimals."""
    return value.quantize(EURO, rounding=ROUND_DOWN).quantize(CENT)

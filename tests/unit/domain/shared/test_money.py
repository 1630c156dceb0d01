"""Money: a Decimal with its currency, never a float, never two currencies added."""

from __future__ import annotations

import pytest

from domain.shared import Money, MoneyError


def test_money_is_decimal_with_a_currency() -> None:
    assert Money.parse("1.10", "USD") + Money.parse("2.20", "USD") == Money.parse("3.30", "USD")
    with pytest.raises(MoneyError):
        Money.parse("1.10", "USD") + Money.parse("1", "EUR")
    with pytest.raises(MoneyError):
        Money(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money.parse("NaN", "USD")
    with pytest.raises(MoneyError):
        Money.parse("1", "usd")

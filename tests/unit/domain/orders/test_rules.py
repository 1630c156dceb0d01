"""Order rules: what the store refuses to take as-is, and which event a change produces."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from domain.orders import OrderProblem, check_order
from domain.shared import Money
from tests.fakes import T0, make_order


def test_check_order_refuses_nonsense_dates_and_mixed_currencies() -> None:
    with pytest.raises(OrderProblem, match="makes no sense"):
        check_order(make_order(1, purchased_at=T0 + timedelta(days=2)), T0)
    with pytest.raises(OrderProblem, match="before the purchase"):
        check_order(make_order(1, last_updated_at=T0 - timedelta(days=3)), T0)
    with pytest.raises(OrderProblem, match="mixes currencies"):
        check_order(make_order(1, total=Money(Decimal("1"), "EUR")), T0)
    check_order(make_order(1), T0)

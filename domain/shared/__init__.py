"""What every feature of the domain shares: money, the clock port."""

from domain.shared.clock import Clock
from domain.shared.money import Money, MoneyError

__all__ = ["Clock", "Money", "MoneyError"]

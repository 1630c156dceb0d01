"""What every feature of the domain shares: money, the clock port, the one error tree."""

from domain.shared.clock import Clock
from domain.shared.errors import DomainError, FieldError
from domain.shared.money import Money, MoneyError

__all__ = ["Clock", "DomainError", "FieldError", "Money", "MoneyError"]

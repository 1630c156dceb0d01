"""What every feature of the domain shares: money, the clock port, the one error tree, ids,
times, and the shape of a refused request."""

from domain.shared.clock import Clock
from domain.shared.errors import DomainError, FieldError, LeaseLost
from domain.shared.events import Event
from domain.shared.ids import BIGINT_MAX, row_id
from domain.shared.money import Money, MoneyError
from domain.shared.results import Rejected
from domain.shared.times import TimeOutsideCalendar, TimeRefused, format_utc, parse_utc

__all__ = [
    "BIGINT_MAX",
    "Clock",
    "DomainError",
    "Event",
    "FieldError",
    "LeaseLost",
    "Money",
    "MoneyError",
    "Rejected",
    "TimeOutsideCalendar",
    "TimeRefused",
    "format_utc",
    "parse_utc",
    "row_id",
]

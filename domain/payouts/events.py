"""What the platform hears about payouts: a settlement arrived (with its totals and whether it
reconciled), and, when it does not add up, a second event that says why."""

from __future__ import annotations

from dataclasses import dataclass

from domain.shared.events import Event


@dataclass(frozen=True, slots=True)
class PayoutEvent(Event):
    account_id: int
    settlement_id: str

    @property
    def aggregate_key(self) -> str:
        return f"payout:{self.account_id}:{self.settlement_id}"


@dataclass(frozen=True, slots=True)
class PayoutAvailable(PayoutEvent):
    """``payouts/available``: the totals are read from the stored statement by the payload."""

    reconciled: bool


@dataclass(frozen=True, slots=True)
class PayoutUnreconciled(PayoutEvent):
    """``payouts/unreconciled``: the lines do not add up to the deposit, or rows were set
    aside."""

    problems: tuple[str, ...]

"""The FinancesGateway port's fake: the refunds Amazon's Finances posted, by order and by time.

A test posts refunds made in Seller Central with ``post``; the feeds' fake posts the ones its
feeds applied. ``busy`` makes the next calls raise ``AmazonBusy``; ``calls`` records them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.feeds import AmazonBusy
from domain.refunds import AmazonRefund


@dataclass
class FakeFinances:
    posted: list[AmazonRefund] = field(default_factory=list)
    busy: int = 0  # how many of the next calls raise AmazonBusy
    calls: list[tuple[str, object]] = field(default_factory=list)

    def post(self, refund: AmazonRefund) -> None:
        self.posted.append(refund)

    def _call(self, name: str, arg: object) -> None:
        self.calls.append((name, arg))
        if self.busy > 0:
            self.busy -= 1
            raise AmazonBusy("QuotaExceeded")

    def refunds_of_order(self, account_id: int, amazon_order_id: str) -> tuple[AmazonRefund, ...]:
        self._call("order", amazon_order_id)
        return tuple(r for r in self.posted if r.amazon_order_id == amazon_order_id)

    def refunds_posted(
        self, account_id: int, posted_after: datetime, posted_before: datetime
    ) -> tuple[AmazonRefund, ...]:
        self._call("posted", (posted_after, posted_before))
        return tuple(r for r in self.posted if posted_after <= r.posted_at < posted_before)

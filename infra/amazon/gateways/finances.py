"""``domain.refunds.FinancesGateway`` over Finances v0: the refunds Amazon posted for an order
(``listFinancialEventsByOrderId``) or in a posted-date window (``listFinancialEvents``), every
page, each ``RefundEventList`` entry translated by ``infra.amazon.translate.finances``.

Nothing is dropped silently: a refund event that does not validate or translate (no order id,
no posted date, a charge without a currency) is left out of the answer and logged at WARNING
with its order id and the reason, and so is each charge whose ChargeType has no component
(``TranslatedRefund.unmapped``). A window longer than Amazon's 180 days is read in 180-day
parts (Amazon answers a longer one with nothing). An event read twice (the same refund on two
pages) is returned once.

Error mapping (``infra.amazon.errors`` -> ``domain.feeds``): every ``AmazonTransientError``
(429 and our bucket's ``RateLimitTimeout``, 5xx, the network; these are reads, so a patient
client has already retried them) -> ``AmazonBusy``, with the wait when it is known. An
``AmazonPermanentError`` (a 400 for a window too close to now, 403 ...) is raised as it is:
asking again will not help, and no domain decision rests on it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from functools import partial
from typing import Protocol

from domain.refunds import AmazonRefund
from infra.amazon.api.finances import MAX_WINDOW
from infra.amazon.errors import AmazonTransientError
from infra.amazon.gateways.feeds import busy
from infra.amazon.schemas import ListFinancialEventsPayload
from infra.amazon.translate import TranslationError, refund_to_domain

log = logging.getLogger(__name__)


class FinancesClient(Protocol):
    """The calls of ``infra.amazon.client.SpApiClient`` this adapter makes."""

    def iter_financial_events_by_order_id(
        self, order_id: str, *, max_results: int = 100
    ) -> Iterator[ListFinancialEventsPayload]: ...

    def iter_financial_events(
        self,
        *,
        posted_after: datetime,
        posted_before: datetime | None = None,
        max_results: int = 100,
    ) -> Iterator[ListFinancialEventsPayload]: ...


def _windows(after: datetime, before: datetime) -> Iterator[tuple[datetime, datetime]]:
    start = after
    while start < before:
        end = min(before, start + MAX_WINDOW)
        yield start, end
        start = end


class SpApiFinances:
    """One gateway for every account: ``client_for(account_id)`` gives that seller's client."""

    def __init__(self, client_for: Callable[[int], FinancesClient]) -> None:
        self.client_for = client_for

    def refunds_of_order(self, account_id: int, amazon_order_id: str) -> tuple[AmazonRefund, ...]:
        client = self.client_for(account_id)
        pages = partial(client.iter_financial_events_by_order_id, amazon_order_id)
        return self._refunds(account_id, pages)

    def refunds_posted(
        self, account_id: int, posted_after: datetime, posted_before: datetime
    ) -> tuple[AmazonRefund, ...]:
        if posted_before <= posted_after:
            raise ValueError("posted_before must be later than posted_after")
        client = self.client_for(account_id)
        found: list[AmazonRefund] = []
        for start, end in _windows(posted_after, posted_before):
            pages = partial(client.iter_financial_events, posted_after=start, posted_before=end)
            found.extend(self._refunds(account_id, pages))
        return _once(found)

    def _refunds(
        self, account_id: int, pages: Callable[[], Iterable[ListFinancialEventsPayload]]
    ) -> tuple[AmazonRefund, ...]:
        found: list[AmazonRefund] = []
        try:
            for page in pages():
                events = page.financial_events
                for unparsed in events.unparsed_events:
                    if unparsed.event_list == "RefundEventList":
                        _set_aside(account_id, unparsed.amazon_order_id, unparsed.error)
                for index, event in enumerate(events.refund_event_list):
                    try:
                        translated = refund_to_domain(event, f"RefundEventList[{index}]")
                    except TranslationError as exc:
                        _set_aside(account_id, event.amazon_order_id, str(exc))
                        continue
                    for charge in translated.unmapped:
                        log.warning(
                            "amazon refund charge has no component; left out",
                            extra={
                                "account_id": account_id,
                                "amazon_order_id": charge.amazon_order_id,
                                "order_item_id": charge.order_item_id,
                                "charge_type": charge.charge_type,
                                "amount": str(charge.amount.amount),
                                "currency": charge.amount.currency,
                            },
                        )
                    found.append(translated.refund)
        except AmazonTransientError as exc:
            raise busy(exc) from exc
        return _once(found)


def _set_aside(account_id: int, amazon_order_id: str | None, reason: str) -> None:
    log.warning(
        "amazon refund event set aside",
        extra={"account_id": account_id, "amazon_order_id": amazon_order_id, "reason": reason},
    )


def _once(refunds: Iterable[AmazonRefund]) -> tuple[AmazonRefund, ...]:
    """In order of reading, each refund once (the same event read twice is one refund)."""
    return tuple(dict.fromkeys(refunds))

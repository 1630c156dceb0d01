"""Finances v0: the financial events of an order, of a posted-date window or of an event group,
and the event groups themselves, one page at a time or every page (``NextToken``).

Amazon's amounts are JSON numbers (``BigDecimal``); the body is read with its numbers as
``Decimal`` (never a float) before it is validated into ``infra.amazon.schemas.finances``.
Amazon's window rules are checked before a call is spent: ``PostedBefore`` later than
``PostedAfter`` and at most 180 days after it (a longer window is answered with an empty page,
which would read as "nothing happened"). Amazon also wants both more than two minutes before the
request; that it checks itself (400 ``InvalidInput``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from pydantic import BaseModel

from infra.amazon.api._common import optional_time, parse, payload
from infra.amazon.errors import json_object
from infra.amazon.http import SpApiTransport
from infra.amazon.schemas.finances import (
    ListFinancialEventGroupsPayload,
    ListFinancialEventsPayload,
)

# Amazon answers a longer window with nothing.
MAX_WINDOW = timedelta(days=180)

_P = TypeVar("_P", bound=BaseModel)


def _check_page_size(max_results: int) -> str:
    if not 1 <= max_results <= 100:
        raise ValueError("max_results must be between 1 and 100")
    return str(max_results)


def _check_window(
    after: datetime | None, before: datetime | None, after_name: str, before_name: str
) -> None:
    if before is None:
        return
    if after is None:
        raise ValueError(f"{before_name} needs {after_name} (Amazon's rule)")
    if before <= after:
        raise ValueError(f"{before_name} must be later than {after_name}")
    if before - after > MAX_WINDOW:
        raise ValueError(
            f"{after_name} and {before_name} are more than 180 days apart: Amazon would answer "
            "with nothing; split the window"
        )


class FinancesApi:
    """The Finances API, version 0, for one seller."""

    def __init__(self, transport: SpApiTransport) -> None:
        self.transport = transport

    def _page(
        self,
        model: type[_P],
        operation: str,
        params: dict[str, str | None],
        path_params: dict[str, str] | None = None,
    ) -> _P:
        response = self.transport.call(operation, path_params=path_params, params=params)
        body = json_object(operation, response, parse_float=Decimal)
        return parse(model, payload(body, operation), operation)

    @staticmethod
    def _pages(fetch: Callable[[str | None], _P]) -> Iterator[_P]:
        token: str | None = None
        while True:
            page = fetch(token)
            yield page
            token = getattr(page, "next_token", None)
            if not token:
                return

    # -- listFinancialEventsByOrderId ------------------------------------------------------------

    def list_financial_events_by_order_id(
        self, order_id: str, *, max_results: int = 100, next_token: str | None = None
    ) -> ListFinancialEventsPayload:
        """One page of the order's financial events."""
        if not order_id:
            raise ValueError("order_id is required")
        return self._page(
            ListFinancialEventsPayload,
            "financesV0.listFinancialEventsByOrderId",
            {"MaxResultsPerPage": _check_page_size(max_results), "NextToken": next_token},
            {"orderId": order_id},
        )

    def iter_financial_events_by_order_id(
        self, order_id: str, *, max_results: int = 100
    ) -> Iterator[ListFinancialEventsPayload]:
        """Every page of the order's financial events (some may be empty)."""
        if not order_id:
            raise ValueError("order_id is required")
        _check_page_size(max_results)
        return self._pages(
            lambda token: self.list_financial_events_by_order_id(
                order_id, max_results=max_results, next_token=token
            )
        )

    # -- listFinancialEvents ---------------------------------------------------------------------

    def list_financial_events(
        self,
        *,
        posted_after: datetime,
        posted_before: datetime | None = None,
        max_results: int = 100,
        next_token: str | None = None,
    ) -> ListFinancialEventsPayload:
        """One page of the events posted in [posted_after, posted_before) (the same window is
        sent with each token, as Amazon asks)."""
        _check_window(posted_after, posted_before, "posted_after", "posted_before")
        return self._page(
            ListFinancialEventsPayload,
            "financesV0.listFinancialEvents",
            {
                "MaxResultsPerPage": _check_page_size(max_results),
                "PostedAfter": optional_time(posted_after),
                "PostedBefore": optional_time(posted_before),
                "NextToken": next_token,
            },
        )

    def iter_financial_events(
        self,
        *,
        posted_after: datetime,
        posted_before: datetime | None = None,
        max_results: int = 100,
    ) -> Iterator[ListFinancialEventsPayload]:
        """Every page of the events posted in the window."""
        _check_window(posted_after, posted_before, "posted_after", "posted_before")
        _check_page_size(max_results)
        return self._pages(
            lambda token: self.list_financial_events(
                posted_after=posted_after,
                posted_before=posted_before,
                max_results=max_results,
                next_token=token,
            )
        )

    # -- listFinancialEventGroups ----------------------------------------------------------------

    def list_financial_event_groups(
        self,
        *,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
        max_results: int = 100,
        next_token: str | None = None,
    ) -> ListFinancialEventGroupsPayload:
        """One page of the event groups (settlement periods) opened in the window."""
        _check_window(started_after, started_before, "started_after", "started_before")
        return self._page(
            ListFinancialEventGroupsPayload,
            "financesV0.listFinancialEventGroups",
            {
                "MaxResultsPerPage": _check_page_size(max_results),
                "FinancialEventGroupStartedAfter": optional_time(started_after),
                "FinancialEventGroupStartedBefore": optional_time(started_before),
                "NextToken": next_token,
            },
        )

    def iter_financial_event_groups(
        self,
        *,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
        max_results: int = 100,
    ) -> Iterator[ListFinancialEventGroupsPayload]:
        """Every page of the event groups opened in the window."""
        _check_window(started_after, started_before, "started_after", "started_before")
        _check_page_size(max_results)
        return self._pages(
            lambda token: self.list_financial_event_groups(
                started_after=started_after,
                started_before=started_before,
                max_results=max_results,
                next_token=token,
            )
        )

    # -- listFinancialEventsByGroupId ------------------------------------------------------------

    def list_financial_events_by_group_id(
        self,
        event_group_id: str,
        *,
        posted_after: datetime | None = None,
        posted_before: datetime | None = None,
        max_results: int = 100,
        next_token: str | None = None,
    ) -> ListFinancialEventsPayload:
        """One page of the group's events (optionally only those posted in a window)."""
        if not event_group_id:
            raise ValueError("event_group_id is required")
        _check_window(posted_after, posted_before, "posted_after", "posted_before")
        return self._page(
            ListFinancialEventsPayload,
            "financesV0.listFinancialEventsByGroupId",
            {
                "MaxResultsPerPage": _check_page_size(max_results),
                "PostedAfter": optional_time(posted_after),
                "PostedBefore": optional_time(posted_before),
                "NextToken": next_token,
            },
            {"eventGroupId": event_group_id},
        )

    def iter_financial_events_by_group_id(
        self,
        event_group_id: str,
        *,
        posted_after: datetime | None = None,
        posted_before: datetime | None = None,
        max_results: int = 100,
    ) -> Iterator[ListFinancialEventsPayload]:
        """Every page of the group's events."""
        if not event_group_id:
            raise ValueError("event_group_id is required")
        _check_window(posted_after, posted_before, "posted_after", "posted_before")
        _check_page_size(max_results)
        return self._pages(
            lambda token: self.list_financial_events_by_group_id(
                event_group_id,
                posted_after=posted_after,
                posted_before=posted_before,
                max_results=max_results,
                next_token=token,
            )
        )

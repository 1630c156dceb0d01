"""The domain's one tree of errors, and the field error a refused request is made of.

Every error a domain use case or rule raises derives from ``DomainError``; each feature keeps
its own branch next to the code that raises it. Some also stay ``ValueError`` so that callers'
``except ValueError`` keep working::

    DomainError
     ├── MoneyError (ValueError)    shared.money: an amount or currency that cannot be money
     ├── OrderProblem (ValueError)  orders.rules: an order the store must set aside, with why
     ├── PaginationExpired          ingestion.ports: Amazon no longer takes the stored token
     ├── LeaseLost                  here: an attempt's lease was taken over; nothing was sent
     ├── ReportFailed               ingestion.backfill: Amazon could not make an order report
     ├── ReportUnavailable          ingestion.backfill: the report asked for is gone: ask anew
     ├── ReadLater                  notifications.ports: getOrder cannot answer now; ``retry_after``
     ├── OrderUnreadable            notifications.ports: getOrder refused the read for good
     ├── FulfilmentError            fulfilments.errors
     │    ├── InvalidRequest        the request itself is malformed (field errors)
     │    ├── IllegalTransition     a state change the machine does not allow
     │    ├── ShipmentRejected      Amazon refused the package: permanent (code, message)
     │    └── AmazonUnavailable     try again later (throttled, 5xx, network); ``retry_after``
     └── FeedError                  feeds.errors
          ├── IllegalFeedTransition a submission's state change its machine does not allow
          ├── FeedRefused           Amazon refused the call for good (4xx): nothing created
          ├── AmazonBusy            not now (429, or refused before taken); ``retry_after``
          └── OutcomeUnknown        createFeed's answer was lost: the feed may exist
"""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error the domain raises."""


class LeaseLost(DomainError):
    """The attempt's lease was found taken over (or gone) right before a call to Amazon, so the
    call was not made. Raised by the adapter that makes the call (it renews the lease first);
    the use case ends the attempt without recording anything (it can no longer: every record
    is fenced by the lease) and the attempt that holds the lease now carries on."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One reason a request is refused, named by its field (every door answers with a list)."""

    field: str
    reason: str

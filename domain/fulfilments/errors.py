"""What the fulfilment use cases raise, a branch of the domain's one error tree (drawn whole in
``domain.shared.errors``)::

    DomainError
     └── FulfilmentError
          ├── InvalidRequest        the request itself is malformed (field errors)
          ├── IllegalTransition     a state change the machine does not allow
          ├── ShipmentRejected      Amazon refused the package: permanent (code, message)
          └── AmazonUnavailable     try again later (throttled, 5xx, network); ``retry_after``
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from domain.shared import DomainError, FieldError


class FulfilmentError(DomainError):
    """Base of what the fulfilment use cases raise."""


class InvalidRequest(FulfilmentError):
    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = tuple(errors)


class IllegalTransition(FulfilmentError):
    """A state change the fulfilment's state machine does not allow (``TRANSITIONS``)."""


class ShipmentRejected(FulfilmentError):
    """Amazon refused the package; sending it again will fail the same way."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class AmazonUnavailable(FulfilmentError):
    """Amazon could not take it now; ``retry_after`` is how long to wait when known."""

    def __init__(self, reason: str, retry_after: timedelta | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after

"""What the API families share: Amazon's query-string formats and reading a response body."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from domain.shared import format_utc
from infra.amazon.errors import UnexpectedResponse

_M = TypeVar("_M", bound=BaseModel)


format_time = format_utc


def optional_time(value: datetime | None) -> str | None:
    return format_time(value) if value else None


def csv(values: Sequence[str] | None) -> str | None:
    """SP-API arrays in a query string are comma-separated (Swagger 2 ``collectionFormat: csv``)."""
    if not values:
        return None
    return ",".join(values)


def parse(model: type[_M], body: Any, operation: str) -> _M:
    """Validate a body into its schema; a mismatch is Amazon breaking its model (permanent)."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise UnexpectedResponse(
            f"response does not match {model.__name__}: {exc.error_count()} error(s)",
            operation=operation,
        ) from None


def payload(body: dict[str, Any], operation: str) -> Any:
    """Orders v0 wraps results in ``payload`` (and may put ``errors`` beside it)."""
    found = body.get("payload")
    if found is None:
        raise UnexpectedResponse("v0 response has no payload", operation=operation)
    return found


def required_str(body: Mapping[str, Any], key: str, operation: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise UnexpectedResponse(f"response has no {key}", operation=operation)
    return value


def document_location(body: Mapping[str, Any], operation: str) -> tuple[str, str | None]:
    """A feed or report document's ``(url, compressionAlgorithm)``."""
    compression = body.get("compressionAlgorithm")
    return required_str(body, "url", operation), (
        compression if isinstance(compression, str) else None
    )

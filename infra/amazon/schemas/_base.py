"""What every family's schemas share: the JSON naming styles and setting a bad order aside."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel, to_pascal


class CamelModel(BaseModel):
    """Orders 2026-01-01, Feeds, Reports: lower camelCase JSON, snake_case Python."""

    model_config = ConfigDict(
        extra="ignore", populate_by_name=True, alias_generator=to_camel, frozen=True
    )


class PascalModel(BaseModel):
    """Orders v0: PascalCase JSON (acronyms such as ASIN and CODFee get explicit aliases)."""

    model_config = ConfigDict(
        extra="ignore", populate_by_name=True, alias_generator=to_pascal, frozen=True
    )


class UnparsedOrder(BaseModel):
    """An order from a list response that did not validate: kept raw, with the reason."""

    model_config = ConfigDict(frozen=True)

    order_id: str | None
    error: str
    raw: dict[str, Any] = Field(repr=False)


def split_orders(
    items: list[Any], model: type[BaseModel], id_field: str
) -> tuple[list[Any], list[UnparsedOrder]]:
    """Validate each order on its own: the ones that parse, and the others set aside."""
    good: list[Any] = []
    bad: list[UnparsedOrder] = []
    for item in items:
        try:
            good.append(model.model_validate(item))
        except ValidationError as exc:
            raw = item if isinstance(item, dict) else {"value": item}
            order_id = raw.get(id_field)
            bad.append(
                UnparsedOrder(
                    order_id=order_id if isinstance(order_id, str) else None,
                    error=short_error(exc),
                    raw=raw,
                )
            )
    return good, bad


def short_error(exc: ValidationError) -> str:
    """Where and what, without echoing the input values (they may hold PII)."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"])
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)

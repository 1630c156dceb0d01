"""The hand parser of a fulfilment request (every door's JSON) and the queue's versioned
message: the command, or every field refused with its reason."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from domain.fulfilments.carriers import OTHER_CARRIER, amazon_carrier_code
from domain.fulfilments.commands import LineRequest, RequestFulfilment
from domain.fulfilments.errors import InvalidRequest
from domain.fulfilments.intake import accept_fulfilment
from domain.fulfilments.model import Accepted, Rejected
from domain.fulfilments.ports import FulfilmentStore
from domain.shared import Clock, FieldError

MESSAGE_VERSION = 1
MESSAGE_TYPE = "fulfilment.requested"
_TEXT_LIMITS = {
    "account": 100,
    "amazon_order_id": 40,
    "platform_fulfilment_id": 100,
    "carrier_code": 60,
    "carrier_name": 100,
    "shipping_method": 100,
    "tracking_number": 100,
}
REQUEST_FIELDS = frozenset({*_TEXT_LIMITS, "shipped_at", "lines", "cancellation_request_reviewed"})


def _text(
    data: Mapping[str, Any], name: str, errors: list[FieldError], *, required: bool, why: str = ""
) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append(FieldError(name, f"required{': ' + why if why else ''}"))
        return None
    if not isinstance(value, str):
        errors.append(FieldError(name, "must be a string"))
        return None
    value = value.strip()
    if len(value) > _TEXT_LIMITS[name]:
        errors.append(FieldError(name, f"longer than {_TEXT_LIMITS[name]} characters"))
        return None
    return value


def parse_time(value: Any, name: str, errors: list[FieldError]) -> datetime | None:
    """An ISO 8601 time with its zone, as UTC (a time without a zone is ambiguous: refused)."""
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError(name, "required: an ISO 8601 time with its zone"))
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        errors.append(FieldError(name, f"{value!r} is not an ISO 8601 time"))
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        errors.append(FieldError(name, f"{value!r} has no time zone (add Z or +hh:mm)"))
        return None
    return parsed.astimezone(UTC)


def _lines(value: Any, errors: list[FieldError]) -> tuple[LineRequest, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        errors.append(FieldError("lines", "must be a list of {order_item_id or sku, quantity}"))
        return ()
    lines: list[LineRequest] = []
    for index, raw in enumerate(value):
        where = f"lines[{index}]"
        if not isinstance(raw, Mapping):
            errors.append(FieldError(where, "must be an object {order_item_id or sku, quantity}"))
            continue
        unknown = sorted(set(raw) - {"order_item_id", "sku", "quantity"})
        errors.extend(FieldError(f"{where}.{key}", "unknown field") for key in unknown)
        item_id, sku = raw.get("order_item_id"), raw.get("sku")
        if (item_id is None) == (sku is None):
            errors.append(FieldError(where, "name the item by order_item_id or by sku (one)"))
            continue
        name = "order_item_id" if item_id is not None else "sku"
        ref = item_id if item_id is not None else sku
        if not isinstance(ref, str) or not ref.strip() or len(ref) > 100:
            errors.append(FieldError(f"{where}.{name}", "must be a non-empty string"))
            continue
        quantity = raw.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            errors.append(FieldError(f"{where}.quantity", "must be a whole number of at least 1"))
            continue
        if name == "order_item_id":
            lines.append(LineRequest(quantity=quantity, order_item_id=ref.strip()))
        else:
            lines.append(LineRequest(quantity=quantity, sku=ref.strip()))
    return tuple(lines)


def _carrier(
    code: str | None, name: str | None, errors: list[FieldError]
) -> tuple[str, str | None]:
    if code is None:
        return "", name
    known = amazon_carrier_code(code)
    if known == OTHER_CARRIER and name is None:
        errors.append(FieldError("carrier_name", "required when carrier_code is 'Other'"))
    elif known is None and name is None:
        errors.append(
            FieldError(
                "carrier_code",
                f"{code!r} is not a carrier code Amazon knows: use one of Amazon's codes "
                "(UPS, USPS, FedEx, DHL, Royal Mail ...), or give carrier_name too "
                "(it goes to Amazon as 'Other' with that name)",
            )
        )
    return (known or OTHER_CARRIER), name


def parse_request(data: Any) -> RequestFulfilment:
    """The command from a request's JSON (the same for every door), or ``InvalidRequest``."""
    if not isinstance(data, Mapping):
        raise InvalidRequest([FieldError("body", "must be a JSON object")])
    errors = [FieldError(key, "unknown field") for key in sorted(set(data) - REQUEST_FIELDS)]
    raw_account = data.get("account")
    if isinstance(raw_account, int) and not isinstance(raw_account, bool):
        account: str | None = str(raw_account)
    else:
        account = _text(data, "account", errors, required=True, why="the seller account")
    order_id = _text(data, "amazon_order_id", errors, required=True)
    platform_id = _text(data, "platform_fulfilment_id", errors, required=True)
    shipped_at = parse_time(data.get("shipped_at"), "shipped_at", errors)
    code = _text(
        data, "carrier_code", errors, required=True, why="Amazon's carrier code, or 'Other'"
    )
    name = _text(data, "carrier_name", errors, required=False)
    method = _text(data, "shipping_method", errors, required=False)
    tracking = _text(
        data, "tracking_number", errors, required=True, why="the carrier's tracking number"
    )
    lines = _lines(data.get("lines"), errors)
    carrier_code, carrier_name = _carrier(code, name, errors)
    reviewed = data.get("cancellation_request_reviewed", False)
    if not isinstance(reviewed, bool):
        errors.append(FieldError("cancellation_request_reviewed", "must be true or false"))
    if errors:
        raise InvalidRequest(errors)
    assert account and order_id and platform_id and shipped_at and tracking
    return RequestFulfilment(
        account=account,
        amazon_order_id=order_id,
        platform_fulfilment_id=platform_id,
        shipped_at=shipped_at,
        carrier_code=carrier_code,
        carrier_name=carrier_name,
        shipping_method=method,
        tracking_number=tracking,
        lines=lines,
        cancellation_request_reviewed=bool(reviewed),
    )


def accept_fulfilment_message(
    message: Mapping[str, Any], store: FulfilmentStore, clock: Clock
) -> Accepted | Rejected:
    """The queue's door: the versioned message, checked like any request. Nobody waits for an
    answer on a queue, so a refusal is recorded (once) with a ``fulfilments/failed`` event."""
    result = _accept_message(message, store, clock)
    if isinstance(result, Rejected):
        store.record_rejection(
            message if isinstance(message, Mapping) else {"message": message}, result
        )
    return result


def _accept_message(
    message: Mapping[str, Any], store: FulfilmentStore, clock: Clock
) -> Accepted | Rejected:
    if not isinstance(message, Mapping):
        return Rejected((FieldError("message", "must be a JSON object"),))
    version, kind = message.get("version"), message.get("type")
    if version != MESSAGE_VERSION:
        return Rejected(
            (FieldError("version", f"{version!r} is not a version this channel reads (1)"),)
        )
    if kind != MESSAGE_TYPE:
        return Rejected((FieldError("type", f"must be {MESSAGE_TYPE!r}"),))
    body = {k: v for k, v in message.items() if k not in ("version", "type")}
    try:
        command = parse_request(body)
    except InvalidRequest as exc:
        return Rejected(exc.errors)
    return accept_fulfilment(command, store, clock)

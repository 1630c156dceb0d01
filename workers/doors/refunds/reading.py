"""Reading a request with its model: the domain's command, or ``RefundRequestRefused`` naming
every field with its reason (the first 50: ``workers.doors.limits.capped``). One queue carries
both kinds; a message's ``type`` says which model reads it (``read_message``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from domain.refunds import CancelOrder, IssueRefund, RefundKind
from domain.shared import FieldError
from workers.doors.limits import DEPTH_REASON, too_deep
from workers.doors.recheck import Readable, readable
from workers.doors.refunds.fields import currency_of, in_currency
from workers.doors.refunds.request import (
    CANCELLATION_TYPE,
    REFUND_TYPE,
    CancellationMessage,
    CancellationRequest,
    RefundMessage,
    RefundRequest,
    RefundRequestRefused,
)
from workers.doors.refusals import validated

M = TypeVar("M", bound=BaseModel)

MESSAGE_TYPES: dict[str, RefundKind] = {
    REFUND_TYPE: RefundKind.REFUND,
    CANCELLATION_TYPE: RefundKind.CANCELLATION,
}


# What the rules are asked with in place of a field the model refused (``workers.doors.recheck``):
# none of these is what the rules check, and their word on it is dropped.
_COMMON: dict[str, Any] = {"currency": None, "version": 1}
STAND_INS: dict[type[BaseModel], dict[str, Any]] = {
    RefundRequest: {**_COMMON, "platform_refund_id": "-", "reason": "customer_return"},
    CancellationRequest: {
        **_COMMON,
        "platform_cancellation_id": "-",
        "reason": "buyer_canceled",
        "refund_amount": None,
    },
}
STAND_INS[RefundMessage] = {**STAND_INS[RefundRequest], "type": REFUND_TYPE}
STAND_INS[CancellationMessage] = {**STAND_INS[CancellationRequest], "type": CANCELLATION_TYPE}


def model_of(kind: RefundKind, *, message: bool) -> type[RefundRequest | CancellationRequest]:
    if kind is RefundKind.CANCELLATION:
        return CancellationMessage if message else CancellationRequest
    return RefundMessage if message else RefundRequest


def readable_request(
    data: Any, refused: RefundRequestRefused, kind: RefundKind, *, message: bool = False
) -> Readable[Any] | None:
    """What the rules can check of a refused request (``workers.doors.recheck.readable``)."""
    model = model_of(kind, message=message)
    with in_currency(currency_of(data)):
        # A cancellation's refund_amount is what all its lines charged.
        return readable(model, data, refused.errors, STAND_INS[model], frozenset({"refund_amount"}))


def _read(model: type[M], data: Any, root: str) -> M:
    if too_deep(data):
        raise RefundRequestRefused((FieldError(root, DEPTH_REASON),))
    with in_currency(currency_of(data)):
        found = validated(model, data, root=root)
    if isinstance(found, tuple):
        raise RefundRequestRefused(found)
    return found


def read_refund(data: Any) -> IssueRefund:
    """A refund from a request's JSON (the HTTP body, the CLI's options or file)."""
    return _read(RefundRequest, data, "body").to_command()


def read_cancellation(data: Any) -> CancelOrder:
    """A cancellation from a request's JSON (the HTTP body, the CLI's options or file)."""
    return _read(CancellationRequest, data, "body").to_command()


def read_refund_message(message: Any) -> IssueRefund:
    return _read(RefundMessage, message, "message").to_command()


def read_cancellation_message(message: Any) -> CancelOrder:
    return _read(CancellationMessage, message, "message").to_command()


def kind_of(message: Any) -> RefundKind:
    """Which kind a queue message asks for: by its ``type``; a message whose type is neither
    is taken for a cancellation when it names a ``platform_cancellation_id``, else for a
    refund (so that its refusal lists that model's reasons too, and is filed by kind)."""
    if not isinstance(message, Mapping):
        return RefundKind.REFUND
    given = message.get("type")
    if isinstance(given, str) and given in MESSAGE_TYPES:
        return MESSAGE_TYPES[given]
    if "platform_cancellation_id" in message and "platform_refund_id" not in message:
        return RefundKind.CANCELLATION
    return RefundKind.REFUND


def read_message(message: Any) -> IssueRefund | CancelOrder:
    """A queue message (``refund.requested`` or ``cancellation.requested``) as its command."""
    if kind_of(message) is RefundKind.CANCELLATION:
        return read_cancellation_message(message)
    return read_refund_message(message)


def message_schema(kind: RefundKind | str) -> dict[str, Any]:
    """The JSON Schema of ``RefundMessage`` or ``CancellationMessage``, for the platform's
    producers."""
    model: type[BaseModel] = (
        CancellationMessage if RefundKind(kind) is RefundKind.CANCELLATION else RefundMessage
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **model.model_json_schema(),
    }

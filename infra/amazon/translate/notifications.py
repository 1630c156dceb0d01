"""An SQS message body -> the domain's notification (``domain.notifications``), or
``MalformedNotification`` with the reason (the consumer dead-letters it with that reason).

The body's type is read first (``NotificationType`` for ORDER_CHANGE's PascalCase envelope,
``notificationType`` for the camelCase ones), then the whole body is validated by that type's
model: a body of one type is never read with another's model.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from domain.notifications import (
    FeedFinished,
    Notification,
    NotificationType,
    OrderChanged,
    ReportFinished,
)
from infra.amazon.schemas.notifications import (
    FeedProcessingFinishedNotification,
    OrderChangeNotification,
    ReportProcessingFinishedNotification,
)

# Amazon's accountId for a seller: "amzn1.merchant.o.<sellerId>".
_MERCHANT_PREFIX = "amzn1.merchant.o."
_REASON_LIMIT = 500
M = TypeVar("M", bound=BaseModel)


class MalformedNotification(ValueError):
    """The body is not one of the notifications we take (the message says why)."""


def parse_notification(body: str | bytes) -> Notification:
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedNotification(f"the body is not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise MalformedNotification("the body is not a JSON object")
    kind = raw.get("NotificationType", raw.get("notificationType"))
    if kind == NotificationType.ORDER_CHANGE:
        if "NotificationType" not in raw:
            raise MalformedNotification("ORDER_CHANGE's envelope is PascalCase (NotificationType)")
        return _order_change(_validate(OrderChangeNotification, raw))
    if kind == NotificationType.FEED_PROCESSING_FINISHED:
        return _feed(_validate(FeedProcessingFinishedNotification, raw))
    if kind == NotificationType.REPORT_PROCESSING_FINISHED:
        return _report(_validate(ReportProcessingFinishedNotification, raw))
    if kind is None:
        raise MalformedNotification("notificationType is missing")
    raise MalformedNotification(f"notification type {str(kind)[:60]!r} is not one we take")


def _validate(model: type[M], raw: dict[str, Any]) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        )
        raise MalformedNotification(problems[:_REASON_LIMIT]) from None


def _order_change(body: OrderChangeNotification) -> OrderChanged:
    change = body.payload.order_change_notification
    trigger = change.order_change_trigger
    changed_at = trigger.time_of_order_change if trigger is not None else None
    summary = change.summary
    return OrderChanged(
        notification_id=body.notification_metadata.notification_id,
        seller_id=change.seller_id,
        amazon_order_id=change.amazon_order_id,
        change_type=change.order_change_type,
        changed_at=_utc(changed_at or body.event_time),
        event_time=_utc(body.event_time),
        order_status=summary.order_status if summary is not None else None,
        marketplace_id=summary.marketplace_id if summary is not None else None,
    )


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _seller(seller_id: str | None, account_id: str) -> str | None:
    if seller_id:
        return seller_id
    if account_id.startswith(_MERCHANT_PREFIX):
        return account_id.removeprefix(_MERCHANT_PREFIX) or None
    return None


def _feed(body: FeedProcessingFinishedNotification) -> FeedFinished:
    feed = body.payload.feed_processing_finished_notification
    return FeedFinished(
        notification_id=body.notification_metadata.notification_id,
        seller_id=_seller(feed.seller_id, feed.account_id),
        amazon_feed_id=feed.feed_id,
        feed_type=feed.feed_type,
        processing_status=feed.processing_status,
        result_document_id=feed.result_feed_document_id,
        event_time=_utc(body.event_time),
    )


def _report(body: ReportProcessingFinishedNotification) -> ReportFinished:
    report = body.payload.report_processing_finished_notification
    return ReportFinished(
        notification_id=body.notification_metadata.notification_id,
        seller_id=_seller(report.seller_id, report.account_id),
        amazon_report_id=report.report_id,
        report_type=report.report_type,
        processing_status=report.processing_status,
        report_document_id=report.report_document_id,
        event_time=_utc(body.event_time),
    )

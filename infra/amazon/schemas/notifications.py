"""Amazon's notification bodies as pydantic models, exactly as they arrive on the SQS queue.

ORDER_CHANGE's envelope is PascalCase (``NotificationMetadata.NotificationId``); the feed and
report notifications' is camelCase (``notificationMetadata.notificationId``): one model per body,
each in its own style (``OrderChangeNotification.json``, ``FeedProcessingFinishedNotification
.json``, ``ReportProcessingFinishedNotification.json`` of Amazon's models). Only what we use is
required; what Amazon adds is ignored.
"""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from infra.amazon.schemas._base import CamelModel, PascalModel

# -- ORDER_CHANGE (PascalCase) ---------------------------------------------------------------


class OrderChangeTrigger(PascalModel):
    time_of_order_change: AwareDatetime | None = None
    change_reason: str | None = None


class OrderChangeSummary(PascalModel):
    marketplace_id: str | None = None
    order_status: str | None = None
    fulfillment_type: str | None = None


class OrderChangeBody(PascalModel):
    notification_level: str | None = None
    seller_id: str = Field(min_length=1)
    amazon_order_id: str = Field(min_length=1, max_length=40)
    order_change_type: str = Field(min_length=1)
    order_change_trigger: OrderChangeTrigger | None = None
    summary: OrderChangeSummary | None = None


class OrderChangePayload(PascalModel):
    order_change_notification: OrderChangeBody


class PascalMetadata(PascalModel):
    application_id: str | None = None
    subscription_id: str | None = None
    publish_time: AwareDatetime | None = None
    notification_id: str = Field(min_length=1, max_length=100)


class OrderChangeNotification(PascalModel):
    notification_version: str | None = None
    notification_type: str
    payload_version: str | None = None
    event_time: AwareDatetime
    payload: OrderChangePayload
    notification_metadata: PascalMetadata


# -- FEED_PROCESSING_FINISHED, REPORT_PROCESSING_FINISHED (camelCase) ---------------------------


class CamelMetadata(CamelModel):
    application_id: str | None = None
    subscription_id: str | None = None
    publish_time: AwareDatetime | None = None
    notification_id: str = Field(min_length=1, max_length=100)


class FeedProcessingFinished(CamelModel):
    seller_id: str | None = None
    account_id: str = Field(min_length=1)
    feed_id: str = Field(min_length=1, max_length=60)
    feed_type: str = Field(min_length=1)
    processing_status: str = Field(min_length=1)
    result_feed_document_id: str | None = None


class FeedPayload(CamelModel):
    feed_processing_finished_notification: FeedProcessingFinished


class FeedProcessingFinishedNotification(CamelModel):
    notification_version: str | None = None
    notification_type: str
    payload_version: str | None = None
    event_time: AwareDatetime
    payload: FeedPayload
    notification_metadata: CamelMetadata


class ReportProcessingFinished(CamelModel):
    seller_id: str | None = None
    account_id: str = Field(min_length=1)
    report_id: str = Field(min_length=1)
    report_type: str = Field(min_length=1)
    processing_status: str = Field(min_length=1)
    report_document_id: str | None = None


class ReportPayload(CamelModel):
    report_processing_finished_notification: ReportProcessingFinished


class ReportProcessingFinishedNotification(CamelModel):
    notification_version: str | None = None
    notification_type: str
    payload_version: str | None = None
    event_time: AwareDatetime
    payload: ReportPayload
    notification_metadata: CamelMetadata

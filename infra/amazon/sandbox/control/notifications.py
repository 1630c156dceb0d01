"""Control API, notifications: how the sandbox delivers them, what it sent, and what it holds.

- ``GET /_sandbox/notification-settings``; ``POST`` with any of ``{delay_seconds,
  duplicate_rate, reorder_rate, drop_rate, drop_next, endpoint_url, region}`` (only what is
  sent changes): the delay before each message, the share sent twice, the share held back so a
  later one overtakes it, the share lost and a number of next messages to lose on purpose (the
  polling safety net's proof), and the SQS endpoint (the embedded server's; null: AWS's).
- ``GET /_sandbox/notifications?notification_type=&subject=&limit=``: the notifications made,
  newest last, each with its status (queued, sent, dropped, failed and why), copies sent and the
  message body; ``subject`` is the order, feed or report id. ``DELETE`` empties the listing.
- ``GET /_sandbox/notification-subscriptions``: every destination and subscription held.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from infra.amazon.sandbox.delivery import install_notifier
from infra.amazon.sandbox.operations.notifications import destination_json, subscription_json
from infra.amazon.sandbox.state import SandboxState


class DeliverySettingsIn(BaseModel):
    delay_seconds: float | None = Field(default=None, ge=0, le=3600)
    duplicate_rate: float | None = Field(default=None, ge=0, le=1)
    reorder_rate: float | None = Field(default=None, ge=0, le=1)
    drop_rate: float | None = Field(default=None, ge=0, le=1)
    drop_next: int | None = Field(default=None, ge=0)
    endpoint_url: str | None = None
    region: str | None = Field(default=None, min_length=1)


_NAMES = {"delay_seconds": "delay_s"}


def router(state: SandboxState) -> APIRouter:
    routes = APIRouter()
    notifier = install_notifier(state)

    @routes.get("/notification-settings")
    def get_settings() -> dict[str, Any]:
        return notifier.settings.as_json()

    @routes.post("/notification-settings")
    def set_settings(body: DeliverySettingsIn) -> dict[str, Any]:
        changes = {_NAMES.get(k, k): v for k, v in body.model_dump(exclude_unset=True).items()}
        if "endpoint_url" in changes:
            changes["endpoint_url"] = changes["endpoint_url"] or None
        return notifier.configure(**changes).as_json()

    @routes.get("/notifications")
    def sent(
        notification_type: str | None = None, subject: str | None = None, limit: int = 500
    ) -> dict[str, Any]:
        listed = notifier.listing(notification_type, subject)[-max(limit, 1) :]
        return {
            "notifications": [s.as_json() for s in listed],
            "pending": notifier.pending(),
        }

    @routes.delete("/notifications")
    def clear() -> dict[str, Any]:
        notifier.clear_listing()
        return {"cleared": True}

    @routes.get("/notification-subscriptions")
    def held() -> dict[str, Any]:
        with state.lock:
            book = state.notifications
            return {
                "destinations": [
                    {**destination_json(d), "client_id": d.client_id}
                    for d in book.destinations.values()
                ],
                "subscriptions": [
                    {
                        **subscription_json(s),
                        "notification_type": s.notification_type,
                        "seller_id": s.seller_id,
                    }
                    for s in book.subscriptions.values()
                ],
            }

    return routes

"""One order's history from every table that holds a piece of it, in time order: what
``amazon-channel orders timeline`` prints.

The order's own rows (first seen, last written) and its events in the outbox (every change the
store made: created, updated, cancelled, ship-by alerts, fulfilments and refunds settled), the
fulfilments and refunds with each state change the rows keep a time for, the feed submissions
carrying its refunds, the requests refused at the queue's door, the SP-API calls made for it
(``spapi_calls``: operation, HTTP status, Amazon's request id, the task that made it), and every
webhook delivery attempt of its events. Wherever something failed the entry says why.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from domain.orders.events import order_key
from infra.db.tables import (
    FeedSubmission,
    Fulfilment,
    Order,
    OutboxEvent,
    Refund,
    RejectedFulfilment,
    RejectedRefund,
    SellerAccount,
    ShipByAlert,
    SpApiCall,
    WebhookAttempt,
    WebhookDelivery,
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing that happened: ``kind`` says which table told it, ``failed`` with ``reason``
    when it went wrong."""

    at: datetime
    kind: str
    what: str
    failed: bool = False
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Timeline:
    account_id: int
    account: str
    amazon_order_id: str
    order: dict[str, Any] | None  # None: the store holds no row of the order itself
    entries: list[Entry]


class AmbiguousOrder(LookupError):
    """The order id is in more than one account: name the account."""

    def __init__(self, accounts: list[str]) -> None:
        super().__init__(f"the order is in several accounts ({', '.join(accounts)}): use --account")
        self.accounts = accounts


def order_timeline(
    engine: Engine, amazon_order_id: str, account: str | None = None
) -> Timeline | None:
    """The order's timeline, or None when nothing in the store names it. ``account``: its
    name or id, needed only when the order id is in several accounts (``AmbiguousOrder``)."""
    with Session(engine) as conn:
        accounts = _accounts_naming(conn, amazon_order_id)
        if account is not None:
            accounts = {i: n for i, n in accounts.items() if account in (n, str(i))}
        if not accounts:
            return None
        if len(accounts) > 1:
            raise AmbiguousOrder(sorted(accounts.values()))
        account_id, name = next(iter(accounts.items()))
        order = conn.scalars(
            select(Order).where(
                Order.account_id == account_id, Order.amazon_order_id == amazon_order_id
            )
        ).first()
        entries: list[Entry] = []
        if order is not None:
            entries.extend(_order_rows(conn, order))
        entries.extend(_fulfilments(conn, account_id, amazon_order_id))
        entries.extend(_refunds(conn, account_id, amazon_order_id))
        entries.extend(_refused(conn, account_id, amazon_order_id))
        entries.extend(_calls(conn, account_id, amazon_order_id))
        entries.extend(_events(conn, order_key(account_id, amazon_order_id)))
    entries.sort(key=lambda e: e.at)
    return Timeline(
        account_id=account_id,
        account=name,
        amazon_order_id=amazon_order_id,
        order=_order_summary(order) if order is not None else None,
        entries=entries,
    )


def _accounts_naming(conn: Session, amazon_order_id: str) -> dict[int, str]:
    """Every account with a row about the order (its own, a fulfilment, a refund, a call)."""
    ids: set[int] = set()
    for column, order_column in (
        (Order.account_id, Order.amazon_order_id),
        (Fulfilment.account_id, Fulfilment.amazon_order_id),
        (Refund.account_id, Refund.amazon_order_id),
    ):
        ids.update(
            conn.execute(select(column).where(order_column == amazon_order_id).distinct()).scalars()
        )
    ids.update(
        conn.execute(
            select(SpApiCall.account_id)
            .where(SpApiCall.amazon_order_ids.contains([amazon_order_id]))
            .distinct()
        ).scalars()
    )
    for table in (RejectedFulfilment, RejectedRefund):
        ids.update(
            i
            for i in conn.execute(
                select(table.account_id).where(table.amazon_order_id == amazon_order_id).distinct()
            ).scalars()
            if i is not None
        )
    if not ids:
        return {}
    rows = conn.execute(
        select(SellerAccount.id, SellerAccount.name).where(SellerAccount.id.in_(ids))
    )
    return {int(i): str(n) for i, n in rows}


def _order_summary(order: Order) -> dict[str, Any]:
    return {
        "status": order.status,
        "fulfilled_by": order.fulfilled_by,
        "marketplace_id": order.marketplace_id,
        "purchased_at": order.purchased_at,
        "ship_by_latest": order.ship_by_latest,
        "version": order.version,
        "buyer_cancel_requested": order.buyer_cancel_requested,
    }


def _order_rows(conn: Session, order: Order) -> Iterator[Entry]:
    yield Entry(order.purchased_at, "order", "purchased on Amazon")
    yield Entry(order.first_seen_at, "order", "first stored by the sync")
    if order.updated_at != order.first_seen_at:
        yield Entry(
            order.updated_at,
            "order",
            f"last written: {order.status}, version {order.version} "
            f"(Amazon's update {order.amazon_updated_at:%Y-%m-%d %H:%M:%S})",
        )
    if order.buyer_cancel_requested:
        yield Entry(
            order.updated_at,
            "order",
            "the buyer asked to cancel",
            reason=order.buyer_cancel_reason,
        )
    for kind, ship_by, created in conn.execute(
        select(ShipByAlert.kind, ShipByAlert.ship_by_latest, ShipByAlert.created_at).where(
            ShipByAlert.order_id == order.id
        )
    ):
        yield Entry(
            created,
            "order",
            f"ship-by alert: {kind} (ship by {ship_by:%Y-%m-%d %H:%M} UTC)",
            failed=kind == "missed",
            reason="the ship-by date passed with units unshipped" if kind == "missed" else None,
        )


def _fulfilments(conn: Session, account_id: int, amazon_order_id: str) -> Iterator[Entry]:
    rows = conn.execute(
        select(Fulfilment).where(
            Fulfilment.account_id == account_id, Fulfilment.amazon_order_id == amazon_order_id
        )
    ).scalars()
    for f in rows:
        name = f"fulfilment #{f.id} ({f.platform_fulfilment_id})"
        ids = {"fulfilment_id": f.id, "platform_fulfilment_id": f.platform_fulfilment_id}
        yield Entry(
            f.accepted_at,
            "fulfilment",
            f"{name} accepted: {f.carrier_code} {f.tracking_number}",
            details=ids,
        )
        if f.confirmed_at is not None:
            yield Entry(f.confirmed_at, "fulfilment", f"{name} confirmed on Amazon", details=ids)
        if f.amazon_checked_at is not None:
            yield Entry(
                f.amazon_checked_at,
                "fulfilment",
                f"{name} read back: order {f.amazon_order_status or '?'}, "
                f"package {f.amazon_package_status or 'not listed'}",
                details=ids,
            )
        if f.failed_at is not None:
            yield Entry(
                f.failed_at,
                "fulfilment",
                f"{name} failed after {f.attempts} attempt(s)",
                failed=True,
                reason=f"{f.failure_code}: {f.failure_reason}",
                details=ids,
            )
        elif f.state in ("accepted", "sending"):
            next_at = f" next attempt {f.next_attempt_at:%H:%M:%S}" if f.next_attempt_at else ""
            yield Entry(
                f.updated_at,
                "fulfilment",
                f"{name} still {f.state} after {f.attempts} attempt(s){next_at}",
                failed=f.last_error is not None,
                reason=f.last_error,
                details=ids,
            )


def _refunds(conn: Session, account_id: int, amazon_order_id: str) -> Iterator[Entry]:
    rows = conn.execute(
        select(Refund).where(
            Refund.account_id == account_id, Refund.amazon_order_id == amazon_order_id
        )
    ).scalars()
    submissions: set[int] = set()
    for r in rows:
        name = f"{r.kind} #{r.id} ({r.platform_id or r.source})"
        ids = {"refund_id": r.id, "kind": r.kind, "platform_id": r.platform_id}
        if r.source == "amazon":
            yield Entry(
                r.posted_at or r.created_at, "refund", f"{name} made on Amazon", details=ids
            )
        else:
            yield Entry(r.created_at, "refund", f"{name} accepted: {r.reason}", details=ids)
        if r.approved_at is not None:
            yield Entry(r.approved_at, "refund", f"{name} approved by a person", details=ids)
        if r.confirmed_at is not None:
            yield Entry(r.confirmed_at, "refund", f"{name} confirmed on Amazon", details=ids)
        if r.failed_at is not None:
            yield Entry(
                r.failed_at,
                "refund",
                f"{name} failed",
                failed=True,
                reason=f"{r.failure_code}: {r.failure_reason}",
                details=ids,
            )
        elif r.state not in ("confirmed", "failed"):
            yield Entry(
                r.updated_at,
                "refund",
                f"{name} now {r.state}",
                failed=r.last_error is not None,
                reason=r.last_error,
                details=ids,
            )
        if r.submission_id is not None:
            submissions.add(r.submission_id)
    if submissions:
        yield from _feeds(conn, submissions)


def _feeds(conn: Session, ids: set[int]) -> Iterator[Entry]:
    for s in conn.execute(select(FeedSubmission).where(FeedSubmission.id.in_(ids))).scalars():
        name = f"feed #{s.id} ({s.feed_type}, {s.message_count} message(s))"
        details = {"submission_id": s.id, "amazon_feed_id": s.amazon_feed_id}
        yield Entry(s.created_at, "feed", f"{name} built", details=details)
        if s.create_started_at is not None:
            yield Entry(s.create_started_at, "feed", f"{name} createFeed sent", details=details)
        if s.create_ended_at is not None and s.amazon_feed_id:
            yield Entry(
                s.create_ended_at, "feed", f"{name} created as {s.amazon_feed_id}", details=details
            )
        if s.finished_at is not None:
            yield Entry(
                s.finished_at,
                "feed",
                f"{name} {s.state}: {s.processing_status or '-'}",
                failed=s.state in ("fatal", "not_created"),
                reason=s.last_error or s.evidence,
                details=details,
            )
        elif s.last_error:
            yield Entry(
                s.updated_at, "feed", f"{name} {s.state}", True, s.last_error, details=details
            )


def _refused(conn: Session, account_id: int, amazon_order_id: str) -> Iterator[Entry]:
    for table, what in ((RejectedFulfilment, "fulfilment"), (RejectedRefund, "refund")):
        rows = conn.execute(
            select(table.first_seen_at, table.times_seen, table.errors).where(
                table.account_id == account_id, table.amazon_order_id == amazon_order_id
            )
        )
        for first_seen, times, errors in rows:
            reasons = "; ".join(
                f"{e.get('field')}: {e.get('reason')}" for e in errors if isinstance(e, dict)
            )
            yield Entry(
                first_seen,
                "refused",
                f"{what} request refused at the door (seen {times} time(s))",
                failed=True,
                reason=reasons,
            )


def _calls(conn: Session, account_id: int, amazon_order_id: str) -> Iterator[Entry]:
    rows = conn.execute(
        select(SpApiCall)
        .where(
            SpApiCall.account_id == account_id,
            SpApiCall.amazon_order_ids.contains([amazon_order_id]),
        )
        .order_by(SpApiCall.called_at, SpApiCall.id)
    ).scalars()
    for c in rows:
        failed = c.status is None or c.status >= 400
        answer = f"HTTP {c.status}" if c.status is not None else "no answer"
        if c.error_code and c.status is not None:
            answer += f" {c.error_code}"
        yield Entry(
            c.called_at,
            "spapi",
            f"{c.operation} -> {answer} (attempt {c.attempt}, {c.elapsed_ms} ms)",
            failed=failed,
            reason=f"{c.error_code}: {c.error}" if failed else None,
            details={
                "operation": c.operation,
                "status": c.status,
                "request_id": c.request_id,
                "error_code": c.error_code,
                "task": c.task_name,
                "task_id": c.task_id,
                "orders_in_call": len(c.amazon_order_ids),
            },
        )


def _events(conn: Session, aggregate_key: str) -> Iterator[Entry]:
    events = conn.execute(
        select(
            OutboxEvent.id,
            OutboxEvent.event_id,
            OutboxEvent.topic,
            OutboxEvent.created_at,
            OutboxEvent.dispatched_at,
            OutboxEvent.payload,
        )
        .where(OutboxEvent.aggregate_key == aggregate_key)
        .order_by(OutboxEvent.id)
    ).all()
    topics = {}
    for row in events:
        topics[row.id] = row.topic
        yield Entry(
            row.created_at,
            "event",
            f"{row.topic} recorded{_said(row.payload)}"
            + ("" if row.dispatched_at else " (not dispatched yet)"),
            reason=_error_of(row.payload),
            details={"event_id": str(row.event_id), "topic": row.topic},
        )
    if not topics:
        return
    attempts = conn.execute(
        select(
            WebhookDelivery.event_id,
            WebhookDelivery.subscriber_url,
            WebhookDelivery.state,
            WebhookAttempt.attempted_at,
            WebhookAttempt.status_code,
            WebhookAttempt.error,
            WebhookAttempt.duration_ms,
        )
        .join(WebhookAttempt, WebhookAttempt.delivery_id == WebhookDelivery.id)
        .where(WebhookDelivery.event_id.in_(list(topics)))
    )
    for a in attempts:
        ok = a.status_code is not None and 200 <= a.status_code < 300
        answer = f"HTTP {a.status_code}" if a.status_code is not None else "no answer"
        yield Entry(
            a.attempted_at,
            "delivery",
            f"{topics[a.event_id]} -> {a.subscriber_url}: {answer} ({a.duration_ms} ms)",
            failed=not ok,
            reason=None if ok else (a.error or answer),
            details={"subscriber": a.subscriber_url, "delivery_state": a.state},
        )


def _said(payload: Any) -> str:
    """An order event's status and version, as the platform was told."""
    if isinstance(payload, dict) and "version" in payload and "status" in payload:
        return f" ({payload['status']}, version {payload['version']})"
    return ""


def _error_of(payload: Any) -> str | None:
    """The failure an event reports (``{"error": {"code", "message"}}``), if any."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return None
    return f"{error.get('code')}: {error.get('message')}"

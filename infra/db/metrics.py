"""The store's state for Prometheus, read at each scrape by a custom collector.

Everything here is a count or an age that the store already holds, so it is read, not recorded:
a web process restarted, or a second one behind a load balancer, answers the same numbers, and
nothing is lost when a worker dies. The clock is PostgreSQL's (``now()``), the one every row's
time was written with.

- per account: sync lag (now minus the watermark; an account never synced counts from when it
  was added), the last successful sync, orders ingested (a counter: rows only ever come), orders
  set aside and open, orders past their ship-by date and not shipped;
- fulfilments, refunds and cancellations, feed submissions, webhook deliveries by state;
  webhook attempts by outcome; the outbox's backlog and its oldest undelivered event's age;
- accepted to confirmed on Amazon, as histograms over every confirmed row (a cumulative
  histogram: ``rate()`` of its buckets gives the recent distribution);
- notifications: the gap audit per account (order changes seen by the sync only, by the
  notifications only) and the order refreshes waiting, pending or left to the next sync;
- failures by kind (failed rows by their failure code, refused queue requests, dead webhook
  deliveries, paused accounts) and dead-lettered messages by state and reason (the
  ``dead_letters`` table, read only when it exists).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import (
    Connection,
    Engine,
    Float,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.exc import DBAPIError

from infra.db.notifications import account_notifications
from infra.db.tables import (
    Fulfilment,
    Order,
    OutboxEvent,
    Refund,
    RejectedFulfilment,
    RejectedRefund,
    SellerAccount,
    SetAsideOrder,
    SyncCursor,
    WebhookAttempt,
    WebhookDelivery,
)
from infra.db.tables.feeds import FeedSubmission

# From a fulfilment's acceptance to Amazon's confirmation: seconds when all is well, minutes
# under throttling, hours when Amazon is away or the account disconnected.
CONFIRM_BUCKETS: tuple[float, ...] = (1, 5, 15, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 86_400)
# Orders the seller still has to ship: past ship-by, they are late.
OPEN_STATUSES = ("UNSHIPPED", "PARTIALLY_SHIPPED")
UNDELIVERED = ("pending", "sending")
SYNC_SCOPE = "orders"


class StoreCollector(Collector):
    """Every store metric of the module docstring, read in one connection per scrape."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        with self.engine.connect() as conn:
            names = dict(conn.execute(select(SellerAccount.id, SellerAccount.name)).all())
            metrics: list[Metric] = [
                *_orders(conn, names),
                *_sync(conn),
                *_work_by_state(conn),
                *_outbox(conn),
                _confirm_histogram(
                    conn,
                    "amazon_channel_fulfilment_confirm_seconds",
                    "Fulfilments, accepted to confirmed on Amazon",
                    Fulfilment.accepted_at,
                    Fulfilment.confirmed_at,
                    [],
                    [],
                ),
                *_refund_histograms(conn),
                _failures(conn),
                _dead_letters(conn),
                *_notifications(conn),
            ]
        yield from metrics


def _notifications(conn: Connection) -> list[Metric]:
    """The gap audit per account and direction, and the refreshes waiting by state."""
    gaps = GaugeMetricFamily(
        "amazon_channel_notification_gaps",
        "Order changes seen by one path only: found by the sync that no notification announced "
        "(sync_only), or notified and never found by a sync that has passed them "
        "(notification_only), over the rows kept",
        labels=["account", "direction"],
    )
    refreshes = GaugeMetricFamily(
        "amazon_channel_order_refreshes",
        "Order refreshes asked by notifications, waiting: pending (getOrder), deferred (left to "
        "the next sync window)",
        labels=["account", "state"],
    )
    for n in account_notifications(conn):
        gaps.add_metric([n.account, "sync_only"], float(n.sync_only))
        gaps.add_metric([n.account, "notification_only"], float(n.notification_only))
        refreshes.add_metric([n.account, "pending"], float(n.pending_refreshes))
        refreshes.add_metric([n.account, "deferred"], float(n.deferred_refreshes))
    return [gaps, refreshes]


def _per_account(
    metric: GaugeMetricFamily | CounterMetricFamily,
    rows: Iterable[Any],
    names: dict[int, str],
) -> GaugeMetricFamily | CounterMetricFamily:
    for account_id, value in rows:
        metric.add_metric([names.get(account_id, str(account_id))], float(value))
    return metric


def _orders(conn: Connection, names: dict[int, str]) -> list[Metric]:
    by_status = GaugeMetricFamily("amazon_channel_orders", "Orders in the store", labels=["status"])
    for status, count in conn.execute(select(Order.status, func.count()).group_by(Order.status)):
        by_status.add_metric([str(status)], count)
    ingested = conn.execute(select(Order.account_id, func.count()).group_by(Order.account_id))
    set_aside = conn.execute(
        select(SetAsideOrder.account_id, func.count())
        .where(SetAsideOrder.resolved_at.is_(None))
        .group_by(SetAsideOrder.account_id)
    )
    late = conn.execute(
        select(Order.account_id, func.count())
        .where(Order.status.in_(OPEN_STATUSES), Order.ship_by_latest < func.now())
        .group_by(Order.account_id)
    )
    return [
        by_status,
        _per_account(
            CounterMetricFamily(
                "amazon_channel_orders_ingested",
                "Orders synced into the store, per account",
                labels=["account"],
            ),
            ingested,
            names,
        ),
        _per_account(
            GaugeMetricFamily(
                "amazon_channel_orders_set_aside",
                "Orders set aside with a reason and not resolved, per account",
                labels=["account"],
            ),
            set_aside,
            names,
        ),
        _per_account(
            GaugeMetricFamily(
                "amazon_channel_orders_late",
                "Orders past their ship-by date and not shipped (ship-by missed), per account",
                labels=["account"],
            ),
            late,
            names,
        ),
    ]


def _sync(conn: Connection) -> list[Metric]:
    """The accounts that are meant to sync (enabled, connected, not removed; a paused one is
    included: its lag is the problem to see)."""
    cursor = SyncCursor.__table__
    accounts = SellerAccount.__table__
    rows = conn.execute(
        select(
            accounts.c.name,
            extract("epoch", func.now() - func.coalesce(cursor.c.watermark, accounts.c.created_at)),
            extract("epoch", cursor.c.last_success_at),
        )
        .select_from(
            accounts.outerjoin(
                cursor,
                and_(cursor.c.account_id == accounts.c.id, cursor.c.scope == SYNC_SCOPE),
            )
        )
        .where(
            accounts.c.active.is_(True),
            accounts.c.connected.is_(True),
            accounts.c.removed_at.is_(None),
        )
    )
    lag = GaugeMetricFamily(
        "amazon_channel_sync_lag_seconds",
        "Now minus the account's sync watermark (since it was added, before a first sync)",
        labels=["account"],
    )
    last = GaugeMetricFamily(
        "amazon_channel_sync_last_success_timestamp_seconds",
        "When the account's last sync succeeded (Unix time)",
        labels=["account"],
    )
    for name, lag_s, last_s in rows:
        lag.add_metric([name], max(0.0, float(lag_s)))
        if last_s is not None:
            last.add_metric([name], float(last_s))
    return [lag, last]


def _by_state(
    conn: Connection, name: str, doc: str, columns: Sequence[Any], labels: list[str]
) -> GaugeMetricFamily:
    metric = GaugeMetricFamily(name, doc, labels=labels)
    for *values, count in conn.execute(select(*columns, func.count()).group_by(*columns)):
        metric.add_metric([str(v) for v in values], count)
    return metric


def _work_by_state(conn: Connection) -> list[Metric]:
    return [
        _by_state(
            conn,
            "amazon_channel_fulfilments",
            "Fulfilments by state",
            [Fulfilment.state],
            ["state"],
        ),
        _by_state(
            conn,
            "amazon_channel_refunds",
            "Refunds and cancellations (kind) by state",
            [Refund.kind, Refund.state],
            ["kind", "state"],
        ),
        _by_state(
            conn,
            "amazon_channel_feed_submissions",
            "Feed submissions by state",
            [FeedSubmission.state],
            ["state"],
        ),
        _by_state(
            conn,
            "amazon_channel_webhook_deliveries",
            "Webhook deliveries by state (pending, sending, delivered, dead)",
            [WebhookDelivery.state],
            ["state"],
        ),
    ]


def _outbox(conn: Connection) -> list[Metric]:
    undispatched, oldest_undispatched = conn.execute(
        select(func.count(), func.min(OutboxEvent.created_at)).where(
            OutboxEvent.dispatched_at.is_(None)
        )
    ).one()
    backlog, oldest_undelivered = conn.execute(
        select(func.count(), func.min(OutboxEvent.created_at))
        .select_from(WebhookDelivery)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.state.in_(UNDELIVERED))
    ).one()
    oldest = [t for t in (oldest_undispatched, oldest_undelivered) if t is not None]
    age = 0.0
    if oldest:
        age = float(conn.execute(select(extract("epoch", func.now() - min(oldest)))).scalar_one())
    status_class = case(
        (WebhookAttempt.status_code.is_(None), literal("network")),
        else_=func.concat(func.div(WebhookAttempt.status_code, 100), literal("xx")),
    )
    attempts = CounterMetricFamily(
        "amazon_channel_webhook_attempts",
        "Webhook delivery attempts by outcome (2xx, 4xx, 5xx, network)",
        labels=["outcome"],
    )
    for outcome, count in conn.execute(select(status_class, func.count()).group_by(status_class)):
        attempts.add_metric([str(outcome)], count)
    return [
        GaugeMetricFamily(
            "amazon_channel_webhook_deliveries_pending",
            "Webhook deliveries not yet delivered (pending or being sent)",
            value=backlog,
        ),
        GaugeMetricFamily(
            "amazon_channel_outbox_undispatched_events",
            "Events not yet fanned out to their subscribers' deliveries",
            value=undispatched,
        ),
        GaugeMetricFamily(
            "amazon_channel_outbox_oldest_undelivered_age_seconds",
            "Age of the oldest event not yet delivered to every subscriber (0: none waits)",
            value=max(0.0, age),
        ),
        attempts,
    ]


def _confirm_histogram(
    conn: Connection,
    name: str,
    doc: str,
    started: Any,
    confirmed: Any,
    labels: list[str],
    where: list[Any],
    group: Any = None,
) -> HistogramMetricFamily:
    """One cumulative histogram of ``confirmed - started`` over the confirmed rows.

    One pass: each row's bucket is computed once by ``width_bucket`` and the rows are counted
    per bucket (eleven ``count(*) FILTER`` columns cost two to three times as much).
    ``width_bucket`` counts the bounds at or below a value; Prometheus' ``le`` wants those
    strictly below it (a value on a bound belongs to that bound's bucket), so it is asked about
    the negated value against the negated bounds: ``len(bounds) - width_bucket(-s, -bounds)``
    is how many bounds lie strictly below ``s``."""
    # float8, not the numeric ``extract`` gives: numeric arithmetic per row is the slow part.
    seconds = cast(extract("epoch", confirmed - started), Float)
    negated = array([-float(b) for b in reversed(CONFIRM_BUCKETS)], type_=Float)
    below = literal(len(CONFIRM_BUCKETS)) - func.width_bucket(-seconds, negated)
    keys = [group] if group is not None else []
    statement = (
        select(*keys, below, func.count(), func.sum(seconds))
        .where(confirmed.is_not(None), *where)
        .group_by(*keys, below)
    )
    counts: dict[tuple[str, ...], list[float]] = {}
    sums: dict[tuple[str, ...], float] = {}
    for row in conn.execute(statement):
        *key_values, bucket, count, total_s = row
        key = tuple(str(v) for v in key_values)
        per_bucket = counts.setdefault(key, [0.0] * (len(CONFIRM_BUCKETS) + 1))
        per_bucket[int(bucket)] += count
        sums[key] = sums.get(key, 0.0) + float(total_s or 0)
    metric = HistogramMetricFamily(name, doc, labels=labels)
    for key, per_bucket in counts.items():
        cumulative = list(accumulate(per_bucket))
        buckets = [(_bound(b), c) for b, c in zip(CONFIRM_BUCKETS, cumulative, strict=False)]
        metric.add_metric(list(key), [*buckets, ("+Inf", cumulative[-1])], sums[key])
    return metric


def _bound(value: float) -> str:
    return str(float(value))


def _refund_histograms(conn: Connection) -> list[Metric]:
    return [
        _confirm_histogram(
            conn,
            "amazon_channel_refund_confirm_seconds",
            "Refunds and cancellations asked by the platform, accepted to confirmed on Amazon",
            Refund.created_at,
            Refund.confirmed_at,
            ["kind"],
            [Refund.source == "store"],
            group=Refund.kind,
        )
    ]


def _failures(conn: Connection) -> GaugeMetricFamily:
    metric = GaugeMetricFamily(
        "amazon_channel_failures",
        "What failed and waits for a person, by kind and code (the failure code, when known)",
        labels=["kind", "code"],
    )
    code_f = func.coalesce(Fulfilment.failure_code, "")
    for code, count in conn.execute(
        select(code_f, func.count()).where(Fulfilment.state == "failed").group_by(code_f)
    ):
        metric.add_metric(["fulfilment", code], count)
    code_r = func.coalesce(Refund.failure_code, "")
    for kind, code, count in conn.execute(
        select(Refund.kind, code_r, func.count())
        .where(Refund.state == "failed")
        .group_by(Refund.kind, code_r)
    ):
        metric.add_metric([str(kind), code], count)
    singles = {
        "webhook_delivery": select(func.count())
        .select_from(WebhookDelivery)
        .where(WebhookDelivery.state == "dead"),
        "rejected_fulfilment_request": select(func.count()).select_from(RejectedFulfilment),
        "rejected_refund_request": select(func.count()).select_from(RejectedRefund),
        "account_paused": select(func.count())
        .select_from(SellerAccount)
        .where(SellerAccount.paused_at.is_not(None), SellerAccount.removed_at.is_(None)),
    }
    for kind, statement in singles.items():
        count = conn.execute(statement).scalar_one()
        if count:
            metric.add_metric([kind, ""], count)
    return metric


def _dead_letters(conn: Connection) -> GaugeMetricFamily:
    """Dead-lettered messages by state and reason. The ``dead_letters`` table belongs to the
    failures feature; before its migration ran the metric is there with no samples."""
    metric = GaugeMetricFamily(
        "amazon_channel_dead_letters",
        "Messages set aside as dead letters, by state (waiting, retried, discarded) and reason",
        labels=["state", "reason"],
    )
    if conn.execute(text("SELECT to_regclass('dead_letters')")).scalar_one() is None:
        return metric
    try:
        with conn.begin_nested():
            rows = conn.execute(
                text("SELECT state, reason, count(*) FROM dead_letters GROUP BY state, reason")
            ).all()
    except DBAPIError:  # a table of another shape: the metric stays empty rather than fail
        return metric
    for state, reason, count in rows:
        metric.add_metric([str(state), str(reason)], count)
    return metric

"""What the operator page shows, read from the store as the CLI and the API read it: every
row here is a plain dataclass the templates print, so no template reaches into the store."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.fulfilments import DeadlineKind, FulfilmentState, deadline_kind, late_orders
from domain.refunds import RefundState
from domain.refunds.reconnect import PlanItem, reconnect_plan
from infra.db.accounts import AccountView, list_accounts
from infra.db.sync_status import sync_positions
from infra.platform.payloads import amount_text
from workers import bootstrap
from workers.web import health

LISTED = 200  # the most rows one table shows (the CLI pages through the rest)


def health_checks() -> dict[str, str]:
    """The same checks as ``/healthz``, from its own function (``ok`` or ``down: ...``)."""
    answer: dict[str, str] = json.loads(bytes(health.healthz().body))
    return answer


def _span(seconds: float) -> str:
    """A duration as people read it: 42s, 7m, 3h05m, 2d04h."""
    seconds = int(seconds)
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    if seconds < 60:
        return f"{sign}{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{sign}{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{sign}{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{sign}{days}d{hours:02d}h"


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "never"


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: int
    name: str
    region: str
    status: str
    paused_reason: str | None
    sync_lag: str
    last_success: str
    lagging: bool  # behind by more than LAG_WARNING, or never synced


LAG_WARNING = timedelta(minutes=15)  # the alert: sync lag over 15 minutes


def accounts() -> list[AccountRow]:
    c = bootstrap.container()
    now = c.clock.now()
    positions = sync_positions(c.sessions)
    rows = []
    for account in list_accounts(c.sessions):
        position = positions.get(account.id)
        watermark = position.watermark if position else None
        # Amazon's clock may run a little ahead of ours: a watermark past now is no lag.
        lag = max(now - watermark, timedelta(0)) if watermark else None
        rows.append(
            AccountRow(
                id=account.id,
                name=account.name,
                region=account.region,
                status=account.status.split(":")[0],
                paused_reason=account.paused_reason,
                sync_lag=_span(lag.total_seconds()) if lag is not None else "not synced yet",
                last_success=when(position.last_success_at if position else None),
                lagging=account.reaches_amazon and (lag is None or lag > LAG_WARNING),
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class LateRow:
    account: str
    amazon_order_id: str
    status: str
    ship_by: str
    left: str
    unshipped: int
    missed: bool


def late() -> tuple[list[LateRow], float]:
    """Merchant-fulfilled orders past or near their ship-by date (``orders late``), and the
    warning window in hours."""
    c = bootstrap.container()
    hours = c.settings.ship_by_warning_hours
    window = timedelta(hours=hours)
    now = c.clock.now()
    names = {a.id: a.name for a in list_accounts(c.sessions, include_removed=True)}
    rows = [
        LateRow(
            account=names.get(order.account_id, str(order.account_id)),
            amazon_order_id=order.amazon_order_id,
            status=order.status,
            ship_by=when(order.ship_by_latest),
            left=_span((order.ship_by_latest - now).total_seconds()),
            unshipped=order.quantity_remaining,
            missed=deadline_kind(order.ship_by_latest, now, window) is DeadlineKind.MISSED,
        )
        for order in late_orders(c.fulfilment_store.open_orders_due_by(now + window))
    ]
    return rows, hours


@dataclass(frozen=True, slots=True)
class FailureRow:
    kind: str  # fulfilment, refund or cancellation
    id: int
    account: str
    amazon_order_id: str
    platform_id: str
    tries: int | None
    reason: str


def failures() -> list[FailureRow]:
    """Failed fulfilments, then failed refunds and cancellations, each with Amazon's reason."""
    c = bootstrap.container()
    names = {a.id: a.name for a in list_accounts(c.sessions, include_removed=True)}
    rows = [
        FailureRow(
            kind="fulfilment",
            id=f.id,
            account=names.get(f.account_id, str(f.account_id)),
            amazon_order_id=f.amazon_order_id,
            platform_id=f.platform_fulfilment_id,
            tries=f.attempts,
            reason=f"{f.failure_code}: {f.failure_reason}" if f.failure_code else "",
        )
        for f in c.fulfilment_store.list(state=FulfilmentState.FAILED, limit=LISTED)
    ]
    rows += [
        FailureRow(
            kind=r.kind.value,
            id=r.id,
            account=names.get(r.account_id, str(r.account_id)),
            amazon_order_id=r.amazon_order_id,
            platform_id=r.platform_id or f"({r.source.value})",
            tries=None,
            reason=f"{r.failure_code}: {r.failure_reason}" if r.failure_code else "",
        )
        for r in c.refund_store.list(state=RefundState.FAILED, limit=LISTED)
    ]
    return rows


@dataclass(frozen=True, slots=True)
class WaitingRow:
    id: int
    kind: str
    amazon_order_id: str
    total: str
    verdict: str
    reason: str


@dataclass(frozen=True, slots=True)
class AccountApprovals:
    account: AccountView
    items: list[WaitingRow]
    safe: int  # how many ``approve all safe`` would send


def _waiting(item: PlanItem) -> WaitingRow:
    r = item.refund
    return WaitingRow(
        id=r.id,
        kind=r.kind.value,
        amazon_order_id=r.amazon_order_id,
        total=f"{amount_text(r.total.amount, r.currency)} {r.currency}",
        verdict=item.verdict.value,
        reason=item.reason,
    )


def approvals() -> list[AccountApprovals]:
    """Per connected account, the refunds and cancellations awaiting a person's approval after
    a reconnect (the reconnect plan of ``GET /v1/accounts/{account}/reconnect-plan``)."""
    c = bootstrap.container()
    found = []
    for account in list_accounts(c.sessions, connected_only=True):
        plan = reconnect_plan(account.id, account.connected, c.refund_store)
        waiting = [i for i in plan.items if i.refund.state is RefundState.AWAITING_APPROVAL]
        if waiting:
            safe = sum(1 for i in waiting if i.verdict.value == "safe")
            found.append(AccountApprovals(account, [_waiting(i) for i in waiting], safe))
    return found

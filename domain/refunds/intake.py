"""Intake: a refund or a cancellation checked against the order and everything refunded before,
under the order's lock, and stored before anything goes to Amazon; and an operator's retry of
a failed one.

Safe to run twice: the same request again (same platform id, same fingerprint) is the first one
(``created`` False); a different one under a taken platform id is a conflict. While the account
is disconnected what is accepted is stored ``held``: nothing is sent until it is reconnected.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domain.orders import AmazonOrder
from domain.refunds.commands import CancelLineRequest, CancelOrder, IssueRefund, RefundLineRequest
from domain.refunds.components import adjustment_reason, cancel_reason
from domain.refunds.events import CancellationFailed, RefundFailed
from domain.refunds.model import (
    Accepted,
    Refund,
    RefundKind,
    RefundLine,
    RefundSource,
    RefundState,
)
from domain.refunds.ports import RefundIntakeStore, RefundIntakeUnit
from domain.refunds.rules import check_cancellation, check_refund, order_currency
from domain.shared import Clock, FieldError, Rejected

_ID_FIELD = {
    RefundKind.REFUND: "platform_refund_id",
    RefundKind.CANCELLATION: "platform_cancellation_id",
}


def _same_or_conflict(existing: Refund, fingerprint: str) -> Accepted | Rejected:
    if existing.fingerprint == fingerprint:
        return Accepted(existing, created=False)
    return Rejected(
        (
            FieldError(
                _ID_FIELD[existing.kind],
                f"already used by {existing.kind} {existing.id} with a different body",
            ),
        ),
        conflict=True,
    )


def _unknown_account(ref: str) -> Rejected:
    return Rejected((FieldError("account", f"no seller account {ref!r}"),))


def _unknown_order() -> Rejected:
    return Rejected(
        (
            FieldError(
                "amazon_order_id",
                "unknown order: the store has no such order for this account (not synced yet, "
                "or another account's)",
            ),
        )
    )


def _store(
    unit: RefundIntakeUnit,
    account_id: int,
    kind: RefundKind,
    platform_id: str,
    fingerprint: str,
    reason: str,
    order: AmazonOrder,
    lines: tuple[RefundLine, ...],
    clock: Clock,
    *,
    whole_order: bool = False,
) -> Accepted | Rejected:
    currency = order_currency(order)
    assert currency is not None  # the rules accept no line without charges
    state = RefundState.ACCEPTED if unit.account_connected(account_id) else RefundState.HELD
    added = unit.add(
        Refund(
            id=0,
            kind=kind,
            source=RefundSource.STORE,
            account_id=account_id,
            amazon_order_id=order.amazon_order_id,
            marketplace_id=order.marketplace_id,
            platform_id=platform_id,
            reason=reason,
            currency=currency,
            state=state,
            lines=lines,
            fingerprint=fingerprint,
            created_at=clock.now(),
            whole_order=whole_order,
        )
    )
    if added is None:  # a concurrent request took the platform id first
        existing = unit.by_platform_id(account_id, kind, platform_id)
        assert existing is not None
        return _same_or_conflict(existing, fingerprint)
    return Accepted(added, created=True)


def _empty_id(field: str, value: str) -> Rejected | None:
    if value.strip():
        return None
    return Rejected((FieldError(field, "must not be empty"),))


def rule_errors(
    command: IssueRefund | CancelOrder, store: RefundIntakeStore
) -> tuple[FieldError, ...]:
    """The rules' refusals of ``command``, with nothing stored: for a request whose shape was
    refused too (the door stood in for its unreadable fields), so that one answer gives every
    reason."""
    with store.intake() as unit:
        account_id = unit.account_id(command.account)
        if account_id is None:
            return _unknown_account(command.account).errors
        order = unit.lock_order(account_id, command.amazon_order_id)
        if order is None:
            return _unknown_order().errors
        refunded = unit.refunded(account_id, order.amazon_order_id)
        if isinstance(command, CancelOrder):
            _, errors = check_cancellation(command, order, refunded)
        else:
            _, errors = check_refund(command, order, refunded)
        return tuple(errors)


def accept_refund(
    command: IssueRefund, store: RefundIntakeStore, clock: Clock
) -> Accepted | Rejected:
    """Check the refund and store it (``accepted``, or ``held`` while the account is
    disconnected), or say every reason why not. Nothing goes to Amazon here: the refund is
    batched into a feed later."""
    empty = _empty_id("platform_refund_id", command.platform_refund_id)
    if empty is not None:
        return empty
    fingerprint = command.fingerprint()
    with store.intake() as unit:
        account_id = unit.account_id(command.account)
        if account_id is None:
            return _unknown_account(command.account)
        order = unit.lock_order(account_id, command.amazon_order_id)
        existing = unit.by_platform_id(account_id, RefundKind.REFUND, command.platform_refund_id)
        if existing is not None:
            return _same_or_conflict(existing, fingerprint)
        if order is None:
            return _unknown_order()
        lines, errors = check_refund(
            command, order, unit.refunded(account_id, order.amazon_order_id)
        )
        if errors:
            return Rejected(tuple(errors))
        reason = adjustment_reason(command.reason)
        assert reason is not None
        return _store(
            unit,
            account_id,
            RefundKind.REFUND,
            command.platform_refund_id,
            fingerprint,
            reason,
            order,
            lines,
            clock,
        )


def accept_cancellation(
    command: CancelOrder, store: RefundIntakeStore, clock: Clock
) -> Accepted | Rejected:
    """Check the cancellation and store it with the refund of what the cancelled units charged
    (``whole_order`` when it names no line: then its lines are every unshipped item), or say
    every reason why not."""
    empty = _empty_id("platform_cancellation_id", command.platform_cancellation_id)
    if empty is not None:
        return empty
    fingerprint = command.fingerprint()
    with store.intake() as unit:
        account_id = unit.account_id(command.account)
        if account_id is None:
            return _unknown_account(command.account)
        order = unit.lock_order(account_id, command.amazon_order_id)
        existing = unit.by_platform_id(
            account_id, RefundKind.CANCELLATION, command.platform_cancellation_id
        )
        if existing is not None:
            return _same_or_conflict(existing, fingerprint)
        if order is None:
            return _unknown_order()
        lines, errors = check_cancellation(
            command, order, unit.refunded(account_id, order.amazon_order_id)
        )
        if errors:
            return Rejected(tuple(errors))
        reason = cancel_reason(command.reason)
        assert reason is not None
        return _store(
            unit,
            account_id,
            RefundKind.CANCELLATION,
            command.platform_cancellation_id,
            fingerprint,
            reason,
            order,
            lines,
            clock,
            whole_order=not command.lines,
        )


def _recheck(refund: Refund, order: AmazonOrder, unit: RefundIntakeUnit) -> list[FieldError]:
    """The rules again for a stored refund, as if it were asked now (what it gives back as it
    was stored; a cancellation's units and amount)."""
    refunded = unit.refunded(refund.account_id, refund.amazon_order_id)
    others = [r for r in refunded if r.id != refund.id]
    if refund.kind is RefundKind.CANCELLATION:
        cancel = CancelOrder(
            account=str(refund.account_id),
            amazon_order_id=refund.amazon_order_id,
            platform_cancellation_id=refund.platform_id or "",
            reason=refund.reason,
            lines=()
            if refund.whole_order
            else tuple(
                CancelLineRequest(order_item_id=line.order_item_id, quantity=line.quantity)
                for line in refund.lines
            ),
            refund_amount=refund.total.amount,
            currency=refund.currency,
        )
        return check_cancellation(cancel, order, others)[1]
    issue = IssueRefund(
        account=str(refund.account_id),
        amazon_order_id=refund.amazon_order_id,
        platform_refund_id=refund.platform_id or "",
        reason=refund.reason,
        lines=tuple(
            RefundLineRequest(
                order_item_id=line.order_item_id,
                amounts=tuple((component, money.amount) for component, money in line.amounts),
            )
            if line.amounts
            else RefundLineRequest(order_item_id=line.order_item_id, quantity=line.quantity)
            for line in refund.lines
        ),
        currency=refund.currency,
    )
    return check_refund(issue, order, others)[1]


def retry_refund(refund_id: int, store: RefundIntakeStore, clock: Clock) -> Accepted | Rejected:
    """An operator's retry of a failed refund or cancellation (after fixing the cause): back to
    accepted if the order still takes it (a failed one holds nothing back meanwhile, so another
    refund may have used what it would give). ``created`` is True when this call reopened it."""
    del clock  # the retry keeps the refund's own times; the store stamps the change
    with store.intake() as unit:
        refund = unit.refund(refund_id)
        if refund is None:
            return Rejected((FieldError("refund_id", f"no refund or cancellation {refund_id}"),))
        if refund.state is not RefundState.FAILED:
            return Rejected(
                (
                    FieldError(
                        "refund_id",
                        f"{refund.kind} {refund_id} is {refund.state}: only a failed one can be "
                        "retried",
                    ),
                )
            )
        order = unit.lock_order(refund.account_id, refund.amazon_order_id)
        if order is None:
            return Rejected((FieldError("amazon_order_id", "the order is not in the store"),))
        errors = _recheck(refund, order, unit)
        if errors:
            return Rejected(tuple(errors))
        reopened = unit.reopen(refund_id)
        if reopened is None:  # someone else retried it a moment ago
            current = unit.refund(refund_id)
            assert current is not None
            return Accepted(current, created=False)
        return Accepted(reopened, created=True)


# --- requests from the queue that were refused ------------------------------------------------

NO_CURRENCY = "XXX"  # ISO 4217's "no currency": a refused request may name none we know


def _given(request: Mapping[str, Any], key: str, limit: int) -> str | None:
    value = request.get(key)
    return str(value)[:limit] if isinstance(value, str | int) and str(value) else None


def refusal_event(
    kind: RefundKind,
    request: Mapping[str, Any],
    rejected: Rejected,
    *,
    account_id: int | None,
    digest: str,
    at: datetime,
) -> RefundFailed | CancellationFailed:
    """What the platform hears of a request the queue brought and intake refused (nobody waits
    on a queue for the answer): ``refunds/failed`` or ``cancellations/failed``, carrying the
    request as far as it reads (no lines: they were refused), ``id`` 0 (nothing was stored),
    ``account_id`` 0 for an unknown account, the request's digest as its fingerprint, and the
    reasons as the failure."""
    currency = request.get("currency")
    code = "Conflict" if rejected.conflict else "InvalidRequest"
    refused = Refund(
        id=0,
        kind=kind,
        source=RefundSource.STORE,
        account_id=account_id or 0,
        amazon_order_id=_given(request, "amazon_order_id", 40) or "",
        marketplace_id="",
        platform_id=_given(request, _ID_FIELD[kind], 100),
        reason=_given(request, "reason", 60) or "",
        currency=currency
        if isinstance(currency, str)
        and len(currency) == 3
        and currency.isalpha()
        and currency.isupper()
        else NO_CURRENCY,
        state=RefundState.FAILED,
        lines=(),
        fingerprint=digest,
        created_at=at,
        failure_code=code,
        failure_reason=rejected.message,
    )
    if kind is RefundKind.CANCELLATION:
        return CancellationFailed(refund=refused, code=code, message=rejected.message)
    return RefundFailed(refund=refused, code=code, message=rejected.message)

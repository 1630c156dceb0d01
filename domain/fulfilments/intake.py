"""Intake: a fulfilment checked against the order as the store knows it and stored before
anything goes to Amazon (``accept_fulfilment``), and an operator's retry of a failed one."""

from __future__ import annotations

from datetime import timedelta

from domain.fulfilments.commands import LineRequest, RequestFulfilment
from domain.fulfilments.model import Accepted, Fulfilment, FulfilmentState, NewFulfilment
from domain.fulfilments.ports import IntakeStore
from domain.fulfilments.rules import check_fulfilment
from domain.shared import Clock, FieldError, Rejected

# A fulfilment stored but not claimed by any attempt is queued again by the sweeper once this
# has passed since its acceptance. Nobody claims it when its message got lost (its producer died
# between the commit and the publish, the broker lost its data) and while its task waits out a
# retry backoff that grew while PostgreSQL was away (Celery's countdowns double up to minutes,
# and the sweeper cannot tell such a task from a lost one). 30 s, with the sweeper every 10 s:
# such a fulfilment is queued within 40 s of its acceptance, or within one sweep of the store's
# return, and so is confirmed within a minute. The cost when the queue is merely slow (a backlog
# longer than 30 s): a second message, which finds the fulfilment claimed or confirmed and
# leaves; the sweeper then leaves it alone for ten minutes.
SWEEP_AFTER = timedelta(seconds=30)


def _same_or_conflict(existing: Fulfilment, command: RequestFulfilment) -> Accepted | Rejected:
    if existing.fingerprint == command.fingerprint():
        return Accepted(existing, created=False)
    return Rejected(
        (
            FieldError(
                "platform_fulfilment_id",
                f"already used by fulfilment {existing.id} with a different body",
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
                "unknown order: the store has no such order for this account "
                "(not synced yet, or another account's)",
            ),
        )
    )


def rule_errors(
    command: RequestFulfilment, store: IntakeStore, clock: Clock
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
        _, errors = check_fulfilment(command, order, clock.now())
        return tuple(errors)


def accept_fulfilment(
    command: RequestFulfilment, store: IntakeStore, clock: Clock
) -> Accepted | Rejected:
    """Check the fulfilment and store it, or say why not. Safe to run twice: the same
    fulfilment again is the first one (``created`` False); a different one under the same
    ``platform_fulfilment_id`` is a conflict. Nothing is sent to Amazon here: the caller queues
    the confirmation after this returns (after the commit)."""
    with store.intake() as unit:
        account_id = unit.account_id(command.account)
        if account_id is None:
            return _unknown_account(command.account)
        order = unit.lock_order(account_id, command.amazon_order_id)
        existing = unit.fulfilment_by_platform_id(account_id, command.platform_fulfilment_id)
        if existing is not None:
            return _same_or_conflict(existing, command)
        if order is None:
            return _unknown_order()
        lines, errors = check_fulfilment(command, order, clock.now())
        if errors:
            return Rejected(tuple(errors))
        added = unit.add(NewFulfilment(order, command, lines, SWEEP_AFTER))
        if added is None:  # a concurrent request took the platform_fulfilment_id first
            existing = unit.fulfilment_by_platform_id(account_id, command.platform_fulfilment_id)
            assert existing is not None
            return _same_or_conflict(existing, command)
        return Accepted(added, created=True)


def retry_fulfilment(
    fulfilment_id: int,
    store: IntakeStore,
    clock: Clock,
    *,
    cancellation_request_reviewed: bool = False,
) -> Accepted | Rejected:
    """An operator's retry of a failed fulfilment (after fixing the cause): back to accepted,
    if the order still takes it (a failed one holds no quantity meanwhile, and a buyer may have
    asked to cancel since). ``created`` is True when this call reopened it."""
    with store.intake() as unit:
        fulfilment = unit.fulfilment(fulfilment_id)
        if fulfilment is None:
            return Rejected((FieldError("fulfilment_id", f"no fulfilment {fulfilment_id}"),))
        if fulfilment.state is not FulfilmentState.FAILED:
            return Rejected(
                (
                    FieldError(
                        "fulfilment_id",
                        f"fulfilment {fulfilment_id} is {fulfilment.state}: only a failed one "
                        "can be retried",
                    ),
                )
            )
        order = unit.lock_order(fulfilment.account_id, fulfilment.amazon_order_id)
        if order is None:  # orders are never deleted; kept for completeness
            return Rejected((FieldError("amazon_order_id", "the order is gone from the store"),))
        command = RequestFulfilment(
            account=str(fulfilment.account_id),
            amazon_order_id=fulfilment.amazon_order_id,
            platform_fulfilment_id=fulfilment.platform_fulfilment_id,
            shipped_at=fulfilment.shipped_at,
            carrier_code=fulfilment.carrier_code,
            carrier_name=fulfilment.carrier_name,
            shipping_method=fulfilment.shipping_method,
            tracking_number=fulfilment.tracking_number,
            lines=tuple(
                LineRequest(line.quantity, order_item_id=line.order_item_id)
                for line in fulfilment.lines
            ),
            cancellation_request_reviewed=cancellation_request_reviewed,
        )
        _, errors = check_fulfilment(command, order, clock.now())
        if errors:
            return Rejected(tuple(errors))
        reopened = unit.reopen(fulfilment_id, SWEEP_AFTER)
        if reopened is None:  # someone else retried it a moment ago
            current = unit.fulfilment(fulfilment_id)
            assert current is not None
            return Accepted(current, created=False)
        return Accepted(reopened, created=True)

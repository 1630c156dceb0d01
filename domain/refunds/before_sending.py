"""The check before a batch is sent: what Amazon refunded already, recorded, and the refunds it
makes too much failed with the date and amount (the rules are ``record_from_amazon``'s).

Reading every order of a batch with ``listFinancialEventsByOrderId`` costs one call per order
at 0.5 a second: a thousand refunds would wait half an hour for their check. So the account's
refunds posted since the sweep's watermark are read first, a page of a hundred per call
(``sweep_amazon_refunds``); an order bought after the sweeps' unbroken coverage began has every
refund Amazon posted for it *before the watermark* in the store already. The watermark is at
least two minutes old (Amazon lists no later window), so a refund made in Seller Central in the
last minutes is not in the store yet. For refunds and partial cancellations that is harmless:
Amazon checks the money of every adjustment and refuses one that gives back more than was
charged, and ``explain_failures`` then reads that order and fails the refund with the same clear
reason. A whole-order cancellation has no such check on Amazon's side (the acknowledgement feed
carries no amounts), so one accepted after the watermark is read one by one, at most
``fresh_reads`` per check: the rest wait for a later batch, by when the watermark has passed
them. Read one by one too: orders bought before the coverage, and orders with a refund that was
in a feed Amazon created before (a FATAL feed may have applied it after all, minutes ago).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.feeds import AmazonBusy, MessageOutcome, Submission, Verdict
from domain.refunds.model import AmazonRefund, Refund, RefundKind
from domain.refunds.ports import AmazonRefundStore, FinancesGateway
from domain.refunds.record_from_amazon import (
    ALREADY_REFUNDED,
    failures,
    record_amazon_refunds,
    sweep_amazon_refunds,
)
from domain.shared import Clock

# The sweep's watermark must be this fresh for the coverage to stand in for a per-order read.
FRESH_WITHIN = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Checked:
    """What the check found: the refunds that may go, the ones that failed, the refunds
    recorded from Amazon, and the ones not checked (Finances was busy: they wait for a later
    batch)."""

    sendable: tuple[Refund, ...] = ()
    failed: tuple[Refund, ...] = ()
    recorded: tuple[Refund, ...] = ()
    unchecked: tuple[Refund, ...] = ()
    orders_read: int = 0  # per-order Finances calls made
    fresh_read: int = 0  # of which for refunds accepted after the watermark


def _whole_cancellation(refund: Refund) -> bool:
    """Sent in the acknowledgement feed, whose amounts Amazon does not check."""
    return refund.kind is RefundKind.CANCELLATION and refund.whole_order


def check_before_sending(
    refunds: Sequence[Refund],
    *,
    finances: FinancesGateway,
    store: AmazonRefundStore,
    clock: Clock,
    sweep_first: bool = False,
    fresh_reads: int | None = None,
) -> Checked:
    """Record what Amazon refunded of these refunds' orders that the store did not make, and
    fail the refunds Amazon's make too much (or that an earlier feed applied after all).
    ``sweep_first``: sweep each account first, and read only the orders its coverage does not
    hold. Finances busy, or more than ``fresh_reads`` (None: no limit) orders to read only because
    a refund was accepted after the watermark: the rest are left unchecked, for a later batch."""
    by_order: dict[tuple[int, str], list[Refund]] = {}
    for refund in refunds:
        by_order.setdefault((refund.account_id, refund.amazon_order_id), []).append(refund)
    recorded: list[Refund] = []
    coverage: dict[int, tuple[datetime, datetime]] = {}  # (covered since, watermark)
    for account_id in sorted({account for account, _ in by_order}):
        if sweep_first:
            # Finances busy: no fresh coverage, and every order is read one by one.
            with contextlib.suppress(AmazonBusy):
                swept = sweep_amazon_refunds(
                    account_id, finances=finances, store=store, clock=clock
                )
                recorded.extend(swept.recorded)
        covered = store.finance_coverage(account_id)
        if covered is not None and covered[1] >= clock.now() - FRESH_WITHIN:
            coverage[account_id] = covered
    sendable: list[Refund] = []
    failed: list[Refund] = []
    unchecked: list[Refund] = []
    busy = False
    read = fresh_read = 0
    for (account_id, amazon_order_id), batch in by_order.items():
        covered = coverage.get(account_id)
        found: Sequence[AmazonRefund] | None = None
        fresh = False  # covered, but a refund was accepted after the watermark
        if covered is not None:
            since, watermark = covered
            with store.recording() as unit:
                order = unit.lock_order(account_id, amazon_order_id)
            sent_before = any(refund.attempts for refund in batch)
            if order is not None and order.purchased_at >= since and not sent_before:
                unchecked_by_amazon = [r for r in batch if _whole_cancellation(r)]
                if all(refund.created_at < watermark for refund in unchecked_by_amazon):
                    found = ()  # every refund Amazon posted before these was swept in
                else:
                    fresh = True
        if found is None:
            spent = fresh and fresh_reads is not None and fresh_read >= fresh_reads
            if busy or spent:
                unchecked.extend(batch)
                continue
            try:
                found = finances.refunds_of_order(account_id, amazon_order_id)
                read += 1
                if fresh:
                    fresh_read += 1
            except AmazonBusy:
                busy = True
                unchecked.extend(batch)
                continue
        with store.recording() as unit:
            result = record_amazon_refunds(unit, account_id, amazon_order_id, found, clock.now())
            recorded.extend(result.added)
            refunded = unit.refunded(account_id, amazon_order_id)
            reasons = failures(batch, refunded, result.order)
            for refund in batch:
                reason = reasons.get(refund.id)
                if reason is None:
                    sendable.append(refund)
                    continue
                done = unit.fail(refund.id, ALREADY_REFUNDED, reason)
                if done is not None:
                    failed.append(done)
    return Checked(
        tuple(sendable), tuple(failed), tuple(recorded), tuple(unchecked), read, fresh_read
    )


def explain_failures(
    submission: Submission,
    outcomes: Sequence[MessageOutcome],
    *,
    finances: FinancesGateway,
    store: AmazonRefundStore,
    refund_of: Callable[[int], Refund | None],
    clock: Clock,
) -> list[MessageOutcome]:
    """Before a report's failures are recorded: read the orders of the refunds Amazon refused
    in Finances (one call per order, only for failures, so cheap), record the refunds made on
    Amazon that the store did not make, and where those explain the refusal, fail the refund
    with the clear reason ("already refunded on Amazon on ...") instead of Amazon's text. This
    catches what the check before sending could not see yet (a Seller Central refund posted in
    the minutes before). Finances busy: Amazon's own reasons stand."""
    failed = [o for o in outcomes if o.verdict is Verdict.FAILED]
    by_order: dict[str, list[Refund]] = {}
    for outcome in failed:
        refund = refund_of(outcome.message_id)
        if refund is not None and refund.account_id == submission.account_id:
            by_order.setdefault(refund.amazon_order_id, []).append(refund)
    clearer: dict[int, str] = {}
    for amazon_order_id, refunds in by_order.items():
        try:
            found = finances.refunds_of_order(submission.account_id, amazon_order_id)
        except AmazonBusy:
            break
        with store.recording() as unit:
            result = record_amazon_refunds(
                unit,
                submission.account_id,
                amazon_order_id,
                found,
                clock.now(),
                not_applied=frozenset(refund.id for refund in refunds),
            )
            refunded = unit.refunded(submission.account_id, amazon_order_id)
            clearer.update(failures(refunds, refunded, result.order))
    return [
        replace(o, code=ALREADY_REFUNDED, description=clearer[o.message_id])
        if o.verdict is Verdict.FAILED and o.message_id in clearer
        else o
        for o in outcomes
    ]

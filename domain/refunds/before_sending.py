"""The check before a batch is sent: what Amazon refunded already, recorded, and the refunds it
makes too much failed with the date and amount (the rules are ``record_from_amazon``'s).

Reading every order of a batch with ``listFinancialEventsByOrderId`` costs one call per order
at 0.5 a second: a thousand refunds would wait half an hour for their check. So the account's
refunds posted since the sweep's watermark are read first, a page of a hundred per call
(``sweep_amazon_refunds``); an order bought after the sweeps' unbroken coverage began has every
refund Amazon posted for it *before the watermark* in the store already. The watermark is at
least two minutes old (Amazon lists no later window), so the store alone answers only for
refunds accepted before it: a refund made in Seller Central before the store's was accepted was
posted before the watermark too, and is in the store. Read one by one still: orders bought
before the coverage, orders with a refund that was in a feed Amazon created before (a FATAL
feed may have applied it after all, minutes ago), and orders with a refund accepted after the
watermark (Seller Central may have refunded it in the last minutes), these at most
``fresh_reads`` per check: the rest wait for a later batch, by when the watermark has passed
them. What Finances has not posted yet (it lags) cannot be seen either way: such a refund fails
in Amazon's processing report with Amazon's reason instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.feeds import AmazonBusy
from domain.refunds.model import AmazonRefund, Refund
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
                if all(refund.created_at < watermark for refund in batch):
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

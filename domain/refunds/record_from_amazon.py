"""Refunds made on Amazon (in Seller Central) that the store did not make: found in Amazon's
Finances, recorded once, and counted against what a store refund may still give back.

Two ways in: before a batch is sent, its orders are checked (``before_sending``), and a
periodic sweep reads every refund posted since a watermark (``sweep_amazon_refunds``). Both
record under the order's lock, the lock intake takes too, so a refund is never checked against
a remainder another transaction is changing.

**Matching rule** (which of Amazon's refunds are the store's own). An Amazon refund's
*signature* is the multiset of (order item, component, amount) of its non-zero amounts (an item
without an order item id is placed by its SKU on the order's lines). The store's refunds that
Amazon may have applied are its own refunds of the order that are confirmed or in a feed. They
are paired with Amazon's refunds of the order not recorded yet, oldest first on both sides:
first by equal signatures; then, for what is left, by the same order items with the same item
price per item (Amazon may add or round a tax of its own). Each refund pairs once. A pair with
a confirmed refund is written down (the store refund's ``amazon_key``), so later reads never
pair that Amazon refund or that store refund again; a pair with a refund still in a feed is
not (its report may yet say Amazon refused it). An Amazon refund left unpaired is one the store
did not make: it is recorded (source ``amazon``, confirmed, keyed by ``AmazonRefund.key``, so a
second read records nothing), with ``RefundRecordedFromAmazon``. The sweep reads a window of
Amazon's refunds, not an order's whole list: when one of them would pair, the order's whole list
is read first (the store refund's own Amazon refund may be outside the window).

**What fails** (the refunds about to be sent, in id order, each counted once it passes):

- one that was in a feed Amazon created before (its ``attempts``) and whose signature equals
  an Amazon-made refund posted after it was asked for, that no other refund of the batch took:
  the earlier feed applied it after all, and it is not sent again;
- one that would take a line's component past what the order charged for it, counting every
  refund of the order not failed (of both sources), when a refund made on Amazon is part of
  that component's sum.

Both fail with ``AlreadyRefundedOnAmazon`` and a message naming the date and amount:
``already refunded on Amazon on 2026-11-30: 19.99 USD item price``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from domain.orders import AmazonOrder, LineCharges
from domain.refunds.components import CHARGED, FIELD_OF, Component
from domain.refunds.model import (
    AmazonRefund,
    Refund,
    RefundKind,
    RefundLine,
    RefundSource,
    RefundState,
)
from domain.refunds.ports import AmazonRefundStore, AmazonRefundUnit, FinancesGateway
from domain.shared import Clock, Money

ALREADY_REFUNDED = "AlreadyRefundedOnAmazon"
# What Finances does not say: Amazon's reason for a refund made in Seller Central.
AMAZON_REASON = "Other"
# Marketplace names Finances gives, for a refund of an order the store has not synced.
MARKETPLACE_IDS = {
    "Amazon.com": "ATVPDKIKX0DER",
    "Amazon.ca": "A2EUQ1WTGCTBG2",
    "Amazon.com.mx": "A1AM78C64UM0Y8",
    "Amazon.co.uk": "A1F83G8C2ARO7P",
    "Amazon.de": "A1PA6795UKMFR9",
    "Amazon.fr": "A13V1IB3VIYZZH",
    "Amazon.it": "APJ6JRA9NG5V4",
    "Amazon.es": "A1RKKUPIHCS9HS",
    "Amazon.co.jp": "A1VC38T7YXB528",
}
_CHARGED_FIELD = {
    Component.ITEM_PRICE: "principal",
    Component.SHIPPING: "shipping",
    Component.TAX: "tax",
    Component.SHIPPING_TAX: "shipping_tax",
    Component.GIFT_WRAP: "gift_wrap",
    Component.GIFT_WRAP_TAX: "gift_wrap_tax",
}

Part = tuple[str, Component, Decimal]  # (order item, component, amount)


# --- values ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SweepPolicy:
    first_look_back: timedelta = timedelta(days=30)
    overlap: timedelta = timedelta(minutes=5)  # read again before the watermark: late posts
    settle: timedelta = timedelta(minutes=2)  # PostedBefore at least this before now


@dataclass(frozen=True, slots=True)
class SweepResult:
    account_id: int
    posted_after: datetime
    posted_before: datetime
    found: int
    recorded: tuple[Refund, ...] = field(default_factory=tuple)


# --- amounts -----------------------------------------------------------------------------------


def _norm(amount: Decimal) -> Decimal:
    return abs(amount).normalize()


def show(money: Money) -> str:
    """``19.99 USD``: two decimals at least, more when the amount has them."""
    amount = money.amount
    cents = amount.quantize(Decimal("0.01"))
    return f"{cents if cents == amount else amount.normalize()} {money.currency}"


def _line_parts(line: RefundLine) -> Iterable[Part]:
    for component, money in line.amounts:
        if money.amount != 0:
            yield (line.order_item_id, component, _norm(money.amount))


def signature(refund: Refund) -> Counter[Part]:
    return Counter(part for line in refund.lines for part in _line_parts(line))


def _item_prices(parts: Counter[Part]) -> Counter[tuple[str, Decimal]]:
    return Counter(
        {(item, amount): n for (item, c, amount), n in parts.items() if c is Component.ITEM_PRICE}
    )


def _items(parts: Counter[Part]) -> frozenset[str]:
    return frozenset(item for item, _, _ in parts)


def _placed(found: AmazonRefund, order: AmazonOrder | None) -> list[str]:
    """Each item's order item id, by its SKU on the order when Amazon gave none."""
    by_sku = {line.sku: line.order_item_id for line in order.lines if line.sku} if order else {}
    return [
        item.order_item_id
        or by_sku.get(item.sku or "")
        or item.sku
        or item.adjustment_item_id
        or ""
        for item in found.items
    ]


def as_refund(
    found: AmazonRefund,
    account_id: int,
    order: AmazonOrder | None,
    marketplaces: Sequence[str],
    now: datetime,
) -> Refund:
    """The store's record of a refund made on Amazon (ids 0: the store gives them)."""
    items = _placed(found, order)
    lines = tuple(
        RefundLine(
            id=0,
            order_item_id=item_id,
            sku=item.sku,
            amounts=tuple(
                (component, Money(_norm(money.amount), money.currency))
                for component, money in item.amounts
                if money.amount != 0
            ),
        )
        for item_id, item in zip(items, found.items, strict=True)
    )
    currencies = [money.currency for item in found.items for _, money in item.amounts]
    currency = currencies[0] if currencies else (order.currency if order else None) or "USD"
    if order is not None:
        marketplace = order.marketplace_id
    else:
        named = MARKETPLACE_IDS.get(found.marketplace_name or "")
        marketplace = named or (marketplaces[0] if marketplaces else "")
    return Refund(
        id=0,
        kind=RefundKind.REFUND,
        source=RefundSource.AMAZON,
        account_id=account_id,
        amazon_order_id=found.amazon_order_id,
        marketplace_id=marketplace,
        platform_id=None,
        reason=AMAZON_REASON,
        currency=currency,
        state=RefundState.CONFIRMED,
        lines=lines,
        fingerprint=hashlib.sha256(found.key.encode()).hexdigest(),
        created_at=now,
        confirmed_at=found.posted_at,
        posted_at=found.posted_at,
    )


# --- matching --------------------------------------------------------------------------------


def _applied_maybe(refund: Refund) -> bool:
    """A store refund Amazon may have applied: confirmed, or in a feed now."""
    return refund.source is RefundSource.STORE and refund.state in (
        RefundState.CONFIRMED,
        RefundState.IN_FEED,
    )


@dataclass(frozen=True, slots=True)
class Matching:
    pairs: tuple[tuple[int, Refund], ...]  # (index of Amazon's refund, the store's refund)
    left: tuple[int, ...]  # indexes of Amazon's refunds the store did not make


def match(
    found: Sequence[AmazonRefund], drafts: Sequence[Refund], ours: Sequence[Refund]
) -> Matching:
    """Pair Amazon's refunds (``found``, with ``drafts`` their records) with the store refunds
    of ``ours`` that account for them (the module's matching rule)."""
    order = sorted(range(len(found)), key=lambda i: (found[i].posted_at, found[i].key))
    mine = sorted((r for r in ours if _applied_maybe(r)), key=lambda r: (r.created_at, r.id))
    signatures = [signature(d) for d in drafts]
    pairs: list[tuple[int, Refund]] = []
    left = list(order)
    for loose in (False, True):
        still = []
        for i in left:
            wanted = signatures[i]
            for k, refund in enumerate(mine):
                theirs = signature(refund)
                if loose:
                    same = _items(theirs) == _items(wanted)
                    same = same and _item_prices(theirs) == _item_prices(wanted)
                else:
                    same = theirs == wanted
                if same:
                    pairs.append((i, refund))
                    del mine[k]
                    break
            else:
                still.append(i)
        left = still
    return Matching(tuple(pairs), tuple(sorted(left)))


# --- what fails ------------------------------------------------------------------------------


def _charged(order: AmazonOrder | None) -> dict[str, LineCharges]:
    if order is None:
        return {}
    return {line.order_item_id: line.charges for line in order.lines if line.charges is not None}


def _posted(refund: Refund) -> str:
    when = refund.posted_at or refund.confirmed_at or refund.created_at
    return f"{when:%Y-%m-%d}"


def _named(refund: Refund, keep: frozenset[tuple[str, Component]] | None = None) -> str:
    parts = [
        f"{show(money)} {FIELD_OF[component].replace('_', ' ')}"
        for line in refund.lines
        for component, money in line.amounts
        if money.amount != 0 and (keep is None or (line.order_item_id, component) in keep)
    ]
    return f"on {_posted(refund)}: {', '.join(parts)}"


def already_refunded(
    amazon_made: Sequence[Refund], keep: frozenset[tuple[str, Component]] | None = None
) -> str:
    """``already refunded on Amazon on 2026-11-30: 19.99 USD item price`` (``keep``: only
    these (order item, component) amounts are named)."""
    return "already refunded on Amazon " + "; ".join(_named(r, keep) for r in amazon_made)


def _add(used: dict[tuple[str, Component], Decimal], refund: Refund) -> None:
    for line in refund.lines:
        for component, money in line.amounts:
            key = (line.order_item_id, component)
            used[key] = used.get(key, Decimal(0)) + money.amount


def failures(
    to_send: Sequence[Refund], refunded: Sequence[Refund], order: AmazonOrder | None
) -> dict[int, str]:
    """The refunds of ``to_send`` that must not go, with the reason (the module's rules)."""
    sending = {r.id for r in to_send}
    counted = [r for r in refunded if r.id not in sending and r.state is not RefundState.FAILED]
    amazon_made = [r for r in counted if r.source is RefundSource.AMAZON]
    used: dict[tuple[str, Component], Decimal] = {}
    for refund in counted:
        _add(used, refund)
    charged = _charged(order)
    taken: set[int] = set()
    failed: dict[int, str] = {}
    for refund in sorted(to_send, key=lambda r: r.id):
        wanted = signature(refund)
        if refund.attempts > 0:
            twin = next(
                (
                    a
                    for a in amazon_made
                    if a.id not in taken
                    and signature(a) == wanted
                    and (a.posted_at or a.created_at) >= refund.created_at
                ),
                None,
            )
            if twin is not None:
                taken.add(twin.id)
                failed[refund.id] = already_refunded([twin])
                continue
        over: set[tuple[str, Component]] = set()
        for line in refund.lines:
            charges = charged.get(line.order_item_id)
            if charges is None:
                continue
            for component, money in line.amounts:
                if component not in CHARGED or money.amount == 0:
                    continue
                key = (line.order_item_id, component)
                limit: Decimal = getattr(charges, _CHARGED_FIELD[component])
                if used.get(key, Decimal(0)) + money.amount > limit:
                    over.add(key)
        culprits = [
            a
            for a in amazon_made
            if any(
                (line.order_item_id, component) in over and money.amount != 0
                for line in a.lines
                for component, money in line.amounts
            )
        ]
        if culprits:
            failed[refund.id] = already_refunded(culprits, frozenset(over))
            continue
        _add(used, refund)
    return failed


# --- the use cases ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recorded:
    order: AmazonOrder | None
    added: tuple[Refund, ...] = ()
    # Amazon's refunds read were only a window's: one of them looks like a store refund not
    # paired yet, and only the order's whole list can tell which of Amazon's refunds is its.
    needs_whole_order: bool = False


def record_amazon_refunds(
    unit: AmazonRefundUnit,
    account_id: int,
    amazon_order_id: str,
    found: Sequence[AmazonRefund],
    now: datetime,
    *,
    whole_order: bool = True,
    not_applied: frozenset[int] = frozenset(),
) -> Recorded:
    """In ``unit`` (the order locked): record Amazon's refunds of one order that the store did
    not make, once, and pair the ones it did make with its confirmed refunds. ``whole_order``:
    ``found`` is every refund Amazon has for the order (else a window of them: nothing is
    written when a pairing would be needed). ``not_applied``: store refunds Amazon is known
    to have refused, which no refund of Amazon's can be."""
    order = unit.lock_order(account_id, amazon_order_id)
    mine = [f for f in found if f.amazon_order_id == amazon_order_id and f.items]
    if not mine:
        return Recorded(order)
    recorded = unit.recorded_keys(account_id, [f.key for f in mine])
    fresh = [f for f in mine if f.key not in recorded]
    if not fresh:
        return Recorded(order)
    marketplaces = unit.marketplaces(account_id) if order is None else ()
    drafts = [as_refund(f, account_id, order, marketplaces, now) for f in fresh]
    paired = unit.paired(account_id, amazon_order_id)
    ours = [
        r
        for r in unit.refunded(account_id, amazon_order_id)
        if r.id not in paired and r.id not in not_applied
    ]
    matching = match(fresh, drafts, ours)
    if matching.pairs and not whole_order:
        return Recorded(order, needs_whole_order=True)
    for i, refund in matching.pairs:
        if refund.state is RefundState.CONFIRMED:
            unit.pair(refund.id, fresh[i].key)
    added = []
    for i in matching.left:
        stored = unit.record_from_amazon(drafts[i], fresh[i])
        if stored is not None:
            added.append(stored)
    return Recorded(order, tuple(added))


def sweep_amazon_refunds(
    account_id: int,
    *,
    finances: FinancesGateway,
    store: AmazonRefundStore,
    clock: Clock,
    policy: SweepPolicy | None = None,
) -> SweepResult:
    """Read the refunds Amazon posted for the account since the watermark (the first time,
    ``first_look_back``; each time from ``overlap`` before it, to at least ``settle`` before
    now) and record the ones the store did not make, once. The watermark moves only after
    everything read was recorded; ``AmazonBusy`` leaves it where it was (the caller retries)."""
    policy = policy or SweepPolicy()
    now = clock.now()
    cursor = store.finance_cursor(account_id)
    start = cursor if cursor is not None else now - policy.first_look_back
    posted_after = start - policy.overlap
    posted_before = now - policy.settle
    if posted_before <= posted_after:
        return SweepResult(account_id, posted_after, posted_before, 0)
    found = finances.refunds_posted(account_id, posted_after, posted_before)
    by_order: dict[str, list[AmazonRefund]] = {}
    for refund in found:
        by_order.setdefault(refund.amazon_order_id, []).append(refund)
    recorded: list[Refund] = []
    for amazon_order_id, of_order in sorted(by_order.items()):
        with store.recording() as unit:
            result = record_amazon_refunds(
                unit, account_id, amazon_order_id, of_order, now, whole_order=False
            )
        if result.needs_whole_order:
            whole = finances.refunds_of_order(account_id, amazon_order_id)
            with store.recording() as unit:
                result = record_amazon_refunds(unit, account_id, amazon_order_id, whole, now)
        recorded.extend(result.added)
    store.save_finance_cursor(
        account_id, posted_before, covered_since=posted_after if cursor is None else None
    )
    return SweepResult(account_id, posted_after, posted_before, len(found), tuple(recorded))

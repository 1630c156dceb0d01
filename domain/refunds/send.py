"""Batching: accepted refunds and cancellations gathered into feed submissions, one per seller,
marketplace and feed type, each refund in one open submission only.

Refunds and partial cancellations go in ``POST_PAYMENT_ADJUSTMENT_DATA`` (an
``AdjustmentMessage`` per refund: ``MessageID`` = the refund's id, each line's id as
``MerchantAdjustmentItemID``, a cancellation's units as ``QuantityCancelled``); whole-order
cancellations in ``POST_ORDER_ACKNOWLEDGEMENT_DATA`` (an ``AcknowledgementMessage``, status
Failure). A batch is taken when it is full, when its oldest refund has waited ``max_wait``, or
when the caller says createFeed's budget has a token for the seller now (a feed that could go
now should not wait for more). Before a batch is built, each of its orders is read in Amazon's
Finances (``before_sending.check_before_sending``): what Amazon refunded already is
recorded, and a refund it makes too much fails instead of going.

The batch itself is one transaction: the refunds are locked and taken (still accepted), the
document rendered from exactly those, the submission stored ``built`` with it, and the refunds
moved to ``in_feed`` in it. Two batchers at once take different refunds, and a batcher killed
anywhere leaves the refunds accepted or all of them in one built submission.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from domain.feeds import (
    AcknowledgementMessage,
    AdjustedItem,
    AdjustmentMessage,
    CancelledItem,
    FeedGateway,
    FeedMessage,
    FeedType,
)
from domain.refunds.before_sending import check_before_sending
from domain.refunds.components import ADJUSTMENT_REASONS, CANCEL_REASONS, KEPT_BACK
from domain.refunds.events import (
    CancellationConfirmed,
    CancellationFailed,
    RefundConfirmed,
    RefundEvent,
    RefundFailed,
)
from domain.refunds.model import Refund, RefundKind
from domain.refunds.ports import (
    AmazonRefundStore,
    BatchKey,
    FinancesGateway,
    PendingBatch,
    RefundSendingStore,
)
from domain.shared import Clock, Money

# A cancellation's CancelReason as the adjustment feed's AdjustmentReason (partial
# cancellations go in that feed).
ADJUSTMENT_FOR_CANCEL = {
    "NoInventory": "NoInventory",
    "ShippingAddressUndeliverable": "CustomerAddressIncorrect",
    "CustomerExchange": "Exchange",
    "BuyerCanceled": "CustomerCancel",
    "GeneralAdjustment": "GeneralAdjustment",
    "CarrierCreditDecision": "CarrierCreditDecision",
    "RiskAssessmentInformationNotValid": "RiskAssessmentInformationNotValid",
    "CarrierCoverageFailure": "CarrierCoverageFailure",
    "CustomerReturn": "CustomerReturn",
    "MerchandiseNotReceived": "Undeliverable",
}


@dataclass(frozen=True, slots=True)
class FlushPolicy:
    max_messages: int = 5000  # per feed
    max_wait: timedelta = timedelta(seconds=10)  # the oldest refund of a batch waits no longer
    # Sweep the account's refunds on Amazon before checking a batch, and read one by one only
    # the orders the sweeps' coverage does not hold (``before_sending``).
    sweep_first: bool = True
    # Per flush, at most this many orders are read one by one only because a refund of theirs
    # was accepted after the sweep's watermark (within Finances' burst of 30); the rest wait
    # for a later batch, checked by the coverage once the watermark has passed them.
    fresh_reads: int = 20


# --- the messages ----------------------------------------------------------------------------


def feed_type_of(refund: Refund) -> FeedType:
    if refund.kind is RefundKind.CANCELLATION and refund.whole_order:
        return FeedType.ACKNOWLEDGEMENT
    return FeedType.ADJUSTMENT


def batch_key(refund: Refund) -> BatchKey:
    return BatchKey(refund.account_id, refund.marketplace_id, feed_type_of(refund))


def _adjustment_reason(refund: Refund) -> str:
    if refund.reason in ADJUSTMENT_REASONS:
        return refund.reason
    return ADJUSTMENT_FOR_CANCEL.get(refund.reason, "Other")


def message_for(refund: Refund) -> FeedMessage:
    """The refund's message in its feed (``feed_type_of``)."""
    if feed_type_of(refund) is FeedType.ACKNOWLEDGEMENT:
        reason = refund.reason if refund.reason in CANCEL_REASONS else "GeneralAdjustment"
        # Every line is listed with the reason: the acknowledgement has no order-level reason,
        # and Amazon counts a cancellation against the seller unless its reason says the buyer
        # asked (BuyerCanceled). Nothing of a whole-order cancellation has shipped (the rules),
        # so listing every line cancels the whole order as leaving them out would.
        cancelled = tuple(CancelledItem(line.order_item_id, reason) for line in refund.lines)
        return AcknowledgementMessage(refund.id, refund.amazon_order_id, reason, cancelled)
    reason = _adjustment_reason(refund)
    cancels = refund.kind is RefundKind.CANCELLATION
    items = tuple(
        AdjustedItem(
            order_item_id=line.order_item_id,
            merchant_adjustment_item_id=str(line.id),
            reason=reason,
            components=tuple(
                (
                    component.value,
                    Money(-money.amount, money.currency) if component in KEPT_BACK else money,
                )
                for component, money in line.amounts
                if money.amount != 0
            ),
            quantity_cancelled=(line.quantity or 0) if cancels else 0,
        )
        for line in refund.lines
    )
    return AdjustmentMessage(refund.id, refund.amazon_order_id, items)


def confirmed_event(refund: Refund) -> RefundEvent:
    """What the platform hears when Amazon applied the refund's message."""
    if refund.kind is RefundKind.CANCELLATION:
        return CancellationConfirmed(refund)
    return RefundConfirmed(refund)


def failed_event(refund: Refund, code: str, message: str) -> RefundEvent:
    """What the platform hears when the refund failed (Amazon's code and text, or ours)."""
    if refund.kind is RefundKind.CANCELLATION:
        return CancellationFailed(refund, code, message)
    return RefundFailed(refund, code, message)


# --- the flush -------------------------------------------------------------------------------


def due(pending: PendingBatch, policy: FlushPolicy, token: bool) -> bool:
    """The flush rule: full, waited long enough, or a createFeed token is free; and never while
    an earlier feed of the key still waits to be created (the refunds join the next one, so a
    spent budget gathers them into one feed rather than a queue of small ones)."""
    if pending.count <= 0 or pending.feed_waiting:
        return False
    return pending.count >= policy.max_messages or pending.waited >= policy.max_wait or token


def build_batch(
    key: BatchKey,
    refunds: Sequence[Refund],
    *,
    store: RefundSendingStore,
    amazon: FeedGateway,
) -> int | None:
    """One submission of these (checked) refunds, in one transaction; None when none of them
    could be taken (another batcher took them, or they changed)."""
    with store.batch() as unit:
        taken = unit.take(key, [refund.id for refund in refunds])
        if not taken:
            return None
        document = amazon.render(key.account_id, key.feed_type, [message_for(r) for r in taken])
        return unit.add_submission(key, document, taken)


def flush(
    *,
    store: RefundSendingStore,
    amazon: FeedGateway,
    finances: FinancesGateway,
    recorder: AmazonRefundStore,
    clock: Clock,
    policy: FlushPolicy | None = None,
    token: Callable[[int], bool] | None = None,
) -> list[int]:
    """Build the submissions that are due (the module's flush rule; ``token(account_id)``:
    whether createFeed's budget has a token for the seller now), as many full ones as there
    are refunds for. The ids of the submissions built, to be ``advance``d. Safe to run twice
    and at once: a refund is taken by one batch only."""
    policy = policy or FlushPolicy()
    built: list[int] = []
    fresh_reads = policy.fresh_reads
    for pending in store.pending():
        has_token = token(pending.key.account_id) if token is not None else False
        if not due(pending, policy, has_token):
            continue
        skip: set[int] = set()
        first = True
        while True:
            candidates = store.candidates(pending.key, policy.max_messages, skip)
            full = len(candidates) >= policy.max_messages
            # After the first batch, only full ones: the rest waits for its own turn.
            if not candidates or not (first or full):
                break
            first = False
            checked = check_before_sending(
                candidates,
                finances=finances,
                store=recorder,
                clock=clock,
                sweep_first=policy.sweep_first,
                fresh_reads=fresh_reads,
            )
            fresh_reads = max(fresh_reads - checked.fresh_read, 0)
            skip.update(refund.id for refund in checked.unchecked)
            submission_id = None
            if checked.sendable:
                submission_id = build_batch(
                    pending.key, checked.sendable, store=store, amazon=amazon
                )
                if submission_id is not None:
                    built.append(submission_id)
            progressed = submission_id is not None or checked.failed
            if not full or checked.unchecked or not progressed:
                break
    return built

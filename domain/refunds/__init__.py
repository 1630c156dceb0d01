"""Refunds and cancellations: made in the store, applied on Amazon through the order feeds once.

A refund names an order's lines and what goes back per component (or a quantity, from which the
amounts are computed); a cancellation stops unshipped units and refunds what they charged. Both
are checked against the order and everything refunded before (by the store and on Amazon), stored
before anything is sent, batched into feeds per seller, marketplace and feed type
(``domain.feeds``), and settled per message from Amazon's processing report.
"""

from domain.refunds.amounts import (
    RefundedBefore,
    amounts_for_quantity,
    minor_digits,
    refunded_before,
    round_money,
)
from domain.refunds.commands import CancelLineRequest, CancelOrder, IssueRefund, RefundLineRequest
from domain.refunds.components import (
    ADJUSTMENT_REASONS,
    CANCEL_REASONS,
    CHARGED,
    FIELD_NAMES,
    FIELD_OF,
    KEPT_BACK,
    Component,
    adjustment_reason,
    cancel_reason,
)
from domain.refunds.events import (
    CancellationConfirmed,
    CancellationFailed,
    RefundConfirmed,
    RefundEvent,
    RefundFailed,
    RefundRecordedFromAmazon,
)
from domain.refunds.intake import (
    accept_cancellation,
    accept_refund,
    refusal_event,
    retry_refund,
)
from domain.refunds.model import (
    TRANSITIONS,
    Accepted,
    AmazonRefund,
    AmazonRefundItem,
    Refund,
    RefundKind,
    RefundLine,
    RefundSource,
    RefundState,
)
from domain.refunds.ports import FinancesGateway, RefundIntakeStore, RefundIntakeUnit, RefundViews
from domain.refunds.rules import check_cancellation, check_refund, order_currency

__all__ = [
    "ADJUSTMENT_REASONS",
    "CANCEL_REASONS",
    "CHARGED",
    "FIELD_NAMES",
    "FIELD_OF",
    "KEPT_BACK",
    "TRANSITIONS",
    "Accepted",
    "AmazonRefund",
    "AmazonRefundItem",
    "CancelLineRequest",
    "CancelOrder",
    "CancellationConfirmed",
    "CancellationFailed",
    "Component",
    "FinancesGateway",
    "IssueRefund",
    "Refund",
    "RefundConfirmed",
    "RefundEvent",
    "RefundFailed",
    "RefundIntakeStore",
    "RefundIntakeUnit",
    "RefundKind",
    "RefundLine",
    "RefundLineRequest",
    "RefundRecordedFromAmazon",
    "RefundSource",
    "RefundState",
    "RefundViews",
    "RefundedBefore",
    "accept_cancellation",
    "accept_refund",
    "adjustment_reason",
    "amounts_for_quantity",
    "cancel_reason",
    "check_cancellation",
    "check_refund",
    "minor_digits",
    "order_currency",
    "refunded_before",
    "refusal_event",
    "retry_refund",
    "round_money",
]

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
from domain.refunds.before_sending import Checked, check_before_sending, explain_failures
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
    rule_errors,
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
from domain.refunds.ports import (
    AmazonRefundStore,
    AmazonRefundUnit,
    BatchKey,
    FinancesGateway,
    PendingBatch,
    ReconnectStore,
    RefundBatchUnit,
    RefundIntakeStore,
    RefundIntakeUnit,
    RefundSendingStore,
    RefundViews,
)
from domain.refunds.reconnect import Approval, ReconnectPlan, Verdict, approve, reconnect_plan
from domain.refunds.record_from_amazon import SweepPolicy, SweepResult, sweep_amazon_refunds
from domain.refunds.rules import check_cancellation, check_refund, order_currency
from domain.refunds.send import FlushPolicy, feed_type_of, flush, message_for

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
    "AmazonRefundStore",
    "AmazonRefundUnit",
    "Approval",
    "BatchKey",
    "CancelLineRequest",
    "CancelOrder",
    "CancellationConfirmed",
    "CancellationFailed",
    "Checked",
    "Component",
    "FinancesGateway",
    "FlushPolicy",
    "IssueRefund",
    "PendingBatch",
    "ReconnectPlan",
    "ReconnectStore",
    "Refund",
    "RefundBatchUnit",
    "RefundConfirmed",
    "RefundEvent",
    "RefundFailed",
    "RefundIntakeStore",
    "RefundIntakeUnit",
    "RefundKind",
    "RefundLine",
    "RefundLineRequest",
    "RefundRecordedFromAmazon",
    "RefundSendingStore",
    "RefundSource",
    "RefundState",
    "RefundViews",
    "RefundedBefore",
    "SweepPolicy",
    "SweepResult",
    "Verdict",
    "accept_cancellation",
    "accept_refund",
    "adjustment_reason",
    "amounts_for_quantity",
    "approve",
    "cancel_reason",
    "check_before_sending",
    "check_cancellation",
    "check_refund",
    "explain_failures",
    "feed_type_of",
    "flush",
    "message_for",
    "minor_digits",
    "order_currency",
    "reconnect_plan",
    "refunded_before",
    "refusal_event",
    "retry_refund",
    "round_money",
    "rule_errors",
    "sweep_amazon_refunds",
]

"""Everything the sandbox remembers: ``SandboxState`` and the records it keeps.

The face of the package: records (``records``), Login with Amazon (``auth``), token buckets
(``buckets``), faults (``faults``), the call log (``calls``), Amazon's clock (``clock``),
pagination tokens (``tokens``), order changes (``orders``), what items were charged and what
Amazon keeps (``charges``), financial events and groups (``finances``), all held together by
``store``; what survives a restart, and its file format (``saved``).
"""

from infra.amazon.sandbox.errors import LwaError, SandboxError
from infra.amazon.sandbox.state.auth import ACCESS_TOKEN_LIFETIME_S
from infra.amazon.sandbox.state.buckets import TokenBucket
from infra.amazon.sandbox.state.calls import CALL_LOG_SIZE, CallRecord
from infra.amazon.sandbox.state.charges import (
    CHARGE_TYPES,
    CHARGED_COMPONENTS,
    COMPONENT_TYPES,
    TAX_COMPONENTS,
    charged,
    line_total,
    money,
    negate,
    shipping_tax,
)
from infra.amazon.sandbox.state.clock import VISIBILITY_LAG, iso, parse_iso, whole_seconds
from infra.amazon.sandbox.state.faults import FAULT_KINDS, Fault
from infra.amazon.sandbox.state.finances import (
    GROUP_PERIOD,
    EventGroup,
    EventItem,
    FinancialEvent,
    period_start,
)
from infra.amazon.sandbox.state.orders import apply_status, deep_merge, settle_fulfillment
from infra.amazon.sandbox.state.records import (
    ADJUSTMENT_SOURCES,
    DEMO_SELLER,
    FEED_PROCESSING_STATUSES,
    FULFILLED_BY,
    FULFILLMENT_STATUSES,
    MARKETPLACES,
    SERVICE_LEVELS,
    FeedResult,
    Marketplace,
    SandboxAdjustment,
    SandboxFeed,
    SandboxFeedDocument,
    SandboxItem,
    SandboxOrder,
    SandboxPackage,
    SellerAccount,
)
from infra.amazon.sandbox.state.store import FIRST_FEED_ID, SandboxState
from infra.amazon.sandbox.state.tokens import PAGINATION_TOKEN_LIFETIME

__all__ = [
    "ACCESS_TOKEN_LIFETIME_S",
    "ADJUSTMENT_SOURCES",
    "CALL_LOG_SIZE",
    "CHARGED_COMPONENTS",
    "CHARGE_TYPES",
    "COMPONENT_TYPES",
    "DEMO_SELLER",
    "FAULT_KINDS",
    "FEED_PROCESSING_STATUSES",
    "FIRST_FEED_ID",
    "FULFILLED_BY",
    "FULFILLMENT_STATUSES",
    "GROUP_PERIOD",
    "MARKETPLACES",
    "PAGINATION_TOKEN_LIFETIME",
    "SERVICE_LEVELS",
    "TAX_COMPONENTS",
    "VISIBILITY_LAG",
    "CallRecord",
    "EventGroup",
    "EventItem",
    "Fault",
    "FeedResult",
    "FinancialEvent",
    "LwaError",
    "Marketplace",
    "SandboxAdjustment",
    "SandboxError",
    "SandboxFeed",
    "SandboxFeedDocument",
    "SandboxItem",
    "SandboxOrder",
    "SandboxPackage",
    "SandboxState",
    "SellerAccount",
    "TokenBucket",
    "apply_status",
    "charged",
    "deep_merge",
    "iso",
    "line_total",
    "money",
    "negate",
    "parse_iso",
    "period_start",
    "settle_fulfillment",
    "shipping_tax",
    "whole_seconds",
]

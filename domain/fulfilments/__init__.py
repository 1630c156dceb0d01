"""Fulfilments: a shipment made in the store, confirmed on Amazon with the same date, once.

A fulfilment is one package (one tracking number). The platform asks for it through any door
(HTTP, queue, CLI); all of them call ``accept_fulfilment``, which checks it against the order as
the store knows it and stores it before anything goes to Amazon. ``confirm_fulfilment`` then sends
it with ``confirmShipment`` under a lease, with the fulfilment's id as ``packageReferenceId``: a
resend (a lost response, a crash, a duplicate message) edits the same package on Amazon and never
adds a second one. ``read_back_pending`` reads Amazon's view later when the confirmation could not
wait for it, and ``check_deadlines`` warns before a ship-by date passes.
"""

from domain.fulfilments.carriers import AMAZON_CARRIER_CODES, OTHER_CARRIER, amazon_carrier_code
from domain.fulfilments.commands import LineRequest, RequestFulfilment
from domain.fulfilments.confirm import (
    MAX_ATTEMPTS,
    SWEEP_AFTER_TRANSIENT,
    ConfirmResult,
    Outcome,
    confirm_fulfilment,
)
from domain.fulfilments.deadlines import DeadlineReport, check_deadlines, deadline_kind, late_orders
from domain.fulfilments.errors import (
    AmazonUnavailable,
    FulfilmentError,
    IllegalTransition,
    InvalidRequest,
    ShipmentRejected,
)
from domain.fulfilments.events import (
    FulfilmentConfirmed,
    FulfilmentFailed,
    FulfilmentRefused,
    ShipByApproaching,
    ShipByEvent,
    ShipByMissed,
    ship_by_event,
)
from domain.fulfilments.intake import (
    SWEEP_AFTER,
    accept_fulfilment,
    retry_fulfilment,
    rule_errors,
)
from domain.fulfilments.model import (
    TRANSITIONS,
    Accepted,
    DeadlineAlert,
    DeadlineKind,
    Fulfilment,
    FulfilmentState,
    ItemSnapshot,
    NewFulfilment,
    OpenOrder,
    OrderSnapshot,
    Package,
    PackageLine,
    PendingReadBack,
    ReadBack,
    can_claim,
    check_transition,
    package_for,
)
from domain.fulfilments.ports import (
    DeadlineStore,
    FulfilmentStore,
    FulfilmentViews,
    IntakeStore,
    IntakeUnit,
    ReadBackStore,
    ShipmentGateway,
)
from domain.fulfilments.read_back import READ_BACK_GIVE_UP, READ_BACK_RETRY, read_back_pending
from domain.fulfilments.rules import SHIP_TIME_SKEW, check_fulfilment, urgency
from domain.shared import FieldError, Rejected

__all__ = [
    "AMAZON_CARRIER_CODES",
    "MAX_ATTEMPTS",
    "OTHER_CARRIER",
    "READ_BACK_GIVE_UP",
    "READ_BACK_RETRY",
    "SHIP_TIME_SKEW",
    "SWEEP_AFTER",
    "SWEEP_AFTER_TRANSIENT",
    "TRANSITIONS",
    "Accepted",
    "AmazonUnavailable",
    "ConfirmResult",
    "DeadlineAlert",
    "DeadlineKind",
    "DeadlineReport",
    "DeadlineStore",
    "FieldError",
    "Fulfilment",
    "FulfilmentConfirmed",
    "FulfilmentError",
    "FulfilmentFailed",
    "FulfilmentRefused",
    "FulfilmentState",
    "FulfilmentStore",
    "FulfilmentViews",
    "IllegalTransition",
    "IntakeStore",
    "IntakeUnit",
    "InvalidRequest",
    "ItemSnapshot",
    "LineRequest",
    "NewFulfilment",
    "OpenOrder",
    "OrderSnapshot",
    "Outcome",
    "Package",
    "PackageLine",
    "PendingReadBack",
    "ReadBack",
    "ReadBackStore",
    "Rejected",
    "RequestFulfilment",
    "ShipByApproaching",
    "ShipByEvent",
    "ShipByMissed",
    "ShipmentGateway",
    "ShipmentRejected",
    "accept_fulfilment",
    "amazon_carrier_code",
    "can_claim",
    "check_deadlines",
    "check_fulfilment",
    "check_transition",
    "confirm_fulfilment",
    "deadline_kind",
    "late_orders",
    "package_for",
    "read_back_pending",
    "retry_fulfilment",
    "rule_errors",
    "ship_by_event",
    "urgency",
]

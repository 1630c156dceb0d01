"""The fulfilment store's statements, written once with SQLAlchemy Core and bound parameters
and compiled at import (``infra.db.sql.compiled``): the hot paths (intake, claim, confirmation)
run them on psycopg's cursor in the caller's transaction. Building an ORM statement per call, or
even running a prebuilt one through SQLAlchemy's execution layer, cost more CPU than PostgreSQL
spent on it. The rare paths (reopen, rejections, the sweeper, listings) keep the ORM.

The states each UPDATE accepts come from the domain's machine (``transitions``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Integer,
    Interval,
    Select,
    String,
    and_,
    any_,
    bindparam,
    case,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert

from domain.fulfilments import FulfilmentState
from infra.db.fulfilments import transitions as moves
from infra.db.fulfilments.transitions import Move, in_states
from infra.db.sql.compiled import Compiled
from infra.db.tables import Fulfilment as FulfilmentRow
from infra.db.tables import FulfilmentLine, Order, OrderItem, SellerAccount, reaches_amazon

_IN_FLIGHT = (FulfilmentState.ACCEPTED.value, FulfilmentState.SENDING.value)

_TABLES = FulfilmentRow.metadata.tables
F = _TABLES[FulfilmentRow.__tablename__]
_L = _TABLES[FulfilmentLine.__tablename__]
_O = _TABLES[Order.__tablename__]
_I = _TABLES[OrderItem.__tablename__]
_A = _TABLES[SellerAccount.__tablename__]


def later(name: str) -> Any:
    """now() plus an interval given as a timedelta parameter."""
    return func.now() + bindparam(name, type_=Interval())


def line_columns(lines: Any) -> list[Any]:
    """A line's columns (of the table or a CTE) as ``_fulfilments`` reads them."""
    return [
        lines.c.id.label("line_id"),
        lines.c.order_item_id.label("line_order_item_id"),
        lines.c.quantity.label("line_quantity"),
        lines.c.sku.label("line_sku"),
    ]


def with_lines(fulfilments: Any) -> Select[Any]:
    """Fulfilments (a table or a CTE) with their order's fields and their lines: one row per
    line (outer join), in (fulfilment id, line id) order."""
    return (
        select(
            fulfilments,
            _O.c.marketplace_id.label("order_marketplace_id"),
            _O.c.ship_by_latest.label("order_ship_by_latest"),
            *line_columns(_L),
        )
        .join_from(fulfilments, _O, _O.c.id == fulfilments.c.order_id)
        .outerjoin(_L, _L.c.fulfilment_id == fulfilments.c.id)
        .order_by(fulfilments.c.id, _L.c.id)
    )


LOAD_BY_ID = Compiled(with_lines(F).where(F.c.id == bindparam("p_id")))
LOAD_BY_PLATFORM_ID = Compiled(
    with_lines(F).where(
        F.c.account_id == bindparam("p_account_id"),
        F.c.platform_fulfilment_id == bindparam("p_platform_fulfilment_id"),
    )
)
ACCOUNT_BY_ID = Compiled(select(_A.c.id).where(_A.c.id == bindparam("p_id")))
ACCOUNT_BY_NAME = Compiled(select(_A.c.id).where(_A.c.name == bindparam("p_name")))
LOCK_ORDER = Compiled(
    select(
        _O.c.id,
        _O.c.account_id,
        _O.c.amazon_order_id,
        _O.c.marketplace_id,
        _O.c.status,
        _O.c.fulfilled_by,
        _O.c.purchased_at,
        _O.c.ship_by_latest,
        _O.c.buyer_cancel_requested,
        _O.c.buyer_cancel_reason,
    )
    .where(
        _O.c.account_id == bindparam("p_account_id"),
        _O.c.amazon_order_id == bindparam("p_amazon_order_id"),
    )
    .with_for_update()
)
# Each order's items with Amazon's shipped count and ours: confirmed, and in flight. A statement
# of its own after ``LOCK_ORDER``: a statement that waited for the order's lock still reads with
# the snapshot it started with, and would miss a fulfilment committed while it waited.
ITEMS = Compiled(
    select(
        _I.c.order_id,
        _I.c.order_item_id,
        _I.c.sku,
        _I.c.quantity_ordered,
        _I.c.quantity_shipped,
        _I.c.cancel_requested,
        func.coalesce(
            func.sum(_L.c.quantity).filter(F.c.state == FulfilmentState.CONFIRMED.value), 0
        ).label("confirmed"),
        # (the states spelled out: an IN list would be expanded at every execution)
        func.coalesce(
            func.sum(_L.c.quantity).filter(or_(*(F.c.state == state for state in _IN_FLIGHT))),
            0,
        ).label("pending"),
    )
    .select_from(
        _I.outerjoin(
            F,
            and_(F.c.order_id == _I.c.order_id, F.c.state != FulfilmentState.FAILED.value),
        ).outerjoin(
            _L, and_(_L.c.fulfilment_id == F.c.id, _L.c.order_item_id == _I.c.order_item_id)
        )
    )
    .where(_I.c.order_id == any_(bindparam("p_order_ids", type_=ARRAY(BigInteger()))))
    .group_by(_I.c.id)
    .order_by(_I.c.id)
)
_added = (
    insert(F)
    .values(
        account_id=bindparam("p_account_id"),
        order_id=bindparam("p_order_id"),
        amazon_order_id=bindparam("p_amazon_order_id"),
        platform_fulfilment_id=bindparam("p_platform_fulfilment_id"),
        fingerprint=bindparam("p_fingerprint"),
        state=FulfilmentState.ACCEPTED.value,
        shipped_at=bindparam("p_shipped_at"),
        carrier_code=bindparam("p_carrier_code"),
        carrier_name=bindparam("p_carrier_name"),
        shipping_method=bindparam("p_shipping_method"),
        tracking_number=bindparam("p_tracking_number"),
        cancellation_request_reviewed=bindparam("p_reviewed"),
        next_attempt_at=later("p_sweep_after"),
    )
    .on_conflict_do_nothing(index_elements=[F.c.account_id, F.c.platform_fulfilment_id])
    .returning(*F.c)
    .cte("added")
)
_new_lines = (
    func.unnest(
        bindparam("p_line_item_ids", type_=ARRAY(String())),
        bindparam("p_line_skus", type_=ARRAY(String())),
        bindparam("p_line_quantities", type_=ARRAY(Integer())),
    )
    .table_valued("order_item_id", "sku", "quantity")
    .render_derived()
)
_added_lines = (
    insert(_L)
    .from_select(
        ["fulfilment_id", "order_item_id", "sku", "quantity"],
        select(
            _added.c.id, _new_lines.c.order_item_id, _new_lines.c.sku, _new_lines.c.quantity
        ).select_from(_added.join(_new_lines, true())),
    )
    .returning(*_L.c)
    .cte("added_lines")
)
# The fulfilment and its lines in one statement (nothing when the platform_fulfilment_id is
# taken): one row per line, as stored.
ADD = Compiled(
    select(_added, *line_columns(_added_lines))
    .select_from(_added.outerjoin(_added_lines, true()))
    .order_by(_added_lines.c.id)
)
SENDING = FulfilmentState.SENDING.value
# A lease the claimant may take: none, or one that ran out (its worker died or stalled). Never a
# live one, whoever asks: the owner is one attempt's fresh token, and a redelivered copy of a
# message (the same task id) may meet its first copy still running. The domain's ``can_claim``.
_LEASE_FREE = or_(F.c.lease_until.is_(None), F.c.lease_until <= func.now())
# Nothing is sent for a disconnected account: its fulfilments wait, accepted, until it is
# reconnected (then the sweeper sends them).
_CONNECTED = F.c.account_id.in_(select(SellerAccount.id).where(reaches_amazon()).scalar_subquery())
# accepted, or sending under a lease that ran out -> sending. ``next_attempt_at`` is cleared: the
# sweeper takes a ``sending`` fulfilment back as soon as its lease runs out (its attempt died),
# and pushes ``next_attempt_at`` on only when it has queued it again.
CLAIM = Compiled(
    with_lines(
        update(F)
        .where(
            F.c.id == bindparam("p_id"),
            _CONNECTED,
            or_(
                *(
                    and_(F.c.state == state.value, _LEASE_FREE)
                    if state is FulfilmentState.SENDING
                    else F.c.state == state.value
                    for state in sorted(moves.CLAIM.sources)
                )
            ),
        )
        .values(
            state=moves.CLAIM.target.value,
            attempts=F.c.attempts + 1,
            lease_owner=bindparam("p_owner"),
            lease_until=later("p_lease"),
            next_attempt_at=None,
            updated_at=func.now(),
        )
        .returning(*F.c)
        .cte("claimed")
    )
)


def fenced(move: Move) -> ColumnElement[bool]:
    """The fulfilment, in a state ``move`` leaves, under this owner's lease: a worker whose
    lease was taken over records nothing."""
    return and_(
        F.c.id == bindparam("p_id"),
        in_states(F.c.state, move.sources),
        F.c.lease_owner == bindparam("p_owner"),
    )


# The heartbeat's renewal and the check right before a call to Amazon: only this attempt's own
# lease, in sending, is pushed on (one that ran out but that nobody took yet is still its own).
RENEW = Compiled(
    update(F)
    .where(
        F.c.id == bindparam("p_id"),
        F.c.state == SENDING,
        F.c.lease_owner == bindparam("p_owner"),
    )
    .values(lease_until=later("p_lease"))
    .returning(F.c.id)
)
# An attempt that ends without an outcome lets its lease go at once, the state unchanged.
LET_GO = Compiled(
    update(F)
    .where(
        F.c.id == bindparam("p_id"),
        F.c.state == SENDING,
        F.c.lease_owner == bindparam("p_owner"),
    )
    .values(lease_until=func.now(), updated_at=func.now())
    .returning(F.c.id)
)
RELEASE = Compiled(
    update(F)
    .where(fenced(moves.RELEASE))
    .values(
        state=moves.RELEASE.target.value,
        lease_owner=None,
        lease_until=None,
        next_attempt_at=later("p_retry_in"),
        last_error=bindparam("p_error"),
        updated_at=func.now(),
    )
    .returning(F.c.id)
)
CONFIRM = Compiled(
    update(F)
    .where(fenced(moves.CONFIRM))
    .values(
        state=moves.CONFIRM.target.value,
        lease_owner=None,
        lease_until=None,
        next_attempt_at=None,
        last_error=None,
        confirmed_at=func.now(),
        amazon_order_status=bindparam("p_order_status"),
        amazon_package_status=bindparam("p_package_status"),
        amazon_checked_at=case((bindparam("p_read", type_=Boolean()), func.now()), else_=None),
        read_back_due_at=case(
            (bindparam("p_deferred", type_=Boolean()), later("p_read_back_in")), else_=None
        ),
        updated_at=func.now(),
    )
    # now() is the transaction's start time: the read-back is checked against it.
    .returning(func.now())
)
CONFIRMED = FulfilmentState.CONFIRMED.value
# The pending read-back due longest ago, not of a seller whose budget is spent nor of a
# disconnected account, pushed on by the lease so that a concurrent run skips it.
CLAIM_READ_BACK = Compiled(
    update(F)
    .where(
        F.c.id
        == select(F.c.id)
        .where(
            F.c.read_back_due_at <= func.now(),
            F.c.state == CONFIRMED,
            F.c.account_id != func.all_(bindparam("p_skip", type_=ARRAY(BigInteger()))),
            _CONNECTED,
        )
        .order_by(F.c.read_back_due_at)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    .values(read_back_due_at=later("p_lease"))
    .returning(F.c.id, F.c.account_id, F.c.amazon_order_id, F.c.confirmed_at)
)
DEFER_READ_BACK = Compiled(
    update(F)
    .where(F.c.id == bindparam("p_id"), F.c.read_back_due_at.is_not(None))
    .values(
        read_back_due_at=case(
            (bindparam("p_give_up", type_=Boolean()), None), else_=later("p_retry_in")
        ),
        last_error=bindparam("p_error"),
        updated_at=func.now(),
    )
)
RECORD_READ_BACK = Compiled(
    update(F)
    .where(F.c.id == bindparam("p_id"), F.c.read_back_due_at.is_not(None))
    .values(
        amazon_order_status=bindparam("p_order_status"),
        amazon_package_status=bindparam("p_package_status"),
        amazon_checked_at=case((bindparam("p_read", type_=Boolean()), func.now()), else_=None),
        read_back_due_at=None,
        last_error=bindparam("p_error"),
        updated_at=func.now(),
    )
    .returning(func.now())
)

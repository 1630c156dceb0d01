"""The refund intake's statements, written once with SQLAlchemy Core and bound parameters and
compiled at import (``infra.db.sql.compiled``), run in the caller's transaction.

The states an UPDATE accepts come from the domain's machine (``domain.refunds.TRANSITIONS``),
never written by hand.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from domain.refunds import TRANSITIONS, RefundState
from infra.db.refunds.rows import R
from infra.db.sql.compiled import Compiled
from infra.db.tables import Order, SellerAccount

_O = R.metadata.tables[Order.__tablename__]
_A = R.metadata.tables[SellerAccount.__tablename__]


def sources_of(target: RefundState, among: frozenset[RefundState]) -> frozenset[RefundState]:
    """``among``, checked to be states the machine lets move to ``target``."""
    allowed = frozenset(state for state, nexts in TRANSITIONS.items() if target in nexts)
    if not among <= allowed:
        raise AssertionError(f"a refund cannot go from {sorted(among - allowed)} to {target}")
    return among


REOPEN_FROM = sources_of(RefundState.ACCEPTED, frozenset({RefundState.FAILED}))

ACCOUNT_BY_ID = Compiled(select(_A.c.id).where(_A.c.id == bindparam("p_id")))
ACCOUNT_BY_NAME = Compiled(select(_A.c.id).where(_A.c.name == bindparam("p_name")))
ACCOUNT_CONNECTED = Compiled(select(_A.c.connected).where(_A.c.id == bindparam("p_id")))
LOCK_ORDER = Compiled(
    select(_O)
    .where(
        _O.c.account_id == bindparam("p_account_id"),
        _O.c.amazon_order_id == bindparam("p_amazon_order_id"),
    )
    .with_for_update()
)
# The order's refunds not failed. A statement of its own after ``LOCK_ORDER``: one that waited
# for the order's lock still reads with the snapshot it started with, and would miss a refund
# committed while it waited.
REFUNDED = Compiled(
    select(R)
    .where(
        R.c.account_id == bindparam("p_account_id"),
        R.c.amazon_order_id == bindparam("p_amazon_order_id"),
        R.c.state != RefundState.FAILED.value,
    )
    .order_by(R.c.id)
)
BY_PLATFORM_ID = Compiled(
    select(R).where(
        R.c.account_id == bindparam("p_account_id"),
        R.c.kind == bindparam("p_kind"),
        R.c.platform_id == bindparam("p_platform_id"),
    )
)
_ORDER_ID = (
    select(_O.c.id)
    .where(
        _O.c.account_id == bindparam("p_account_id"),
        _O.c.amazon_order_id == bindparam("p_amazon_order_id"),
    )
    .scalar_subquery()
)
# The refund (nothing when its platform id is taken), its order's row id looked up in place.
ADD = Compiled(
    insert(R)
    .values(
        kind=bindparam("p_kind"),
        source=bindparam("p_source"),
        account_id=bindparam("p_account_id"),
        order_id=_ORDER_ID,
        amazon_order_id=bindparam("p_amazon_order_id"),
        marketplace_id=bindparam("p_marketplace_id"),
        platform_id=bindparam("p_platform_id"),
        fingerprint=bindparam("p_fingerprint"),
        reason=bindparam("p_reason"),
        currency=bindparam("p_currency"),
        whole_order=bindparam("p_whole_order"),
        state=bindparam("p_state"),
        # accepted: the batcher may take it now; held: nothing is sent until reconnected
        next_attempt_at=func.now(),
    )
    .on_conflict_do_nothing(index_elements=[R.c.account_id, R.c.kind, R.c.platform_id])
    .returning(*R.c)
)
REOPEN = Compiled(
    update(R)
    .where(
        R.c.id == bindparam("p_id"),
        or_(*(R.c.state == state.value for state in sorted(REOPEN_FROM))),
    )
    .values(
        state=RefundState.ACCEPTED.value,
        submission_id=None,
        attempts=0,
        next_attempt_at=func.now(),
        last_error=None,
        failure_code=None,
        failure_reason=None,
        failed_at=None,
        updated_at=func.now(),
    )
    .returning(R.c.id)
)

"""Before a fulfilment, refund or cancellation is checked against its order: an order stored
from an order report (``backfill --via reports``) has made-up item ids (``R:<sku>``), which must
never reach Amazon. So its items are read from Amazon first, transparently: one ``getOrder``
(through the seller's shared budget, impatient: a spent budget or an Amazon error does not hold
the request) stored through the sync's own upsert, which replaces the report's copy and its
lines. The request is then checked against Amazon's ids. When Amazon cannot answer now, the
rules refuse it, naming the field and the reason (``domain.orders.STAND_IN_ITEMS``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from domain.notifications import OrderUnreadable, ReadLater
from infra.db.accounts import AccountError, get_account
from infra.db.ingestion import from_report
from workers import bootstrap
from workers.doors.limits import BIGINT_MAX, ascii_id, text_problem

log = logging.getLogger(__name__)


def read_stand_in_items(data: Any) -> bool:
    """For a request's body (read or not): when its order's stored items are a report's, read
    them from Amazon and store them. True when the order was read and stored."""
    if not isinstance(data, Mapping):
        return False
    ref, amazon_order_id = data.get("account"), data.get("amazon_order_id")
    if not _lookable(ref, 100) or not _lookable(amazon_order_id, 40):
        return False  # the model refuses it, with its reason
    assert isinstance(ref, str | int) and isinstance(amazon_order_id, str)
    return read_items(ref.strip() if isinstance(ref, str) else ref, amazon_order_id.strip())


def _lookable(value: Any, limit: int) -> bool:
    """An account name or id, or an order id, the store can look up as it is."""
    if isinstance(value, int) and not isinstance(value, bool):
        return 1 <= value <= BIGINT_MAX
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        return False
    if text_problem(value) is not None:
        return False
    return not (value.strip().isdigit() and ascii_id(value.strip()) is None)


def read_items(account_ref: str | int, amazon_order_id: str) -> bool:
    """The order read from Amazon and stored if its stored copy came from a report."""
    c = bootstrap.container()
    try:
        account = get_account(c.sessions, account_ref)
    except AccountError:
        return False  # the rules say so, with every other reason
    if not from_report(c.engine, account.id, amazon_order_id):
        return False
    try:
        order = c.order_reader.get_order(account.id, amazon_order_id)
    except (ReadLater, OrderUnreadable) as exc:
        log.warning(
            "an order from an order report could not be read from Amazon: its items stay "
            "stand-ins, and the request is refused",
            extra={"account_id": account.id, "amazon_order_id": amazon_order_id, "error": str(exc)},
        )
        return False
    with c.engine.begin() as conn:
        c.ingestion_store.upsert_orders(conn, account.id, [order])
    log.info(
        "an order from an order report read from Amazon: its items are Amazon's now",
        extra={"account_id": account.id, "amazon_order_id": amazon_order_id},
    )
    return True

"""Requests from the queue that were refused: kept once per distinct request with the reasons
(nobody waits for an answer on a queue), each new one told to the platform as
``refunds/failed`` or ``cancellations/failed`` in the same transaction."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from domain.refunds import RefundKind, refusal_event
from domain.shared import Rejected
from infra.db.jsonb import storable
from infra.db.refunds.base import StoreBase
from infra.db.refunds.intake import SqlRefundIntakeUnit
from infra.db.sql.upserts import WAS_INSERTED
from infra.db.tables import RejectedRefund

log = logging.getLogger(__name__)

_PLATFORM_ID = {
    RefundKind.REFUND: "platform_refund_id",
    RefundKind.CANCELLATION: "platform_cancellation_id",
}


def _short(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if value is not None else None


def rejection_digest(kind: RefundKind, request: Mapping[str, Any]) -> str:
    """One per distinct request of one kind (the same body as a refund and as a cancellation
    are two requests)."""
    data = json.dumps(
        {"kind": kind.value, "request": request},
        sort_keys=True,
        default=str,
        separators=(",", ":"),
    )
    return hashlib.sha256(data.encode()).hexdigest()


class RejectionsMixin(StoreBase):
    def record_rejection(
        self, kind: RefundKind, request: Mapping[str, Any], rejected: Rejected
    ) -> bool:
        digest = rejection_digest(kind, request)
        errors = [{"field": e.field, "reason": e.reason} for e in rejected.errors]
        account_ref = request.get("account")
        amazon_order_id = request.get("amazon_order_id")
        platform_id = request.get(_PLATFORM_ID[kind])

        with self.sessions.begin() as session:
            conn = session.connection()
            account_id = (
                SqlRefundIntakeUnit(conn).account_id(str(account_ref))
                if isinstance(account_ref, str | int) and str(account_ref)
                else None
            )
            stmt = insert(RejectedRefund).values(
                request_hash=digest,
                kind=kind.value,
                account_id=account_id,
                account_ref=_short(account_ref, 100),
                amazon_order_id=_short(amazon_order_id, 40),
                platform_id=_short(platform_id, 100),
                errors=storable(errors),
                request=storable(dict(request)),
            )
            inserted, seen_at = session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[RejectedRefund.request_hash],
                    set_={
                        "times_seen": RejectedRefund.times_seen + 1,
                        "last_seen_at": func.now(),
                    },
                ).returning(WAS_INSERTED, RejectedRefund.last_seen_at)
            ).one()
            if not inserted:
                return False
            event = refusal_event(
                kind, request, rejected, account_id=account_id, digest=digest, at=seen_at
            )
            self._append(conn, [event])
        log.warning(
            "%s request refused",
            kind.value,
            extra={"platform_id": _short(platform_id, 100), "reason": rejected.message[:500]},
        )
        return True

    def rejections(self, kind: RefundKind | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Requests from the queue that were refused, newest first."""
        query = select(RejectedRefund).order_by(RejectedRefund.last_seen_at.desc()).limit(limit)
        if kind is not None:
            query = query.where(RejectedRefund.kind == kind.value)
        with self.sessions() as session:
            return [
                {
                    "id": row.id,
                    "kind": row.kind,
                    "account": row.account_ref,
                    "amazon_order_id": row.amazon_order_id,
                    "platform_id": row.platform_id,
                    "errors": row.errors,
                    "times_seen": row.times_seen,
                    "last_seen_at": row.last_seen_at,
                }
                for row in session.scalars(query)
            ]

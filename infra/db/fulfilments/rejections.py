"""Requests from the queue that were refused: kept once per distinct request with the reasons
(nobody waits for an answer on a queue), each new one told to the platform."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from domain.fulfilments import Rejected
from domain.fulfilments.events import FulfilmentRefused
from infra.db.fulfilments.base import StoreBase
from infra.db.fulfilments.intake import SqlIntakeUnit
from infra.db.idempotency import request_hash
from infra.db.sql.upserts import WAS_INSERTED
from infra.db.tables import RejectedFulfilment

log = logging.getLogger(__name__)


def _short(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if value is not None else None


class RejectionsMixin(StoreBase):
    def record_rejection(self, request: Mapping[str, Any], rejected: Rejected) -> bool:
        digest = request_hash(request)
        errors = [{"field": e.field, "reason": e.reason} for e in rejected.errors]
        account_ref = request.get("account")
        amazon_order_id = request.get("amazon_order_id")
        platform_id = request.get("platform_fulfilment_id")

        with self.sessions.begin() as session:
            account_id = (
                SqlIntakeUnit(session.connection()).account_id(str(account_ref))
                if isinstance(account_ref, str | int) and str(account_ref)
                else None
            )
            stmt = insert(RejectedFulfilment).values(
                request_hash=digest,
                account_id=account_id,
                account_ref=_short(account_ref, 100),
                amazon_order_id=_short(amazon_order_id, 40),
                platform_fulfilment_id=_short(platform_id, 100),
                errors=errors,
                request=dict(request),
            )
            inserted = session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[RejectedFulfilment.request_hash],
                    set_={
                        "times_seen": RejectedFulfilment.times_seen + 1,
                        "last_seen_at": func.now(),
                    },
                ).returning(WAS_INSERTED)
            ).scalar_one()
            if not inserted:
                return False
            refused = FulfilmentRefused(
                account_ref=_short(account_ref, 100),
                account_id=account_id,
                amazon_order_id=_short(amazon_order_id, 40),
                platform_fulfilment_id=_short(platform_id, 100),
                rejected=rejected,
                request_digest=digest,
                order_ref=str(amazon_order_id) if amazon_order_id is not None else None,
            )
            self._append(session.connection(), [refused])
        log.warning(
            "fulfilment request refused",
            extra={"platform_fulfilment_id": _short(platform_id, 100), "reason": rejected.message},
        )
        return True

    def rejections(self, limit: int = 50) -> list[dict[str, Any]]:
        """Requests from the queue that were refused, newest first."""
        with self.sessions() as session:
            return [
                {
                    "id": row.id,
                    "account": row.account_ref,
                    "amazon_order_id": row.amazon_order_id,
                    "platform_fulfilment_id": row.platform_fulfilment_id,
                    "errors": row.errors,
                    "times_seen": row.times_seen,
                    "last_seen_at": row.last_seen_at,
                }
                for row in session.scalars(
                    select(RejectedFulfilment)
                    .order_by(RejectedFulfilment.last_seen_at.desc())
                    .limit(limit)
                )
            ]

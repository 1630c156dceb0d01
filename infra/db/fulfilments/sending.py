"""Sending under a lease: the claim (committed before the call to Amazon), and the outcomes a
lease holder records with their events (confirmed, failed, or given back for a retry).

Every state change is one conditional UPDATE fenced by the lease owner, so two workers, a
duplicated message or a late beat tick can never both win. Times of leases come from
PostgreSQL's ``now()`` (one clock for every worker).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, update

from domain.fulfilments import Fulfilment, FulfilmentState, ReadBack
from domain.fulfilments.events import FulfilmentConfirmed, FulfilmentFailed
from infra.db.fulfilments.read_back import ReadBackMixin
from infra.db.fulfilments.rows import fulfilments_of, load_one
from infra.db.fulfilments.statements import CLAIM, CONFIRM, LET_GO, RELEASE, RENEW, F, fenced
from infra.db.fulfilments.transitions import CONFIRM as CONFIRM_MOVE
from infra.db.fulfilments.transitions import FAIL

log = logging.getLogger(__name__)


class SendingMixin(ReadBackMixin):
    def claim(self, fulfilment_id: int, owner: str, lease: timedelta) -> Fulfilment | None:
        with self.engine.begin() as conn:
            found = fulfilments_of(
                CLAIM.all(conn, {"p_id": fulfilment_id, "p_owner": owner, "p_lease": lease})
            )
        return found[0] if found else None

    def renew_lease(self, fulfilment_id: int, owner: str, lease: timedelta) -> bool:
        with self.engine.begin() as conn:
            renewed = RENEW.scalar(
                conn, {"p_id": fulfilment_id, "p_owner": owner, "p_lease": lease}
            )
        return renewed is not None

    def let_go(self, fulfilment_id: int, owner: str) -> bool:
        with self.engine.begin() as conn:
            gone = LET_GO.scalar(conn, {"p_id": fulfilment_id, "p_owner": owner})
        return gone is not None

    def release(self, fulfilment_id: int, owner: str, retry_in: timedelta, error: str) -> bool:
        with self.engine.begin() as conn:
            released = RELEASE.scalar(
                conn,
                {
                    "p_id": fulfilment_id,
                    "p_owner": owner,
                    "p_retry_in": retry_in,
                    "p_error": error[:2000],
                },
            )
        return released is not None

    def record_confirmed(self, fulfilment: Fulfilment, owner: str, read_back: ReadBack) -> bool:
        order = read_back.order
        with self.engine.begin() as conn:
            now = CONFIRM.scalar(
                conn,
                {
                    "p_id": fulfilment.id,
                    "p_owner": owner,
                    "p_order_status": order.status.value if order is not None else None,
                    "p_package_status": read_back.package_status,
                    "p_read": order is not None,
                    "p_deferred": read_back.deferred,
                    "p_read_back_in": read_back.retry_after or timedelta(0),
                },
            )
            if now is None:
                return False
            confirmed = replace(fulfilment, state=CONFIRM_MOVE.target, last_error=None)
            if order is not None:
                self._store_read_back(
                    conn,
                    fulfilment.id,
                    fulfilment.account_id,
                    fulfilment.amazon_order_id,
                    order,
                    now,
                )
            self._append(conn, [FulfilmentConfirmed(confirmed, read_back)])
        return True

    def record_failed(self, fulfilment_id: int, owner: str, code: str, message: str) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(F)
                .where(fenced(FAIL))
                .values(
                    state=FAIL.target.value,
                    lease_owner=None,
                    lease_until=None,
                    next_attempt_at=None,
                    failure_code=code[:100],
                    failure_reason=message[:2000],
                    last_error=message[:2000],
                    failed_at=func.now(),
                    updated_at=func.now(),
                )
                .returning(F.c.id),
                {"p_id": fulfilment_id, "p_owner": owner},
            ).scalar_one_or_none()
            if done is None:
                return False
            fulfilment = load_one(conn, fulfilment_id)
            assert fulfilment is not None and fulfilment.state is FulfilmentState.FAILED
            self._append(conn, [FulfilmentFailed(fulfilment, code, message)])
        log.warning(
            "fulfilment failed",
            extra={"fulfilment_id": fulfilment_id, "code": code, "reason": message[:500]},
        )
        return True

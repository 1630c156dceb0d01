"""What the operator page's buttons do: the same functions as the CLI's ``fulfilments retry``,
``refunds retry`` and the API's ``POST /v1/accounts/{account}/approvals``; each answers one
line saying what happened (the page shows it). Each is safe to press twice: a second retry
says it was retried already, a second approval finds nothing left to approve."""

from __future__ import annotations

from domain.refunds.reconnect import approve
from domain.shared import Rejected
from infra.db.accounts import AccountError, get_account
from workers import bootstrap
from workers.doors import fulfilments as fulfilment_door
from workers.doors.fulfilments.queueing import TaskSender
from workers.doors.limits import ascii_id
from workers.doors.refunds import enqueue_flush
from workers.doors.refunds import intake as refund_door

DECISIONS = ("approve_safe", "approve", "reject")


def _refused(result: Rejected) -> str:
    return "refused: " + "; ".join(f"{e.field}: {e.reason}" for e in result.errors)


def retry_fulfilment(fulfilment_id: int, sender: TaskSender) -> str:
    result = fulfilment_door.retry_failed(fulfilment_id, app=sender)
    if isinstance(result, Rejected):
        return _refused(result)
    state = result.fulfilment.state.value
    if result.created:
        return f"fulfilment {fulfilment_id} accepted again ({state}); queued for confirmation"
    return f"fulfilment {fulfilment_id} was retried already ({state})"


def retry_refund(refund_id: int, sender: TaskSender) -> str:
    result = refund_door.retry_failed(refund_id, app=sender)
    if isinstance(result, Rejected):
        return _refused(result)
    kind, state = result.refund.kind.value, result.refund.state.value
    if result.created:
        return f"{kind} {refund_id} accepted again ({state}); queued for Amazon"
    return f"{kind} {refund_id} was retried already ({state})"


def decide(account_id: int, decision: str, refund_id: str | None, sender: TaskSender) -> str:
    """Approve every safe item of an account, or approve or reject one refund by its id."""
    if decision not in DECISIONS:
        return f"refused: decision must be one of {', '.join(DECISIONS)}"
    chosen = ascii_id(refund_id.strip()) if refund_id else None
    if decision != "approve_safe" and chosen is None:
        return "refused: refund_id: a refund id is required"
    c = bootstrap.container()
    try:
        account = get_account(c.sessions, account_id)
    except AccountError:
        return f"refused: account: no seller account {account_id}"
    if not account.connected:
        return f"refused: account {account.name} is disconnected: reconnect it first"
    ids = [chosen] if chosen is not None else []
    done = approve(
        account.id,
        c.refund_store,
        all_safe=decision == "approve_safe",
        refund_ids=ids if decision == "approve" else [],
        reject_ids=ids if decision == "reject" else [],
    )
    if done.approved:  # due now: the batcher is told at once (the periodic flush takes it else)
        enqueue_flush(account.id, app=sender)
    parts = [f"approved {len(done.approved)}", f"rejected {len(done.rejected)}"]
    parts += [f"refund {i} not approved: {why}" for i, why in done.refused]
    return f"{account.name}: " + "; ".join(parts)

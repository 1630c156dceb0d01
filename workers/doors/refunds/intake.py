"""The refund door: a request read with its one model, accepted by the domain's use case
(``accept_refund`` / ``accept_cancellation``: the same rules and reasons for HTTP, queue and
CLI), and the batcher's flush queued after the commit."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from domain.refunds import (
    Accepted,
    CancelOrder,
    IssueRefund,
    RefundIntakeStore,
    RefundKind,
    RefundState,
    RefundViews,
    accept_cancellation,
    accept_refund,
    retry_refund,
    rule_errors,
)
from domain.shared import Clock, FieldError, Rejected
from infra.db.refunds import SqlRefundStore
from workers import bootstrap
from workers.doors.fulfilments.queueing import TaskSender
from workers.doors.limits import BIGINT_MAX, ascii_id, storable, text_problem
from workers.doors.recheck import all_reasons
from workers.doors.refunds.queueing import enqueue_flush
from workers.doors.refunds.reading import (
    kind_of,
    read_cancellation,
    read_message,
    read_refund,
    readable_request,
)
from workers.doors.refunds.request import RefundRequestRefused
from workers.doors.stand_ins import read_stand_in_items

# The fields the store files a refused message under, with their columns' lengths.
_FILED_BY = {
    "account": 100,
    "amazon_order_id": 40,
    "platform_refund_id": 100,
    "platform_cancellation_id": 100,
}


class RefundDoorStore(RefundIntakeStore, RefundViews, Protocol):
    """What the queue's door needs: the intake, and a place for what it refused."""


def refund_store() -> SqlRefundStore:
    return bootstrap.container().refund_store


def accept(
    command: IssueRefund | CancelOrder, store: RefundIntakeStore, clock: Clock
) -> Accepted | Rejected:
    """The use case of the command's kind."""
    if isinstance(command, CancelOrder):
        return accept_cancellation(command, store, clock)
    return accept_refund(command, store, clock)


def every_reason(
    data: Any,
    refused: RefundRequestRefused,
    kind: RefundKind,
    store: RefundIntakeStore,
    *,
    message: bool = False,
) -> tuple[FieldError, ...]:
    """A request's refusals by the model and, on the fields that were read, by the rules (an
    unknown order item, more than was charged): one answer with every reason."""
    found = readable_request(data, refused, kind, message=message)
    return all_reasons(
        refused.errors, found, lambda request: rule_errors(request.to_command(), store)
    )


def queue_flush(result: Accepted | Rejected, app: TaskSender | None) -> Accepted | Rejected:
    """After the intake's commit: queue the batcher for a refund accepted just now (one held
    while its account is disconnected, or waiting for a person's approval, is not sent)."""
    if (
        isinstance(result, Accepted)
        and result.created
        and result.refund.state is RefundState.ACCEPTED
    ):
        enqueue_flush(result.refund.account_id, app=app)
    return result


def _submit(
    data: Any, kind: RefundKind, app: TaskSender | None, clock: Clock | None
) -> Accepted | Rejected:
    read_stand_in_items(data)
    clock = clock or bootstrap.container().clock
    try:
        command = read_cancellation(data) if kind is RefundKind.CANCELLATION else read_refund(data)
    except RefundRequestRefused as exc:
        return Rejected(every_reason(data, exc, kind, refund_store()))
    return queue_flush(accept(command, refund_store(), clock), app)


def submit_refund(
    data: Any, *, app: TaskSender | None = None, clock: Clock | None = None
) -> Accepted | Rejected:
    """The CLI's door (and any caller with a refund's JSON): accepted (and queued) or refused."""
    return _submit(data, RefundKind.REFUND, app, clock)


def submit_cancellation(
    data: Any, *, app: TaskSender | None = None, clock: Clock | None = None
) -> Accepted | Rejected:
    """``submit_refund`` for a cancellation."""
    return _submit(data, RefundKind.CANCELLATION, app, clock)


def take_in_message(
    message: Any, *, app: TaskSender | None = None, clock: Clock | None = None
) -> Accepted | Rejected:
    """The queue's door (``refund.intake``, either kind): ``take_in`` on this process's store,
    then the batcher's flush queued after the commit."""
    read_stand_in_items(message)
    clock = clock or bootstrap.container().clock
    return queue_flush(take_in(message, refund_store(), clock), app)


def take_in(message: Any, store: RefundDoorStore, clock: Clock) -> Accepted | Rejected:
    """A queue message read with its kind's model and taken in by the rules. Nobody waits for
    an answer on a queue, so a refusal (of the message's shape or by the rules) is recorded
    once, with a ``refunds/failed`` or ``cancellations/failed`` event: nothing is dropped."""
    kind = kind_of(message)
    try:
        command = read_message(message)
    except RefundRequestRefused as exc:
        refused = Rejected(every_reason(message, exc, kind, store, message=True))
        store.record_rejection(kind, _as_recorded(message), refused)
        return refused
    result = accept(command, store, clock)
    if isinstance(result, Rejected):
        store.record_rejection(kind, _as_recorded(message), result)
    return result


def retry_failed(
    refund_id: int, *, app: TaskSender | None = None, clock: Clock | None = None
) -> Accepted | Rejected:
    """An operator's retry of a failed refund or cancellation: accepted again and queued."""
    clock = clock or bootstrap.container().clock
    return queue_flush(retry_refund(refund_id, refund_store(), clock), app)


def _plain(value: Any) -> Any:
    """JSON as the store keeps it: a ``Decimal`` (kombu's JSON brings them across the queue) as
    its text, which is how it was written."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _as_recorded(message: Any) -> Mapping[str, Any]:
    """A refused message as the store can keep it whatever it holds (``storable``). The store
    files a rejection under the message's account, order and platform id; when one of those
    cannot be filed under (an id past bigint, a NUL, an order id too long for its column), or
    the message is no object at all, the message is kept whole under ``message``, filed by
    none."""
    kept = storable(_plain(message))
    if not isinstance(message, Mapping) or not isinstance(kept, dict):
        return {"message": kept}
    if not all(_fileable(name, message.get(name), limit) for name, limit in _FILED_BY.items()):
        return {"message": kept}
    return kept


def _fileable(name: str, value: Any, limit: int) -> bool:
    """Whether the store can file a rejection under this value as it is (looked up, stored in
    its column, part of the event)."""
    if value is None:
        return True
    if name == "account" and isinstance(value, int) and not isinstance(value, bool):
        return 1 <= value <= BIGINT_MAX
    if not isinstance(value, str) or len(value) > limit or text_problem(value) is not None:
        return False
    return not (name == "account" and value.isdigit() and ascii_id(value) is None)

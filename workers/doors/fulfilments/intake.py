"""The fulfilment door: a request read with the one model, accepted by the domain's use case
(``accept_fulfilment``: the same rules and reasons for HTTP, queue and CLI), and its confirmation
queued after the commit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.fulfilments import (
    Accepted,
    FieldError,
    FulfilmentStore,
    IntakeStore,
    InvalidRequest,
    Rejected,
    accept_fulfilment,
    retry_fulfilment,
    rule_errors,
)
from domain.shared import Clock
from infra.db.fulfilments import SqlFulfilmentStore
from workers import bootstrap
from workers.doors.fulfilments.queueing import TaskSender, enqueue_confirmation
from workers.doors.fulfilments.request import (
    STAND_INS,
    FulfilmentMessage,
    FulfilmentRequest,
    read_message,
    read_request,
)
from workers.doors.limits import BIGINT_MAX, ascii_id, storable, text_problem
from workers.doors.recheck import all_reasons, readable
from workers.doors.stand_ins import read_stand_in_items

# The fields the store files a refused message under, with their columns' lengths.
_FILED_BY = {"account": 100, "amazon_order_id": 40, "platform_fulfilment_id": 100}


def fulfilment_store() -> SqlFulfilmentStore:
    return bootstrap.container().fulfilment_store


def every_reason(
    data: Any,
    refused: InvalidRequest,
    store: IntakeStore,
    clock: Clock,
    *,
    message: bool = False,
) -> tuple[FieldError, ...]:
    """A request's refusals by the model and, on the fields that were read, by the rules (an
    unknown order item, more than remains): one answer with every reason."""
    model = FulfilmentMessage if message else FulfilmentRequest
    found = readable(model, data, refused.errors, STAND_INS)
    return all_reasons(
        refused.errors, found, lambda request: rule_errors(request.to_command(), store, clock)
    )


def queue_confirmation(
    result: Accepted | Rejected, clock: Clock, app: TaskSender | None
) -> Accepted | Rejected:
    """After the intake's commit: queue the confirmation of a fulfilment accepted just now."""
    if isinstance(result, Accepted) and result.created:
        f = result.fulfilment
        enqueue_confirmation(
            f.id,
            f.ship_by_latest,
            now=clock.now(),
            app=app,
            account=f.account_id,
            amazon_order_id=f.amazon_order_id,
        )
    return result


def submit_fulfilment(
    data: Any, *, app: TaskSender | None = None, clock: Clock | None = None
) -> Accepted | Rejected:
    """The CLI's door (and any caller with a request's JSON): accepted (and queued) or refused."""
    read_stand_in_items(data)
    clock = clock or bootstrap.container().clock
    try:
        command = read_request(data)
    except InvalidRequest as exc:
        return Rejected(every_reason(data, exc, fulfilment_store(), clock))
    return queue_confirmation(accept_fulfilment(command, fulfilment_store(), clock), clock, app)


def take_in_message(
    message: Any, *, app: TaskSender | None = None, clock: Clock | None = None
) -> Accepted | Rejected:
    """The queue's door (``fulfil.intake``): ``take_in`` on this process's store, then the
    confirmation queued after the commit."""
    read_stand_in_items(message)
    clock = clock or bootstrap.container().clock
    return queue_confirmation(take_in(message, fulfilment_store(), clock), clock, app)


def take_in(message: Any, store: FulfilmentStore, clock: Clock) -> Accepted | Rejected:
    """A queue message read with the message model and taken in by the rules. Nobody waits for
    an answer on a queue, so a refusal (of the message's shape or by the rules) is recorded
    once, with a ``fulfilments/failed`` event: nothing is dropped."""
    try:
        command = read_message(message)
    except InvalidRequest as exc:
        refused = Rejected(every_reason(message, exc, store, clock, message=True))
        store.record_rejection(_as_recorded(message), refused)
        return refused
    result = accept_fulfilment(command, store, clock)
    if isinstance(result, Rejected):
        store.record_rejection(message, result)
    return result


def _as_recorded(message: Any) -> Mapping[str, Any]:
    """A malformed message as the store can keep it whatever it holds (``storable``). The store
    files a rejection under the message's account, order and fulfilment id; when one of those
    cannot be filed under (an id past bigint, a NUL, an order id too long for its column), or
    the message is no object at all, the message is kept whole under ``message``, filed by
    none."""
    kept = storable(message)
    if not isinstance(message, Mapping) or not isinstance(kept, dict):
        return {"message": kept}
    if not all(_fileable(name, message.get(name), limit) for name, limit in _FILED_BY.items()):
        return {"message": kept}
    return kept


def _fileable(name: str, value: Any, limit: int) -> bool:
    """Whether the store can file a rejection under this value as it is (looked up, stored in
    its column, part of the event's key)."""
    if value is None:
        return True
    if name == "account" and isinstance(value, int) and not isinstance(value, bool):
        return 1 <= value <= BIGINT_MAX
    if not isinstance(value, str) or len(value) > limit or text_problem(value) is not None:
        return False
    return not (name == "account" and value.isdigit() and ascii_id(value) is None)


def retry_failed(
    fulfilment_id: int,
    *,
    cancellation_request_reviewed: bool = False,
    app: TaskSender | None = None,
    clock: Clock | None = None,
) -> Accepted | Rejected:
    """An operator's retry of a failed fulfilment: accepted again and queued."""
    clock = clock or bootstrap.container().clock
    result = retry_fulfilment(
        fulfilment_id,
        fulfilment_store(),
        clock,
        cancellation_request_reviewed=cancellation_request_reviewed,
    )
    return queue_confirmation(result, clock, app)

"""Intake: stored once per platform id (a replay is the first one, another body a conflict),
unknown accounts and orders refused with the reason, held while the account is disconnected,
a failed one retried after the rules again, and a refused queue request told once."""

from __future__ import annotations

from decimal import Decimal

from domain.refunds import (
    CancellationFailed,
    CancelLineRequest,
    RefundFailed,
    RefundKind,
    RefundState,
    accept_cancellation,
    accept_refund,
    retry_refund,
)
from domain.shared import FieldError, Rejected
from tests.fakes import FixedClock
from tests.fakes.refund_store import FakeRefundStore
from tests.unit.domain.refunds.helpers import cancel, give, line, refund, refused, stop

S = RefundState


def test_the_same_refund_again_is_the_first_one(store: FakeRefundStore, clock: FixedClock) -> None:
    first = give(store, clock, refund())
    again = accept_refund(refund(), store, clock)
    assert not isinstance(again, Rejected) and not again.created
    assert again.refund == first and len(store.rows) == 1


def test_another_body_under_a_taken_platform_id_is_a_conflict(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    first = give(store, clock, refund())
    other = accept_refund(refund(line(item_price="9.00")), store, clock)
    assert isinstance(other, Rejected) and other.conflict
    assert other.errors == (
        FieldError(
            "platform_refund_id", f"already used by refund {first.id} with a different body"
        ),
    )
    cancelled = stop(store, clock, cancel())
    conflict = accept_cancellation(cancel(reason="BuyerCanceled"), store, clock)
    assert isinstance(conflict, Rejected) and conflict.conflict
    assert conflict.errors[0].field == "platform_cancellation_id"
    assert str(cancelled.id) in conflict.errors[0].reason


def test_a_refund_and_a_cancellation_may_share_a_platform_id(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    give(store, clock, refund(line("ITEM-B", item_price="1"), platform_refund_id="X-1"))
    stop(store, clock, cancel(CancelLineRequest("ITEM-A"), platform_cancellation_id="X-1"))
    assert len(store.rows) == 2


def test_an_unknown_account_or_order_is_refused_with_the_reason(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    assert refused(accept_refund(refund(account="nobody"), store, clock)) == {
        "account": "no seller account 'nobody'"
    }
    assert refused(accept_cancellation(cancel(amazon_order_id="111-1"), store, clock)) == {
        "amazon_order_id": "unknown order: the store has no such order for this account (not "
        "synced yet, or another account's)"
    }
    assert give(store, clock, refund(account="7")).account_id == 7


def test_an_empty_platform_id_is_refused(store: FakeRefundStore, clock: FixedClock) -> None:
    assert refused(accept_refund(refund(platform_refund_id=" "), store, clock)) == {
        "platform_refund_id": "must not be empty"
    }
    assert refused(accept_cancellation(cancel(platform_cancellation_id=""), store, clock)) == {
        "platform_cancellation_id": "must not be empty"
    }


def test_a_disconnected_account_holds_what_arrives(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    store.connected[7] = False
    assert give(store, clock, refund()).state is S.HELD
    assert stop(store, clock, cancel(CancelLineRequest("ITEM-B"))).state is S.HELD
    # held ones count against what is left, like any stored refund
    over = accept_refund(refund(line(item_price="20.01"), platform_refund_id="R-2"), store, clock)
    assert "lines[0].amounts.item_price" in refused(over)


def test_a_failed_refund_is_retried_after_the_rules_again(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    first = give(store, clock, refund(line(item_price="30.00")))
    store.set_state(first.id, S.IN_FEED, submission_id=4, attempts=1)
    store.set_state(first.id, S.FAILED, failure_code="8560", failure_reason="refused")
    retried = retry_refund(first.id, store, clock)
    assert not isinstance(retried, Rejected) and retried.created
    assert retried.refund.state is S.ACCEPTED
    assert retried.refund.failure_code is None and retried.refund.submission_id is None
    assert refused(retry_refund(first.id, store, clock)) == {
        "refund_id": f"refund {first.id} is accepted: only a failed one can be retried"
    }


def test_a_retry_is_refused_when_another_refund_took_what_it_would_give(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    first = give(store, clock, refund(line(item_price="30.00")))
    store.set_state(first.id, S.FAILED, failure_code="8560", failure_reason="refused")
    give(store, clock, refund(line(item_price="0.01"), platform_refund_id="R-2"))
    result = retry_refund(first.id, store, clock)
    assert refused(result) == {
        "lines[0].amounts.item_price": "30.00 USD is more than is left to refund: 29.99 USD "
        "left (charged 30.00 USD, refunded before 0.01 USD)"
    }
    assert store.rows[first.id].state is S.FAILED
    assert refused(retry_refund(99, store, clock)) == {"refund_id": "no refund or cancellation 99"}


def test_a_failed_cancellation_is_retried_with_its_units_and_amount(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    first = stop(store, clock, cancel())
    store.set_state(first.id, S.FAILED, failure_code="18", failure_reason="refused")
    retried = retry_refund(first.id, store, clock)
    assert not isinstance(retried, Rejected) and retried.refund.state is S.ACCEPTED
    assert retried.refund.total.amount == Decimal("50.60")


def test_a_refused_queue_request_is_told_once_as_a_failed_event(
    store: FakeRefundStore, clock: FixedClock
) -> None:
    request = {"account": "acme", "amazon_order_id": "111-1", "platform_refund_id": "R-9"}
    rejected = Rejected((FieldError("lines", "name at least one line to refund"),))
    assert store.record_rejection(RefundKind.REFUND, request, rejected)
    assert not store.record_rejection(RefundKind.REFUND, request, rejected)
    assert store.record_rejection(RefundKind.CANCELLATION, request, rejected)
    refund_event, cancel_event = store.outbox
    assert isinstance(refund_event, RefundFailed) and isinstance(cancel_event, CancellationFailed)
    assert refund_event.code == "InvalidRequest"
    assert refund_event.message == "lines: name at least one line to refund"
    told = refund_event.refund
    assert (told.id, told.account_id, told.amazon_order_id, told.platform_id) == (
        0,
        7,
        "111-1",
        "R-9",
    )
    assert told.state is S.FAILED and told.currency == "XXX" and told.lines == ()
    assert cancel_event.refund.platform_id is None  # a cancellation's id has its own field

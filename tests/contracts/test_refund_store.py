"""The refund store's contract: the same scenarios against the fake and the SQL store.

Intake (new, replayed, in conflict, held while disconnected, a whole-order cancellation), what
counts as refunded before (any state but failed), the operator's retry, the views (one, and the
listing with its filters and cursor) and the refused queue requests told once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from domain.ingestion import Cursor
from domain.refunds import (
    FIELD_NAMES,
    FIELD_OF,
    Accepted,
    CancelLineRequest,
    CancelOrder,
    IssueRefund,
    Refund,
    RefundKind,
    RefundLineRequest,
    RefundState,
    accept_cancellation,
    accept_refund,
    retry_refund,
)
from domain.shared import FieldError, Rejected
from infra.db.accounts import add_account
from infra.db.ingestion import SqlIngestionStore
from infra.db.refunds import SqlRefundStore
from tests.fakes import T0, FixedClock
from tests.fakes.refund_store import ORDER_ID, FakeRefundStore, charged_order, encode

S = RefundState


class Harness(Protocol):
    """A refund store and what a scenario needs around it."""

    clock: FixedClock
    account_id: int

    @property
    def store(self) -> Any: ...

    def disconnect(self) -> None: ...

    def fail(self, refund_id: int) -> None:
        """As the sending side records Amazon's refusal."""
        ...

    def topics(self) -> list[str]:
        """The refund and cancellation events appended so far, in order."""
        ...


@dataclass
class FakeHarness:
    clock: FixedClock = field(default_factory=lambda: FixedClock(T0))
    account_id: int = 7

    def __post_init__(self) -> None:
        self.fake = FakeRefundStore(self.clock)
        self.fake.add_order(charged_order())

    @property
    def store(self) -> FakeRefundStore:
        return self.fake

    def disconnect(self) -> None:
        self.fake.connected[self.account_id] = False

    def fail(self, refund_id: int) -> None:
        self.fake.set_state(refund_id, S.FAILED, failure_code="8560", failure_reason="no")

    def topics(self) -> list[str]:
        return [encode(event)[0] for event in self.fake.outbox]


class SqlHarness:
    def __init__(self, engine: Engine, sessions: sessionmaker[Session]) -> None:
        self.clock = FixedClock(T0)
        self.engine = engine
        self.sql = SqlRefundStore(engine, sessions, encode)
        self.account_id = add_account(
            sessions,
            name="acme",
            selling_partner_id="SELLER-acme",
            region="SANDBOX",
            marketplace_ids=["ATVPDKIKX0DER"],
            refresh_token="Atzr|test",
        ).id
        SqlIngestionStore(engine, sessions, encode).save_page(
            self.account_id, "orders", [charged_order()], [], Cursor()
        )

    @property
    def store(self) -> SqlRefundStore:
        return self.sql

    def disconnect(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                text("UPDATE seller_accounts SET connected = false WHERE id = :id"),
                {"id": self.account_id},
            )

    def fail(self, refund_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE refunds SET state = 'failed', failure_code = '8560', "
                    "failure_reason = 'no', failed_at = now() WHERE id = :id"
                ),
                {"id": refund_id},
            )

    def topics(self) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT topic FROM outbox_events WHERE topic LIKE 'refunds/%' "
                    "OR topic LIKE 'cancellations/%' ORDER BY id"
                )
            )
            return [str(row[0]) for row in rows]


@pytest.fixture(params=["fake", pytest.param("sql", marks=pytest.mark.integration)])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    if request.param == "fake":
        yield FakeHarness()
    else:
        yield SqlHarness(
            request.getfixturevalue("clean_db"), request.getfixturevalue("session_factory")
        )


def issue(**changes: Any) -> IssueRefund:
    fields: dict[str, Any] = {
        "account": "acme",
        "amazon_order_id": ORDER_ID,
        "platform_refund_id": "R-1",
        "reason": "customer_return",
        "lines": (RefundLineRequest(order_item_id="ITEM-A", quantity=1),),
    }
    fields.update(changes)
    return IssueRefund(**fields)


def by_amount(item: str, **amounts: str) -> RefundLineRequest:
    return RefundLineRequest(
        order_item_id=item,
        amounts=tuple((FIELD_NAMES[name], Decimal(value)) for name, value in amounts.items()),
    )


def cancel(**changes: Any) -> CancelOrder:
    fields: dict[str, Any] = {
        "account": "acme",
        "amazon_order_id": ORDER_ID,
        "platform_cancellation_id": "C-1",
        "reason": "no_inventory",
    }
    fields.update(changes)
    return CancelOrder(**fields)


def accepted(h: Harness, result: Accepted | Rejected, created: bool = True) -> Refund:
    assert isinstance(result, Accepted) and result.created is created, result
    return result.refund


def plain(refund: Refund) -> list[tuple[str, str | None, int | None, dict[str, str]]]:
    return [
        (
            line.order_item_id,
            line.sku,
            line.quantity,
            {FIELD_OF[c]: f"{m.amount:.2f}" for c, m in line.amounts},
        )
        for line in refund.lines
    ]


def test_intake_stores_an_accepted_refund_with_its_lines_and_amounts(harness: Harness) -> None:
    found = accepted(harness, accept_refund(issue(), harness.store, harness.clock))
    assert found.id > 0 and all(line.id > 0 for line in found.lines)
    assert found.state is S.ACCEPTED and found.account_id == harness.account_id
    assert found.marketplace_id == "ATVPDKIKX0DER" and found.reason == "CustomerReturn"
    assert plain(found) == [
        (
            "ITEM-A",
            "MUG-RED",
            1,
            {"item_price": "10.00", "shipping": "2.00", "tax": "1.00", "shipping_tax": "0.20"},
        )
    ]
    stored = harness.store.get(found.id)
    assert stored is not None and plain(stored) == plain(found)
    assert stored.fingerprint == issue().fingerprint() and stored.total == found.total


def test_the_same_refund_again_is_a_replay_and_another_body_a_conflict(harness: Harness) -> None:
    first = accepted(harness, accept_refund(issue(), harness.store, harness.clock))
    again = accepted(harness, accept_refund(issue(), harness.store, harness.clock), created=False)
    assert again.id == first.id and plain(again) == plain(first)
    other = accept_refund(issue(reason="other"), harness.store, harness.clock)
    assert isinstance(other, Rejected) and other.conflict
    assert harness.store.list() == [harness.store.get(first.id)]


def test_a_disconnected_account_holds_the_refund(harness: Harness) -> None:
    harness.disconnect()
    found = accepted(harness, accept_refund(issue(), harness.store, harness.clock))
    assert found.state is S.HELD
    stored = harness.store.get(found.id)
    assert stored is not None and stored.state is S.HELD


def test_a_whole_order_cancellation_lists_every_unshipped_item(harness: Harness) -> None:
    found = accepted(harness, accept_cancellation(cancel(), harness.store, harness.clock))
    stored = harness.store.get(found.id)
    assert stored is not None and stored.whole_order and stored.kind is RefundKind.CANCELLATION
    assert [(line.order_item_id, line.quantity) for line in stored.lines] == [
        ("ITEM-A", 3),
        ("ITEM-B", 1),
    ]
    assert stored.total.amount == Decimal("50.60") and stored.reason == "NoInventory"
    again = accept_cancellation(
        cancel(platform_cancellation_id="C-2"), harness.store, harness.clock
    )
    assert isinstance(again, Rejected) and "cannot be cancelled again" in again.message


def test_what_was_refunded_before_counts_until_it_fails(harness: Harness) -> None:
    first = accepted(
        harness,
        accept_refund(
            issue(lines=(by_amount("ITEM-B", item_price="10", tax="1"),)),
            harness.store,
            harness.clock,
        ),
    )
    second = issue(platform_refund_id="R-2", lines=(by_amount("ITEM-B", tax="0.01"),))
    refused = accept_refund(second, harness.store, harness.clock)
    assert isinstance(refused, Rejected)
    assert refused.errors == (
        FieldError(
            "lines[0].amounts.tax",
            "0.01 USD is more than is left to refund: 0.00 USD left (charged 1.00 USD, "
            "refunded before 1.00 USD)",
        ),
    )
    harness.fail(first.id)
    accepted(harness, accept_refund(second, harness.store, harness.clock))


def test_a_failed_refund_is_reopened_once_by_a_retry(harness: Harness) -> None:
    first = accepted(harness, accept_refund(issue(), harness.store, harness.clock))
    harness.fail(first.id)
    failed = harness.store.get(first.id)
    assert failed is not None and failed.state is S.FAILED and failed.failure_code == "8560"
    retried = accepted(harness, retry_refund(first.id, harness.store, harness.clock))
    assert retried.state is S.ACCEPTED and retried.failure_code is None
    assert retried.failure_reason is None and plain(retried) == plain(first)
    again = retry_refund(first.id, harness.store, harness.clock)
    assert isinstance(again, Rejected) and "only a failed one can be retried" in again.message


def test_the_listing_filters_and_pages_oldest_first(harness: Harness) -> None:
    store, clock = harness.store, harness.clock
    one = accepted(harness, accept_refund(issue(), store, clock))
    two = accepted(
        harness,
        accept_cancellation(cancel(lines=(CancelLineRequest("ITEM-B"),)), store, clock),
    )
    three = accepted(harness, accept_refund(issue(platform_refund_id="R-3"), store, clock))
    assert [r.id for r in store.list()] == [one.id, two.id, three.id]
    assert [r.id for r in store.list(kind=RefundKind.REFUND)] == [one.id, three.id]
    assert [r.id for r in store.list(after_id=one.id, limit=1)] == [two.id]
    assert [r.id for r in store.list(account_id=harness.account_id, state=S.ACCEPTED)] == [
        one.id,
        two.id,
        three.id,
    ]
    assert store.list(amazon_order_id="111-0000000-0000000") == []
    assert store.list(state=S.FAILED) == []
    assert store.get(three.id + 100) is None


def test_a_refused_queue_request_is_kept_once_and_told_once(harness: Harness) -> None:
    request = {"account": "acme", "amazon_order_id": ORDER_ID, "platform_refund_id": "R-9"}
    rejected = Rejected((FieldError("lines", "name at least one line to refund"),))
    assert harness.store.record_rejection(RefundKind.REFUND, request, rejected)
    assert not harness.store.record_rejection(RefundKind.REFUND, request, rejected)
    cancellation = {**request, "platform_cancellation_id": "C-9"}
    assert harness.store.record_rejection(RefundKind.CANCELLATION, cancellation, rejected)
    assert harness.topics() == ["refunds/failed", "cancellations/failed"]
    assert harness.store.list() == []

"""Sending refunds on PostgreSQL (Amazon's gateways faked at their ports): batches built in one
transaction and each refund in one submission however many batchers run, disconnected sellers
skipped, refunds made on Amazon recorded once and failing what they make too much, the Finances
watermark, and the whole life of a batch with a worker killed at every step."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from domain.feeds import FeedType, SubmissionState, advance
from domain.orders import AmazonOrder, LineCharges
from domain.refunds import (
    Accepted,
    Component,
    IssueRefund,
    RefundLineRequest,
    accept_refund,
)
from domain.refunds.ports import BatchKey
from domain.refunds.record_from_amazon import sweep_amazon_refunds
from domain.refunds.send import FlushPolicy, flush
from infra.db.feeds import SqlSubmissionStore
from infra.db.feeds.transitions import OPEN
from infra.db.refunds import SqlRefundStore
from infra.db.refunds.amazon import AmazonRefundsMixin
from infra.db.refunds.sending import RefundFeedMessages, SendingMixin
from infra.db.tables import FeedSubmission, FinanceCursor, OutboxEvent, SellerAccount
from infra.db.tables import Refund as RefundRow
from infra.db.tables import RefundLine as RefundLineRow
from tests.fakes import FixedClock
from tests.fakes.feed_gateway import FakeFeeds, Killed
from tests.fakes.finances_gateway import FakeFinances
from tests.fakes.refund_sending import amazon_refund
from tests.fakes.refund_store import encode
from tests.integration.infra.db.seed import MARKETPLACE, amazon_order, seed_account, seed_order

pytestmark = pytest.mark.integration

LEASE = timedelta(minutes=5)
C = Component


class SqlSending(SendingMixin, AmazonRefundsMixin):
    """The refund store's sending parts, as the integrator composes them."""


def charged(n: int) -> AmazonOrder:
    """Order ``n``: its first line (3 units) charged 29.97 + 4.99 shipping + 2.40 tax."""
    order = amazon_order(n)
    charges = LineCharges("USD", Decimal("29.97"), Decimal("4.99"), Decimal("2.40"))
    return replace(order, lines=(replace(order.lines[0], charges=charges), order.lines[1]))


@dataclass
class World:
    """The store on PostgreSQL with Amazon faked, driven as the beat and the workers drive it."""

    engine: Engine
    sessions: sessionmaker[Session]
    account_id: int
    clock: FixedClock
    sending: SqlSending
    store: SqlSubmissionStore
    feeds: FakeFeeds
    finances: FakeFinances
    policy: FlushPolicy | None = None  # the batcher's when a test gives none

    def refund(self, n: int, amount: str = "5.00", component: C = C.ITEM_PRICE) -> int:
        command = IssueRefund(
            account="acme",
            amazon_order_id=amazon_order(n).amazon_order_id,
            platform_refund_id=f"R-{n}-{amount}-{component.value}",
            reason="CustomerReturn",
            lines=(
                RefundLineRequest(
                    order_item_id=f"{n:07d}-A", amounts=((component, Decimal(amount)),)
                ),
            ),
        )
        intake = SqlRefundStore(self.engine, self.sessions, encode)
        result = accept_refund(command, intake, self.clock)
        assert isinstance(result, Accepted), result
        return result.refund.id

    def flush(self, *, token: bool = True, policy: FlushPolicy | None = None) -> list[int]:
        return flush(
            store=self.sending,
            amazon=self.feeds,
            finances=self.finances,
            recorder=self.sending,
            clock=self.clock,
            policy=policy or self.policy,
            token=lambda _: token,
        )

    def open_submissions(self) -> list[int]:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(FeedSubmission.id)
                .where(FeedSubmission.state.in_([s.value for s in OPEN]))
                .order_by(FeedSubmission.id)
            ).scalars()
            return list(found)

    def states(self) -> dict[int, str]:
        with self.engine.connect() as conn:
            return {row[0]: row[1] for row in conn.execute(select(RefundRow.id, RefundRow.state))}

    def expire_leases(self) -> None:
        """A dead worker's lease ran out."""
        with self.engine.begin() as conn:
            conn.execute(
                update(FeedSubmission)
                .where(FeedSubmission.lease_until.is_not(None))
                .values(lease_until=func.now() - timedelta(seconds=1))
            )

    def run(self, owner: str, rounds: int = 40) -> None:
        for _ in range(rounds):
            self.feeds.work()
            self.flush()
            for submission_id in self.open_submissions():
                advance(
                    submission_id,
                    store=self.store,
                    amazon=self.feeds,
                    owner=owner,
                    lease=LEASE,
                    clock=self.clock,
                )
            if not self.open_submissions() and "accepted" not in self.states().values():
                return
            self.clock.at += timedelta(minutes=1)
        raise AssertionError("the work never finished")

    def run_through_deaths(self, lives: int = 6) -> int:
        for life in range(lives):
            try:
                self.run(f"worker-{life}")
            except Killed:
                self.expire_leases()
                continue
            return life
        raise AssertionError("the work never finished")


@pytest.fixture
def world(clean_db: Engine, session_factory: sessionmaker[Session]) -> World:
    account_id = seed_account(session_factory)
    for n in (1, 2, 3):
        seed_order(clean_db, session_factory, account_id, charged(n))
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    finances = FakeFinances()
    return World(
        clean_db,
        session_factory,
        account_id,
        clock,
        SqlSending(clean_db, session_factory, encode),
        SqlSubmissionStore(clean_db, RefundFeedMessages(encode)),
        FakeFeeds(clock, finances),
        finances,
    )


def refund_topics(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        found = conn.execute(select(OutboxEvent.topic).order_by(OutboxEvent.id)).scalars()
        return [topic for topic in found if not topic.startswith("orders/")]


# --- batching --------------------------------------------------------------------------------


def test_a_batch_is_one_built_submission_with_its_refunds_in_feed_and_flushing_again_adds_none(
    world: World,
) -> None:
    ids = [world.refund(n) for n in (1, 2, 3)]
    (built,) = world.flush()
    assert world.flush() == []
    with world.engine.connect() as conn:
        row = conn.execute(select(FeedSubmission)).one()
        refunds = conn.execute(select(RefundRow.state, RefundRow.submission_id)).all()
    assert (row.id, row.state, row.feed_type, row.message_count) == (
        built,
        "built",
        FeedType.ADJUSTMENT.value,
        3,
    )
    assert (row.account_id, row.marketplace_id) == (world.account_id, MARKETPLACE)
    assert set(refunds) == {("in_feed", built)}
    ((_, messages),) = world.feeds.rendered
    assert [m.message_id for m in messages] == ids
    submission = world.store.submission(built)
    assert submission is not None and submission.message_ids == tuple(ids)
    assert bytes(row.document) == submission.document


def test_batchers_at_once_put_each_refund_in_one_submission(world: World) -> None:
    for n in (1, 2, 3):
        for amount in ("1.00", "2.00", "3.00"):
            world.refund(n, amount)
    barrier = threading.Barrier(3)
    built: list[int] = []

    def run() -> None:
        barrier.wait()
        built.extend(world.flush(policy=FlushPolicy(max_messages=2)))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with world.engine.connect() as conn:
        placed = conn.execute(
            select(RefundRow.id, RefundRow.submission_id).where(
                RefundRow.submission_id.is_not(None)
            )
        ).all()
        left = conn.execute(select(RefundRow.id).where(RefundRow.state == "accepted")).all()
        counts = {
            row[0]: row[1]
            for row in conn.execute(select(FeedSubmission.id, FeedSubmission.message_count))
        }
    # What is not in a batch yet waits for the next one (a feed of its key is not created).
    assert len(placed) + len(left) == 9 and len(placed) >= 2
    assert sum(counts.values()) == len(placed) and sorted(built) == sorted(counts)
    per_submission = Counter(submission_id for _, submission_id in placed)
    assert per_submission == counts
    rendered = Counter(m.message_id for _, messages in world.feeds.rendered for m in messages)
    assert set(rendered.values()) == {1} and len(rendered) == len(placed)  # one document each


def test_a_disconnected_seller_and_a_refund_not_due_wait(world: World) -> None:
    first = world.refund(1)
    later = world.refund(2)
    with world.engine.begin() as conn:
        conn.execute(
            update(RefundRow)
            .where(RefundRow.id == later)
            .values(next_attempt_at=func.now() + timedelta(hours=1))
        )
        conn.execute(update(SellerAccount).values(connected=False))
    assert world.flush() == []
    with world.engine.begin() as conn:
        conn.execute(update(SellerAccount).values(connected=True))
    key = BatchKey(world.account_id, MARKETPLACE, FeedType.ADJUSTMENT)
    assert [r.id for r in world.sending.candidates(key, 10)] == [first]
    assert world.sending.candidates(key, 10, skip=[first]) == []
    (built,) = world.flush()
    assert world.store.submission(built).message_ids == (first,)  # type: ignore[union-attr]


def test_fresh_refunds_wait_until_the_oldest_waited_long_enough(world: World) -> None:
    refund_id = world.refund(1)
    assert world.flush(token=False) == []
    with world.engine.begin() as conn:
        conn.execute(update(RefundRow).values(next_attempt_at=func.now() - timedelta(seconds=11)))
    (built,) = world.flush(token=False)
    assert world.store.submission(built).message_ids == (refund_id,)  # type: ignore[union-attr]


# --- refunds made on Amazon ------------------------------------------------------------------


def test_a_refund_made_on_amazon_is_recorded_once_and_fails_a_store_refund_past_the_charge(
    world: World,
) -> None:
    order = amazon_order(1).amazon_order_id
    posted = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    made = amazon_refund(order, posted, ("0000001-A", ((C.ITEM_PRICE, "19.99"),)))
    world.finances.post(made)
    too_much = world.refund(1, "19.99")
    assert world.flush() == []
    with world.engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(RefundRow).order_by(RefundRow.id))}
        lines = conn.execute(select(RefundLineRow).where(RefundLineRow.refund_id != too_much))
        (line,) = lines.all()
    failed = rows[too_much]
    assert (failed.state, failed.failure_code) == ("failed", "AlreadyRefundedOnAmazon")
    assert failed.failure_reason == "already refunded on Amazon on 2026-11-30: 19.99 USD item price"
    (recorded,) = (r for r in rows.values() if r.source == "amazon")
    assert (recorded.state, recorded.amazon_key, recorded.posted_at) == (
        "confirmed",
        made.key,
        posted,
    )
    assert recorded.order_id is not None and recorded.platform_id is None
    assert (line.order_item_id, line.item_price) == ("0000001-A", Decimal("19.99"))
    assert line.amazon_adjustment_item_id == made.items[0].adjustment_item_id
    assert refund_topics(world.engine) == ["refunds/recorded_from_amazon", "refunds/failed"]
    # Read again by a later batch: recorded once, and a refund that still fits goes.
    fits = world.refund(1, "5.00")
    (built,) = world.flush()
    assert world.store.submission(built).message_ids == (fits,)  # type: ignore[union-attr]
    assert refund_topics(world.engine).count("refunds/recorded_from_amazon") == 1


def test_amazons_record_of_the_stores_own_refund_is_paired_with_it(world: World) -> None:
    world.policy = FlushPolicy(sweep_first=False)  # pairing is what the order's own read does
    first = world.refund(1, "5.00")
    world.run("w")
    assert world.states()[first] == "confirmed" and len(world.finances.posted) == 1
    world.refund(1, "6.00")
    world.run("w")
    with world.engine.connect() as conn:
        sources = conn.execute(select(RefundRow.source)).scalars().all()
        key = conn.execute(select(RefundRow.amazon_key).where(RefundRow.id == first)).scalar()
    assert sources == ["store", "store"]
    assert key == world.finances.posted[0].key


def test_the_sweep_records_once_and_moves_its_watermark_forward_only(world: World) -> None:
    order = amazon_order(2).amazon_order_id
    posted = world.clock.at - timedelta(days=3)
    world.finances.post(amazon_refund(order, posted, ("0000002-A", ((C.SHIPPING, "4.99"),))))

    def sweep() -> Any:
        return sweep_amazon_refunds(
            world.account_id, finances=world.finances, store=world.sending, clock=world.clock
        )

    first = sweep()
    assert len(first.recorded) == 1 and first.posted_after == world.clock.at - timedelta(
        days=30, minutes=5
    )
    sweep()
    with world.engine.begin() as conn:
        conn.execute(update(FinanceCursor).values(posted_after=world.clock.at - timedelta(days=40)))
    sweep()  # read everything again: still once
    assert refund_topics(world.engine) == ["refunds/recorded_from_amazon"]
    world.sending.save_finance_cursor(world.account_id, world.clock.at - timedelta(days=50))
    assert world.sending.finance_cursor(world.account_id) == world.clock.at - timedelta(minutes=2)
    assert world.sending.sweep_accounts() == [world.account_id]


# --- the whole life, killed anywhere ---------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "after"),
    [
        ("upload", False),
        ("upload", True),
        ("create", False),
        ("create", True),
        ("status", True),
        ("report", True),
    ],
)
def test_a_worker_killed_at_any_step_leaves_a_state_the_next_one_finishes_once(
    world: World, step: str, after: bool
) -> None:
    ids = [world.refund(n) for n in (1, 2, 3)]
    world.feeds.fail(step, Killed(), after=after)
    assert world.run_through_deaths() >= 1
    assert set(world.states().values()) == {"confirmed"}
    assert world.feeds.applied_messages() == ids
    assert refund_topics(world.engine) == ["refunds/confirmed"] * 3
    with world.engine.connect() as conn:
        states = conn.execute(select(FeedSubmission.state).order_by(FeedSubmission.id)).scalars()
        final = list(states)
    assert final[-1] == SubmissionState.DONE.value
    assert set(final[:-1]) <= {SubmissionState.NOT_CREATED.value}

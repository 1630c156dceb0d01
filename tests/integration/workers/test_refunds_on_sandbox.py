"""Refunds and cancellations end to end: the platform's requests over HTTP (the web process), a
real ``refund`` worker batching them into feeds, the sandbox playing Amazon over HTTP. Beat's
ticks are sent by the tests (``drive``), sooner than beat would.

One day of the demo seller's requests (``day``) is posted once for the module and read by
several tests: refunds by amounts and by quantity, a partial and a whole-order cancellation, one
refund Amazon refuses (tax not refundable on that order) and one Seller Central had made first.
The reconnect hazard plays on a second seller while the day's refunds wait for their batch (the
worker and beat's ticks serve both, as they would in production), so the module waits for
Amazon's batching once, not twice.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.db.accounts import add_account
from infra.db.engine import make_session_factory
from infra.db.tables import Base
from infra.settings import Settings, load_settings
from tests.integration.processes import WorkerProcess
from tests.integration.workers.refunds import (
    SANDBOX_RATE_FACTOR,
    US,
    Amazon,
    charged_in_store,
    drive,
    events,
    line_ids,
    post,
    refund_env,
    refund_rows,
    refund_rows_from_amazon,
    settled,
    sync_from_sandbox,
)
from tests.integration.workers.scenarios import project_app, web_process
from workers.demo import ensure_demo_account

pytestmark = pytest.mark.integration


def _truncate(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@dataclass(frozen=True)
class World:
    """The module's running system: the sandbox (and its control API), the web process's URL,
    the project's Celery app, the store, and this process's settings."""

    sandbox: SandboxHandle
    amazon: Amazon
    web: httpx.Client
    app: Any
    engine: Engine
    settings: Settings
    env: dict[str, str]


@pytest.fixture(scope="module")
def world(
    engine: Engine,
    database_url: str,
    redis_url: str,
    broker_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    tmp: Path = tmp_path_factory.mktemp("refunds-e2e")
    child = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "BROKER_URL": broker_url,
    }
    settings = load_settings(
        database_url=database_url,
        redis_url=redis_url,
        broker_url=broker_url,
        data_dir=tmp / "data",
    )
    with (
        running_sandbox(rate_factor=SANDBOX_RATE_FACTOR) as sandbox,
        project_app(broker_url) as app,
        httpx.Client(base_url=sandbox.base_url, timeout=30) as control,
    ):
        env = refund_env(child, sandbox)
        amazon = Amazon(control)
        amazon.feeds_done_at_once()
        worker = WorkerProcess("refund", env, tmp / "refund.log")
        with ThreadPoolExecutor(1) as pool:
            starting = pool.submit(worker.start)  # while the web process starts
            try:
                with (
                    web_process(env, tmp) as base,
                    httpx.Client(base_url=base, timeout=30) as web,
                ):
                    starting.result()
                    yield World(sandbox, amazon, web, app, engine, settings, env)
            finally:
                starting.exception()  # started (or failed) before it is stopped
                worker.stop()


# --- one day of refunds --------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    """What the day staged on Amazon (order ids and their item ids) and asked of the store."""

    orders: dict[str, str]  # platform id -> Amazon order id
    items: dict[str, list[str]]  # platform id -> the order's item ids
    seller_central: dict[str, Any]  # Seller Central's refund, as the sandbox recorded it
    # The item price charged on the orders Seller Central refunded in full, by platform id.
    sold_for: dict[str, Decimal]


def _requests(day: Day) -> list[tuple[str, dict[str, Any]]]:
    o, i = day.orders, day.items
    return [
        (
            "/v1/refunds",
            {
                "account": "demo",
                "amazon_order_id": o["R-amounts"],
                "platform_refund_id": "R-amounts",
                "reason": "customer_return",
                "lines": [
                    {
                        "order_item_id": i["R-amounts"][0],
                        "amounts": {"item_price": "10.00", "shipping": "4.99"},
                    }
                ],
            },
        ),
        (
            "/v1/refunds",
            {
                "account": "demo",
                "amazon_order_id": o["R-quantity"],
                "platform_refund_id": "R-quantity",
                "reason": "customer_return",
                "lines": [{"order_item_id": i["R-quantity"][0], "quantity": 1}],
            },
        ),
        (
            "/v1/cancellations",
            {
                "account": "demo",
                "amazon_order_id": o["C-partial"],
                "platform_cancellation_id": "C-partial",
                "reason": "no_inventory",
                "lines": [{"order_item_id": i["C-partial"][1], "quantity": 1}],
            },
        ),
        (
            "/v1/cancellations",
            {
                "account": "demo",
                "amazon_order_id": o["C-whole"],
                "platform_cancellation_id": "C-whole",
                "reason": "buyer_canceled",
            },
        ),
        (
            "/v1/refunds",
            {
                "account": "demo",
                "amazon_order_id": o["R-taxed"],
                "platform_refund_id": "R-taxed",
                "reason": "customer_return",
                "lines": [
                    {
                        "order_item_id": i["R-taxed"][0],
                        "amounts": {"item_price": "5.00", "tax": "0.40"},
                    }
                ],
            },
        ),
        (
            "/v1/refunds",
            {
                "account": "demo",
                "amazon_order_id": o["R-twice"],
                "platform_refund_id": "R-twice",
                "reason": "customer_return",
                "lines": [
                    {
                        "order_item_id": i["R-twice"][0],
                        "amounts": {"item_price": str(day.sold_for["R-twice"])},
                    }
                ],
            },
        ),
        (
            "/v1/refunds",
            {
                "account": "demo",
                "amazon_order_id": o["R-late"],
                "platform_refund_id": "R-late",
                "reason": "customer_return",
                "lines": [
                    {
                        "order_item_id": i["R-late"][0],
                        "amounts": {"item_price": str(day.sold_for["R-late"])},
                    }
                ],
            },
        ),
    ]


@pytest.fixture(scope="module")
def day_posted(world: World) -> Day:
    """Orders staged on Amazon and synced (with what they charged), one refunded in Seller
    Central first; then the platform's six requests over HTTP, accepted (not waited for)."""
    _truncate(world.engine)
    ensure_demo_account(make_session_factory(world.engine))
    amazon = world.amazon
    staged = {
        "R-amounts": amazon.order(2),
        "R-quantity": amazon.order(3),
        "C-partial": amazon.order(1, 2),
        "C-whole": amazon.order(1, 1),
        "R-taxed": amazon.order(1),
        # Bought before the sweeps of Amazon's refunds began (they look back 30 days): the
        # check before sending reads this order's refunds from Finances itself.
        "R-twice": amazon.order(1, status="SHIPPED", age=timedelta(days=40)),
        # Bought this week: its Seller Central refund, posted a moment ago, is newer than what
        # the sweep may read (Amazon's last two minutes), and the check trusts the sweep.
        "R-late": amazon.order(1, status="SHIPPED"),
    }
    orders = {p: o["order_id"] for p, o in staged.items()}
    items = {p: [i["order_item_id"] for i in o["items"]] for p, o in staged.items()}
    amazon.tax_not_refundable(orders["R-taxed"])
    report = sync_from_sandbox(
        world.settings, world.sandbox, start=amazon.now() - timedelta(days=41)
    )
    assert report.created == len(staged), report
    sold_for = {}
    made = {}
    for platform_id in ("R-twice", "R-late"):
        item_id = items[platform_id][0]
        sold_for[platform_id] = charged_in_store(world.engine, item_id)["item_price"]
        made[platform_id] = amazon.refund_in_seller_central(
            orders[platform_id], item_id, {"Principal": str(sold_for[platform_id])}
        )
    seller_central = made["R-twice"]
    staged_day = Day(orders, items, seller_central, sold_for)
    for path, body in _requests(staged_day):
        answer = post(world.web, path, body)
        assert answer.status_code == 201, answer.text
        assert answer.json()["state"] == "accepted"
    return staged_day


@pytest.fixture(scope="module")
def day(world: World, day_posted: Day) -> Day:
    """The day, once the worker has settled every request of it."""
    orders = day_posted.orders
    drive(world.app, world.engine, lambda: settled(world.engine, orders), timeout_s=90)
    return day_posted


# --- reconnecting (first: it runs while the day waits for its batch) -------------------------


def cli(env: dict[str, str], *args: str) -> Any:
    from workers.cli import main

    return CliRunner().invoke(main, list(args), env=env)


def verdicts(output: str, ids: dict[str, int]) -> dict[str, str]:
    """The plan's verdict of each refund, from the table ``accounts reconnect`` shows."""
    known = {"safe", "needs_approval", "cannot"}
    rows = {line.split()[0]: line.split() for line in output.splitlines() if line[:1].isdigit()}
    return {
        name: next(word for word in rows[str(refund_id)] if word in known)
        for name, refund_id in ids.items()
    }


RECON_SELLER = "A2SANDBOXRECON"
RECON_TOKEN = "Atzr|sandbox-recon-seller"


def test_after_a_reconnect_only_the_safe_refund_goes_and_the_shipped_one_waits_for_a_person(
    world: World, day_posted: Day
) -> None:
    """While the account was disconnected an order shipped on Amazon and the platform asked to
    refund it and an order that did not ship: both are held. Reconnecting sends neither by
    itself, nor does approving all safe ones until the sync has caught up; then the shipped
    order's refund needs a person, and approving all safe ones sends only the other. (A
    seller of its own: the day's refunds of the demo seller go on meanwhile.)"""
    amazon, engine = world.amazon, world.engine
    amazon.add_seller(RECON_SELLER, RECON_TOKEN)
    add_account(
        make_session_factory(engine),
        name="recon",
        selling_partner_id=RECON_SELLER,
        region="SANDBOX",
        marketplace_ids=[US],
        refresh_token=RECON_TOKEN,
        client_id=DEMO_SELLER.client_id,
    )
    shipped = amazon.order(1, seller_id=RECON_SELLER)
    unshipped = amazon.order(1, seller_id=RECON_SELLER)
    assert sync_from_sandbox(world.settings, world.sandbox, "recon").created == 2
    env = {k: world.env[k] for k in ("DATABASE_URL", "REDIS_URL", "BROKER_URL")}
    assert cli(env, "accounts", "disconnect", "recon").exit_code == 0
    amazon.ship(shipped["order_id"])
    ids = {}
    for name, order in (("R-shipped", shipped), ("R-unshipped", unshipped)):
        body = {
            "account": "recon",
            "amazon_order_id": order["order_id"],
            "platform_refund_id": name,
            "reason": "customer_return",
            "lines": [
                {
                    "order_item_id": order["items"][0]["order_item_id"],
                    "amounts": {"item_price": "5.00"},
                }
            ],
        }
        answer = post(world.web, "/v1/refunds", body)
        assert answer.status_code == 201, answer.text
        assert answer.json()["state"] == "held"
        ids[name] = answer.json()["refund_id"]
    world.app.send_task("refund.sweep")
    assert amazon.feeds(RECON_SELLER) == [], "nothing is sent while disconnected"

    # Reconnected, the store still shows the order unshipped: nothing may be called safe yet.
    reconnected = cli(env, "accounts", "reconnect", "recon")
    assert reconnected.exit_code == 0, reconnected.output
    assert verdicts(reconnected.output, ids) == {
        "R-shipped": "needs_approval",
        "R-unshipped": "needs_approval",
    }
    assert "the sync has not caught up" in reconnected.output
    early = cli(env, "accounts", "approve", "recon", "--all-safe")
    assert early.exit_code == 0 and "approved: []" in early.output, early.output

    amazon.advance(180)  # the shipment is past Amazon's two-minute rule: a search sees it
    sync_from_sandbox(world.settings, world.sandbox, "recon")
    plan = cli(env, "accounts", "reconnect", "recon", "--plan")
    assert plan.exit_code == 0, plan.output
    assert verdicts(plan.output, ids) == {"R-shipped": "needs_approval", "R-unshipped": "safe"}
    assert "has shipped" in plan.output

    approved = cli(env, "accounts", "approve", "recon", "--all-safe")
    assert approved.exit_code == 0, approved.output
    assert f"approved: [{ids['R-unshipped']}]" in approved.output
    drive(world.app, engine, lambda: settled(engine, ["R-unshipped"]), timeout_s=60)
    assert refund_rows(engine)["R-unshipped"].state == "confirmed"
    assert len(amazon.adjustments(unshipped["order_id"])) == 1
    assert amazon.adjustments(shipped["order_id"]) == []
    assert refund_rows(engine)["R-shipped"].state == "awaiting_approval"

    one = cli(env, "accounts", "approve", "recon", "--refund", str(ids["R-shipped"]))
    assert one.exit_code == 0, one.output
    drive(world.app, engine, lambda: settled(engine, ["R-shipped"]), timeout_s=60)
    assert refund_rows(engine)["R-shipped"].state == "confirmed"
    (adjustment,) = amazon.adjustments(shipped["order_id"])
    assert adjustment["source"] == "feed"
    assert len(amazon.feeds(RECON_SELLER)) == 2, "the safe refund's feed, then the approved one's"


# --- the day, settled ---------------------------------------------------------------------


def test_each_refund_is_one_adjustment_on_amazon_with_our_line_ids(world: World, day: Day) -> None:
    rows = refund_rows(world.engine)
    for platform_id in ("R-amounts", "R-quantity", "C-partial"):
        (adjustment,) = world.amazon.adjustments(day.orders[platform_id])
        (line_id,) = line_ids(world.engine, rows[platform_id].id)
        assert adjustment["source"] == "feed"
        assert adjustment["merchant_adjustment_item_id"] == str(line_id)
    (amounts,) = world.amazon.adjustments(day.orders["R-amounts"])
    assert {c["type"]: c["amount"] for c in amounts["components"]} == {
        "Principal": "10.00",
        "Shipping": "4.99",
    }
    (partial,) = world.amazon.adjustments(day.orders["C-partial"])
    assert partial["order_item_id"] == day.items["C-partial"][1]
    assert partial["quantity_cancelled"] == 1
    stored = world.amazon.stored(day.orders["C-partial"])
    assert [i["quantity_cancelled"] for i in stored["items"]] == [0, 1]
    assert stored["status"] == "UNSHIPPED"


def test_the_whole_order_cancellation_cancels_the_order_on_amazon(world: World, day: Day) -> None:
    stored = world.amazon.stored(day.orders["C-whole"])
    assert stored["status"] == "CANCELLED"
    assert [i["quantity_cancelled"] for i in stored["items"]] == [1, 1]
    kinds = sorted(f["feedType"] for f in world.amazon.feeds())
    assert kinds == ["POST_ORDER_ACKNOWLEDGEMENT_DATA", "POST_PAYMENT_ADJUSTMENT_DATA"]


def test_the_store_confirms_them_and_tells_the_platform_per_component(
    world: World, day: Day
) -> None:
    rows = refund_rows(world.engine)
    for platform_id in ("R-amounts", "R-quantity", "C-partial", "C-whole"):
        assert rows[platform_id].state == "confirmed", platform_id
        assert rows[platform_id].confirmed_at is not None
    ours = set(day.orders.values())  # not the reconnected seller's
    refunds = {
        e["platform_refund_id"]: e
        for e in events(world.engine, "refunds/confirmed")
        if e["amazon_order_id"] in ours
    }
    cancellations = {
        e["platform_cancellation_id"]: e for e in events(world.engine, "cancellations/confirmed")
    }
    assert set(refunds) == {"R-amounts", "R-quantity"}
    assert set(cancellations) == {"C-partial", "C-whole"}
    for event in (*refunds.values(), *cancellations.values()):
        assert event["buyer_notified_by"] == "amazon"
        assert event["state"] == "confirmed"
    (line,) = refunds["R-amounts"]["lines"]
    assert line["amounts"]["item_price"] == "10.00"
    assert line["amounts"]["shipping"] == "4.99"
    assert line["amounts"]["tax"] == "0.00"
    assert refunds["R-amounts"]["total"] == "14.99"
    # One of three units: a third of what the line charged, per component.
    charged = charged_in_store(world.engine, day.items["R-quantity"][0])
    (by_quantity,) = refunds["R-quantity"]["lines"]
    assert by_quantity["quantity"] == 1
    assert Decimal(by_quantity["amounts"]["item_price"]) == charged["item_price"] / 3
    (adjustment,) = world.amazon.adjustments(day.orders["R-quantity"])
    sent = {c["type"]: Decimal(c["amount"]) for c in adjustment["components"]}
    assert sent["Principal"] == Decimal(by_quantity["amounts"]["item_price"])
    assert Decimal(adjustment["total"]) == Decimal(refunds["R-quantity"]["total"])
    whole = cancellations["C-whole"]
    assert whole["whole_order"] is True and len(whole["lines"]) == 2


def test_one_message_amazon_refuses_fails_alone_with_amazons_code_and_text(
    world: World, day: Day
) -> None:
    rows = refund_rows(world.engine)
    taxed = rows["R-taxed"]
    assert taxed.state == "failed"
    assert taxed.failure_code == "18002"
    assert "tax or shipping tax is not eligible" in (taxed.failure_reason or "")
    assert world.amazon.adjustments(day.orders["R-taxed"]) == []
    # It shared its feed with the refunds and the partial cancellation, which went through.
    assert rows["R-taxed"].submission_id == rows["R-amounts"].submission_id
    assert rows["C-partial"].submission_id == rows["R-amounts"].submission_id
    (failed,) = [
        e for e in events(world.engine, "refunds/failed") if e["platform_refund_id"] == "R-taxed"
    ]
    assert failed["error"]["code"] == "18002"
    assert failed["error"]["message"] == taxed.failure_reason


def test_a_refund_seller_central_made_first_fails_and_amazons_is_recorded(
    world: World, day: Day
) -> None:
    rows = refund_rows(world.engine)
    twice = rows["R-twice"]
    (made,) = day.seller_central["adjustments"]
    date = made["posted_time"][:10]
    amount = f"{day.sold_for['R-twice']:.2f}"
    assert twice.state == "failed"
    assert twice.failure_code == "AlreadyRefundedOnAmazon"
    assert twice.failure_reason == f"already refunded on Amazon on {date}: {amount} USD item price"
    assert twice.submission_id is None, "never sent"
    (failed,) = [
        e for e in events(world.engine, "refunds/failed") if e["platform_refund_id"] == "R-twice"
    ]
    assert failed["error"]["message"] == twice.failure_reason
    (from_amazon,) = [
        row
        for row in refund_rows_from_amazon(world.engine)
        if row.amazon_order_id == day.orders["R-twice"]
    ]
    assert from_amazon.source == "amazon" and from_amazon.state == "confirmed"
    (recorded,) = [
        e
        for e in events(world.engine, "refunds/recorded_from_amazon")
        if e["amazon_order_id"] == day.orders["R-twice"]
    ]
    assert recorded["source"] == "amazon" and recorded["amazon_order_id"] == day.orders["R-twice"]
    assert recorded["lines"][0]["amounts"]["item_price"] == f"{amount}"
    (only,) = world.amazon.adjustments(day.orders["R-twice"])
    assert only["source"] == "seller_central"


def test_a_refund_seller_central_made_moments_before_is_refused_by_amazon_not_made_twice(
    world: World, day: Day
) -> None:
    """Amazon's refunds of the last two minutes are not listed by date yet: the sweep before
    the batch cannot see this one, and the order (bought within the sweeps' coverage) is not
    read one by one, so the refund goes; Amazon refuses it, the buyer is refunded once, and
    Amazon's refusal is explained from the order's Finances: the clear reason, and the Seller
    Central refund recorded."""
    late = refund_rows(world.engine)["R-late"]
    assert late.state == "failed"
    assert late.submission_id is not None, "it was sent"
    assert late.failure_code == "AlreadyRefundedOnAmazon"
    assert (late.failure_reason or "").startswith("already refunded on Amazon on ")
    (only,) = world.amazon.adjustments(day.orders["R-late"])
    assert only["source"] == "seller_central"
    recorded = [
        e
        for e in events(world.engine, "refunds/recorded_from_amazon")
        if e["amazon_order_id"] == day.orders["R-late"]
    ]
    assert len(recorded) == 1

"""``amazon-channel demo`` and the demo seller of ``amazon-channel run``.

The demo is a finite script against an in-process sandbox over HTTP: it creates orders of every
kind (merchant- and Amazon-fulfilled, pending, multi-line, three marketplaces and currencies,
business, replacement, missing buyer data, one that makes no sense), syncs them through the same
code the workers run, changes some on Amazon (shipped, cancelled, a buyer's cancellation request,
pending orders priced), syncs again and prints what the store holds. It exits 0 when every order
the sandbox holds is in the store or set aside with a reason.

The demo keeps to its own data: ``demo_store`` starts the embedded servers in
``<data_dir>/demo``, apart from ``make run``'s, and the summary counts only the orders this run
created (a second demo on the same folder finds the first one's orders in the store, but does
not count them). With ``DATABASE_URL`` set it shares that database, and still counts only its
own orders; the summary says which.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.server import running_sandbox
from infra.amazon.sandbox.state import DEMO_SELLER
from infra.db.accounts import AccountError, AccountView, add_account, get_account
from infra.db.demo import store_summary
from infra.settings import Region, Settings
from workers import bootstrap

DEMO_ACCOUNT = "demo"
DEMO_DATA_DIR = "demo"  # under the data folder: the demo's own embedded servers


def demo_data_dir(settings: Settings) -> Path:
    return settings.data_dir / DEMO_DATA_DIR


def run_demo_on_own_data(settings: Settings, count: int) -> int:
    """``amazon-channel demo``: ``run_demo`` in the demo's own data folder."""
    with demo_store(settings) as ready:
        return run_demo(ready, count, shared_database=bool(settings.database_url))


@contextlib.contextmanager
def demo_store(settings: Settings) -> Iterator[Settings]:
    """Settings with live services for the demo, the embedded ones in its own data folder
    (``demo_data_dir``): what ``workers.cli.common.store`` does for every other command (not
    through ``workers.supervisor``, which imports this module for the demo account)."""
    from infra.db import migrate
    from infra.embedded import EmbeddedServices

    own = demo_data_dir(settings)
    embedded = EmbeddedServices(own)
    urls = embedded.start(settings.database_url, settings.redis_url, settings.broker_url)
    ready = settings.model_copy(
        update={
            "data_dir": own,
            "database_url": urls.database_url,
            "redis_url": urls.redis_url,
            "broker_url": urls.broker_url,
        }
    )
    try:
        migrate.upgrade(ready.database_url)
        bootstrap.use(ready)
        try:
            yield ready
        finally:
            bootstrap.reset_and_close()
    finally:
        embedded.stop()


_MARKETPLACES = ("ATVPDKIKX0DER", "A1F83G8C2ARO7P", "A1PA6795UKMFR9")


def ensure_demo_account(sessions: sessionmaker[Session]) -> AccountView:
    """The sandbox's demo seller as an account (added once)."""
    try:
        return get_account(sessions, DEMO_ACCOUNT)
    except AccountError:
        return add_account(
            sessions,
            name=DEMO_ACCOUNT,
            selling_partner_id=DEMO_SELLER.seller_id,
            region=Region.SANDBOX.value,
            marketplace_ids=list(DEMO_SELLER.marketplace_ids),
            refresh_token=DEMO_SELLER.refresh_token,
            client_id=DEMO_SELLER.client_id,
        )


def _stage_orders(http: httpx.Client, count: int) -> list[str]:
    """Orders of every kind, created three minutes in Amazon's past (visible to searches)."""
    kinds: list[dict[str, Any]] = [
        {"fulfilled_by": "MERCHANT", "status": "UNSHIPPED"},
        {"fulfilled_by": "AMAZON", "status": "SHIPPED"},
        {"fulfilled_by": "MERCHANT", "status": "PENDING"},
        {
            "fulfilled_by": "MERCHANT",
            "status": "UNSHIPPED",
            "items": [
                {"sku": "MUG-RED", "quantity": 2, "unit_price": "12.50"},
                {"sku": "MUG-BLUE", "quantity": 1, "unit_price": "12.50"},
                {"sku": "COASTER-4", "quantity": 3, "unit_price": "4.99"},
            ],
        },
        {"fulfilled_by": "MERCHANT", "status": "UNSHIPPED", "business": True},
        {"fulfilled_by": "MERCHANT", "status": "UNSHIPPED", "missing_buyer": True},
        {"fulfilled_by": "MERCHANT", "status": "UNSHIPPED", "prime": True},
    ]
    ids: list[str] = []
    for n in range(count):
        spec = dict(kinds[n % len(kinds)])
        spec["marketplace_id"] = _MARKETPLACES[n % len(_MARKETPLACES)]
        ids.append(_post(http, "/_sandbox/orders", spec)["order_id"])
    # A replacement for the first order, and one whose dates make no sense.
    ids.append(
        _post(
            http,
            "/_sandbox/orders",
            {"fulfilled_by": "MERCHANT", "status": "UNSHIPPED", "replacement_of": ids[0]},
        )["order_id"]
    )
    odd = _post(http, "/_sandbox/orders", {"fulfilled_by": "MERCHANT", "status": "UNSHIPPED"})
    _post(http, f"/_sandbox/orders/{odd['order_id']}/raw", {"createdTime": "not-a-date"})
    ids.append(odd["order_id"])
    return ids


def _post(http: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    response = http.post(path, json=body)
    response.raise_for_status()
    return response.json()


def run_demo(settings: Settings, count: int, *, shared_database: bool = True) -> int:
    """The script (module docstring) on ``settings``' store; ``shared_database``: the store is
    ``DATABASE_URL``'s, not the demo's own data folder (the summary says which)."""
    with (
        running_sandbox(rate_factor=50.0) as sandbox,
        httpx.Client(base_url=sandbox.base_url) as http,
    ):
        ready = settings.model_copy(
            update={"spapi_endpoint": sandbox.base_url, "sandbox_rate_factor": 50.0}
        )
        bootstrap.use(ready)
        account = ensure_demo_account(bootstrap.container().sessions)
        click.echo(f"sandbox at {sandbox.base_url}; account {account.name!r} ({account.id})")
        where = (
            "DATABASE_URL (shared)"
            if shared_database
            else f"its own data folder {settings.data_dir}"
        )
        click.echo(f"the demo's store: {where}; the summary counts only this run's orders")

        staged = _stage_orders(http, count)
        _post(http, "/_sandbox/clock/advance", {"seconds": 180})
        first = bootstrap.sync_account(account.id)
        click.echo(
            f"sync 1: {first.orders} orders, {first.created} new, {first.set_aside} set aside"
        )

        # Amazon moves on: ship one, cancel one, a buyer asks to cancel one, price a pending one.
        changes = [
            (staged[0], "status", {"status": "SHIPPED"}),
            (staged[4], "status", {"status": "CANCELLED"}),
            (staged[6], "cancellation-request", {"reason": "Ordered by mistake"}),
            (staged[2], "status", {"status": "UNSHIPPED"}),
        ]
        for order_id, action, body in changes:
            _post(http, f"/_sandbox/orders/{order_id}/{action}", body)
        _post(http, "/_sandbox/clock/advance", {"seconds": 180})
        second = bootstrap.sync_account(account.id)
        click.echo(f"sync 2: {second.orders} orders, {second.updated} changed")
        return _summary(staged, account.id)


def _summary(staged: list[str], account_id: int) -> int:
    summary = store_summary(bootstrap.container().sessions, account_id, staged)
    click.echo("")
    click.echo("this run's orders in the store (status, fulfilled by, marketplace, currency):")
    for (status, by, marketplace, currency), n in sorted(summary.kinds.items(), key=str):
        click.echo(f"  {n:4d}  {status:<18} {by:<9} {marketplace:<15} {currency or '-'}")
    click.echo("events written for the platform about them:")
    for topic, n in sorted(summary.topics.items()):
        click.echo(f"  {n:4d}  {topic}")
    click.echo("set aside (with the reason):")
    for order_id, reason in summary.set_aside.items():
        click.echo(f"        {order_id}: {reason}")
    missing = [o for o in staged if o not in summary.stored and o not in summary.set_aside]
    click.echo(
        f"\n{len(staged)} orders created on Amazon: {len(summary.stored)} in the store, "
        f"{len(summary.set_aside)} set aside, {len(missing)} missing"
    )
    return 0 if not missing else 1

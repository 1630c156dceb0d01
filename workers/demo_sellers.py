"""N demo sellers: the store holds the accounts ``demo-seller-2..N`` beside ``demo``, and the
sandbox the matching sellers (``infra.amazon.demo_sellers`` defines both sides).

``ensure_demo_sellers`` is safe to run twice and in any order with the sandbox's start: the
accounts are added in one bulk insert, leaving those that exist; a running sandbox is told the
sellers it lacks over its control API (``POST /_sandbox/sellers``; 409 means it has it), and a
sandbox started later learns them from ``amazon-channel sandbox --sellers N``.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.demo_sellers import DemoSeller, demo_sellers
from infra.db.accounts_checks import NewAccount
from infra.db.accounts_import import import_accounts
from infra.settings import Region


@dataclass(frozen=True, slots=True)
class DemoSellers:
    accounts_added: int  # to the store
    sellers_added: int  # to the sandbox (0 when it was not asked)


def ensure_demo_sellers(
    sessions: sessionmaker[Session], count: int, *, sandbox_url: str | None = None
) -> DemoSellers:
    """The store has the accounts of demo sellers 2..``count`` and, when ``sandbox_url`` is
    given (a running sandbox), the sandbox has their sellers."""
    sellers = demo_sellers(count)
    report = import_accounts(
        sessions, [(s.number, _account(s)) for s in sellers], skip_existing=True
    )
    added = 0
    if sandbox_url is not None and sellers:
        with httpx.Client(base_url=sandbox_url, timeout=30) as http:
            added = sum(_tell_sandbox(http, s) for s in sellers)
    return DemoSellers(len(report.added), added)


def _account(seller: DemoSeller) -> NewAccount:
    return NewAccount(
        name=seller.name,
        selling_partner_id=seller.seller_id,
        region=Region.SANDBOX.value,
        marketplace_ids=seller.marketplace_ids,
        refresh_token=seller.refresh_token,
        client_id=seller.client_id,
    )


def _tell_sandbox(http: httpx.Client, seller: DemoSeller) -> bool:
    response = http.post(
        "/_sandbox/sellers",
        json={
            "seller_id": seller.seller_id,
            "refresh_token": seller.refresh_token,
            "client_id": seller.client_id,
            "client_secret": seller.client_secret,
            "marketplace_ids": list(seller.marketplace_ids),
        },
    )
    if response.status_code == 409:
        return False
    response.raise_for_status()
    return True

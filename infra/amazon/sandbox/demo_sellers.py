"""``--sellers N``: the sandbox knows the demo sellers 2..N (``infra.amazon.demo_sellers``) from
its start, so a store that added them as accounts reaches them at once. Sellers it has already
(kept from an earlier run) are left as they are."""

from __future__ import annotations

from infra.amazon.demo_sellers import demo_sellers
from infra.amazon.sandbox.state import SandboxError, SandboxState, SellerAccount


def add_demo_sellers(state: SandboxState, count: int) -> int:
    """Add the demo sellers 2..``count`` that are missing; returns how many were added."""
    added = 0
    for seller in demo_sellers(count):
        try:
            state.add_seller(
                SellerAccount(
                    seller_id=seller.seller_id,
                    refresh_token=seller.refresh_token,
                    client_id=seller.client_id,
                    client_secret=seller.client_secret,
                    marketplace_ids=seller.marketplace_ids,
                )
            )
        except SandboxError as exc:
            if exc.status != 409:  # 409: it exists already
                raise
            continue
        added += 1
    return added

"""The demo sellers beyond the sandbox's own (``DEMO_SELLER``, the store's account ``demo``):
seller ``n`` of ``2..N`` is defined here once, so the store's accounts
(``workers.demo_sellers``) and the sandbox's sellers (``--sellers N``, ``add_demo_sellers``)
match without either asking the other, whichever starts first.

The credentials are the sandbox's published demo app's, as ``DEMO_SELLER``'s; they open nothing
but the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.amazon.sandbox.state import DEMO_SELLER, SandboxError, SandboxState, SellerAccount

SANDBOX_CLIENT_ID = DEMO_SELLER.client_id
SANDBOX_CLIENT_SECRET = DEMO_SELLER.client_secret


# Marketplaces by turn: one storefront, an EU seller in three (Sweden among them), the Far East.
_MARKETPLACE_SETS: tuple[tuple[str, ...], ...] = (
    ("ATVPDKIKX0DER",),
    ("A1PA6795UKMFR9", "A2NODRKZP88ZB9", "A13V1IB3VIYZZH"),
    ("A1F83G8C2ARO7P",),
    ("A1VC38T7YXB528",),
)


@dataclass(frozen=True, slots=True)
class DemoSeller:
    number: int
    name: str  # the store's account name
    seller_id: str
    refresh_token: str
    marketplace_ids: tuple[str, ...]
    client_id: str = SANDBOX_CLIENT_ID
    client_secret: str = SANDBOX_CLIENT_SECRET

    def __repr__(self) -> str:
        return f"DemoSeller(name={self.name!r}, seller_id={self.seller_id!r})"


def demo_seller(number: int) -> DemoSeller:
    return DemoSeller(
        number=number,
        name=f"demo-seller-{number}",
        seller_id=f"A1SANDBOXDEMO{number}",
        refresh_token=f"Atzr|sandbox-demo-seller-{number}",
        marketplace_ids=_MARKETPLACE_SETS[(number - 2) % len(_MARKETPLACE_SETS)],
    )


def demo_sellers(count: int) -> list[DemoSeller]:
    """Sellers 2..``count`` (seller 1 is the sandbox's own demo seller, account ``demo``)."""
    return [demo_seller(n) for n in range(2, count + 1)]


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
    if added:
        state.mark_changed()  # kept across restarts like any other change
    return added

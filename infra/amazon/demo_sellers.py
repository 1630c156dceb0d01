"""The demo sellers beyond the sandbox's own (``demo``): seller ``n`` of ``2..N`` is the same on
both sides, so the store's accounts and the sandbox's sellers match without either asking the
other. A store set up before its sandbox starts (``amazon-channel sandbox --sellers N``), or a
sandbox that starts first, agree by construction.

The credentials are the sandbox's published demo app's (the same pair ``infra.settings`` gives
an account against the sandbox); they open nothing but the sandbox. Written out here rather than
imported: the sandbox may not import the settings.
"""

from __future__ import annotations

from dataclasses import dataclass

SANDBOX_CLIENT_ID = "amzn1.application-oa2-client.sandbox"
SANDBOX_CLIENT_SECRET = "sandbox-secret"  # noqa: S105 (the sandbox's published demo secret)

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

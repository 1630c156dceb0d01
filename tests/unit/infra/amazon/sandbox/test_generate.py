"""Made-up orders: refused for sellers and marketplaces the sandbox does not know."""

from __future__ import annotations

import pytest

from infra.amazon.sandbox.generate import OrderSpec, create_order
from infra.amazon.sandbox.state import SandboxError, SandboxState


def test_unknown_sellers_and_marketplaces_are_refused() -> None:
    state = SandboxState()

    with pytest.raises(SandboxError):
        create_order(state, OrderSpec(seller_id="NOBODY"))
    with pytest.raises(SandboxError):
        create_order(state, OrderSpec(marketplace_id="XXXX"))

"""Login with Amazon's memory: access tokens belong to a seller and expire on the sandbox clock."""

from __future__ import annotations

import pytest

from infra.amazon.sandbox.state import DEMO_SELLER, LwaError, SandboxState


def test_access_tokens_belong_to_a_seller_and_expire_on_the_sandbox_clock() -> None:
    state = SandboxState()
    token, lifetime = state.issue_access_token(
        DEMO_SELLER.refresh_token, DEMO_SELLER.client_id, DEMO_SELLER.client_secret
    )

    assert state.seller_for_access_token(token) == DEMO_SELLER.seller_id
    state.advance_clock(lifetime - 1)
    assert state.seller_for_access_token(token) == DEMO_SELLER.seller_id
    state.advance_clock(1)
    assert state.seller_for_access_token(token) is None
    with pytest.raises(LwaError) as refused:
        state.issue_access_token(DEMO_SELLER.refresh_token, DEMO_SELLER.client_id, "nope")
    assert refused.value.error == "invalid_client"

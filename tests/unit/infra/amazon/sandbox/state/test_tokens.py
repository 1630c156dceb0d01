"""Pagination tokens: signed with the sandbox's own key, refused when forged or a day old."""

from __future__ import annotations

from datetime import timedelta

import pytest

from infra.amazon.sandbox.state import SandboxError, SandboxState


def test_pagination_tokens_are_signed_and_expire_after_a_day() -> None:
    state = SandboxState()
    token = state.make_pagination_token({"q": {"by": "updated"}, "pos": ["x", "y"]})

    assert state.read_pagination_token(token)["pos"] == ["x", "y"]
    with pytest.raises(SandboxError, match="Invalid"):
        SandboxState().read_pagination_token(token)  # another sandbox's key
    with pytest.raises(SandboxError, match="Invalid"):
        state.read_pagination_token("garbage")
    state.advance_clock(timedelta(hours=24, seconds=1).total_seconds())
    with pytest.raises(SandboxError, match="expired"):
        state.read_pagination_token(token)

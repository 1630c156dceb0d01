"""What a dead letter keeps of a task's arguments: every value under a key that names a secret
taken out, at any depth, and the letter marked so it is not sent again with the placeholder."""

from __future__ import annotations

from typing import Any

import pytest

from infra.db.failures import REDACTED, redacted


@pytest.mark.parametrize(
    ("value", "kept", "changed"),
    [
        ([41], [41], False),
        ({"account": 7}, {"account": 7}, False),
        ({"refresh_token": "Atzr|x"}, {"refresh_token": REDACTED}, True),
        ({"Authorization": "Bearer x"}, {"Authorization": REDACTED}, True),
        (
            [{"seller": {"client_secret": "s", "id": 1}}],
            [{"seller": {"client_secret": REDACTED, "id": 1}}],
            True,
        ),
        ({"webhook": ["a", {"password": "p"}]}, {"webhook": ["a", {"password": REDACTED}]}, True),
        ({"api_key": None, "apikey": 1}, {"api_key": REDACTED, "apikey": REDACTED}, True),
        (None, None, False),
    ],
)
def test_a_secret_is_taken_out_at_any_depth(value: Any, kept: Any, changed: bool) -> None:
    assert redacted(value) == (kept, changed)

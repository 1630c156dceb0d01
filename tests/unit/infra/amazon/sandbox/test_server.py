"""Where clients reach a served sandbox, the start of every document URL it hands out."""

from __future__ import annotations

import pytest

from infra.amazon.sandbox.server import default_base_url


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "http://127.0.0.1:8765"),
        ("sandbox", "http://sandbox:8765"),
        ("0.0.0.0", "http://127.0.0.1:8765"),
        ("::", "http://127.0.0.1:8765"),
        ("::1", "http://[::1]:8765"),
    ],
)
def test_the_default_base_url_names_a_reachable_host(host: str, expected: str) -> None:
    assert default_base_url(host, 8765) == expected

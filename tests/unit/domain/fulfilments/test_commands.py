"""The fulfilment command: one fingerprint for one fulfilment, however it is spelled."""

from __future__ import annotations

from domain.fulfilments import parse_request
from tests.unit.domain.fulfilments.helpers import request


def test_equal_requests_have_equal_fingerprints_however_they_are_spelled() -> None:
    one = parse_request(request(carrier_code="UPS", shipped_at="2026-11-01T10:30:00Z"))
    two = parse_request(request(carrier_code="ups", shipped_at="2026-11-01T11:30:00+01:00"))
    assert one.fingerprint() == two.fingerprint()
    assert one.fingerprint() != parse_request(request(tracking_number="OTHER")).fingerprint()

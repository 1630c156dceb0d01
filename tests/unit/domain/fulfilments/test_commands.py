"""The fulfilment command: one fingerprint for one fulfilment, however it is spelled."""

from __future__ import annotations

from tests.unit.domain.fulfilments.helpers import request
from workers.doors.fulfilments import read_request


def test_equal_requests_have_equal_fingerprints_however_they_are_spelled() -> None:
    one = read_request(request(carrier_code="UPS", shipped_at="2026-11-01T10:30:00Z"))
    two = read_request(request(carrier_code="ups", shipped_at="2026-11-01T11:30:00+01:00"))
    assert one.fingerprint() == two.fingerprint()
    assert one.fingerprint() != read_request(request(tracking_number="OTHER")).fingerprint()

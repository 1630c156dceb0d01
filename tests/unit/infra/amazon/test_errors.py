"""Amazon's error tree: what a Celery worker moves between processes survives the trip."""

from __future__ import annotations

import pickle

from infra.amazon.errors import AmazonError, AmazonUnreachable, InvalidInput, Throttled


def test_errors_survive_pickling() -> None:
    errors: list[AmazonError] = [
        InvalidInput("bad", operation="op", status_code=400, code="InvalidInput", details="d"),
        Throttled("slow", operation="op", status_code=429, request_id="r"),
        AmazonUnreachable("lost", operation="op", request_sent=True),
    ]
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)
        assert copy.__dict__ == error.__dict__

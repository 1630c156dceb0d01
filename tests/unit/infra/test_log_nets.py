"""The nets under every line, applied after a record's extras are added and its exception is
rendered: keys that name secrets redacted, LWA tokens and bearer credentials masked in any value
(a message, a traceback, Celery's arguments), in JSON and on a console alike."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from infra.logging import configure_logging

REFRESH = "Atzr|IwEBIPlantedRefresh"
ACCESS = "Atza|IwEBIPlantedAccess"
API = "plantedApiToken42"


@pytest.fixture
def capture() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        yield io.StringIO()
    finally:
        root.handlers[:], root.level = saved


def configured(out: io.StringIO, *, as_json: bool, process: str) -> None:
    """The process's logging, its one handler writing to ``out``."""
    configure_logging("INFO", json=as_json, process=process)
    (handler,) = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(out)


def _log_everything() -> None:
    log = logging.getLogger("tests.nets")
    log.info(
        "calling with Authorization: Bearer %s",
        API,
        extra={
            "refresh_token": "plain",
            "client_secret": "plain",
            "data": {"args": f"['{ACCESS}']"},
        },
    )
    try:
        raise ValueError(f"LWA refused {REFRESH}")
    except ValueError:
        log.exception("token refresh failed")


@pytest.mark.parametrize("as_json", [True, False])
def test_no_secret_survives_in_any_value(capture: io.StringIO, as_json: bool) -> None:
    configured(capture, as_json=as_json, process="ingest")
    _log_everything()
    text = capture.getvalue()
    for secret in (REFRESH, ACCESS, API, "plain"):
        assert secret not in text
    assert "Bearer [redacted]" in text and "Atzr|[redacted]" in text and "Atza|[redacted]" in text
    assert "Traceback (most recent call last)" in text, "the traceback is still there"


def test_a_json_line_carries_the_exception_as_text(capture: io.StringIO) -> None:
    configured(capture, as_json=True, process="ingest")
    _log_everything()
    first, failed = (json.loads(line) for line in capture.getvalue().splitlines())
    assert first["refresh_token"] == first["client_secret"] == "[redacted]"
    assert failed["exception"].startswith("Traceback (most recent call last)")
    assert failed["exception"].rstrip().endswith("ValueError: LWA refused Atzr|[redacted]")
    assert "exc_info" not in failed


def test_ids_and_reasons_are_left_as_they_are(capture: io.StringIO) -> None:
    configured(capture, as_json=True, process="fulfil")
    logging.getLogger("x").warning(
        "fulfilment failed: the order is cancelled; bearer of bad news",
        extra={"amazon_order_id": "113-1234567-1234567", "request_id": "abc", "code": "Invalid"},
    )
    (line,) = (json.loads(t) for t in capture.getvalue().splitlines())
    assert line["amazon_order_id"] == "113-1234567-1234567" and line["request_id"] == "abc"
    assert line["event"].startswith("fulfilment failed: the order is cancelled")

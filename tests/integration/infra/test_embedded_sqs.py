"""The embedded SQS: moto's server started in the data folder with the notifications queue,
found by ``infra.sqs`` from the data folder alone, reused while alive, stopped by its starter."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from infra import sqs
from infra.embedded import EmbeddedSqs
from infra.settings import load_settings

pytestmark = pytest.mark.integration


def test_started_found_reused_and_stopped(tmp_path: Path) -> None:
    first = EmbeddedSqs(tmp_path)
    server = first.start()
    try:
        settings = load_settings(data_dir=tmp_path, sqs_queue_url="", sqs_endpoint_url="")
        client = sqs.sqs_client(settings)
        client.send_message(QueueUrl=sqs.queue_url(settings), MessageBody="kept")
        reused = EmbeddedSqs(tmp_path).start()
        answer = client.receive_message(QueueUrl=reused.queue_url, WaitTimeSeconds=1)

        assert server.queue_url.endswith(f"/{sqs.EMBEDDED_ACCOUNT_ID}/{sqs.QUEUE_NAME}")
        assert sqs.queue_url(settings) == server.queue_url
        assert sqs.endpoint_url(settings) == server.endpoint_url
        assert sqs.is_embedded(settings)
        assert reused == server  # the same process: its queue still holds the message
        assert [m["Body"] for m in answer["Messages"]] == ["kept"]
    finally:
        first.stop()

    assert not psutil.pid_exists(server.pid) or psutil.Process(server.pid).status() == "zombie"
    assert sqs.live_server(tmp_path) is None
    with pytest.raises(sqs.SqsNotConfigured, match="set SQS_QUEUE_URL"):
        sqs.queue_url(load_settings(data_dir=tmp_path, sqs_queue_url=""))


def test_a_configured_queue_is_used_as_given(tmp_path: Path) -> None:
    url = "https://sqs.eu-west-1.amazonaws.com/111122223333/orders"
    settings = load_settings(data_dir=tmp_path, sqs_queue_url=url, sqs_endpoint_url="")

    assert sqs.queue_url(settings) == url
    assert sqs.endpoint_url(settings) is None  # AWS's own endpoint for the region
    assert not sqs.is_embedded(settings)
    assert sqs.queue_arn(url, "eu-west-1", "111122223333") == (
        "arn:aws:sqs:eu-west-1:111122223333:orders"
    )

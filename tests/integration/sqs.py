"""A real SQS for tests: moto's server mode on a loopback port, in this process's threads, with
queues made and read through boto3 (the same client code as production)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from infra.sqs import EMBEDDED_ACCESS_KEY_ID, EMBEDDED_SECRET_ACCESS_KEY


@dataclass
class MotoSqs:
    endpoint_url: str
    client: Any

    def new_queue(self, prefix: str = "test") -> tuple[str, str]:
        """A fresh queue: (its URL, its ARN)."""
        url = self.client.create_queue(QueueName=f"{prefix}-{uuid.uuid4().hex[:10]}")["QueueUrl"]
        arn = self.client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        return str(url), str(arn)

    def drain(self, url: str, expect: int, timeout_s: float = 10.0) -> list[dict[str, Any]]:
        """The bodies of the messages on the queue (deleted), waiting for at least ``expect``."""
        bodies: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            answer = self.client.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            )
            for message in answer.get("Messages", []):
                bodies.append(json.loads(message["Body"]))
                self.client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if len(bodies) >= expect and not answer.get("Messages"):
                break
        return bodies


@contextmanager
def moto_sqs() -> Iterator[MotoSqs]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.client(
            "sqs",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=EMBEDDED_ACCESS_KEY_ID,
            aws_secret_access_key=EMBEDDED_SECRET_ACCESS_KEY,
        )
        yield MotoSqs(endpoint, client)
    finally:
        server.stop()

"""The notifications consumer (the Procfile's ``notifications-consumer``): long-polls the SQS
queue Amazon's notifications arrive on and takes each one in, once.

Per message: its body is parsed by its type's model (``infra.amazon.translate.notifications``);
``domain.notifications.take_in`` commits what it asks (its NotificationId, so a second delivery
does nothing; an order refresh, a feed submission made due) in one transaction; then the
follow-up tasks are queued on the ``notifications``, ``refund`` and ``payout`` queues; and only
then is the message deleted from SQS. A consumer killed anywhere before the delete leaves the
message on the queue: SQS delivers it again once its visibility timeout has passed, and its
NotificationId makes the second delivery a no-op. A malformed body, or one naming no account of
ours, is dead-lettered with its reason (``dead_letters``) and then deleted; if the store cannot
take the letter, the message stays for a later try.

What a lost follow-up costs: nothing durable. A refresh row waits for beat's
``notifications.sweep`` (every 15 s), a woken feed submission for ``refund.sweep`` (10 s); a
settlement report's fetch for beat's hourly ``payout.fetch_all``.

The consumer writes a heartbeat in Redis after every receive (``ALIVE_KEY``, a minute's TTL):
the sync's schedule reads it (``domain.notifications.health``).
"""

from __future__ import annotations

import hashlib
import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import redis

from domain.notifications import Disposition, TakenIn, take_in
from infra.amazon.translate.notifications import MalformedNotification, parse_notification
from infra.db.failures import Letter
from workers import bootstrap
from workers.app import app
from workers.deadletters import keep

log = logging.getLogger(__name__)

WAIT_S = 20  # SQS's longest long poll: an idle queue costs three receives a minute
BATCH = 10  # SQS's most messages per receive
ALIVE_KEY = "amazon-channel:notifications:consumer-alive"
ALIVE_TTL_S = 60  # three long polls
TASK_NAME = "notifications.consume"  # how a dead letter of ours names where it came from
QUEUE = "notifications"
# After SQS or the store failed: wait this long, doubling, at most the cap.
BACKOFF_S = 1.0
BACKOFF_CAP_S = 30.0


@dataclass
class FollowUps:
    """The tasks a batch's commits ask for, each queued once per batch."""

    refresh_accounts: set[int] = field(default_factory=set)
    submissions: set[int] = field(default_factory=set)
    payout_accounts: set[int] = field(default_factory=set)

    def add(self, taken: TakenIn) -> None:
        self.refresh_accounts.update(taken.refresh_accounts)
        self.submissions.update(taken.woken_submissions)
        self.payout_accounts.update(taken.payout_accounts)

    def send(self) -> None:
        """By name: the consumer imports no queue's tasks (a refresh, a feed's advance, a
        payout fetch, each on its own queue)."""
        for account_id in sorted(self.refresh_accounts):
            app.send_task("notifications.refresh", args=[account_id])
        for submission_id in sorted(self.submissions):
            app.send_task("refund.advance", args=[submission_id])
        for account_id in sorted(self.payout_accounts):
            app.send_task("payout.fetch", args=[account_id])


def _letter(message_id: str, body: str, reason: str, error_type: str, error: str) -> Letter:
    digest = hashlib.sha256(body.encode("utf-8", "replace")).hexdigest()[:32]
    return Letter(
        message_key=f"sqs:{message_id or digest}",
        reason=reason,
        task_name=TASK_NAME,
        queue=QUEUE,
        body=body,
        error_type=error_type,
        error_message=error,
    )


def handle(message_id: str, body: str) -> tuple[bool, TakenIn | None]:
    """Take one message in: (whether it may be deleted now, what it committed). Raises when the
    store is away (then it stays on the queue)."""
    try:
        notification = parse_notification(body)
    except MalformedNotification as exc:
        letter_id = keep(_letter(message_id, body, "malformed", "MalformedNotification", str(exc)))
        return letter_id is not None, None
    taken = take_in(notification, bootstrap.container().notification_store)
    if taken.disposition is Disposition.UNROUTED:
        letter = _letter(message_id, body, "permanent_error", "Unrouted", taken.reason or "")
        return keep(letter) is not None, taken
    return True, taken


class Consumer:
    """One long-polling loop on one queue. ``stop()`` (SIGTERM, SIGINT) ends it after the
    receive in flight (at most ``WAIT_S``) and its batch."""

    def __init__(self, sqs: Any, queue_url: str, visibility_timeout: int = 0) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.visibility_timeout = visibility_timeout
        self.stopping = threading.Event()

    def stop(self, *_args: object) -> None:
        self.stopping.set()

    def run(self) -> None:
        backoff = BACKOFF_S
        log.info("consuming notifications", extra={"queue": self.queue_url.rsplit("/", 1)[-1]})
        while not self.stopping.is_set():
            try:
                self.poll_once()
                backoff = BACKOFF_S
            except Exception:
                log.exception("notifications: a receive failed; trying again in %.0fs", backoff)
                self.stopping.wait(backoff)
                backoff = min(BACKOFF_CAP_S, backoff * 2)

    def poll_once(self) -> int:
        """One receive and its batch; how many messages were deleted."""
        options: dict[str, Any] = {
            "QueueUrl": self.queue_url,
            "MaxNumberOfMessages": BATCH,
            "WaitTimeSeconds": WAIT_S,
        }
        if self.visibility_timeout:
            options["VisibilityTimeout"] = self.visibility_timeout
        messages = self.sqs.receive_message(**options).get("Messages", [])
        _heartbeat()
        follow_ups = FollowUps()
        done: list[dict[str, Any]] = []
        for message in messages:
            try:
                deletable, taken = handle(message.get("MessageId", ""), message.get("Body", ""))
            except Exception:
                log.exception("notifications: a message could not be taken in; SQS redelivers it")
                continue
            if taken is not None:
                follow_ups.add(taken)
            if deletable:
                done.append(message)
        follow_ups.send()
        self._delete(done)
        return len(done)

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        if not messages:
            return
        entries = [
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)
        ]
        answer = self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        for failed in answer.get("Failed", []):
            # Taken in already: a redelivery is a duplicate and is deleted then.
            log.warning("notifications: a delete failed: %s", failed.get("Message"))


def _heartbeat() -> None:
    try:
        bootstrap.container().redis.set(ALIVE_KEY, int(time.time()), ex=ALIVE_TTL_S)
    except redis.RedisError as exc:
        log.warning("notifications: no heartbeat written: %s", exc)


def consumer_alive(client: redis.Redis) -> bool:
    """The consumer received from its queue within ``ALIVE_TTL_S``."""
    try:
        return bool(client.exists(ALIVE_KEY))
    except redis.RedisError:
        return False


def run_consumer(sqs: Any, queue_url: str, visibility_timeout: int = 0) -> None:
    """Consume until SIGTERM or SIGINT."""
    consumer = Consumer(sqs, queue_url, visibility_timeout)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, consumer.stop)
    consumer.run()
    log.info("notifications consumer stopped")

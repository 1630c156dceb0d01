"""Celery's configuration, read by Celery (lazily) from this module inside the running process.

The settings are this process's container's (``workers.bootstrap``): the ones a command chose
with ``bootstrap.use``, else the environment's. Why each reliability setting is set is written
in ``workers.app``'s docstring.
"""

from __future__ import annotations

from kombu.entity import Exchange, Queue

from infra.broker import is_amqp
from workers import bootstrap
from workers.queues import (
    HARD_TIME_LIMIT_S,
    QUEUES,
    SOFT_TIME_LIMIT_S,
    VISIBILITY_TIMEOUT_S,
    task_modules,
)
from workers.schedule import beat_schedule as _beat_schedule

_settings = bootstrap.container().settings
broker_url = _settings.broker_url or None
_transport = {
    "visibility_timeout": _settings.broker_visibility_timeout or VISIBILITY_TIMEOUT_S,
    "unacked_restore_interval": 5,
    "socket_timeout": 10,
    "socket_connect_timeout": 5,
    "socket_keepalive": True,
    "health_check_interval": 25,
}
_is_redis = (broker_url or "").startswith(("redis", "unix", "socket"))
_is_amqp = is_amqp(broker_url or "")
# RabbitMQ: publisher confirms, so a publish returns once the broker has taken the message (for
# a quorum queue: written by a majority of its replicas); an unconfirmed publish raises and is
# retried (``task_publish_retry``), never dropped silently.
broker_transport_options = (
    _transport if _is_redis else {"confirm_publish": True} if _is_amqp else {}
)
broker_connection_retry_on_startup = True
broker_connection_max_retries = None
broker_pool_limit = 10
task_publish_retry = True
task_publish_retry_policy = {
    "max_retries": 10,
    "interval_start": 0.2,
    "interval_step": 0.5,
    "interval_max": 3,
}
task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
task_ignore_result = True
task_acks_late = True
task_reject_on_worker_lost = True
task_acks_on_failure = True
task_acks_on_timeout = True
worker_prefetch_multiplier = 1
task_time_limit = HARD_TIME_LIMIT_S
task_soft_time_limit = SOFT_TIME_LIMIT_S
# A pool child is replaced when it grows past the memory limit (the guard against a leak), and
# after this many tasks. A new child builds its container again: connections, the shared HTTP
# client and every seller's SP-API client (0.15 ms each, the token then read from Redis). At 1,000
# tasks an ingest child serving 1,000 sellers never saw one twice; 10,000 keeps it for ten ticks.
worker_max_tasks_per_child = 10_000
worker_max_memory_per_child = 400_000  # KiB
# Records what Celery's own consumer would log and drop (``workers.deadletters``).
worker_consumer = "workers.deadletters:DeadLetterConsumer"
worker_send_task_events = True
task_send_sent_event = True
worker_hijack_root_logger = False
worker_cancel_long_running_tasks_on_connection_loss = True
timezone = "UTC"
enable_utc = True
task_default_queue = "events"
# Every queue's task module; a worker of one queue still knows the others' task names.
imports = task_modules()
# RabbitMQ queues are quorum queues (replicated, a confirmed message survives a node's crash,
# a consumer's connection loss requeues its unacked messages at once), except the fulfil queue,
# which is a durable classic queue with x-max-priority: confirmations go out by ship-by urgency
# (the doors' ``celery_priority``), and quorum queues before RabbitMQ 4.0 have no priorities at
# all (4.0 gives them two levels). On one node a classic durable queue keeps a confirmed
# persistent message through a crash as well; what it lacks is replication, and a fulfilment's
# message is backed by the store (the sweeper queues again what was accepted and not sent), so a
# lost one costs time, not the fulfilment. RabbitMQ refuses to redeclare an existing queue with
# other arguments: a deployment whose queues were declared otherwise drains and deletes them once
# before upgrading (README). Redis ignores these arguments and keeps priority sub-queues of its
# own. Celery (>= 5.5) sees the quorum queues and uses per-consumer prefetch (quorum queues have
# no global QoS) and RabbitMQ's native delayed delivery for countdowns, which reaches a queue
# through a topic exchange: the queues' exchanges are topic exchanges on RabbitMQ (a countdown
# task then waits in the broker, not unacked in a worker whose prefetch can no longer grow).
QUORUM: dict[str, object] = {"x-queue-type": "quorum"}
QUEUE_ARGUMENTS: dict[str, dict[str, object]] = {
    **({q: QUORUM for q in QUEUES} if _is_amqp else {}),
    "fulfil": {"x-max-priority": 10},
}
_exchange_type = "topic" if _is_amqp else "direct"
task_queues = [
    Queue(
        q,
        Exchange(q, type=_exchange_type),
        routing_key=q,
        queue_arguments=QUEUE_ARGUMENTS.get(q),
    )
    for q in QUEUES
]
# By name: a task's name starts with its queue (``workers.base.channel_task``). A route names
# no exchange, so Celery publishes to the broker's default (anonymous) exchange with the queue's
# name as routing key (celery/app/amqp.py, "convert to anon-exchange"). On Redis that is what
# keeps a publish from being dropped after Redis lost its data: kombu looks a named exchange's
# queues up in ``_kombu.binding.<exchange>``, which a FLUSHALL removes while every connection
# stays up (so no producer declares again) and then drops the message silently; the anonymous
# exchange needs no binding, a message goes straight to the queue's list (kombu's
# ``_lookup``), restores of unacked messages included. That costs nothing, where declaring on
# every publish (an SADD each) or a periodic re-declare would only narrow the gap. On RabbitMQ
# the queues' exchanges are topic exchanges (above), which Celery does not convert: it publishes
# to the queue's own exchange, having declared exchange, queue and binding once per connection
# (kombu forgets what it declared when a connection is made again, so a node that lost its data
# gets them back from the first publisher that reconnects), and RabbitMQ keeps them durable. Do
# not add an ``exchange`` to a route (tests/integration/workers/test_publish_after_wipe.py
# holds this).
task_routes = {f"{q}.*": {"queue": q, "routing_key": q} for q in QUEUES}
task_default_priority = None
# Beat: RedBeat with its lock, healing when Redis lost the lock or the schedule
# (``workers.beat``); due entries checked every 5 s.
beat_scheduler = "workers.beat:HealingScheduler"
redbeat_redis_url = _settings.redis_url or _settings.broker_url
# None of the broker's transport options for RedBeat's client (what RedBeat already did with none
# set, but it warned at every start that this fallback will change).
redbeat_redis_options: dict[str, object] = {}
redbeat_key_prefix = "amazon-channel:redbeat:"
redbeat_lock_timeout = 30
beat_max_loop_interval = 5

beat_schedule = _beat_schedule(_settings)

"""Events queue: relay the outbox to the platform's webhook subscribers. Thin: the work and its
safety (SKIP LOCKED, leases, fencing) live in ``infra.db.deliveries`` and
``infra.platform.relay``; beat triggers both tasks every few seconds and each re-enqueues itself
while there is more to do."""

from __future__ import annotations

from dataclasses import asdict

from infra.db.deliveries import DISPATCH_BATCH
from infra.platform import relay
from workers import bootstrap
from workers.base import channel_task
from workers.queues import HARD_TIME_LIMIT_S, SOFT_TIME_LIMIT_S

# A delivery's lease covers one attempt: its claim, one POST, its record (the fence is the claim's
# attempt number, fresh per claim, so a copy of this task's message never shares it). Longer than
# that POST can take (the webhook client's timeouts: connect 5 s + write, read and pool 10 s each),
# so a live attempt is never overtaken mid-POST; short, so that a delivery whose worker was
# SIGKILLed mid-POST (and the later events of its chain, which wait for it) goes out again within
# a minute: the lease runs out after 45 s and the next deliver tick (every 5 s) claims it. A
# worker paused past it may POST an event a second time: delivery is at least once, and
# subscribers dedupe by event id.
LEASE_S = 45
assert LEASE_S > 5 + 3 * 10 and LEASE_S < HARD_TIME_LIMIT_S
# Stop claiming early enough that the last POST (≤ 15 s: connect + read) ends before the soft limit.
BUDGET_S = SOFT_TIME_LIMIT_S - 30
FOLLOW_UP_EXPIRES_S = 60


@channel_task("events.dispatch")
def dispatch() -> dict[str, int]:
    c = bootstrap.container()
    report = c.deliveries.dispatch(c.settings.webhook_url_list())  # committed
    # After the commit, so the deliverer sees the new rows.
    if report.events >= DISPATCH_BATCH:
        dispatch.apply_async(expires=FOLLOW_UP_EXPIRES_S)
    if report.deliveries:
        deliver.apply_async(expires=FOLLOW_UP_EXPIRES_S)
    return asdict(report)


@channel_task("events.deliver")
def deliver() -> dict[str, int | bool]:
    c = bootstrap.container()
    if not c.settings.webhook_url_list():
        return relay.DeliveryReport().as_dict()  # no subscribers: idle, like dispatch
    report = relay.deliver_due(
        c.deliveries,
        c.webhook_http,
        secret=c.settings.webhook_secret.get_secret_value(),
        retry_hours=c.settings.webhook_retry_hours,
        lease_s=LEASE_S,
        budget_s=BUDGET_S,
    )
    if report.more:
        deliver.apply_async(expires=FOLLOW_UP_EXPIRES_S)
    return report.as_dict()

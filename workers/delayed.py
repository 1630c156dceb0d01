"""RabbitMQ's native delayed delivery (Celery's, used with quorum queues) with every queue of
the app declared first.

With quorum queues Celery sends a countdown task through RabbitMQ's delay exchanges and binds
each of the app's queues' exchanges to the last of them when a worker's consumer starts. Celery
binds every queue of the app, but a worker declares only the queues it consumes: in a worker of
one queue the others' exchanges do not exist yet, the bind fails, and Celery logs that delayed
delivery is unavailable. Declared first (exchange, queue and binding, as a publisher would), every
bind holds. It runs again each time the consumer reconnects, so a node that lost its data gets
the queues, exchanges and delay bindings back as soon as one worker is connected again.
"""

from __future__ import annotations

from typing import Any

from celery.worker.consumer.delayed_delivery import DelayedDelivery


class DeclaringDelayedDelivery(DelayedDelivery):  # type: ignore[misc]
    """Celery's ``DelayedDelivery`` step, each app queue declared before it is bound."""

    def _bind_queues(self, app: Any, connection: Any) -> None:
        channel = connection.default_channel
        for queue in app.amqp.queues.values():
            queue.bind(channel).declare()
        super()._bind_queues(app, connection)


STEP = "celery.worker.consumer.delayed_delivery:DelayedDelivery"
OURS = f"{__name__}:DeclaringDelayedDelivery"


def consumer_steps(steps: list[str]) -> list[str]:
    """Celery's consumer steps with its delayed delivery step replaced by ours."""
    return [OURS if step == STEP else step for step in steps]

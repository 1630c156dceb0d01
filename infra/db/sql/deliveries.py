"""The relay's SQL: fan events out into one delivery per subscriber, claim the head of a chain
under a lease, and record an attempt fenced by that lease. Raw SQL: the chain-head claim reads
better as SQL than as Core, and the others keep it company.

``attempts`` doubles as the fencing token: a claim increments it and the result is written only
``WHERE attempts = <the claimed attempt> AND state = 'sending'``, so a worker whose lease expired
and was re-claimed cannot overwrite the newer attempt's outcome. All times are PostgreSQL's
``now()``.
"""

from __future__ import annotations

from sqlalchemy import text

PICK_UNDISPATCHED = text(
    """
    SELECT id FROM outbox_events
    WHERE dispatched_at IS NULL
    ORDER BY id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
    """
)

FAN_OUT = text(
    """
    INSERT INTO webhook_deliveries (event_id, aggregate_key, subscriber_url)
    SELECT e.id, e.aggregate_key, u.url
    FROM outbox_events AS e
    CROSS JOIN unnest(CAST(:urls AS text[])) AS u(url)
    WHERE e.id = ANY(CAST(:ids AS bigint[]))
    ORDER BY e.id
    ON CONFLICT (event_id, subscriber_url) DO NOTHING
    RETURNING id
    """
)

MARK_DISPATCHED = text(
    "UPDATE outbox_events SET dispatched_at = now() WHERE id = ANY(CAST(:ids AS bigint[]))"
)

# The head of a chain: due (or its lease expired), and nothing earlier for the same subscriber
# and order is still undelivered or not yet fanned out (a concurrent dispatcher may hold it).
# A snapshot can only be stale in the safe direction: delivered, dead and dispatched are final.
CLAIM_NEXT = text(
    """
    WITH head AS (
        SELECT d.id
        FROM webhook_deliveries AS d
        WHERE (
            (d.state = 'pending' AND d.next_attempt_at <= now())
            OR (d.state = 'sending' AND d.lease_until < now())
        )
        AND NOT EXISTS (
            SELECT 1 FROM webhook_deliveries AS earlier
            WHERE earlier.subscriber_url = d.subscriber_url
              AND earlier.aggregate_key = d.aggregate_key
              AND earlier.event_id < d.event_id
              AND earlier.state IN ('pending', 'sending')
        )
        AND NOT EXISTS (
            SELECT 1 FROM outbox_events AS undispatched
            WHERE undispatched.aggregate_key = d.aggregate_key
              AND undispatched.id < d.event_id
              AND undispatched.dispatched_at IS NULL
        )
        ORDER BY d.next_attempt_at, d.id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    )
    UPDATE webhook_deliveries AS w
    SET state = 'sending',
        attempts = w.attempts + 1,
        lease_until = now() + make_interval(secs => :lease_s)
    FROM head, outbox_events AS e
    WHERE w.id = head.id AND e.id = w.event_id
    RETURNING w.id, w.attempts, w.subscriber_url, e.event_id, e.topic, e.created_at,
              e.payload::text, floor(extract(epoch FROM now()))::bigint
    """
)

LOG_ATTEMPT = text(
    """
    INSERT INTO webhook_attempts (delivery_id, status_code, error, duration_ms)
    VALUES (:id, :status, :error, :duration_ms)
    """
)

_FENCE = "w.id = :id AND w.attempts = :attempt AND w.state = 'sending'"

MARK_DELIVERED = text(
    f"""
    UPDATE webhook_deliveries AS w
    SET state = 'delivered', delivered_at = now(), lease_until = NULL,
        last_status = :status, last_error = NULL
    WHERE {_FENCE}
    RETURNING w.state
    """
)

MARK_GONE = text(
    f"""
    UPDATE webhook_deliveries AS w
    SET state = 'dead', lease_until = NULL, last_status = :status,
        last_error = 'HTTP 410 Gone: the subscriber asked us to stop'
    WHERE {_FENCE}
    RETURNING w.state
    """
)

# Retry until the window after the event's creation is over; the last try falls on the deadline.
MARK_RETRY = text(
    f"""
    UPDATE webhook_deliveries AS w
    SET state = CASE
            WHEN now() >= e.created_at + make_interval(secs => :window_s) THEN 'dead'
            ELSE 'pending'
        END,
        next_attempt_at = LEAST(
            now() + make_interval(secs => :delay_s),
            e.created_at + make_interval(secs => :window_s)
        ),
        lease_until = NULL, last_status = :status, last_error = :error
    FROM outbox_events AS e
    WHERE {_FENCE} AND e.id = w.event_id
    RETURNING w.state
    """
)

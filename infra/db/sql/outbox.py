"""The outbox's bulk append: one statement over arrays whatever the number of events, so a
page of orders appends its events in one round trip and PostgreSQL plans it once."""

from __future__ import annotations

INSERT_EVENTS = (
    "INSERT INTO outbox_events (event_id, topic, aggregate_key, payload) "
    "SELECT event_id, topic, aggregate_key, CAST(payload AS jsonb) FROM unnest("
    "CAST(%(event_id)b AS uuid[]), CAST(%(topic)b AS text[]),"
    " CAST(%(aggregate_key)b AS text[]), CAST(%(payload)b AS text[])"
    ") AS e(event_id, topic, aggregate_key, payload)"
)

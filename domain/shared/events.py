"""The event base: a fact a feature records in the same transaction as the change it reports.

Events are values (frozen dataclasses). The store appends them to the outbox, which delivers them
to the platform at least once: ``event_id`` lets a subscriber drop a repeat, and events of one
``aggregate_key`` (one order) are delivered in the order they were appended.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def aggregate_key(self) -> str:
        """What deliveries are ordered by; each event names its aggregate."""
        raise NotImplementedError(f"{type(self).__name__} names no aggregate")

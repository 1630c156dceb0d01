"""What the sandbox keeps across a restart, and its file format: ``SavedState``, ``dumps``,
``loads``.

Kept: the sellers with their LWA credentials and the access tokens issued, grantless ones too
(a worker's cached token still works), the Notifications API's destinations and subscriptions,
orders with their items, packages and adjustments, feeds and feed
documents, financial events and the groups closed early, settlement reports with their
documents and settings, the id counters (adjustment item ids, the random generator that
draws order, item and document ids), the key that signs pagination tokens, the feed settings
and the clock's offset. Not kept: rate buckets (they run on the monotonic clock, which does not
survive a process), queued faults and the call log (a test's harness, made afresh).

The format is a pickle of the sandbox's own plain dataclasses, behind one header line::

    amazon-channel-sandbox-state <FORMAT_VERSION> <SCHEMA>\\n<pickle>

Pickle, not JSON: a snapshot is taken under the state's lock, and pickling thousands of orders
is a C loop, where a JSON codec for a dozen record types would be slow Python and a second
description of every record. ``SCHEMA`` is a digest of every kept class's field names, so a
file written before a record gained, lost or renamed a field is refused (``SavedStateError``)
rather than read into objects with missing or shifted attributes (a slots dataclass pickles its
fields by position). Only the sandbox's record classes and a few standard-library types can be
loaded (``_RecordsOnly``): the file lives in the user's own data folder, but a pickle that could
name any callable would still be a way in.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime, timedelta
from typing import Any

from infra.amazon.sandbox.state.finances import EventItem, FinancialEvent, GroupClose
from infra.amazon.sandbox.state.notifications import (
    NotificationBook,
    SandboxDestination,
    SandboxSubscription,
)
from infra.amazon.sandbox.state.records import (
    FeedResult,
    SandboxAdjustment,
    SandboxFeed,
    SandboxFeedDocument,
    SandboxItem,
    SandboxOrder,
    SandboxPackage,
    SellerAccount,
)
from infra.amazon.sandbox.state.reports import ReportBook, SandboxReport

# 2: grantless tokens and the Notifications API's destinations and subscriptions kept.
FORMAT_VERSION = 2
MAGIC = b"amazon-channel-sandbox-state"


class SavedStateError(ValueError):
    """A saved state that cannot be read: the reason, in words."""


@dataclass(slots=True)
class SavedState:
    """Everything ``SandboxState`` keeps across a restart (module docstring)."""

    sellers: dict[str, SellerAccount]
    access_tokens: dict[str, tuple[str, datetime]]
    orders: dict[str, SandboxOrder]
    feed_documents: dict[str, SandboxFeedDocument]
    feeds: dict[str, SandboxFeed]
    events: list[FinancialEvent]
    adjustment_items: int
    group_closes: list[GroupClose]
    reports: ReportBook
    clock_offset: timedelta
    rng_state: tuple[Any, ...]
    pagination_key: bytes
    gzip_feed_results: bool
    feed_processing_seconds: float | None
    grantless_tokens: dict[str, tuple[str, str, datetime]]
    notifications: NotificationBook


KEPT_CLASSES: tuple[type, ...] = (
    SavedState,
    SellerAccount,
    SandboxOrder,
    SandboxItem,
    SandboxAdjustment,
    SandboxPackage,
    SandboxFeedDocument,
    SandboxFeed,
    FeedResult,
    FinancialEvent,
    EventItem,
    GroupClose,
    ReportBook,
    SandboxReport,
    NotificationBook,
    SandboxDestination,
    SandboxSubscription,
)


def _schema() -> str:
    """A short digest of every kept class's name and field names, in order."""
    described = ";".join(
        f"{cls.__name__}:{','.join(f.name for f in fields(cls))}"
        for cls in KEPT_CLASSES
        if is_dataclass(cls)
    )
    return hashlib.sha256(described.encode()).hexdigest()[:16]


SCHEMA = _schema()
_ALLOWED = {(cls.__module__, cls.__name__) for cls in KEPT_CLASSES} | {
    ("datetime", "datetime"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("decimal", "Decimal"),
}


def header() -> bytes:
    return b"%s %d %s\n" % (MAGIC, FORMAT_VERSION, SCHEMA.encode())


def dumps(saved: SavedState) -> bytes:
    return header() + pickle.dumps(saved, protocol=pickle.HIGHEST_PROTOCOL)


class _RecordsOnly(pickle.Unpickler):
    """Loads the sandbox's records and nothing else (module docstring)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise SavedStateError(f"it names {module}.{name}, which the sandbox never saves")
        return super().find_class(module, name)


def loads(data: bytes) -> SavedState:
    """The state saved in ``data``; ``SavedStateError`` saying why it cannot be read."""
    first, newline, body = data.partition(b"\n")
    words = first.split(b" ")
    if not newline or len(words) != 3 or words[0] != MAGIC:
        raise SavedStateError("it is not a saved sandbox state")
    if words[1] != str(FORMAT_VERSION).encode():
        raise SavedStateError(
            f"it is in format {words[1].decode(errors='replace')}, this sandbox reads format "
            f"{FORMAT_VERSION}"
        )
    if words[2] != SCHEMA.encode():
        raise SavedStateError("it was written by a version of the sandbox with other records")
    try:
        saved = _RecordsOnly(io.BytesIO(body)).load()
    except SavedStateError:
        raise
    except Exception as exc:  # a truncated or damaged pickle fails in many ways
        raise SavedStateError(f"it is damaged ({type(exc).__name__}: {exc})") from exc
    if not isinstance(saved, SavedState):
        raise SavedStateError("it holds something other than a sandbox state")
    return saved

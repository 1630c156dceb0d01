"""The notification side of the store: notifications taken in once, the order refreshes they
ask for (``SqlNotificationStore``), and the gap audit and health reads (``audit``)."""

from infra.db.notifications.audit import (
    GAP_MARGIN,
    RETENTION,
    AccountNotifications,
    account_notifications,
    accounts_with_refreshes,
    last_received,
    purge,
)
from infra.db.notifications.store import SqlNotificationStore

__all__ = [
    "GAP_MARGIN",
    "RETENTION",
    "AccountNotifications",
    "SqlNotificationStore",
    "account_notifications",
    "accounts_with_refreshes",
    "last_received",
    "purge",
]

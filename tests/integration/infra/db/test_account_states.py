"""Which accounts beat syncs: a disabled, paused or removed one is left out like a
disconnected one, and each comes back the way the person chose."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from infra.db.accounts import add_account, get_account, list_accounts, set_connected
from infra.db.accounts_changes import (
    AccountChanges,
    edit_account,
    pause_account,
    remove_account,
    set_enabled,
)

pytestmark = pytest.mark.integration


def _add(sessions: sessionmaker[Session], name: str) -> int:
    return add_account(
        sessions,
        name=name,
        selling_partner_id=f"S-{name}",
        region="SANDBOX",
        marketplace_ids=["SE"],
        refresh_token=f"Atzr|{name}",
    ).id


def _synced(sessions: sessionmaker[Session]) -> list[str]:
    return [a.name for a in list_accounts(sessions, active_only=True, connected_only=True)]


def test_only_active_accounts_are_synced(session_factory: sessionmaker[Session]) -> None:
    ids = {name: _add(session_factory, name) for name in ("ok", "off", "paused", "gone", "away")}
    set_enabled(session_factory, "off", False)
    assert pause_account(session_factory, ids["paused"], "invalid_grant: revoked")
    assert not pause_account(session_factory, ids["paused"], "later")  # the first is kept
    remove_account(session_factory, "gone")
    set_connected(session_factory, "away", False)

    assert _synced(session_factory) == ["ok"]
    assert get_account(session_factory, "paused").status == "paused: invalid_grant: revoked"
    assert [a.name for a in list_accounts(session_factory)] == ["ok", "off", "paused", "away"]
    assert get_account(session_factory, "ok").marketplace_ids == ("A2NODRKZP88ZB9",)

    edit_account(
        session_factory, "paused", AccountChanges(refresh_token="Atzr|new"), app_client_id=""
    )
    set_enabled(session_factory, "off", True)
    set_enabled(session_factory, "gone", True)
    assert _synced(session_factory) == ["ok", "off", "paused", "gone"]

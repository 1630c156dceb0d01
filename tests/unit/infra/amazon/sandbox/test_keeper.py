"""The keeper of the sandbox's state file: it loads what was kept, saves only when something
changed, writes all or nothing, refuses a file it cannot read (naming it and the reset), and
lets one sandbox at a time keep a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.amazon.sandbox.generate import OrderSpec, create_order
from infra.amazon.sandbox.keeper import (
    StateFileError,
    StateKeeper,
    holder,
    remove_saved,
    write_atomically,
)
from infra.amazon.sandbox.state import SandboxState


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "sandbox" / "state.pickle"


def test_a_kept_state_is_loaded_by_the_next_keeper(state_file: Path) -> None:
    first = SandboxState()
    keeper = StateKeeper(first, state_file, "http://127.0.0.1:1", interval_s=3600)
    assert keeper.open() is False  # nothing kept yet
    order = create_order(first, OrderSpec())
    first.mark_changed()
    keeper.close()

    second = SandboxState()
    again = StateKeeper(second, state_file, interval_s=3600)
    try:
        assert again.open() is True
        assert list(second.orders) == [order.order_id]
        assert second.state_file == str(state_file.resolve())
    finally:
        again.close()


def test_it_saves_only_when_the_state_changed(state_file: Path) -> None:
    state = SandboxState()
    keeper = StateKeeper(state, state_file, interval_s=3600)
    keeper.open()
    try:
        assert keeper.save() is True  # the first save writes the file
        assert keeper.save() is False
        state.mark_changed()
        assert state.summary()["unsaved_changes"] is True
        assert keeper.save() is True
        assert state.summary()["unsaved_changes"] is False
    finally:
        keeper.close()


def test_a_file_it_cannot_read_stops_the_start_naming_the_file_and_the_reset(
    state_file: Path,
) -> None:
    state_file.parent.mkdir(parents=True)
    state_file.write_bytes(b"not a state")
    keeper = StateKeeper(SandboxState(), state_file)
    with pytest.raises(StateFileError) as refused:
        keeper.open()
    message = str(refused.value)
    assert str(state_file.resolve()) in message
    assert "amazon-channel sandbox reset" in message
    assert "\n" not in message
    assert state_file.read_bytes() == b"not a state"  # left as it was, for a look
    assert holder(state_file) is None  # and let go of


def test_one_sandbox_at_a_time_keeps_a_file(state_file: Path) -> None:
    keeper = StateKeeper(SandboxState(), state_file, "http://127.0.0.1:8765", interval_s=3600)
    keeper.open()
    try:
        running = holder(state_file)
        assert running is not None
        assert running.base_url == "http://127.0.0.1:8765"
        with pytest.raises(StateFileError, match="another sandbox"):
            StateKeeper(SandboxState(), state_file).open()
    finally:
        keeper.close()
    assert holder(state_file) is None


def test_a_save_replaces_the_file_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state.pickle"
    write_atomically(target, b"first")
    write_atomically(target, b"second")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.pickle"]


def test_a_temporary_left_by_a_kill_is_cleared_and_the_file_kept(state_file: Path) -> None:
    keeper = StateKeeper(SandboxState(), state_file, interval_s=3600)
    keeper.open()
    keeper.close()
    stale = state_file.with_name(f"{state_file.name}.abc123.tmp")
    stale.write_bytes(b"half a sav")
    again = StateKeeper(SandboxState(), state_file, interval_s=3600)
    assert again.open() is True
    again.close()
    assert not stale.exists()


def test_removing_a_kept_state_says_whether_there_was_one(state_file: Path) -> None:
    assert remove_saved(state_file) is False
    state_file.parent.mkdir(parents=True)
    state_file.write_bytes(b"x")
    assert remove_saved(state_file) is True
    assert not state_file.exists()


def test_a_place_it_cannot_write_stops_the_start_with_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(StateFileError, match=r"cannot keep the sandbox's state in .*--in-memory"):
        StateKeeper(SandboxState(), blocker / "state.pickle").open()

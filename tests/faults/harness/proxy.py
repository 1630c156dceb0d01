"""A small TCP proxy in its own thread (an asyncio loop), put in front of Redis or PostgreSQL so
a fault run can slow, reset, drop or blackhole the path between our processes and a server.

- ``latency_s``: each chunk a client sends waits this long before it goes on (a slow network).
- ``reset_all()``: every open connection is closed with an RST (``SO_LINGER`` 0), both sides.
- ``refusing``: a new connection is reset at once (the server's port looks dead).
- ``blackhole``: bytes are held in both directions and nothing is closed (no FIN, no RST), as a
  cable pulled out or a firewall dropping packets would leave it; what was held flows again when
  the blackhole ends, as TCP's retransmission would deliver it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter


@dataclass
class TcpProxy:
    target_host: str
    target_port: int
    latency_s: float = 0.0
    blackhole: bool = False
    refusing: bool = False
    port: int = 0
    _links: set[_Link] = field(default_factory=set)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _server: asyncio.Server | None = None

    def start(self) -> TcpProxy:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", self.port or 0)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            self._shut(self._loop)

        self._thread = threading.Thread(target=run, name=f"proxy-{self.target_port}", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the proxy did not start")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        self._call(self._close_all)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop = None

    def _shut(self, loop: asyncio.AbstractEventLoop) -> None:
        """After the loop stopped: the listener closed, every pipe cancelled and finished, the
        loop closed (nothing left for the garbage collector to warn about)."""
        if self._server is not None:
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    @property
    def connections(self) -> int:
        return len(self._links)

    def reset_all(self) -> None:
        """Every open connection reset (RST to both ends)."""
        self._call(self._close_all)

    @contextlib.contextmanager
    def dropped(self) -> Iterator[None]:
        """The path is gone while inside: open connections reset, new ones refused."""
        self.refusing = True
        self.reset_all()
        try:
            yield
        finally:
            self.refusing = False

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """A blackhole while inside."""
        self.blackhole = True
        try:
            yield
        finally:
            self.blackhole = False

    def _call(self, fn: object) -> None:
        loop = self._loop
        if loop is None:
            return
        done = threading.Event()

        def run() -> None:
            try:
                fn()  # type: ignore[operator]
            finally:
                done.set()

        loop.call_soon_threadsafe(run)
        done.wait(10)

    def _close_all(self) -> None:
        for link in list(self._links):
            _reset(link.client)
            _reset(link.server)
        self._links.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            _reset(writer)
            return
        link = _Link(writer, up_writer)
        self._links.add(link)
        await asyncio.gather(
            self._pipe(reader, up_writer, link, upstream=True),
            self._pipe(up_reader, writer, link, upstream=False),
            return_exceptions=True,
        )
        self._links.discard(link)
        for w in (writer, up_writer):
            with contextlib.suppress(Exception):
                w.close()

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        link: _Link,
        *,
        upstream: bool,
    ) -> None:
        while link in self._links:
            try:
                data = await reader.read(65536)
            except OSError:
                # A reset from one end (a server killed with unread bytes resets its sockets):
                # the other end gets one too, as it would without the proxy in between; left
                # open, it would wait for its next write or heartbeat to find the path dead.
                if link in self._links:
                    self._links.discard(link)
                    _reset(link.client)
                    _reset(link.server)
                return
            if not data:
                break
            while self.blackhole and link in self._links:
                await asyncio.sleep(0.05)
            if upstream and self.latency_s:
                await asyncio.sleep(self.latency_s)
            if link not in self._links:
                break
            writer.write(data)
            await writer.drain()
        if link in self._links:  # an end closed: pass the FIN on, as TCP would
            with contextlib.suppress(Exception):
                writer.write_eof()


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()

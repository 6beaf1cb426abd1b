"""A real HTTP receiver for webhooks on 127.0.0.1: a small HTTP/1.1 server on asyncio streams (keep-alive, bodies
by Content-Length) that records every request and answers with the status its `answer` callable picks. Tests use
it to see exactly what arrived; the bench uses it because it costs far less CPU than the sender it measures."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

REASONS = {200: "OK", 204: "No Content", 410: "Gone", 500: "Internal Server Error", 503: "Service Unavailable"}


@dataclass(frozen=True, slots=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """`answer(request) -> status`; by default 204 for everything."""

    answer: Callable[[Received], int] = lambda _request: 204
    keep: bool = True  # record requests (the bench only counts them)
    delay: float = 0.0  # seconds to wait before answering: a slow receiver
    received: list[Received] = field(default_factory=list)
    count: int = 0
    _server: asyncio.Server | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def until(self, count: int) -> None:
        """Wait until `count` requests have arrived."""
        while self.count < count:
            self._arrived.clear()
            await self._arrived.wait()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}/hooks"

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Received(path, headers, body)
                self.count += 1
                self._arrived.set()
                if self.keep:
                    self.received.append(request)
                if self.delay:
                    await asyncio.sleep(self.delay)
                status = self.answer(request)
                reason = REASONS.get(status, "Status")
                writer.write(f"HTTP/1.1 {status} {reason}\r\ncontent-length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, IndexError, ValueError):
            pass
        finally:
            writer.close()

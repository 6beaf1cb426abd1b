"""The HTTP/1.1 server protocol `aftersales serve` runs: uvicorn's httptools protocol with a bound on how long a
request head may take to arrive.

Uvicorn bounds idle keep-alive connections and (with `limit_concurrency`) how many connections a process serves,
but not the time between the first byte of a request and the end of its headers: a client that sends one header
line every few seconds (slowloris) would keep its connection forever. The bound starts when the connection opens or
the previous response ends, and stops when the head is complete; the body has its own bound (app/web/body_guard.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.settings import get_settings


class HeadTimedHttpProtocol(HttpToolsProtocol):
    """Closes a connection whose request head is not complete within AFTERSALES_HEADER_TIMEOUT_SECONDS."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = get_settings().header_timeout_seconds
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def on_headers_complete(self) -> None:
        self._stop_head_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        next_head_pending = not self.pipeline  # a pipelined request's head has already arrived
        super().on_response_complete()
        if next_head_pending and not self.transport.is_closing():
            self._start_head_timer()  # the next request's head is bounded too, however it trickles in

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _start_head_timer(self) -> None:
        self._stop_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        """Nothing was asked yet, so there is nobody to answer: the connection is closed (as nginx does)."""
        self._head_timer = None
        if not self.transport.is_closing():
            self.logger.info("Closing a connection whose request head took over %s s.", self.header_timeout)
            self.transport.close()

"""`aftersales serve` bounds what a slow or greedy client can hold: a request head that trickles in is cut off, a
body that trickles in is answered 408, and connections beyond the per-process limit are answered 503 at once.
Against a real server process on a free port, with the bounds set to about a second."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

HEAD_TIMEOUT = BODY_TIMEOUT = 1.0
MAX_CONNECTIONS = 4
SLACK = 1.5
"""How much later than its bound a connection may be cut (scheduling on a busy machine)."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    port = _free_port()
    env = {
        **os.environ,
        "AFTERSALES_ENV": "test",
        "AFTERSALES_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('serve') / 'serve.db'}",
        "AFTERSALES_RUN_WORKERS_IN_PROCESS": "false",
        "AFTERSALES_HEADER_TIMEOUT_SECONDS": str(HEAD_TIMEOUT),
        "AFTERSALES_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        "AFTERSALES_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "AFTERSALES_LOG_LEVEL": "WARNING",
    }
    command = [str(Path(sys.executable).with_name("aftersales")), "serve", "--host", "127.0.0.1", "--port", str(port)]
    log = tmp_path_factory.mktemp("serve-log") / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603 - our CLI
        try:
            _wait_until_serving(port, process, log)
            yield "127.0.0.1", port
        finally:
            process.terminate()
            process.wait(timeout=10)


def _wait_until_serving(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"aftersales serve exited: {log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("aftersales serve did not start within 30 s")


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """Everything the server sent until it closed the connection, or fail if it is still open after `seconds`. A
    reset counts as closed: a client still sending after the server closed gets one, after the answer it read."""
    received = b""
    deadline = time.monotonic() + seconds
    while True:
        try:
            chunk = await asyncio.wait_for(reader.read(65536), max(deadline - time.monotonic(), 0.01))
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


async def test_a_request_head_sent_slowly_is_cut_off_within_the_bound(server):
    reader, writer = await asyncio.open_connection(*server)
    started = time.monotonic()
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")

    async def trickle() -> None:
        for n in range(100):
            await asyncio.sleep(0.2)
            writer.write(f"X-Slow-{n}: 1\r\n".encode())
            await writer.drain()

    sender = asyncio.create_task(trickle())
    try:
        answered = await _closed_within(reader, HEAD_TIMEOUT + SLACK)
    finally:
        sender.cancel()
        writer.close()

    assert answered == b""  # nothing was asked yet, so nothing is answered: the connection is closed
    assert HEAD_TIMEOUT - 0.1 <= time.monotonic() - started <= HEAD_TIMEOUT + SLACK


async def test_an_idle_connection_that_never_sends_a_head_is_closed_too(server):
    reader, writer = await asyncio.open_connection(*server)
    started = time.monotonic()
    try:
        assert await _closed_within(reader, HEAD_TIMEOUT + SLACK) == b""
    finally:
        writer.close()
    assert time.monotonic() - started <= HEAD_TIMEOUT + SLACK


async def test_a_body_sent_slowly_is_answered_408_and_the_connection_closed(server):
    reader, writer = await asyncio.open_connection(*server)
    started = time.monotonic()
    writer.write(
        b"PUT /v1/products/SKU-1 HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Content-Length: 200\r\n\r\n{"
    )

    async def trickle() -> None:
        for _ in range(100):
            await asyncio.sleep(0.2)
            writer.write(b" ")
            await writer.drain()

    sender = asyncio.create_task(trickle())
    try:
        answered = await _closed_within(reader, BODY_TIMEOUT + SLACK)
    finally:
        sender.cancel()
        writer.close()

    assert answered.startswith(b"HTTP/1.1 408 "), answered
    assert b"application/problem+json" in answered and b'"code":"request_timeout"' in answered
    assert time.monotonic() - started <= BODY_TIMEOUT + SLACK


async def test_connections_beyond_the_limit_are_answered_503_at_once(server):
    held = [await asyncio.open_connection(*server) for _ in range(MAX_CONNECTIONS)]
    try:
        async with httpx.AsyncClient(base_url=f"http://{server[0]}:{server[1]}") as http:
            refused = await http.get("/healthz", timeout=2)
    finally:
        for _, writer in held:
            writer.close()
    await asyncio.sleep(0.2)
    async with httpx.AsyncClient(base_url=f"http://{server[0]}:{server[1]}") as http:
        served = await http.get("/healthz", timeout=2)

    assert refused.status_code == 503
    assert served.status_code == 200

"""Servers under test as subprocesses on 127.0.0.1: started, awaited until they answer, always stopped."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import process_stats

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    """A port the OS just handed out; the server binds it moments later."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def clean_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment minus every AFTERSALES_* knob, plus `settings`: servers see only the bench's config."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("AFTERSALES_")}
    return {**inherited, **settings}


@dataclass(slots=True)
class Server:
    name: str
    process: asyncio.subprocess.Process
    idle_rss: int | None = None  # bytes, once started and warmed up, before its first measured run

    @property
    def pid(self) -> int:
        return self.process.pid

    def note_idle_memory(self) -> None:
        if self.idle_rss is None:
            self.idle_rss = process_stats.rss_bytes(self.pid)

    def rss(self) -> int:
        """Bytes resident now, worker processes included."""
        return process_stats.rss_bytes(self.pid)

    def ensure_running(self) -> None:
        """A server that died mid-run turns its scenario into connection errors; name the cause instead."""
        code = self.process.returncode
        if code is not None:
            how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
            raise RuntimeError(f"{self.name} {how} during the run")


@asynccontextmanager
async def serving(
    name: str, argv: Sequence[str], env: Mapping[str, str], probe_url: str, probe_status: int
) -> AsyncIterator[Server]:
    """Run `argv` until the block ends; ready once `probe_url` answers `probe_status`."""
    server = Server(name, await asyncio.create_subprocess_exec(*argv, env=dict(env), cwd=REPO_ROOT))
    try:
        await _wait_until_ready(server, probe_url, probe_status)
        yield server
    finally:
        await _stop(server.process)


async def _wait_until_ready(server: Server, probe_url: str, probe_status: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.monotonic() < deadline:
            server.ensure_running()
            try:
                if (await client.get(probe_url)).status_code == probe_status:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(
        f"{server.name} did not answer {probe_status} at {probe_url} within {START_TIMEOUT_SECONDS:.0f} s"
    )


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM lets uvicorn close its connection pool; SIGKILL only if it hangs."""
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()

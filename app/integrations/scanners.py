"""Virus scanners for uploaded files (病毒扫描): ClamAV's daemon over its INSTREAM protocol, or any command that reads
the file on standard input. Both stream the file: neither holds it whole in memory nor writes it anywhere.

A scanner answers a verdict (clean, or infected with the signature's name) or raises `ScanFailed` when it could not
decide (unreachable, timed out, an answer it does not understand); the file then stays pending and is tried again."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import struct
from collections.abc import AsyncIterator
from typing import Protocol

from app.domain.attachments import ScanVerdict
from app.domain.invariants import present

CLAMD_CHUNK = 1 << 16
"""Bytes per INSTREAM chunk; clamd's StreamMaxLength bounds the whole stream, not a chunk."""
NOT_SCANNED = "not scanned: no scanner is configured"


class ScanFailed(Exception):
    """The scanner could not give a verdict; the reason never holds file content."""


class Scanner(Protocol):
    name: str

    async def scan(self, chunks: AsyncIterator[bytes]) -> ScanVerdict: ...


class NoScanner:
    """Every file passes unscanned: for development machines without a scanner (`make run`)."""

    name = "none"

    async def scan(self, chunks: AsyncIterator[bytes]) -> ScanVerdict:
        return ScanVerdict(infected=False, detail=NOT_SCANNED)


class ClamdScanner:
    """clamd's INSTREAM command: `zINSTREAM\\0`, then chunks each prefixed by its length (4 bytes, big-endian), then a
    zero length; clamd answers `stream: OK`, `stream: <signature> FOUND` or `… ERROR`, ended by NUL."""

    name = "clamd"

    def __init__(self, address: str, *, timeout_seconds: float) -> None:
        self._address = address
        self._timeout = timeout_seconds

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._address.startswith("unix://"):
            return await asyncio.open_unix_connection(self._address.removeprefix("unix://"))
        host, _, port = self._address.removeprefix("tcp://").rpartition(":")
        return await asyncio.open_connection(host.strip("[]"), int(port))

    async def scan(self, chunks: AsyncIterator[bytes]) -> ScanVerdict:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._scan(chunks)
        except TimeoutError:
            raise ScanFailed(f"clamd at {self._address} gave no verdict within {self._timeout:g} s") from None
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            raise ScanFailed(f"clamd at {self._address}: {exc!r}") from None

    async def _scan(self, chunks: AsyncIterator[bytes]) -> ScanVerdict:
        reader, writer = await self._connect()
        try:
            writer.write(b"zINSTREAM\0")
            async for chunk in chunks:
                for at in range(0, len(chunk), CLAMD_CHUNK):
                    piece = chunk[at : at + CLAMD_CHUNK]
                    writer.write(struct.pack(">I", len(piece)) + piece)
                    await writer.drain()
            writer.write(struct.pack(">I", 0))
            await writer.drain()
            reply = (await reader.readuntil(b"\0")).rstrip(b"\0").decode("utf-8", "replace").strip()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        return _clamd_verdict(reply)


def _clamd_verdict(reply: str) -> ScanVerdict:
    _, _, result = reply.partition(": ")
    if result == "OK":
        return ScanVerdict(infected=False, detail="clamd: OK")
    if result.endswith(" FOUND"):
        return ScanVerdict(infected=True, detail=f"clamd: {result.removesuffix(' FOUND')}")
    raise ScanFailed(f"clamd answered {reply[:200]!r}")


class CommandScanner:
    """A configured command, given the file on standard input: exit 0 is clean, 1 infected (its first output line
    names what was found), anything else an error (as `clamdscan -` and most scanners' command lines answer)."""

    name = "command"

    def __init__(self, command: str, *, timeout_seconds: float) -> None:
        self._argv = shlex.split(command)
        self._timeout = timeout_seconds

    async def scan(self, chunks: AsyncIterator[bytes]) -> ScanVerdict:
        try:
            process = await asyncio.create_subprocess_exec(
                *self._argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
        except OSError as exc:
            raise ScanFailed(f"the scan command {self._argv[0]!r} could not start: {exc.strerror}") from None
        try:
            async with asyncio.timeout(self._timeout):
                output = await self._feed(process, chunks)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise ScanFailed(f"the scan command gave no verdict within {self._timeout:g} s") from None
        first_line = output.decode("utf-8", "replace").strip().splitlines()[:1]
        said = first_line[0][:200] if first_line else ""
        if process.returncode == 0:
            return ScanVerdict(infected=False, detail=f"{self._argv[0]}: {said or 'clean'}")
        if process.returncode == 1:
            return ScanVerdict(infected=True, detail=f"{self._argv[0]}: {said or 'infected'}")
        raise ScanFailed(f"the scan command exited with {process.returncode}: {said}")

    @staticmethod
    async def _feed(process: asyncio.subprocess.Process, chunks: AsyncIterator[bytes]) -> bytes:
        """Write the file while reading the output, so that a command that talks while it reads cannot block."""
        stdin, stdout = present(process.stdin, "the scan command's stdin"), present(process.stdout, "its stdout")
        output = asyncio.ensure_future(stdout.read())
        try:
            async for chunk in chunks:
                stdin.write(chunk)
                await stdin.drain()
            stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the command decided before reading everything (it found something early): its exit code says
        await process.wait()
        return await output


def scanner_of(kind: str, *, clamd_address: str, command: str, timeout_seconds: float) -> Scanner:
    if kind == "clamd":
        return ClamdScanner(clamd_address, timeout_seconds=timeout_seconds)
    if kind == "command":
        return CommandScanner(command, timeout_seconds=timeout_seconds)
    return NoScanner()

"""The scan hook: every upload is `pending` until the scan pass gives it to the configured scanner, here a real clamd
protocol server the test starts (INSTREAM over TCP, flagging the EICAR test string) and a command (a small Python
script reading the file on standard input). An infected file is never served; a scan that fails leaves its file
pending, to be tried again later."""

from __future__ import annotations

import asyncio
import struct
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.domain.principal import Role
from app.persistence.tables import attachments, outbox
from tests.api.test_attachments import JPEG, PDF, PNG, UPLOADS, Desk, raw_upload, upload
from tests.api.test_attachments import desk_with as desk_with  # the fixture, shared
from tests.api.test_attachments_links import relative
from tests.conftest import MovableClock
from tests.problems import problem_fields

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
INFECTED_PDF = b"%PDF-1.4\n" + EICAR + b"\n%%EOF\n"
BIG_PNG = PNG + bytes(300_000)  # several INSTREAM chunks


class ClamdServer:
    """clamd's INSTREAM protocol, as far as a scan needs it: `zINSTREAM\\0`, length-prefixed chunks (4 bytes,
    big-endian) up to a zero length, then `stream: OK\\0` or `stream: <name> FOUND\\0`."""

    def __init__(self, *, reply: bytes | None = None, silent: bool = False) -> None:
        self.reply = reply
        self.silent = silent
        self.streams: list[bytes] = []
        self.chunk_sizes: list[int] = []
        self._closing = asyncio.Event()

    async def start(self, unix_path: Path | None = None) -> str:
        if unix_path is not None:
            self._server = await asyncio.start_unix_server(self._serve, str(unix_path))
            return f"unix://{unix_path}"
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"tcp://{host}:{port}"

    async def close(self) -> None:
        self._closing.set()
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            assert await reader.readuntil(b"\0") == b"zINSTREAM\0"
            data = bytearray()
            while size := struct.unpack(">I", await reader.readexactly(4))[0]:
                self.chunk_sizes.append(size)
                data += await reader.readexactly(size)
            self.streams.append(bytes(data))
            if self.silent:
                await self._closing.wait()
                return
            found = b"stream: Eicar-Signature FOUND\0" if EICAR in data else b"stream: OK\0"
            writer.write(self.reply or found)
            await writer.drain()
        finally:
            writer.close()


@pytest.fixture
async def clamd() -> AsyncIterator[tuple[ClamdServer, str]]:
    server = ClamdServer()
    address = await server.start()
    yield server, address
    await server.close()


async def row(desk: Desk, attachment_id: str) -> Any:
    async with desk.app.state.services.database.engine.connect() as conn:
        return (await conn.execute(select(attachments).where(attachments.c.id == uuid.UUID(attachment_id)))).one()


async def scanned_events(desk: Desk) -> list[dict[str, Any]]:
    async with desk.app.state.services.database.engine.connect() as conn:
        rows = await conn.execute(select(outbox.c.payload).where(outbox.c.type == "attachment.scanned"))
        return [r.payload for r in rows]


async def test_clamd_finds_eicar_and_the_infected_file_is_never_served(desk_with, auth, clamd) -> None:
    server, address = clamd
    async with desk_with(attachment_scanner="clamd", attachment_clamd_address=address) as desk:
        clean = (await upload(desk, auth(Role.CUSTOMER), "故障.png", BIG_PNG, "image/png")).json()
        infected = (await raw_upload(desk, auth(Role.CUSTOMER), "发票.pdf", INFECTED_PDF, "application/pdf")).json()
        assert (clean["scan_status"], infected["scan_status"]) == ("pending", "pending")

        assert await desk.app.state.services.attachments.scan() == 2

        assert sorted(server.streams, key=len) == [INFECTED_PDF, BIG_PNG]
        assert max(server.chunk_sizes) <= 65536
        clean_row, infected_row = await row(desk, clean["id"]), await row(desk, infected["id"])
        assert (clean_row.scan_status, clean_row.scan_detail) == ("clean", "clamd: OK")
        assert (infected_row.scan_status, infected_row.scan_detail) == ("infected", "clamd: Eicar-Signature")
        assert clean_row.scanned_at is not None and clean_row.scan_after is None
        events = {e["attachment_id"]: e["scan_status"] for e in await scanned_events(desk)}
        assert events == {clean["id"]: "clean", infected["id"]: "infected"}

        refused = await desk.http.post(f"{UPLOADS}/{infected['id']}/link", headers=auth(Role.CUSTOMER))
        problem_fields(refused, 409, "attachment_infected")
        read = await desk.http.get(f"{UPLOADS}/{infected['id']}", headers=auth(Role.CUSTOMER))
        assert (read.json()["scan_status"], read.json()["scan_detail"]) == ("infected", "clamd: Eicar-Signature")
        link = await desk.http.post(f"{UPLOADS}/{clean['id']}/link", headers=auth(Role.CUSTOMER))
        served = await desk.http.get(relative(link.json()["url"]))
        assert served.content == BIG_PNG
        assert await desk.app.state.services.attachments.scan() == 0  # decided files are not scanned again


async def test_clamd_is_reached_over_its_unix_socket_too(desk_with, auth, tmp_path: Path) -> None:
    server = ClamdServer()
    address = await server.start(tmp_path / "clamd.ctl")
    try:
        async with desk_with(attachment_scanner="clamd", attachment_clamd_address=address) as desk:
            infected = (await upload(desk, auth(Role.AGENT), "a.pdf", INFECTED_PDF, "application/pdf")).json()

            assert await desk.app.state.services.attachments.scan() == 1

            assert (await row(desk, infected["id"])).scan_status == "infected"
            assert server.streams == [INFECTED_PDF]
    finally:
        await server.close()


async def test_a_scanner_that_cannot_be_reached_leaves_the_file_pending_and_retries_later(
    desk_with, auth, clock: MovableClock
) -> None:
    server = ClamdServer()
    address = await server.start()
    await server.close()  # nothing listens there any more
    async with desk_with(clock, attachment_scanner="clamd", attachment_clamd_address=address) as desk:
        pending = (await upload(desk, auth(Role.CUSTOMER), "a.jpg", JPEG, "image/jpeg")).json()
        scans = desk.app.state.services.attachments

        assert await scans.scan() == 1
        failed = await row(desk, pending["id"])
        assert (failed.scan_status, failed.scan_attempts) == ("pending", 1)
        assert failed.scan_detail.startswith(f"scan failed: clamd at {address}")
        assert failed.scan_after == clock.now() + timedelta(seconds=30)
        assert await scans.scan() == 0  # not due yet

        clock.advance(timedelta(seconds=31))
        assert await scans.scan() == 1
        again = await row(desk, pending["id"])
        assert (again.scan_status, again.scan_attempts) == ("pending", 2)
        assert again.scan_after == clock.now() + timedelta(seconds=120)
        assert await scanned_events(desk) == []


@pytest.mark.parametrize(
    ("behaviour", "detail"),
    [
        ({"reply": b"INSTREAM size limit exceeded. ERROR\0"}, "clamd answered"),
        ({"silent": True}, "gave no verdict within 0.5 s"),
    ],
)
async def test_a_clamd_error_or_silence_leaves_the_file_pending(
    desk_with, auth, behaviour: dict[str, Any], detail: str
) -> None:
    server = ClamdServer(**behaviour)
    address = await server.start()
    try:
        async with desk_with(
            attachment_scanner="clamd", attachment_clamd_address=address, attachment_scan_timeout_seconds=0.5
        ) as desk:
            pending = (await upload(desk, auth(Role.CUSTOMER), "a.jpg", JPEG, "image/jpeg")).json()

            assert await desk.app.state.services.attachments.scan() == 1

            failed = await row(desk, pending["id"])
            assert failed.scan_status == "pending"
            assert detail in failed.scan_detail
            problem_fields(
                await desk.http.post(f"{UPLOADS}/{pending['id']}/link", headers=auth(Role.CUSTOMER)),
                409,
                "attachment_pending_scan",
            )
    finally:
        await server.close()


SCANNER_SCRIPT = """\
import sys
data = sys.stdin.buffer.read()
if len(sys.argv) > 1:
    print("scanner database missing")
    sys.exit(int(sys.argv[1]))
if b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE" in data:
    print(f"stdin: Eicar-Signature FOUND ({len(data)} bytes)")
    sys.exit(1)
print(f"stdin: OK ({len(data)} bytes)")
"""


@pytest.fixture
def scanner_script(tmp_path: Path) -> str:
    script = tmp_path / "scan.py"
    script.write_text(SCANNER_SCRIPT)
    return f"{sys.executable} {script}"


async def test_a_command_scanner_reads_the_file_on_stdin_and_its_exit_code_decides(
    desk_with, auth, scanner_script: str
) -> None:
    async with desk_with(attachment_scanner="command", attachment_scan_command=scanner_script) as desk:
        clean = (await upload(desk, auth(Role.AGENT), "a.pdf", PDF, "application/pdf")).json()
        infected = (await upload(desk, auth(Role.AGENT), "b.pdf", INFECTED_PDF, "application/pdf")).json()

        assert await desk.app.state.services.attachments.scan() == 2

        clean_row, infected_row = await row(desk, clean["id"]), await row(desk, infected["id"])
        assert (clean_row.scan_status, clean_row.scan_detail) == (
            "clean",
            f"{sys.executable}: stdin: OK ({len(PDF)} bytes)",
        )
        assert infected_row.scan_status == "infected"
        assert infected_row.scan_detail == f"{sys.executable}: stdin: Eicar-Signature FOUND ({len(INFECTED_PDF)} bytes)"
        problem_fields(
            await desk.http.post(f"{UPLOADS}/{infected['id']}/link", headers=auth(Role.AGENT)),
            409,
            "attachment_infected",
        )


@pytest.mark.parametrize(("suffix", "detail"), [(" 2", "exited with 2: scanner database missing"), ("-missing", "")])
async def test_a_command_that_fails_leaves_the_file_pending(
    desk_with, auth, scanner_script: str, suffix: str, detail: str
) -> None:
    command = scanner_script + suffix if suffix.startswith(" ") else f"/nonexistent/scanner{suffix}"
    async with desk_with(attachment_scanner="command", attachment_scan_command=command) as desk:
        pending = (await upload(desk, auth(Role.AGENT), "a.png", PNG, "image/png")).json()

        assert await desk.app.state.services.attachments.scan() == 1

        failed = await row(desk, pending["id"])
        assert (failed.scan_status, failed.scan_attempts) == ("pending", 1)
        assert detail in failed.scan_detail
        assert failed.scan_detail.startswith("scan failed: the scan command")
